import * as tf from '@tensorflow/tfjs-core';

/** Options of {@link maskedMse}. */
export interface MaskedMseOptions {
  /** Normalise each target patch by its mean and unbiased variance (eps 1e-6), as the official norm_pix_loss. */
  normPixLoss?: boolean;
}

/**
 * MAE reconstruction loss, as the official `forward_loss`.
 *
 * pred, target: [N, L, p*p*C] (target = patchify(images)); mask: [N, L], 1 = removed.
 * Per-patch mean squared error, averaged over removed patches only -> scalar.
 * With normPixLoss the target of each patch is (t - mean) / sqrt(var + 1e-6), var unbiased.
 */
export function maskedMse(pred: tf.Tensor3D, target: tf.Tensor3D, mask: tf.Tensor2D, options: MaskedMseOptions = {}): tf.Scalar {
  if (pred.rank !== 3 || target.rank !== 3 || pred.shape.some((s, i) => s !== target.shape[i])) {
    throw new Error(`maskedMse: pred [${pred.shape}] and target [${target.shape}] must both be [N, L, p*p*C] and equal`);
  }
  if (mask.rank !== 2 || mask.shape[0] !== pred.shape[0] || mask.shape[1] !== pred.shape[1]) {
    throw new Error(`maskedMse: mask must be [N, L] = [${pred.shape[0]}, ${pred.shape[1]}], got [${mask.shape}]`);
  }
  return tf.tidy(() => {
    const t = options.normPixLoss ? normalizePatches(target) : target;
    const perPatch = tf.mean(tf.squaredDifference(pred, t), -1); // [N, L]
    return tf.div(tf.sum(tf.mul(perPatch, mask)), tf.sum(mask)) as tf.Scalar;
  });
}

/**
 * Per-patch normalisation of norm_pix_loss: (t - mean) / sqrt(var + 1e-6) with the
 * unbiased variance (torch's default `var`). target: [N, L, K] -> [N, L, K].
 */
export function normalizePatches(target: tf.Tensor3D): tf.Tensor3D {
  const k = target.shape[2];
  if (k < 2) throw new Error(`normPixLoss needs at least 2 values per patch (unbiased variance), got ${k}`);
  return tf.tidy(() => {
    const mean = tf.mean(target, -1, true); // [N, L, 1]
    const centered = tf.sub(target, mean);
    const variance = tf.div(tf.sum(tf.square(centered), -1, true), k - 1); // [N, L, 1], unbiased
    return tf.div(centered, tf.sqrt(tf.add(variance, 1e-6))) as tf.Tensor3D;
  });
}
