/**
 * maskedMse with normPixLoss against an independent float64 numpy reference
 * (reference/norm_pix_loss.py, its output reference/norm_pix_loss.json): the official
 * forward_loss with the unbiased variance and eps 1e-6, on patches that include a constant
 * one, one whose variance is about eps and a large-scale one.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { maskedMse, normalizePatches } from './index.js';
import { describeEachBackend, expectClose } from '../../../testing/backends.js';

interface Reference {
  shape: [number, number, number];
  pred: number[];
  target: number[];
  mask: number[];
  normalized_target: number[];
  per_patch_loss: number[];
  loss: number;
}

const ref: Reference = JSON.parse(readFileSync(join(__dirname, '..', 'reference', 'norm_pix_loss.json'), 'utf8'));
const [n, l] = ref.shape;

describeEachBackend('maskedMse normPixLoss vs the float64 numpy reference', () => {
  let pred: tf.Tensor3D;
  let target: tf.Tensor3D;
  beforeAll(() => {
    pred = tf.tensor3d(ref.pred, ref.shape);
    target = tf.tensor3d(ref.target, ref.shape);
  });
  afterAll(() => tf.dispose([pred, target]));

  it('normalizes each target patch as the reference', () => {
    const got = normalizePatches(target);
    expectClose('normalized target', got.dataSync(), ref.normalized_target, 1e-5, 1e-4);
    got.dispose();
  });

  it('gives the reference per-patch loss (mask selecting one patch at a time)', () => {
    const got: number[] = [];
    for (let i = 0; i < n * l; i++) {
      const oneHot = tf.tensor2d(Array.from({ length: n * l }, (_, j) => (j === i ? 1 : 0)), [n, l]);
      const loss = maskedMse(pred, target, oneHot, { normPixLoss: true });
      got.push(loss.dataSync()[0]);
      tf.dispose([oneHot, loss]);
    }
    expectClose('per-patch loss', got, ref.per_patch_loss, 1e-6, 1e-5);
  });

  it('gives the reference loss over the removed patches', () => {
    const mask = tf.tensor2d(ref.mask, [n, l]);
    const loss = maskedMse(pred, target, mask, { normPixLoss: true });
    expectClose('loss', loss.dataSync(), [ref.loss], 0, 1e-5);
    tf.dispose([mask, loss]);
  });
});
