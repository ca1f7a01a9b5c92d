/** Loading a model for eval/visualize/features: a training checkpoint (file or run folder), or official weights + config. */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { MaskedAutoencoder } from '@maejs/mae';
import { readCheckpoint } from '@maejs/trainer/node';
import { UsageError } from './args.js';
import { readConfigFile } from './commands/forward.js';
import { readStateDict } from './tensors-io.js';

export interface LoadedModel {
  model: MaskedAutoencoder;
  /** Where the weights came from. */
  source: string;
  /** Normalisation of the training data, when the run folder recorded it. */
  normalization?: { mean: number[]; std: number[] };
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
 * it), or `--weights <.pth | .safetensors> --config <json>` (official state dict).
 */
export function loadModel(flags: Record<string, unknown>, command: string): LoadedModel {
  if (typeof flags.checkpoint === 'string') {
    const { checkpoint, path } = readCheckpoint(flags.checkpoint);
    const model = new MaskedAutoencoder(checkpoint.meta.model);
    model.loadStateDict(checkpoint.model);
    return { model, source: path, normalization: runNormalization(path) };
  }
  if (typeof flags.weights === 'string') {
    if (typeof flags.config !== 'string') throw new UsageError(`mae ${command}: --weights needs --config <json with official keyword names>`);
    const model = new MaskedAutoencoder(readConfigFile(flags.config));
    model.loadStateDict(readStateDict(flags.weights));
    return { model, source: flags.weights };
  }
  throw new UsageError(`mae ${command}: give --checkpoint <run folder or checkpoint file> or --weights <file> --config <json>`);
}
