/**
 * How the encoder turns one image into one feature vector, as the official downstream ViT
 * (facebookresearch/mae models_vit.py) does, plus the mean of the normed tokens.
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkOneOf } from '@maejs/backend';
import { layerNorm2d, type LayerNorm } from '@maejs/vit';

/** The poolings of `MaskedAutoencoder.features` (and of the eval probes), in the order help texts list them. */
export const FEATURE_POOLINGS = ['cls', 'mean', 'mean-norm'] as const;

/**
 * - `'cls'`: the cls token after the encoder's final `norm` (official `global_pool=False`).
 * - `'mean'`: the official `global_pool=True` features: the mean of the patch tokens as the last
 *   block leaves them (the encoder's `norm` is not applied: models_vit.py deletes it), then
 *   `fc_norm`, a LayerNorm made with the encoder's norm layer (eps `layerNormEps`, 1e-6). An MAE
 *   checkpoint holds no `fc_norm`, so main_linprobe and main_finetune start it at weight 1,
 *   bias 0, and main_linprobe keeps it frozen there: that identity affine is what is applied.
 * - `'mean-norm'`: the mean of the patch tokens after the encoder's final `norm`.
 */
export type FeaturePooling = (typeof FEATURE_POOLINGS)[number];

/** One line per pooling, for help texts. */
export const FEATURE_POOLING_HELP: Readonly<Record<FeaturePooling, string>> = {
  cls: 'cls token after the final norm (official global_pool=False)',
  mean: 'LayerNorm (weight 1, bias 0) of the mean of the patch tokens before the final norm (official global_pool=True, fc_norm as initialised)',
  'mean-norm': 'mean of the patch tokens after the final norm',
};

/** Whether `value` is one of {@link FEATURE_POOLINGS}. */
export function isFeaturePooling(value: unknown): value is FeaturePooling {
  return (FEATURE_POOLINGS as readonly unknown[]).includes(value);
}

/** Throws a RangeError naming `value` and the choices unless it is a pooling; `where` prefixes the message. */
export function checkFeaturePooling(where: string, value: unknown): asserts value is FeaturePooling {
  checkOneOf(`${where}: pooling`, value, FEATURE_POOLINGS);
}

/**
 * Pools the encoder's tokens of unmasked images into one vector per image.
 * blocksOut: [N, 1+L, D] the last block's output (cls first, before `norm`) -> [N, D].
 * `fcNorm`: the global-pool LayerNorm of a classifier that has one (fine-tuning trains it);
 * without it, 'mean' applies a LayerNorm of eps `norm.eps` at weight 1, bias 0.
 * Call inside a tidy (or a gradient tape).
 */
export function poolTokens(blocksOut: tf.Tensor3D, norm: LayerNorm, pooling: FeaturePooling, fcNorm?: LayerNorm): tf.Tensor2D {
  const [n, t, d] = blocksOut.shape;
  if (pooling === 'mean') {
    const pooled = tf.mean(tf.slice(blocksOut, [0, 1, 0], [n, t - 1, d]), 1) as tf.Tensor2D; // [N, D]
    if (fcNorm) return fcNorm.apply(pooled) as tf.Tensor2D;
    return layerNorm2d(pooled, tf.ones([d]), tf.zeros([d]), norm.eps); // fc_norm as initialised
  }
  if (pooling === 'cls') return norm.apply(tf.reshape(tf.slice(blocksOut, [0, 0, 0], [n, 1, d]), [n, d])) as tf.Tensor2D; // norm is per token
  const normed = norm.apply(tf.slice(blocksOut, [0, 1, 0], [n, t - 1, d])); // [N, L, D]
  return tf.mean(normed, 1) as tf.Tensor2D; // [N, D] mean-norm
}
