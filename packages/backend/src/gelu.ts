/**
 * Exact (erf) GELU, as torch.nn.GELU(): y = x Phi(x), Phi(x) = 0.5 (1 + erf(x / sqrt 2)), split
 * into a forward that also returns Phi(x) and a backward dx = dy (Phi(x) + x phi(x)),
 * phi(x) = exp(-x^2 / 2) / sqrt(2 pi). `@maejs/vit`'s `gelu` puts them together as one
 * differentiable op (a `tf.customGrad`, see there why).
 *
 * Two maejs kernels (see kernel-registry.ts), without registered gradients: `MaejsGelu`
 * x -> [y, Phi(x)] and `MaejsGeluGrad` (x, Phi(x), dy) -> dx. On wasm each is one SIMD kernel
 * (kernels/gelu.c, installed by `initBackend('wasm')`); elsewhere they run as op-level kernels
 * (tfjs ops, 5 and 7 kernels). Both use tfjs's erf (Abramowitz & Stegun 7.1.26); the wasm kernel
 * computes Phi(x) for x < 0 as 0.5 erfc(|x| / sqrt 2), without the cancellation of 1 + erf.
 */
import * as tf from '@tensorflow/tfjs-core';
import { runMaejsKernel, type MaejsKernel } from './kernel-registry.js';

/** Names of the GELU kernels: forward x -> [y, Phi(x)], backward (x, cdf, dy) -> dx. */
export const GELU_KERNELS = { forward: 'MaejsGelu', backward: 'MaejsGeluGrad' } as const;

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

const GELU: MaejsKernel = {
  name: GELU_KERNELS.forward,
  opLevel: ({ x }) => {
    const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5); // the halving is exact
    return [tf.mul(x, cdf), cdf];
  },
};

const GELU_GRAD: MaejsKernel = {
  name: GELU_KERNELS.backward,
  opLevel: ({ x, cdf, dy }) => {
    const pdf = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), INV_SQRT_2PI);
    return tf.mul(dy, tf.add(cdf, tf.mul(x, pdf)));
  },
};

/** [y, Phi(x)] for float32 x; the caller owns both. */
export function geluForward(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
  if (x.dtype !== 'float32') throw new Error(`geluForward: x must be float32, got ${x.dtype}`);
  return runMaejsKernel(GELU, { x }) as [tf.Tensor, tf.Tensor];
}

/** dx = dy (Phi(x) + x phi(x)), given `cdf` = Phi(x) from {@link geluForward}. */
export function geluBackward(x: tf.Tensor, cdf: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  for (const [name, t] of Object.entries({ cdf, dy })) {
    if (t.dtype !== 'float32' || !tf.util.arraysEqual(t.shape, x.shape)) throw new Error(`geluBackward: ${name} must be float32 with x's shape [${x.shape}], got ${t.dtype} [${t.shape}]`);
  }
  return runMaejsKernel(GELU_GRAD, { x, cdf, dy }) as tf.Tensor;
}
