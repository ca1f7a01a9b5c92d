#!/usr/bin/env node
// Throughput of the data pipeline (single thread): the MAE augmentation alone, and a full epoch
// of shuffled, augmented 256-image batches. Uses the built package (run `npm run build -w @maejs/data`).
//
//   node packages/data/scripts/bench-augment.mjs [--repeats 3]
//
// Fashion-MNIST train (60000 x 28 x 28) when it can be found, else the bundled 3000-image sample.
import os from 'node:os';
import { batchIterator, createAugmentation, FASHION_MNIST_MEAN, FASHION_MNIST_STD, IMAGENET_MEAN, IMAGENET_STD, loadBundledSample, loadFashionMnist, Rng, uint8ImageDataset } from '../dist/node.js';

const at = process.argv.indexOf('--repeats');
const repeats = at >= 0 ? Number(process.argv[at + 1]) : 3;

async function loadData() {
  try {
    return await loadFashionMnist({ split: 'train' });
  } catch (error) {
    console.log(`(Fashion-MNIST train not found, using the bundled sample: ${error.message.split('\n')[0]})`);
    return loadBundledSample();
  }
}

/** Best of `repeats` runs of `body` (returns images processed), in images per second. */
async function measure(name, repeats, body) {
  let best = 0;
  for (let r = 0; r < repeats; r++) {
    const start = performance.now();
    const images = await body();
    const seconds = (performance.now() - start) / 1000;
    best = Math.max(best, images / seconds);
  }
  console.log(`${name.padEnd(62)} ${Math.round(best).toLocaleString('en-US').padStart(10)} images/s`);
  return best;
}

const data = await loadData();
console.log(`node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x ${os.cpus().length}, dataset ${data.name} ${data.split} n=${data.n}`);
const dataset = uint8ImageDataset(data.images, data.labels, [data.n, data.height, data.width]);
const augment = createAugmentation({ size: 28, mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD });

const floats = Array.from({ length: Math.min(data.n, 10000) }, (_, i) => dataset.get(i).image);
await measure('augment only (crop+resize 28, flip, normalize), 28x28x1', repeats, () => {
  const rng = new Rng(0);
  const out = new Float32Array(28 * 28);
  for (let i = 0; i < data.n; i++) augment.apply(floats[i % floats.length], [28, 28, 1], rng, out);
  return data.n;
});

await measure('epoch: shuffle + uint8->float + augment, batch 256, prefetch 2', repeats, async () => {
  let images = 0;
  for await (const batch of batchIterator(dataset, { batchSize: 256, seed: 1, augment, prefetch: 2 })) images += batch.shape[0];
  return images;
});

await measure('epoch without augmentation, batch 256', repeats, async () => {
  let images = 0;
  for await (const batch of batchIterator(dataset, { batchSize: 256, seed: 1 })) images += batch.shape[0];
  return images;
});

const rgb = Float32Array.from({ length: 256 * 256 * 3 }, (_, i) => (i % 255) / 255);
const imagenet = createAugmentation({ size: 224, mean: IMAGENET_MEAN, std: IMAGENET_STD });
await measure('reference: ImageNet-style 256x256x3 -> 224x224x3', 1, () => {
  const rng = new Rng(0);
  const out = new Float32Array(224 * 224 * 3);
  for (let i = 0; i < 300; i++) imagenet.apply(rgb, [256, 256, 3], rng, out);
  return 300;
});
