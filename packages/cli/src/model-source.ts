/** Loading a model for eval/visualize/features: a training checkpoint (file or run folder), or official weights + config. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { loadEncoderStateDict, MaskedAutoencoder } from '@maejs/mae';
import { readCheckpoint } from '@maejs/trainer/node';
import { analyzeCheckpoint, maeStateOf } from '@maejs/weights';
import { type FlagSpec, UsageError } from './args.js';
import { readAnyCheckpoint, readConfigFlag, readPresetFlag } from './commands/convert.js';
import { readConfigFile } from './commands/forward.js';

/** The flags {@link loadModel} reads, shared by eval, features and visualize. */
export const MODEL_SOURCE_FLAGS: FlagSpec = {
  checkpoint: { type: 'string', description: 'run folder or training checkpoint (.safetensors)' },
  weights: { type: 'string', description: 'checkpoint in any layout: official .pth/.safetensors, HF folder, tfjs model.json' },
  config: { type: 'string', description: 'for --weights: fields the tensors do not determine, JSON or a file (official or MaeConfig names)' },
  preset: { type: 'string', description: 'for --weights: preset to take those fields from' },
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
 * it), or `--weights <file or folder>` in any layout `mae convert` reads (official .pth /
 * .safetensors, Hugging Face folder, tfjs model.json), with `--config` (JSON or file) or
 * `--preset` for what the tensors do not determine (the head counts). Encoder-only checkpoints
 * load with a randomly initialised decoder, which is said in `notes`.
 */
export async function loadModel(flags: Record<string, unknown>, command: string): Promise<LoadedModel> {
  if (typeof flags.checkpoint === 'string') {
    const { checkpoint, path } = readCheckpoint(flags.checkpoint);
    const model = new MaskedAutoencoder(checkpoint.meta.model);
    model.loadStateDict(checkpoint.model);
    return { model, source: path, normalization: runNormalization(path), notes: [] };
  }
  if (typeof flags.weights === 'string') {
    const imported = await readAnyCheckpoint(flags.weights);
    const given = typeof flags.config === 'string' && !flags.config.trim().startsWith('{') ? { ...readConfigFile(flags.config) } : readConfigFlag(flags.config as string | undefined);
    const analysis = analyzeCheckpoint(imported, given, readPresetFlag(flags.preset as string | undefined));
    const model = new MaskedAutoencoder(analysis.config);
    loadEncoderStateDict(model, maeStateOf(imported, analysis).state);
    return { model, source: flags.weights, notes: analysis.notes };
  }
  throw new UsageError(`mae ${command}: give --checkpoint <run folder or checkpoint file> or --weights <file> [--config <json> | --preset <name>]`);
}
