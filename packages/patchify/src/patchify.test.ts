import * as tf from '@tensorflow/tfjs-core';
import { patchify, unpatchify } from './index.js';
import { describeEachBackend } from '../../../testing/backends.js';

describeEachBackend('patchify', () => {
  it('uses the (row, col, channel) layout inside a patch, patches row-major', () => {
    // 1 image 4x4, 2 channels, value = 100*row + 10*col + channel; patch 2 -> 4 patches of 8
    const values: number[] = [];
    for (let r = 0; r < 4; r++) for (let c = 0; c < 4; c++) for (let ch = 0; ch < 2; ch++) values.push(100 * r + 10 * c + ch);
    const img = tf.tensor4d(values, [1, 4, 4, 2]);
    const p = patchify(img, 2);
    expect(p.shape).toEqual([1, 4, 8]);
    const rows = p.arraySync()[0];
    expect(rows[0]).toEqual([0, 1, 10, 11, 100, 101, 110, 111]);
    expect(rows[1]).toEqual([20, 21, 30, 31, 120, 121, 130, 131]); // patch (0, 1)
    expect(rows[2]).toEqual([200, 201, 210, 211, 300, 301, 310, 311]); // patch (1, 0)
    tf.dispose([img, p]);
  });

  it('unpatchify inverts patchify, also for non-square images and 3 channels', () => {
    const img = tf.randomNormal([2, 8, 12, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const back = unpatchify(patchify(img, 4), 4, 3, { gridH: 2, gridW: 3 });
    expect(back.shape).toEqual([2, 8, 12, 3]);
    expect(back.dataSync()).toEqual(img.dataSync());
    tf.dispose([img, back]);
  });

  it('rejects bad shapes with messages that name the values', () => {
    expect(() => patchify(tf.zeros([2, 8, 8]) as never, 4)).toThrow(/images must be NHWC \[N, H, W, C\], got rank 3 shape \[2,8,8\]/);
    expect(() => patchify(tf.zeros([1, 10, 8, 1]) as tf.Tensor4D, 4)).toThrow(/image size 10x8 is not divisible by patch size 4/);
    expect(() => patchify(tf.zeros([1, 8, 8, 1]) as tf.Tensor4D, 0)).toThrow(/patchSize must be a positive integer, got 0/);
    expect(() => unpatchify(tf.zeros([1, 4, 15]) as tf.Tensor3D, 2, 4)).toThrow(/patch vectors have length 15, expected p\*p\*C = 2\*2\*4 = 16/);
    expect(() => unpatchify(tf.zeros([1, 6, 4]) as tf.Tensor3D, 2, 1)).toThrow(/6 patches do not form a 2x2 grid \(pass gridH and gridW/);
  });
});
