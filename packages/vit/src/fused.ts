/**
 * LayerNorm and exact GELU as single differentiable ops (tf.customGrad) with hand-written
 * gradients. The same values as the op-by-op forms, but the backward pass keeps only what it
 * needs (x-hat and 1/std for LayerNorm, x for GELU) instead of every intermediate, and runs a
 * few fused expressions instead of the chain rule through each elementwise op.
 */
import * as tf from '@tensorflow/tfjs-core';
import { geluBackward, geluForward, sumRows } from '@maejs/backend';

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

/**
 * Exact (erf) GELU, 0.5 x (1 + erf(x / sqrt 2)) as torch.nn.GELU(); gradient
 * Phi(x) + x phi(x). The forward keeps Phi(x) for the backward pass (one erf per element); on
 * wasm each pass is one kernel (`geluForward` / `geluBackward` of @maejs/backend).
 */
export function gelu(x: tf.Tensor): tf.Tensor {
  const op = tf.customGrad((...args: Args) => {
    const [xIn, save] = args as [tf.Tensor, tf.GradSaveFunc];
    const [y, cdf] = geluForward(xIn);
    save([xIn, cdf]);
    return { value: y, gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => [geluBackward(saved[0], saved[1], dy)] };
  });
  return op(x);
}
