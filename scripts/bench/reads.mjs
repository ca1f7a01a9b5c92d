#!/usr/bin/env node
// What one training step asks of each backend in Node: synchronous and asynchronous reads,
// tfjs kernels and GPU programs per update, counted with countDeviceWork (@maejs/backend) around
// `pretrain` itself (the trainer, the data pipeline and AdamW, as `mae pretrain` runs them).
//
//   node scripts/bench/reads.mjs [--backends cpu,wasm,webgpu] [--batch 16] [--steps 4]
//
// Uses the built packages (`npm run build`). The numbers go into docs/backends.md (reads and
// kernel launches per step). webgpu needs the `webgpu` package and a Vulkan driver (on a
// machine without a GPU: VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json).
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { countDeviceWork, initBackend } from '@maejs/backend';
import { createAugmentation, FASHION_MNIST_MEAN, FASHION_MNIST_STD, uint8ImageDataset } from '@maejs/data';
import { loadBundledSample } from '@maejs/data/node';
import { MaskedAutoencoder, maeTiny28 } from '@maejs/mae';
import { pretrain } from '@maejs/trainer';

const { values: flags } = parseArgs({
  options: {
    backends: { type: 'string', default: 'cpu,wasm' },
    batch: { type: 'string', default: '16' },
    steps: { type: 'string', default: '4' },
  },
});
const batchSize = Number(flags.batch);
const steps = Number(flags.steps);
if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`--batch must be an integer >= 1, got ${flags.batch}`);
if (!Number.isInteger(steps) || steps < 2 || steps % 2) throw new Error(`--steps must be an even integer >= 2, got ${flags.steps}`);

tf.enableProdMode();
const sample = await loadBundledSample();
const dataset = uint8ImageDataset(sample.images, sample.labels, [sample.n, sample.height, sample.width]);

for (const backend of flags.backends.split(',')) {
  try {
    await initBackend(backend);
  } catch (error) {
    console.log(`${backend}: unavailable (${error.message})`);
    continue;
  }
  for (const logEvery of [1, steps / 2]) {
    const model = new MaskedAutoencoder({ ...maeTiny28, normPixLoss: true }, { seed: 0 });
    const augment = createAugmentation({ size: 28, mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD });
    const started = performance.now();
    const { counts } = await countDeviceWork(() =>
      pretrain({ model, dataset, augment, config: { epochs: 1, batchSize, lr: 1e-3, warmupEpochs: 0, maxSteps: steps, logEvery } }),
    );
    const seconds = (performance.now() - started) / 1000;
    model.dispose();
    const per = (x) => (x === null ? '-' : (x / steps).toFixed(1));
    console.log(
      `${backend}, batch ${batchSize}, ${steps} updates, logEvery ${logEvery}: per update ${per(counts.syncReads)} sync reads, ${per(counts.asyncReads)} async reads, ${per(counts.kernels)} kernels, ${per(counts.programs)} GPU programs (${seconds.toFixed(1)} s in all)`,
    );
  }
}
