/**
 * The golden training step (tiny-gray: forward loss, gradients of all 48 parameters, one AdamW
 * step) with maejs's kernels switched off (`useMaejsKernels(false)`): what tfjs-node and webgpu
 * run, since maejs registers no kernels there. Compared with the golden values and with the same
 * step on maejs's kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MaskedAutoencoder } from '@maejs/mae';
import { maejsKernelsEnabled, registeredMaejsKernels, useMaejsKernels } from '@maejs/backend';
import { compareArrays, describeEachBackend, expectClose } from '../../../testing/backends.js';
import { tinyGray } from '../../../testing/golden.js';
import { compareGrads, compareSteps, compareWeights, goldenStep, LOSS_RTOL, type StepResult } from './test-utils/golden-step.js';

/** Largest |a - b| / max|b| over every array of two maps with the same keys. */
function worstDifference(a: Map<string, Float32Array>, b: Map<string, Float32Array>): number {
  let worst = 0;
  for (const [name, want] of b) {
    const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0) || 1;
    worst = Math.max(worst, compareArrays(a.get(name)!, want, 0, 0).maxAbs / scale);
  }
  return worst;
}

describeEachBackend('golden training step with maejs kernels off', (backend) => {
  const { config, raw } = tinyGray.readCase();
  let images: tf.Tensor4D;
  let noise: tf.Tensor2D;
  let model: MaskedAutoencoder;
  let withKernels: StepResult;
  let without: StepResult;
  let kernelsOn: string[];

  beforeAll(async () => {
    images = tinyGray.images();
    noise = tinyGray.noise();
    model = new MaskedAutoencoder(config);
    kernelsOn = registeredMaejsKernels(backend);
    withKernels = await goldenStep(model, images, noise);
    await useMaejsKernels(false);
    try {
      expect(registeredMaejsKernels(backend)).toEqual([]);
      without = await goldenStep(model, images, noise);
    } finally {
      await useMaejsKernels(true);
    }
  });
  afterAll(() => {
    tf.dispose([images, noise]);
    model.dispose();
  });

  it('ran the kernel path with maejs kernels and the other without, and switched them back on', () => {
    const permutation = ['MaejsStableRanks', 'MaejsInversePermutation'];
    expect(kernelsOn).toEqual(backend === 'wasm' ? ['MaejsAdamWUpdate', ...permutation, 'MaejsGelu', 'MaejsGeluGrad', 'BatchMatMul', 'GatherV2', 'Identity', 'Slice'] : backend === 'cpu' ? ['MaejsAdamWUpdate', ...permutation] : []);
    expect(maejsKernelsEnabled()).toBe(true);
    expect(registeredMaejsKernels(backend)).toEqual(kernelsOn);
  });

  it('without maejs kernels: loss, every gradient and every weight after the step match the golden values', () => {
    expectClose('loss before', [without.before], [raw.train_step.loss_before], 0, LOSS_RTOL);
    expectClose('loss after', [without.after], [raw.train_step.loss_after], 0, LOSS_RTOL);
    const gradError = compareGrads(without);
    const weights = compareWeights(model, without);
    console.log(`[${backend}] kernels off vs golden: loss ${without.before} (golden ${raw.train_step.loss_before}), grads max abs err / max|g| ${gradError.toExponential(2)}, weights max abs err ${weights.maxAbs.toExponential(2)}`);
  });

  it('with maejs kernels: the same against the golden values', () => {
    expectClose('loss before', [withKernels.before], [raw.train_step.loss_before], 0, LOSS_RTOL);
    compareGrads(withKernels);
    compareWeights(model, withKernels);
  });

  it('kernels on and off agree: bit for bit on cpu (only the AdamW kernel differs, and it gives the op bits), to float rounding on wasm', () => {
    const grads = worstDifference(without.grads, withKernels.grads);
    console.log(`[${backend}] kernels off vs on: loss ${without.before} vs ${withKernels.before}, grads max abs diff / max|g| ${grads.toExponential(2)}`);
    if (backend === 'cpu') {
      expect(without.before).toBe(withKernels.before);
      expect(grads).toBe(0);
      for (const [name, w] of withKernels.weights) expect(without.weights.get(name)).toEqual(w);
      expect(without.after).toBe(withKernels.after);
      return;
    }
    expectClose('loss before (off vs on)', [without.before], [withKernels.before], 0, 1e-6);
    expect(grads).toBeLessThan(1e-5);
    const weights = compareSteps(without, withKernels);
    console.log(`[${backend}] kernels off vs on, weights after the step: max abs diff ${weights.maxAbs.toExponential(2)}; ${weights.tinyCount} elements with |grad| < 1e-7 (their first Adam step follows the sign of rounding noise): max abs diff ${weights.tinyMaxAbs.toExponential(2)}`);
  });
});
