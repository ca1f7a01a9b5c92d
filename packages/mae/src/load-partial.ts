/**
 * Loading checkpoints that are not a complete MAE: encoder-only ones (the official
 * `mae_pretrain_vit_*.pth` hold no decoder) and fine-tuned ones with extra keys (head.*).
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Param } from '@maejs/vit';
import { isDecoderKey } from './infer-config.js';
import type { MaskedAutoencoder } from './model.js';
import { checkStateDict, fromOfficial, type StateTensor } from './state-dict.js';

/** Options of {@link loadStateDictPartial}. */
export interface PartialLoadOptions {
  /**
   * Accept a state dict with no decoder key at all; the decoder keeps its current (random)
   * weights. A decoder that is only partly present is still an error.
   */
  allowMissingDecoder?: boolean;
  /** Keys to leave out, e.g. `(k) => k.startsWith('head.')` for a fine-tuned classifier. */
  ignoreKey?: (key: string) => boolean;
}

/** What {@link loadStateDictPartial} did. */
export interface PartialLoadReport {
  /** False when the decoder was absent and kept its weights. */
  decoderLoaded: boolean;
  /** Keys left out by `ignoreKey`, in checkpoint order. */
  ignored: string[];
  /** Number of parameters assigned. */
  loaded: number;
}


/**
 * Loads an official-layout state dict that may lack the decoder (with `allowMissingDecoder`) or
 * hold keys to ignore. Everything is checked before anything is assigned: on any mismatch the
 * model is unchanged and one {@link StateDictMismatchError} lists every problem.
 */
export function loadStateDictPartial(model: MaskedAutoencoder, entries: Map<string, StateTensor>, options: PartialLoadOptions = {}): PartialLoadReport {
  const ignored = [...entries.keys()].filter((k) => options.ignoreKey?.(k) ?? false);
  const ignoredSet = new Set(ignored);
  const kept = new Map([...entries].filter(([k]) => !ignoredSet.has(k)));
  const decoderPresent = [...kept.keys()].some(isDecoderKey);
  const skipDecoder = !decoderPresent && (options.allowMissingDecoder ?? false);
  const params = model.params.entries().filter(([name]) => !(skipDecoder && isDecoderKey(name)));
  checkStateDict(params, kept);
  for (const [name, param] of params) {
    const { shape, data } = kept.get(name)!;
    tf.tidy(() => param.variable.assign(fromOfficial(param, tf.tensor(data, shape, 'float32'))));
  }
  return { decoderLoaded: !skipDecoder, ignored, loaded: params.length };
}

/**
 * Loads the encoder of a checkpoint: the decoder may be absent (it then keeps its weights;
 * `features()` and `forwardEncoder()` are exact, reconstructions are not), and a fine-tuned
 * classifier (`head.*`) is left out and reported. Throws StateDictMismatchError for anything else.
 */
export function loadEncoderStateDict(model: MaskedAutoencoder, entries: Map<string, StateTensor>): PartialLoadReport {
  return loadStateDictPartial(model, entries, { allowMissingDecoder: true, ignoreKey: (k) => k.startsWith('head.') });
}
