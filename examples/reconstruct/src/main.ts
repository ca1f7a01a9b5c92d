/**
 * Reconstructs masked images with a pretrained MAE and writes the figure the MAE paper shows:
 * one row per image, original | masked | reconstruction | reconstruction with the visible
 * patches pasted back.
 *
 *   node dist/main.js [--model <hf:owner/name | official name | URL | file or folder>] [--preset <name>] [--offline]
 *                     [--images sample|<folder>] [--count N] [--mask-ratio R] [--seed S] [--normalization <json>] [--out fig.png]
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@maejs/backend';
import { FASHION_MNIST_MEAN, FASHION_MNIST_STD, IMAGENET_MEAN, IMAGENET_STD } from '@maejs/data';
import { loadBundledSample, loadImageFolder } from '@maejs/data/node';
import { reconstructionGrid, writePng } from '@maejs/trainer/node';
import { loadModel } from '@maejs/example-common';

const { values: flags } = parseArgs({
  options: {
    model: { type: 'string' },
    preset: { type: 'string' },
    offline: { type: 'boolean', default: false },
    images: { type: 'string', default: 'sample' },
    count: { type: 'string', default: '8' },
    'mask-ratio': { type: 'string' },
    seed: { type: 'string', default: '1' },
    normalization: { type: 'string' },
    backend: { type: 'string', default: 'auto' },
    out: { type: 'string', default: 'out/reconstruction.png' },
  },
  strict: true,
});

const count = Number(flags.count);
if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be an integer >= 1, got '${flags.count}'`);
const seed = Number(flags.seed);
if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got '${flags.seed}'`);
const maskRatio = flags['mask-ratio'] === undefined ? undefined : Number(flags['mask-ratio']);
if (maskRatio !== undefined && !(maskRatio >= 0 && maskRatio < 1)) throw new Error(`--mask-ratio must be a number in [0, 1), got '${flags['mask-ratio']}'`);

const backend = await initBackend(flags.backend as BackendName | 'auto');
tf.enableProdMode();
const { model, source: modelName, notes, hasDecoder } = await loadModel(flags.model, flags.preset, flags.offline);
const { imgSize, inChans, patchSize, embedDim, depth, decoderEmbedDim, decoderDepth } = model.config;
console.log(`model ${modelName}: ${imgSize}x${imgSize}x${inChans}, patch ${patchSize}, encoder ${embedDim}x${depth}, decoder ${decoderEmbedDim}x${decoderDepth}; backend ${backend}`);
for (const note of notes) console.log(`  note: ${note}`);
if (!hasDecoder) console.log('  the checkpoint holds no decoder (an encoder-only checkpoint): the reconstructions come from a random decoder');

// Normalisation the model was trained with: a JSON file { mean, std } (the pre-training example
// writes one), else ImageNet's for RGB models (the official checkpoints) and Fashion-MNIST's for gray ones.
const { mean, std }: { mean: number[]; std: number[] } = flags.normalization
  ? JSON.parse(readFileSync(flags.normalization, 'utf8'))
  : inChans === 3
    ? { mean: [...IMAGENET_MEAN], std: [...IMAGENET_STD] }
    : { mean: [...FASHION_MNIST_MEAN], std: [...FASHION_MNIST_STD] };
if (!Array.isArray(mean) || !Array.isArray(std) || mean.length !== inChans || std.length !== inChans) {
  throw new Error(`normalization ${flags.normalization}: expected { "mean": [${inChans} numbers], "std": [${inChans} numbers] } for a model with ${inChans} channels`);
}

/** `count` images in [0, 1], NHWC at the model's size: from the bundled sample or a folder. */
async function loadImages(): Promise<{ pixels: Float32Array; n: number; source: string }> {
  if (flags.images === 'sample') {
    if (imgSize !== 28 || inChans !== 1) throw new Error(`the bundled sample is 28x28 gray; this model takes ${imgSize}x${imgSize}x${inChans}: pass --images <folder of PNG/JPEG files>`);
    const sample = await loadBundledSample();
    const n = Math.min(count, sample.n);
    return { pixels: Float32Array.from(sample.images.subarray(0, n * 28 * 28), (v) => v / 255), n, source: 'the bundled Fashion-MNIST sample' };
  }
  const folder = await loadImageFolder(flags.images as string, { channels: inChans as 1 | 3, resize: imgSize });
  const n = Math.min(count, folder.shape[0]);
  return { pixels: folder.images.subarray(0, n * imgSize * imgSize * inChans), n, source: flags.images as string };
}

const { pixels, n, source } = await loadImages();
const normalised = pixels.map((v, i) => (v - mean[i % inChans]) / std[i % inChans]);
const images = tf.tensor4d(normalised, [n, imgSize, imgSize, inChans]);
try {
  const loss = tf.tidy(() => model.loss(images, { maskRatio, seed }));
  console.log(`masked-patch loss on ${n} images of ${source}: ${(await loss.data())[0].toFixed(4)} (mask ratio ${maskRatio ?? model.config.maskRatio})`);
  loss.dispose();
  const grid = await reconstructionGrid(model, images, { maskRatio, seed, mean, std });
  writePng(flags.out, grid);
  console.log(`wrote ${flags.out} (${grid.width}x${grid.height}): ${n} rows of original | masked | reconstruction | visible patches pasted back`);
} finally {
  images.dispose();
  model.dispose();
}
