/** Loading a model for eval/visualize/features: a training checkpoint (file or run folder), or official weights + config. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadEncoderStateDict, MaskedAutoencoder } from '@maejs/mae';
import { readCheckpoint } from '@maejs/trainer/node';
import { analyzeCheckpoint, maeStateOf } from '@maejs/weights/node';
import { type FlagSpec, UsageError } from './args.js';
import { readConfigFlag } from './commands/convert.js';
import { readConfigFile } from './commands/forward.js';
import { fallbackConfig, OFFLINE_FLAG, readCheckpointSource, SOURCE_HELP } from './weights-source.js';

/** The flags {@link loadModel} reads, shared by eval, features and visualize. */
export const MODEL_SOURCE_FLAGS: FlagSpec = {
  checkpoint: { type: 'string', description: 'run folder or training checkpoint (.safetensors)' },
  weights: { type: 'string', description: `checkpoint in any layout: ${SOURCE_HELP}` },
  config: { type: 'string', description: 'for --weights: fields the tensors do not determine, JSON or a file (official or MaeConfig names)' },
  preset: { type: 'string', description: 'for --weights: preset to take those fields from (default for an official name: its own)' },
  ...OFFLINE_FLAG,
};

export interface LoadedModel {
  model: MaskedAutoencoder;
  /** Where the weights came from. */
  source: string;
  /** Normalisation of the training data, when the run folder recorded it. */
  normalization?: { mean: number[]; std: number[] };
  /** Remarks on the checkpoint (decoder absent, fields from defaults, ...). */
  notes: string[];
}

/** The `data` record of the run's config.json beside a checkpoint, if any. */
function runNormalization(checkpointPath: string): LoadedModel['normalization'] {
  for (const dir of [dirname(dirname(checkpointPath)), dirname(checkpointPath)]) {
    const file = join(dir, 'config.json');
    if (existsSync(file)) {
      const data = JSON.parse(readFileSync(file, 'utf8')).data;
      if (data?.mean && data?.std) return { mean: data.mean, std: data.std };
    }
  }
  return undefined;
}

/**
 * `--checkpoint <run folder | checkpoint file>` (a maejs training checkpoint: the config is in
 * it), or `--weights <source>`: a file or folder in any layout `mae convert` reads (official .pth /
 * .safetensors, Hugging Face folder, tfjs model.json), hf:<owner>/<name>[@revision], an official
 * checkpoint name or an http(s) URL (downloaded once into the cache; `--offline`), with `--config`
 * (JSON or file) or `--preset` for what the tensors do not determine (the head counts; an official
 * name brings its preset). Encoder-only checkpoints load with a randomly initialised decoder,
 * which is said in `notes`.
 */
export async function loadModel(flags: Record<string, unknown>, command: string, log: (line: string) => void = () => undefined): Promise<LoadedModel> {
  if (typeof flags.checkpoint === 'string') {
    const { checkpoint, path } = readCheckpoint(flags.checkpoint);
    const model = new MaskedAutoencoder(checkpoint.meta.model);
    model.loadStateDict(checkpoint.model);
    return { model, source: path, normalization: runNormalization(path), notes: [] };
  }
  if (typeof flags.weights === 'string') {
    const source = await readCheckpointSource(flags.weights, flags, log);
    const imported = source.checkpoint;
    const given = typeof flags.config === 'string' && !flags.config.trim().startsWith('{') ? { ...readConfigFile(flags.config) } : readConfigFlag(flags.config as string | undefined);
    const analysis = analyzeCheckpoint(imported, given, fallbackConfig(source, flags.preset));
    const model = new MaskedAutoencoder(analysis.config);
    loadEncoderStateDict(model, maeStateOf(imported, analysis).state);
    return { model, source: source.source.id, notes: analysis.notes };
  }
  throw new UsageError(`mae ${command}: give --checkpoint <run folder or checkpoint file> or --weights <file> [--config <json> | --preset <name>]`);
}
