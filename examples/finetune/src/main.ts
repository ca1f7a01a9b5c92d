/**
 * Fine-tuning a classifier from a pretrained MAE encoder, as the official main_finetune: the
 * encoder and a new head are trained end to end with AdamW and layer-wise learning-rate decay
 * (blocks near the input move least), then evaluated. With --baseline, the same architecture from
 * random initialisation is trained the same way, which shows what pre-training bought.
 *
 *   node dist/main.js [--model <hf:owner/name | official name | URL | file or folder>] [--preset <name>] [--offline] [--epochs N] [--batch-size N]
 *                     [--blr X] [--layer-decay X] [--pooling mean|cls] [--train-count N] [--test-count N]
 *                     [--baseline] [--normalization <json>] [--json <file>]
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
import { finetune, type FinetuneOptions, type FinetunePooling, type FinetuneResult } from '@maejs/eval';
import { MaskedAutoencoder } from '@maejs/mae';
import { goldenTinyGray, loadModel } from '@maejs/example-common';

const { values: flags } = parseArgs({
  options: {
    model: { type: 'string' },
    preset: { type: 'string' },
    offline: { type: 'boolean', default: false },
    epochs: { type: 'string', default: '10' },
    'batch-size': { type: 'string', default: '64' },
    blr: { type: 'string', default: '1e-3' },
    'layer-decay': { type: 'string', default: '0.75' },
    pooling: { type: 'string', default: 'mean' },
    'train-count': { type: 'string', default: '2000' },
    'test-count': { type: 'string', default: '1000' },
    baseline: { type: 'boolean', default: false },
    seed: { type: 'string', default: '0' },
    normalization: { type: 'string' },
    backend: { type: 'string', default: 'auto' },
    json: { type: 'string' },
  },
  strict: true,
});

function numberFlag(name: 'epochs' | 'batch-size' | 'train-count' | 'test-count' | 'seed' | 'blr' | 'layer-decay', kind: 'count' | 'integer' | 'positive'): number {
  const value = Number(flags[name]);
  const ok = kind === 'count' ? Number.isInteger(value) && value >= 1 : kind === 'integer' ? Number.isInteger(value) : Number.isFinite(value) && value > 0;
  if (!ok) throw new Error(`--${name} must be ${kind === 'count' ? 'an integer >= 1' : kind === 'integer' ? 'an integer' : 'a number > 0'}, got '${flags[name]}'`);
  return value;
}
const pooling = flags.pooling as FinetunePooling;
if (pooling !== 'cls' && pooling !== 'mean') throw new Error(`--pooling must be mean or cls, got '${flags.pooling}'`);
const trainCount = numberFlag('train-count', 'count');
const testCount = numberFlag('test-count', 'count');
const options: FinetuneOptions = {
  numClasses: 10,
  epochs: numberFlag('epochs', 'count'),
  batchSize: numberFlag('batch-size', 'count'),
  blr: numberFlag('blr', 'positive'),
  layerDecay: numberFlag('layer-decay', 'positive'),
  pooling,
  seed: numberFlag('seed', 'integer'),
  onEpochEnd: (r) => console.log(`  epoch ${r.epoch + 1}: train loss ${r.loss.toFixed(4)}, lr ${r.lr.toExponential(2)}`),
};

const backend = await initBackend(flags.backend as BackendName | 'auto');
tf.enableProdMode();
const modelSource = flags.model ?? goldenTinyGray();
const { model, notes } = await loadModel(flags.model, flags.preset, flags.offline);
const { imgSize, inChans, embedDim, depth } = model.config;
if (imgSize !== 28 || inChans !== 1) throw new Error(`${modelSource} is a ${imgSize}x${imgSize}x${inChans} model; this example's data (the bundled Fashion-MNIST sample) is 28x28 gray`);
console.log(`model ${modelSource}: encoder ${embedDim}x${depth}, ${pooling} pooling, layer decay ${options.layerDecay}; backend ${backend}`);
for (const note of notes) console.log(`  note: ${note}`);

// The data, normalised as in pre-training ({ mean, std } from --normalization, else Fashion-MNIST's).
const { mean, std }: { mean: number[]; std: number[] } = flags.normalization ? JSON.parse(readFileSync(flags.normalization, 'utf8')) : { mean: [...FASHION_MNIST_MEAN], std: [...FASHION_MNIST_STD] };
const sample = await loadBundledSample();
if (trainCount + testCount > sample.n) throw new Error(`--train-count + --test-count must be at most ${sample.n} (the bundled sample), got ${trainCount} + ${testCount}`);
const pixels = 28 * 28;
const set = (start: number, n: number) => ({
  images: Float32Array.from(sample.images.subarray(start * pixels, (start + n) * pixels), (v) => (v / 255 - mean[0]) / std[0]),
  labels: Int32Array.from(sample.labels.subarray(start, start + n)),
});
const train = set(0, trainCount);
const test = set(trainCount, testCount);

/** Fine-tunes `mae` (in place) and prints the result. */
async function run(title: string, mae: MaskedAutoencoder): Promise<FinetuneResult> {
  console.log(`${title}: ${trainCount} training images, ${options.epochs} epochs`);
  const started = Date.now();
  try {
    const result = await finetune(mae, train, test, options);
    console.log(`${title}: test accuracy ${(100 * result.testAccuracy).toFixed(1)}% on ${testCount} images in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return result;
  } finally {
    mae.dispose();
  }
}

const pretrained = await run('from the pretrained encoder', model);
const scratch = flags.baseline ? await run('from random initialisation', new MaskedAutoencoder(model.config, { seed: options.seed })) : undefined;
const summary = (r: FinetuneResult) => ({ testAccuracy: r.testAccuracy, losses: r.history.map((h) => h.loss) });
if (flags.json) writeFileSync(flags.json, JSON.stringify({ model: modelSource, trainCount, testCount, epochs: options.epochs, pretrained: summary(pretrained), scratch: scratch && summary(scratch) }, null, 2) + '\n');
