import * as tf from '@tensorflow/tfjs-core';
import { lenKeep, randomMasking } from './index.js';
import { describeEachBackend } from '../../../testing/backends.js';

describeEachBackend('randomMasking', () => {
  it('keeps the lowest-noise tokens in ascending-noise order', () => {
    const x = tf.reshape(tf.range(0, 2 * 5 * 2), [2, 5, 2]) as tf.Tensor3D; // token t of sample n = [10n+2t, 10n+2t+1]
    const noise = tf.tensor2d([
      [0.9, 0.1, 0.5, 0.3, 0.7],
      [0.2, 0.8, 0.6, 0.4, 0.0],
    ]);
    const r = randomMasking(x, 0.6, noise); // keep floor(5 * 0.4) = 2
    expect(r.idsKeep.arraySync()).toEqual([
      [1, 3],
      [4, 0],
    ]);
    expect(r.kept.arraySync()).toEqual([
      [[2, 3], [6, 7]],
      [[18, 19], [10, 11]],
    ]);
    expect(r.mask.arraySync()).toEqual([
      [1, 0, 1, 0, 1],
      [0, 1, 1, 1, 0],
    ]);
    // idsRestore = argsort(argsort(noise)): the rank of each token's noise
    expect(r.idsRestore.arraySync()).toEqual([
      [4, 0, 2, 1, 3],
      [1, 4, 3, 2, 0],
    ]);
    tf.dispose([x, noise, ...Object.values(r)]);
  });

  it('keeps floor(L * (1 - ratio)) tokens as the official int(L * (1 - mask_ratio))', () => {
    expect(lenKeep(49, 0.75)).toBe(12);
    expect(lenKeep(196, 0.75)).toBe(49);
    expect(lenKeep(64, 0)).toBe(64);
  });

  it('draws reproducible noise from a seed', () => {
    const x = tf.zeros([3, 16, 4]) as tf.Tensor3D;
    const a = randomMasking(x, 0.75, undefined, 42);
    const b = randomMasking(x, 0.75, undefined, 42);
    expect(a.idsRestore.dataSync()).toEqual(b.idsRestore.dataSync());
    expect(tf.sum(a.mask).dataSync()[0]).toBe(3 * 12); // 12 of 16 tokens removed per sample
    tf.dispose([x, ...Object.values(a), ...Object.values(b)]);
  });

  it('rejects bad ratios and noise shapes', () => {
    const x = tf.zeros([2, 5, 3]) as tf.Tensor3D;
    expect(() => randomMasking(x, 1)).toThrow('randomMasking: maskRatio is 1: expected a number in [0, 1)');
    expect(() => randomMasking(x, -0.5)).toThrow('randomMasking: maskRatio is -0.5: expected a number in [0, 1)');
    expect(() => randomMasking(x, 0.5, tf.zeros([2, 4]) as tf.Tensor2D)).toThrow(/noise must be \[N, L\] = \[2, 5\], got \[2,4\]/);
    expect(() => randomMasking(tf.zeros([2, 5]) as never, 0.5)).toThrow(/x must be \[N, L, D\], got shape \[2,5\]/);
  });
});
