import * as tf from '@tensorflow/tfjs-core';
import { describeEachBackend, expectClose } from '../../../testing/backends.js';
import { gelu, layerNorm2d } from './fused.js';

// The op-by-op definitions the fused ops must match, value and gradient.
const referenceLayerNorm = (x: tf.Tensor, g: tf.Tensor, b: tf.Tensor, eps: number) => {
  const centered = tf.sub(x, tf.mean(x, -1, true));
  const normed = tf.mul(centered, tf.rsqrt(tf.add(tf.mean(tf.square(centered), -1, true), eps)));
  return tf.add(tf.mul(normed, g), b);
};
const referenceGelu = (x: tf.Tensor) => tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));

describeEachBackend('fused ops', () => {
  it('layerNorm2d matches LayerNorm op by op, value and all gradients', () => {
    const x = tf.randomNormal([6, 8], 0.3, 2, 'float32', 11);
    const g = tf.randomNormal([8], 1, 0.2, 'float32', 12);
    const b = tf.randomNormal([8], 0, 0.2, 'float32', 13);
    const up = tf.randomNormal([6, 8], 0, 1, 'float32', 14);
    const f = (ln: typeof referenceLayerNorm) => (a: tf.Tensor, gg: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(ln(a, gg, bb, 1e-6), up));
    const fused = tf.grads(f((a, gg, bb, e) => layerNorm2d(a as tf.Tensor2D, gg as tf.Tensor1D, bb as tf.Tensor1D, e)))([x, g, b]);
    const ref = tf.grads(f(referenceLayerNorm))([x, g, b]);
    ['dx', 'dgamma', 'dbeta'].forEach((name, i) => expectClose(name, fused[i].dataSync(), ref[i].dataSync(), 1e-5, 1e-4));
    expectClose('value', layerNorm2d(x as tf.Tensor2D, g as tf.Tensor1D, b as tf.Tensor1D, 1e-6).dataSync(), referenceLayerNorm(x, g, b, 1e-6).dataSync(), 1e-6, 1e-5);
  });

  it('gelu matches the erf formula, value and gradient', () => {
    const x = tf.linspace(-6, 6, 121);
    expectClose('value', gelu(x).dataSync(), referenceGelu(x).dataSync(), 1e-7, 1e-6);
    expectClose('grad', tf.grad(gelu)(x).dataSync(), tf.grad(referenceGelu)(x).dataSync(), 1e-6, 1e-5);
  });
});
