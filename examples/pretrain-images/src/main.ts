/**
 * MAE pre-training through the API on a folder of images: load the folder with @maejs/data,
 * build a model for its image size with @maejs/mae, run `pretrain` from @maejs/trainer and do
 * everything else in your own `onEvent` handler: progress lines, a held-out loss after every
 * epoch, a reconstruction figure per epoch, the loss curve, and the final weights as an official
 * state dict (`model.safetensors`) that any official-layout reader (and the other examples) loads.
 *
 *   node dist/main.js [--images <folder>] [--out <dir>] [--epochs N] [--batch-size N] ...
 *
 * Without --images it first writes a small folder of PNGs (Fashion-MNIST images from the sample
 * bundled with @maejs/data) to <out>/images, so it runs offline.
 */
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@maejs/backend';
import { channelStats, createAugmentation, float32ImageDataset } from '@maejs/data';
import { loadBundledSample, loadImageFolder } from '@maejs/data/node';
import { MaskedAutoencoder, maeTiny28, type MaeConfigInput } from '@maejs/mae';
import { FileCheckpointStore, lineChart, pretrain, readCheckpoint, reconstructionGrid, writePng, type TrainEvent } from '@maejs/trainer/node';
import { exportSafetensors } from '@maejs/weights';

const { values: flags } = parseArgs({
  options: {
    images: { type: 'string' },
    'demo-images': { type: 'string', default: '256' },
    channels: { type: 'string', default: '1' },
    'img-size': { type: 'string', default: '28' },
    'patch-size': { type: 'string', default: String(maeTiny28.patchSize) },
    'embed-dim': { type: 'string', default: String(maeTiny28.embedDim) },
    depth: { type: 'string', default: String(maeTiny28.depth) },
    'decoder-embed-dim': { type: 'string', default: String(maeTiny28.decoderEmbedDim) },
    'decoder-depth': { type: 'string', default: String(maeTiny28.decoderDepth) },
    epochs: { type: 'string', default: '4' },
    'batch-size': { type: 'string', default: '32' },
    blr: { type: 'string', default: '1e-3' },
    seed: { type: 'string', default: '0' },
    resume: { type: 'boolean', default: false },
    backend: { type: 'string', default: 'auto' },
    out: { type: 'string', default: 'out/pretrain' },
  },
  strict: true,
});

/** A flag that must be an integer >= min; the error names the flag and the value. */
function integerFlag(name: keyof typeof flags, min: number): number {
  const text = String(flags[name]);
  const value = Number(text);
  if (!/^-?\d+$/.test(text) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got '${text}'`);
  return value;
}

/** A flag that must be a finite number > 0. */
function positiveFlag(name: keyof typeof flags): number {
  const text = String(flags[name]);
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name} must be a number > 0, got '${text}'`);
  return value;
}

/** Writes `count` images of the bundled Fashion-MNIST sample as PNG files into `dir`. */
async function writeDemoImages(dir: string, count: number): Promise<void> {
  const sample = await loadBundledSample(); // uint8 [3000, 28, 28]
  if (count > sample.n) throw new Error(`--demo-images must be at most ${sample.n} (the bundled sample's size), got ${count}`);
  mkdirSync(dir, { recursive: true });
  const size = sample.height * sample.width;
  for (let i = 0; i < count; i++) {
    const rgba = new Uint8Array(size * 4);
    for (let k = 0; k < size; k++) {
      const v = sample.images[i * size + k];
      rgba.set([v, v, v, 255], k * 4);
    }
    writePng(join(dir, `image-${String(i).padStart(4, '0')}.png`), { width: sample.width, height: sample.height, data: rgba });
  }
}

const out = String(flags.out);
const channels = integerFlag('channels', 1);
if (channels !== 1 && channels !== 3) throw new Error(`--channels must be 1 (gray) or 3 (RGB), got ${channels}`);
const imgSize = integerFlag('img-size', 1);
const backend = await initBackend(flags.backend as BackendName | 'auto');
tf.enableProdMode();

// 1. The images: a folder of PNG / JPEG files, resized to imgSize x imgSize.
let folderPath = flags.images;
if (folderPath === undefined) {
  folderPath = join(out, 'images');
  if (!existsSync(folderPath) || readdirSync(folderPath).length === 0) await writeDemoImages(folderPath, integerFlag('demo-images', 2));
}
const folder = await loadImageFolder(folderPath, { channels, resize: imgSize });
const [n, h, w, c] = folder.shape;
if (n < 4) throw new Error(`${folderPath} holds ${n} images; pre-training here needs at least 4 (some are held out)`);
const { mean, std } = channelStats(folder.images, c);
// The last eighth (at least 2 images) is held out: the trainer never sees it, the evaluation does.
const heldOut = Math.max(2, Math.floor(n / 8));
const trainCount = n - heldOut;
const perImage = h * w * c;
const train = float32ImageDataset(folder.images.subarray(0, trainCount * perImage), undefined, [trainCount, h, w, c]);
const heldOutPixels = folder.images.slice(trainCount * perImage).map((v, i) => (v - mean[i % c]) / std[i % c]);
const heldOutImages = tf.tensor4d(heldOutPixels, [heldOut, h, w, c]);
const figureImages = tf.slice(heldOutImages, [0, 0, 0, 0], [Math.min(8, heldOut), -1, -1, -1]); // the rows of the per-epoch figure
console.log(`images: ${n} from ${folderPath} (${h}x${w}x${c}), ${trainCount} for training, ${heldOut} held out; mean ${mean.map((v) => v.toFixed(3))}, std ${std.map((v) => v.toFixed(3))}; backend ${backend}`);

// 2. The model: the mae_tiny_28 recipe at this image size, with the sizes given on the command line.
const config: MaeConfigInput = {
  ...maeTiny28,
  imgSize,
  inChans: c,
  patchSize: integerFlag('patch-size', 1),
  embedDim: integerFlag('embed-dim', 1),
  depth: integerFlag('depth', 1),
  decoderEmbedDim: integerFlag('decoder-embed-dim', 1),
  decoderDepth: integerFlag('decoder-depth', 1),
  normPixLoss: true,
};
const model = new MaskedAutoencoder(config, { seed: integerFlag('seed', 0) });

// 3. Your loop around the trainer: every event comes here, in order.
const losses: number[] = [];
let totalSteps = 0;
const onEvent = async (event: TrainEvent): Promise<void> => {
  switch (event.type) {
    case 'train-start':
      totalSteps = event.totalSteps;
      console.log(`train-start: ${event.parameters} parameters, ${event.stepsPerEpoch} updates per epoch, ${event.totalSteps} in all, lr ${event.lr.toExponential(2)} (effective batch ${event.effectiveBatch})${event.startStep ? `, resuming after update ${event.startStep}` : ''}`);
      break;
    case 'step':
      losses.push(event.loss);
      console.log(`  update ${String(event.step).padStart(4)}/${totalSteps}  epoch ${event.epochFloat.toFixed(2)}  loss ${event.loss.toFixed(4)}  lr ${event.lr.toExponential(2)}  ${event.imagesPerSec.toFixed(0)} images/s  eta ${event.etaSec.toFixed(0)} s`);
      break;
    case 'epoch-end': {
      const grid = await reconstructionGrid(model, figureImages, { seed: 1, mean, std });
      const file = join(out, 'figures', `epoch-${String(event.epoch).padStart(3, '0')}.png`);
      writePng(file, grid);
      console.log(`epoch ${event.epoch} done: mean loss ${event.meanLoss.toFixed(4)}; figure ${file}`);
      break;
    }
    case 'eval':
      console.log(`epoch ${event.epoch} held-out loss ${event.metrics.heldOutLoss.toFixed(4)}`);
      break;
    case 'checkpoint':
      console.log(`checkpoint ${event.name} after update ${event.step}`);
      break;
    case 'train-end':
      console.log(`train-end after update ${event.step} (${event.reason}) in ${event.seconds.toFixed(1)} s, last loss ${event.lastLoss.toFixed(4)}`);
      break;
  }
};

const store = new FileCheckpointStore(join(out, 'checkpoints'));
const resume = flags.resume && (await store.list()).length ? readCheckpoint(join(out, 'checkpoints')).checkpoint : undefined;
try {
  await pretrain({
    model,
    dataset: train,
    config: { epochs: integerFlag('epochs', 1), batchSize: integerFlag('batch-size', 1), blr: positiveFlag('blr'), warmupEpochs: 1, seed: integerFlag('seed', 0) },
    augment: createAugmentation({ size: imgSize, mean, std }),
    store,
    resume,
    onEvent,
    // Runs after each epoch; what it returns arrives as an `eval` event.
    evaluate: async () => {
      const loss = tf.tidy(() => model.loss(heldOutImages, { seed: 1 }));
      const [value] = await loss.data();
      loss.dispose();
      return { heldOutLoss: value };
    },
  });
  writePng(join(out, 'loss.png'), lineChart(losses));
  // The weights as an official state dict; its metadata records the config (head counts included).
  for (const file of exportSafetensors(await model.stateDict(), model.config, 'official')) writeFileSync(join(out, file.name), file.bytes);
  writeFileSync(join(out, 'normalization.json'), JSON.stringify({ mean, std }) + '\n');
  console.log(`wrote ${join(out, 'model.safetensors')} (official layout), normalization.json, loss.png, figures/, checkpoints/`);
} finally {
  tf.dispose([heldOutImages, figureImages]);
  model.dispose();
}
