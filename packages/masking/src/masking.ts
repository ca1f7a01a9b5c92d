import * as tf from '@tensorflow/tfjs-core';
import { checkInRange, inversePermutation, permuteTokens, rangeError, stableRanks, tfSeed, type ArgumentErrorMaker } from '@maejs/backend';

/** Result of {@link randomMasking}. All tensors are new; the caller owns them. */
export interface MaskingResult {
  /** [N, lenKeep, D] the visible tokens, in ascending-noise order. */
  kept: tf.Tensor3D;
  /** [N, L] float32, 0 = kept, 1 = removed, in the original token order. */
  mask: tf.Tensor2D;
  /** int32 [N, L] position of each original token in the shuffled order (argsort of idsShuffle). */
  idsRestore: tf.Tensor2D;
  /** int32 [N, lenKeep] original indices of the kept tokens. */
  idsKeep: tf.Tensor2D;
}

/** Number of tokens kept: floor(L * (1 - maskRatio)), as the official `int(L * (1 - mask_ratio))`. */
export function lenKeep(numTokens: number, maskRatio: number): number {
  return Math.floor(numTokens * (1 - maskRatio));
}

/**
 * Throws unless maskRatio is a number in [0, 1): `<where> is <value>: expected a number in [0, 1)`,
 * as the error `makeError` builds (a RangeError by default).
 */
export function checkMaskRatio(maskRatio: unknown, where = 'maskRatio', makeError: ArgumentErrorMaker = rangeError): asserts maskRatio is number {
  checkInRange(where, maskRatio, 0, 1, '[)', makeError);
}

/**
 * The default masking noise: [n, numTokens] uniform [0, 1) from `seed` (unseeded without one).
 * Drawing it once for a whole batch and slicing rows gives every shard of a data-parallel step
 * exactly the masks the undivided batch would get.
 */
export function maskingNoise(n: number, numTokens: number, seed?: number): tf.Tensor2D {
  return tf.randomUniform([n, numTokens], 0, 1, 'float32', seed === undefined ? undefined : tfSeed(seed)) as tf.Tensor2D;
}

/**
 * Per-sample random masking by argsort of noise, as the official `random_masking`.
 *
 * x: [N, L, D]; noise: optional [N, L] float32 (default uniform [0, 1), seeded by `seed`).
 * Tokens with the smallest noise are kept: idsShuffle = argsort(noise), idsRestore =
 * argsort(idsShuffle), idsKeep = idsShuffle[:, :lenKeep], lenKeep = floor(L*(1-maskRatio)).
 * Equal noise values keep their token order. Everything runs on the device: idsRestore is the
 * stable rank of each token's noise and idsShuffle its inverse permutation, both from pairwise
 * comparisons (no sort kernel, no read-back).
 */
export function randomMasking(x: tf.Tensor3D, maskRatio: number, noise?: tf.Tensor2D, seed?: number): MaskingResult {
  if (x.rank !== 3) throw new Error(`randomMasking: x must be [N, L, D], got shape [${x.shape}]`);
  checkMaskRatio(maskRatio, 'randomMasking: maskRatio');
  const [n, l, d] = x.shape;
  if (noise !== undefined && (noise.rank !== 2 || noise.shape[0] !== n || noise.shape[1] !== l)) {
    throw new Error(`randomMasking: noise must be [N, L] = [${n}, ${l}], got [${noise.shape}]`);
  }
  const keep = lenKeep(l, maskRatio);
  return tf.tidy(() => {
    const u = noise ?? maskingNoise(n, l, seed); // [N, L]
    const idsRestore = stableRanks(u); // [N, L] = argsort(argsort(noise))
    const idsShuffle = inversePermutation(idsRestore); // [N, L] = argsort(noise)
    const shuffled = permuteTokens(x, idsShuffle); // [N, L, D]
    const kept = tf.slice(shuffled, [0, 0, 0], [n, keep, d]) as tf.Tensor3D; // [N, lenKeep, D]
    const idsKeep = tf.slice(idsShuffle, [0, 0], [n, keep]) as tf.Tensor2D; // [N, lenKeep]
    // A token is removed iff its place in the shuffled order is at or past lenKeep: for integer
    // places, clip(place - (lenKeep - 1), 0, 1) is 0 before lenKeep and 1 from it. (Not a cast of
    // a bool: on the cpu backend that returns the bool's Uint8Array as "float32" data.)
    const places = tf.cast(idsRestore, 'float32');
    const mask = tf.clipByValue(tf.sub(places, keep - 1), 0, 1) as tf.Tensor2D; // [N, L]
    return { kept, mask, idsRestore, idsKeep };
  });
}
