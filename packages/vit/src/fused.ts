/**
 * LayerNorm and exact GELU as single differentiable ops (tf.customGrad) with hand-written
 * gradients. The same values as the op-by-op forms, but the backward pass keeps only what it
 * needs (x-hat and 1/std for LayerNorm, x and Phi(x) for GELU) instead of every intermediate, and
 * runs a few fused expressions instead of the chain rule through each elementwise op.
 *
 * Why tf.customGrad and not maejs kernels with registered gradients (as `linear` and
 * `permuteTokens` of @maejs/backend are): a registered gradient sees only a kernel's inputs and
 * outputs, and both backward passes need a value the forward pass computed. As a kernel output,
 * tfjs's tape gives it a zero-filled gradient tensor in every backward pass; recomputed from x,
 * it costs work. Measured on a mae_tiny_28 training step at batch 32 (wasm, 2-core machine):
 * - LayerNorm returning x-hat and 1/std as outputs: peak tensor memory 301.6 MB instead of
 *   296.7 MB, the same kernels; recomputing them instead: 7 more kernels per LayerNorm
 *   backward (126 per step).
 * - GELU returning Phi(x) as an output: peak 305.1 MB instead of 296.7 MB; recomputing Phi(x)
 *   in the gradient kernel: 8.4 MB less at the peak but ~8 ms (2%) more per step on wasm (the
 *   SIMD forward pass again in each of the 8 backward passes: 1.5 ms instead of 0.74 ms for
 *   [416, 512]) and 4 more kernels per backward pass on the other backends.
 * The two forms are otherwise as fast as each other: `linear` as a tf.customGrad op and as a
 * kernel with a registered gradient took 35-36 ms both for forward and backward of that step's
 * five linear-layer shapes.
 */
import * as tf from '@tensorflow/tfjs-core';
import { geluBackward, geluForward, sumRows } from '@maejs/backend';

type Args = Array<tf.Tensor | tf.GradSaveFunc>;

/** LayerNorm's forward pass with what its backward pass needs: y [M, D], xhat [M, D], rstd [M, 1]. */
export interface LayerNormParts {
  y: tf.Tensor2D;
  xhat: tf.Tensor2D;
  rstd: tf.Tensor2D;
}

/**
 * LayerNorm over the last axis with biased variance (torch.nn.LayerNorm), with its
 * intermediates: xhat = (x - mean) * rstd, rstd = 1 / sqrt(var + eps), y = xhat * gamma + beta.
 * x: [M, D], gamma, beta: [D].
 */
export function layerNormForward(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): LayerNormParts {
  const mean = tf.mean(x, -1, true); // [M, 1]
  const centered = tf.sub(x, mean);
  const rstd = tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps)) as tf.Tensor2D; // [M, 1]
  const xhat = tf.mul(centered, rstd) as tf.Tensor2D; // [M, D]
  return { y: tf.add(tf.mul(xhat, gamma), beta) as tf.Tensor2D, xhat, rstd };
}

/**
 * LayerNorm's backward pass from its saved xhat [M, D] and rstd [M, 1]: dy [M, D] ->
 * [dx [M, D], dgamma [D], dbeta [D]]. Per row, with g = dy * gamma:
 * dx = rstd * (g - mean(g) - xhat * mean(g * xhat)); dgamma = sum_rows(dy * xhat); dbeta = sum_rows(dy).
 */
export function layerNormBackward(dy: tf.Tensor2D, xhat: tf.Tensor2D, rstd: tf.Tensor2D, gamma: tf.Tensor1D): [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D] {
  const g = tf.mul(dy, gamma); // [M, D]
  const meanG = tf.mean(g, -1, true);
  const meanGX = tf.mean(tf.mul(g, xhat), -1, true);
  const dx = tf.mul(rstd, tf.sub(tf.sub(g, meanG), tf.mul(xhat, meanGX))) as tf.Tensor2D;
  return [dx, sumRows(tf.mul(dy, xhat) as tf.Tensor2D), sumRows(dy)];
}

/**
 * LayerNorm over the last axis with biased variance (torch.nn.LayerNorm) as one differentiable
 * op: x: [M, D], gamma, beta: [D] -> [M, D]. Keeps xhat, rstd and gamma for the backward pass
 * ({@link layerNormBackward}).
 */
export function layerNorm2d(x: tf.Tensor2D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps: number): tf.Tensor2D {
  const op = tf.customGrad((...args: Args) => {
    const [xIn, gIn, bIn, save] = args as [tf.Tensor2D, tf.Tensor1D, tf.Tensor1D, tf.GradSaveFunc];
    const { y, xhat, rstd } = layerNormForward(xIn, gIn, bIn, eps);
    save([xhat, rstd, gIn]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => layerNormBackward(dy as tf.Tensor2D, saved[0] as tf.Tensor2D, saved[1] as tf.Tensor2D, saved[2] as tf.Tensor1D),
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
