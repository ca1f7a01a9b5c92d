/**
 * Exact (erf) GELU, as torch.nn.GELU(): y = x Phi(x), Phi(x) = 0.5 (1 + erf(x / sqrt 2)), with
 * gradient dx = dy (Phi(x) + x phi(x)), phi(x) = exp(-x^2 / 2) / sqrt(2 pi).
 *
 * Two maejs kernels (see kernel-registry.ts): `MaejsGelu` x -> y, whose registered gradient
 * saves x and runs `MaejsGeluGrad` (x, dy) -> dx. The gradient recomputes Phi(x) from x rather
 * than having the forward return it as a second output: tfjs's tape hands a zero-filled gradient
 * to every output nobody used, so a second output would cost one zero tensor of x's size per
 * backward pass, on top of keeping Phi(x) alive from the forward to the backward pass.
 *
 * On wasm each is one SIMD kernel (kernels/gelu.c, installed by `initBackend('wasm')`); elsewhere
 * they run as op-level kernels (tfjs ops, 5 and 11 kernels). Both use tfjs's erf (Abramowitz &
 * Stegun 7.1.26); the wasm kernel computes Phi(x) for x < 0 as 0.5 erfc(|x| / sqrt 2), without
 * the cancellation of 1 + erf.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runMaejsKernel, type MaejsKernel } from './kernel-registry.js';

/** Names of the GELU kernels: forward x -> y, backward (x, dy) -> dx. */
export const GELU_KERNELS = { forward: 'MaejsGelu', backward: 'MaejsGeluGrad' } as const;

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** Phi(x), the standard normal CDF, in tfjs ops. */
const normalCdf = (x: tf.Tensor) => tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5); // the halving is exact

const GELU: MaejsKernel = {
  name: GELU_KERNELS.forward,
  opLevel: ({ x }) => tf.mul(x, normalCdf(x)),
};

const GELU_GRAD: MaejsKernel = {
  name: GELU_KERNELS.backward,
  opLevel: ({ x, dy }) => {
    const pdf = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), INV_SQRT_2PI);
    return tf.mul(dy, tf.add(normalCdf(x), tf.mul(x, pdf)));
  },
};

/** The gradient of `MaejsGelu` (registered with tfjs on import of @maejs/backend). */
export const GELU_GRADIENT: tf.GradConfig = {
  kernelName: GELU_KERNELS.forward,
  inputsToSave: ['x'],
  gradFunc: (dy, [x]) => ({ x: () => geluGrad(x, dy as tf.Tensor) }),
};

/** Exact GELU of float32 x (any shape), differentiable: one `MaejsGelu` kernel. */
export function gelu(x: tf.Tensor): tf.Tensor {
  if (x.dtype !== 'float32') throw new Error(`gelu: x must be float32, got ${x.dtype}`);
  return runMaejsKernel(GELU, { x }) as tf.Tensor;
}

/** dx = dy (Phi(x) + x phi(x)), the gradient of {@link gelu} at x for the upstream gradient dy. */
export function geluGrad(x: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  if (x.dtype !== 'float32') throw new Error(`geluGrad: x must be float32, got ${x.dtype}`);
  if (dy.dtype !== 'float32' || !tf.util.arraysEqual(dy.shape, x.shape)) throw new Error(`geluGrad: dy must be float32 with x's shape [${x.shape}], got ${dy.dtype} [${dy.shape}]`);
  return runMaejsKernel(GELU_GRAD, { x, dy }) as tf.Tensor;
}
