/**
 * LayerNorm and exact GELU as single differentiable ops with hand-written gradients: the same
 * values as the op-by-op forms, but the backward pass keeps only what it needs and runs a few
 * fused expressions instead of the chain rule through each elementwise op.
 *
 * GELU is the maejs kernel `MaejsGelu` of @maejs/backend (a registered gradient; one SIMD kernel
 * each way on wasm). LayerNorm is a `tf.customGrad` op instead: its backward needs x-hat and
 * 1/std from the forward pass, and a registered gradient sees only a kernel's inputs and
 * outputs. As a named kernel LayerNorm would have to return both as extra outputs, for which
 * tfjs's tape allocates zero-filled gradients in every backward pass (a mae_tiny_28 training
 * step at batch 32 on wasm: peak tensor memory 301.6 MB instead of 296.7 MB, with the same
 * kernels and time), or recompute them from x (7 more kernels per LayerNorm backward).
 */
import * as tf from '@tensorflow/tfjs-core';
import { sumRows } from '@maejs/backend';

export { gelu } from '@maejs/backend';

type Args = Array<tf.Tensor | tf.GradSaveFunc>;

/**
 * LayerNorm over the last axis with biased variance (torch.nn.LayerNorm).
 * x: [M, D], gamma, beta: [D] -> [M, D].
 *
 * Backward, per row with xhat = (x - mean) * rstd and g = dy * gamma:
 * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)); dgamma = sum_rows(dy * xhat); dbeta = sum_rows(dy).
 */
export function layerNorm2d(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  const op = tf.customGrad((...args: Args) => {
    const [xIn, gIn, bIn, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const mean = tf.mean(xIn, -1, true); // [M, 1]
    const centered = tf.sub(xIn, mean);
    const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps)); // [M, 1]
    const xhat = tf.mul(centered, rstd); // [M, D]
    save([xhat, rstd, gIn]);
    return {
      value: tf.add(tf.mul(xhat, gIn), bIn),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, rs, gamma] = saved;
        const g = tf.mul(dy, gamma); // [M, D]
        const meanG = tf.mean(g, -1, true);
        const meanGX = tf.mean(tf.mul(g, xh), -1, true);
        const dx = tf.mul(rs, tf.sub(tf.sub(g, meanG), tf.mul(xh, meanGX)));
        return [dx, sumRows(tf.mul(dy, xh) as tf.Tensor2D), sumRows(dy as tf.Tensor2D)];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor2D;
}
