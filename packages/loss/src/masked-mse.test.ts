import * as tf from '@tensorflow/tfjs-core';
import { maskedMse, normalizePatches } from './index.js';
import { describeEachBackend } from '../../../testing/backends.js';

describeEachBackend('maskedMse', () => {
  it('averages per-patch MSE over removed patches only', () => {
    const pred = tf.tensor3d([[[1, 1], [0, 0], [2, 2]]]);
    const target = tf.tensor3d([[[0, 0], [5, 5], [0, 4]]]);
    const mask = tf.tensor2d([[1, 0, 1]]);
    // patch 0: mean(1, 1) = 1; patch 2: mean(4, 4) = 4; patch 1 is kept and ignored -> (1 + 4) / 2
    expect(maskedMse(pred, target, mask).dataSync()[0]).toBeCloseTo(2.5, 6);
    tf.dispose([pred, target, mask]);
  });

  it('normPixLoss uses the unbiased variance and eps 1e-6', () => {
    const target = tf.tensor3d([[[1, 2, 3, 6]]]);
    const mean = 3;
    const unbiasedVar = (4 + 1 + 0 + 9) / 3;
    const expected = [1, 2, 3, 6].map((v) => (v - mean) / Math.sqrt(unbiasedVar + 1e-6));
    const got = normalizePatches(target).dataSync();
    expected.forEach((v, i) => expect(got[i]).toBeCloseTo(v, 5));
    const pred = tf.zeros([1, 1, 4]) as tf.Tensor3D;
    const loss = maskedMse(pred, target, tf.ones([1, 1]) as tf.Tensor2D, { normPixLoss: true }).dataSync()[0];
    expect(loss).toBeCloseTo(expected.reduce((s, v) => s + v * v, 0) / 4, 5);
    tf.dispose([target, pred]);
  });

  it('rejects mismatched shapes', () => {
    const a = tf.zeros([2, 3, 4]) as tf.Tensor3D;
    expect(() => maskedMse(a, tf.zeros([2, 3, 5]) as tf.Tensor3D, tf.zeros([2, 3]) as tf.Tensor2D)).toThrow(/pred \[2,3,4\] and target \[2,3,5\] must both be \[N, L, p\*p\*C\] and equal/);
    expect(() => maskedMse(a, a, tf.zeros([2, 4]) as tf.Tensor2D)).toThrow(/mask must be \[N, L\] = \[2, 3\], got \[2,4\]/);
    expect(() => normalizePatches(tf.zeros([1, 2, 1]) as tf.Tensor3D)).toThrow(/normPixLoss needs at least 2 values per patch/);
  });
});
