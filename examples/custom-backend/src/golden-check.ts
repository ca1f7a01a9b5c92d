/**
 * A model-level check for the conformance kit: the tiny-gray golden case made with the official
 * PyTorch MAE code (its state dict, images and masking noise, and the loss, prediction, latent,
 * mask and ids_restore PyTorch computed), run through @maejs/mae on the active backend. The kit
 * judges the rows; @maejs/backend cannot build the model itself (it is the bottom package), so
 * the check is passed in through `runConformance({ golden })`.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { GoldenCheck, GoldenComparison } from '@maejs/backend/conformance';
import { MaskedAutoencoder, maeTiny28 } from '@maejs/mae';
import { parseNpy } from '@maejs/formats';
import { analyzeCheckpoint, importCheckpoint, maeStateOf } from '@maejs/weights';

/** The golden tiny-gray check, reading its files from `dir` (the folder holding `case.json`). */
export function tinyGrayCheck(dir: string): GoldenCheck {
  const read = (file: string) => readFileSync(join(dir, file));
  const npy = (file: string) => parseNpy(read(file), file);
  const expectedLoss: number = JSON.parse(read('case.json').toString('utf8')).values.loss;
  const imported = importCheckpoint(read('state_dict.pth'), 'state_dict.pth');
  const analysis = analyzeCheckpoint(imported, {}, maeTiny28); // head counts (4 and 4) from the preset
  const state = maeStateOf(imported, analysis).state;
  const [inputs, noise, pred, latent, mask, idsRestore] = ['inputs.npy', 'noise.npy', 'pred.npy', 'latent.npy', 'mask.npy', 'ids_restore.npy'].map(npy);

  return async (): Promise<GoldenComparison[]> => {
    const model = new MaskedAutoencoder(analysis.config);
    const images = tf.tidy(() => tf.transpose(tf.tensor4d(inputs.data as Float32Array, inputs.shape as [number, number, number, number]), [0, 2, 3, 1])); // NCHW -> NHWC
    const noiseTensor = tf.tensor2d(noise.data as Float32Array, noise.shape as [number, number]);
    try {
      model.loadStateDict(state);
      const out = model.forward(images, { noise: noiseTensor });
      const [loss, p, l, m, ids] = await Promise.all([out.loss, out.pred, out.latent, out.mask, out.idsRestore].map((t) => t.data()));
      tf.dispose([out.loss, out.pred, out.latent, out.mask, out.idsRestore, out.idsKeep]);
      // The golden README's tolerances for float32 backends.
      return [
        { name: 'golden tiny-gray loss', actual: loss, expected: [expectedLoss], tolerance: { atol: 0, rtol: 1e-5 } },
        { name: 'golden tiny-gray pred [3,49,16]', actual: p, expected: pred.data, tolerance: { atol: 1e-5, rtol: 1e-4 } },
        { name: 'golden tiny-gray latent [3,13,64]', actual: l, expected: latent.data, tolerance: { atol: 1e-5, rtol: 1e-4 } },
        { name: 'golden tiny-gray mask', actual: m, expected: mask.data, exact: true },
        { name: 'golden tiny-gray ids_restore', actual: ids, expected: idsRestore.data, exact: true },
      ];
    } finally {
      tf.dispose([images, noiseTensor]);
      model.dispose();
    }
  };
}
