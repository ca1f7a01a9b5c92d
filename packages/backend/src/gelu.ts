/**
 * Exact (erf) GELU, as torch.nn.GELU(): y = x Phi(x), Phi(x) = 0.5 (1 + erf(x / sqrt 2)), split
 * into a forward that also returns Phi(x) and a backward dx = dy (Phi(x) + x phi(x)),
 * phi(x) = exp(-x^2 / 2) / sqrt(2 pi). `@maejs/vit`'s `gelu` puts them together as one op with
 * its gradient.
 *
 * On wasm each half is one SIMD kernel (kernels/gelu.c, installed by `initBackend('wasm')`); on
 * other backends, tfjs ops. Both use tfjs's erf (Abramowitz & Stegun 7.1.26); the kernel
 * computes Phi(x) for x < 0 as 0.5 erfc(|x| / sqrt 2), without the cancellation of 1 + erf.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Names of the kernels a backend can register to run GELU in one pass. */
export const GELU_KERNELS = { forward: 'MaejsGelu', backward: 'MaejsGeluGrad' } as const;

const INV_SQRT_2PI = 1 / Math.sqrt(2 * Math.PI);

/** [y, Phi(x)] for float32 x; the caller owns both. */
export function geluForward(x: tf.Tensor): [tf.Tensor, tf.Tensor] {
  if (x.dtype !== 'float32') throw new Error(`geluForward: x must be float32, got ${x.dtype}`);
  if (tf.getKernel(GELU_KERNELS.forward, tf.getBackend())) {
    return tf.engine().runKernel(GELU_KERNELS.forward, { x }) as unknown as [tf.Tensor, tf.Tensor];
  }
  return tf.tidy(() => {
    const cdf = tf.mul(tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1), 0.5); // the halving is exact
    return [tf.mul(x, cdf), cdf] as [tf.Tensor, tf.Tensor];
  });
}

/** dx = dy (Phi(x) + x phi(x)), given `cdf` = Phi(x) from {@link geluForward}. */
export function geluBackward(x: tf.Tensor, cdf: tf.Tensor, dy: tf.Tensor): tf.Tensor {
  for (const [name, t] of Object.entries({ cdf, dy })) {
    if (t.dtype !== 'float32' || !tf.util.arraysEqual(t.shape, x.shape)) throw new Error(`geluBackward: ${name} must be float32 with x's shape [${x.shape}], got ${t.dtype} [${t.shape}]`);
  }
  if (tf.getKernel(GELU_KERNELS.backward, tf.getBackend())) {
    return tf.engine().runKernel(GELU_KERNELS.backward, { x, cdf, dy }) as tf.Tensor;
  }
  return tf.tidy(() => {
    const pdf = tf.mul(tf.exp(tf.mul(tf.square(x), -0.5)), INV_SQRT_2PI);
    return tf.mul(dy, tf.add(cdf, tf.mul(x, pdf)));
  });
}
