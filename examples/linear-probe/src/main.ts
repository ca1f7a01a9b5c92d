/**
 * Frozen features and a linear probe: the encoder of a pretrained MAE turns every image into one
 * vector (no masking; --pooling: the cls token, the official global-pool features or the mean of
 * the normed patch tokens), and a linear classifier is trained
 * on those vectors alone (the official main_linprobe head: BatchNorm without affine, then Linear).
 * Weighted kNN on the same features and the same linear probe on raw pixels are printed beside it.
 *
 *   node dist/main.js [--model <hf:owner/name | official name | URL | file or folder>] [--preset <name>] [--offline] [--pooling cls|mean|mean-norm]
 *                     [--train-count N] [--test-count N] [--epochs N] [--normalization <json>] [--json <file>]
 *
 * Data: the Fashion-MNIST sample bundled with @maejs/data (3000 labelled 28x28 images), split
 * into the first train-count images for training and the next test-count for testing.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@maejs/backend';
import { FASHION_MNIST_MEAN, FASHION_MNIST_STD } from '@maejs/data';
import { loadBundledSample } from '@maejs/data/node';
import { extractFeatures, FEATURE_POOLINGS, isFeaturePooling, knnClassify, linearProbe, type FeatureSet } from '@maejs/eval';
import { goldenTinyGray, loadModel } from '@maejs/example-common';

const { values: flags } = parseArgs({
  options: {
    model: { type: 'string' },
    preset: { type: 'string' },
    offline: { type: 'boolean', default: false },
    pooling: { type: 'string', default: 'cls' },
    'train-count': { type: 'string', default: '2000' },
    'test-count': { type: 'string', default: '1000' },
    epochs: { type: 'string', default: '90' },
    normalization: { type: 'string' },
    backend: { type: 'string', default: 'auto' },
    json: { type: 'string' },
  },
  strict: true,
});

function integerFlag(name: 'train-count' | 'test-count' | 'epochs'): number {
  const value = Number(flags[name]);
  if (!Number.isInteger(value) || value < 1) throw new Error(`--${name} must be an integer >= 1, got '${flags[name]}'`);
  return value;
}
const pooling = flags.pooling;
if (!isFeaturePooling(pooling)) throw new Error(`--pooling must be one of ${FEATURE_POOLINGS.join(', ')}, got '${pooling}'`);
const trainCount = integerFlag('train-count');
const testCount = integerFlag('test-count');
const epochs = integerFlag('epochs');

const backend = await initBackend(flags.backend as BackendName | 'auto');
tf.enableProdMode();
const modelSource = flags.model ?? goldenTinyGray();
const { model, notes } = await loadModel(flags.model, flags.preset, flags.offline);
const { imgSize, inChans, embedDim } = model.config;
if (imgSize !== 28 || inChans !== 1) throw new Error(`${modelSource} is a ${imgSize}x${imgSize}x${inChans} model; this example's data (the bundled Fashion-MNIST sample) is 28x28 gray`);
console.log(`model ${modelSource}: encoder ${embedDim}x${model.config.depth}, ${pooling} pooling; backend ${backend}`);
for (const note of notes) console.log(`  note: ${note}`);

// The data, normalised as in pre-training ({ mean, std } from --normalization, else Fashion-MNIST's).
const { mean, std }: { mean: number[]; std: number[] } = flags.normalization ? JSON.parse(readFileSync(flags.normalization, 'utf8')) : { mean: [...FASHION_MNIST_MEAN], std: [...FASHION_MNIST_STD] };
const sample = await loadBundledSample();
if (trainCount + testCount > sample.n) throw new Error(`--train-count + --test-count must be at most ${sample.n} (the bundled sample), got ${trainCount} + ${testCount}`);
const pixels = 28 * 28;
const images = (start: number, n: number) => Float32Array.from(sample.images.subarray(start * pixels, (start + n) * pixels), (v) => (v / 255 - mean[0]) / std[0]);
const labels = (start: number, n: number) => Int32Array.from(sample.labels.subarray(start, start + n));
const trainImages = images(0, trainCount);
const testImages = images(trainCount, testCount);
const trainLabels = labels(0, trainCount);
const testLabels = labels(trainCount, testCount);

// 1. Frozen features: one forward pass of the encoder per batch, no masking, no gradients.
let started = Date.now();
const trainFeatures = await extractFeatures(model, trainImages, [trainCount, 28, 28, 1], { pooling });
const testFeatures = await extractFeatures(model, testImages, [testCount, 28, 28, 1], { pooling });
model.dispose();
console.log(`features: ${trainCount} + ${testCount} images -> ${embedDim} values each in ${((Date.now() - started) / 1000).toFixed(1)} s`);
const train: FeatureSet = { features: trainFeatures, labels: trainLabels, dim: embedDim };
const test: FeatureSet = { features: testFeatures, labels: testLabels, dim: embedDim };

// 2. The probes on the features, and the linear probe on the raw (normalised) pixels as a baseline.
started = Date.now();
const probe = await linearProbe(train, test, { numClasses: 10, epochs, onEpochEnd: (r) => (r.epoch + 1) % 10 === 0 && console.log(`  linear probe epoch ${r.epoch + 1}: loss ${r.loss.toFixed(4)}`) });
const knn = await knnClassify(train, test, { numClasses: 10, k: Math.min(20, trainCount) });
const pixelProbe = await linearProbe({ features: trainImages, labels: trainLabels, dim: pixels }, { features: testImages, labels: testLabels, dim: pixels }, { numClasses: 10, epochs });
const results = {
  model: modelSource,
  pooling,
  trainCount,
  testCount,
  epochs,
  linearProbe: { testAccuracy: probe.testAccuracy, trainAccuracy: probe.trainAccuracy, firstLoss: probe.history[0].loss, lastLoss: probe.history[probe.history.length - 1].loss },
  knn: { testAccuracy: knn.accuracy },
  pixelLinearProbe: { testAccuracy: pixelProbe.testAccuracy },
};
const pct = (v: number) => `${(100 * v).toFixed(1)}%`.padStart(6);
console.log(`probes in ${((Date.now() - started) / 1000).toFixed(1)} s, test accuracy on ${testCount} images (10 classes, chance 10%):`);
console.log(`  linear probe on MAE features  ${pct(probe.testAccuracy)}   (train ${pct(probe.trainAccuracy)})`);
console.log(`  kNN (k ${Math.min(20, trainCount)}) on MAE features    ${pct(knn.accuracy)}`);
console.log(`  linear probe on raw pixels    ${pct(pixelProbe.testAccuracy)}`);
if (flags.json) writeFileSync(flags.json, JSON.stringify(results, null, 2) + '\n');
