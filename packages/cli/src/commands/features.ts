import { writeFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, checkOneOf, initBackend, type BackendName } from '@maejs/backend';
import { extractFeatures, type Pooling } from '@maejs/eval';
import { FEATURE_POOLING_HELP, FEATURE_POOLINGS, type MaskedAutoencoder } from '@maejs/mae';
import { encodeNpy } from '@maejs/formats';
import { DataParallel } from '@maejs/trainer/node';
import { type CommandHelp, type FlagSpec, integerFlag, parseFlags, requireFlag, usageError } from '../args.js';
import { DATA_HELP, loadImageSet, type ImageSet } from '../data-source.js';
import { loadModel, MODEL_SOURCE_FLAGS } from '../model-source.js';
import { runThreads } from './pretrain.js';

/** The --pooling choices as `cls|mean|mean-norm`. */
export const POOLING_CHOICES = FEATURE_POOLINGS.join('|');

/** Help of --pooling: the choices; {@link POOLING_NOTES} says what each one is. */
export const POOLING_FLAG_HELP = `${FEATURE_POOLINGS.join(', ')} (see "poolings" below)`;

/** The "poolings" section of a help text: one line per --pooling choice. */
export const POOLING_NOTES = ['poolings (--pooling):', ...FEATURE_POOLINGS.map((p) => `  ${p.padEnd(11)}${FEATURE_POOLING_HELP[p]}`)].join('\n');

/** The --pooling value, or a UsageError naming it and listing the choices. */
export function checkPooling(value: unknown): Pooling {
  checkOneOf('--pooling', value, FEATURE_POOLINGS, usageError);
  return value;
}

/** --threads of the commands that extract features. */
export const THREADS_FLAG = { type: 'string', description: "threads that extract features: 'auto' (one per core on cpu and wasm; the batch is split over worker threads) or an integer", default: 'auto' } as const;

/**
 * The engine that splits feature batches over `--threads` threads (`DataParallel`), or none for
 * one thread; logs the thread count. The caller closes it.
 */
export async function featureEngine(model: MaskedAutoencoder, flags: Record<string, unknown>, command: string, log: (line: string) => void): Promise<DataParallel | undefined> {
  const requested = flags.threads === 'auto' ? 'auto' : integerFlag(flags, 'threads', command, 1);
  const threads = runThreads(tf.getBackend(), requested, command);
  log(`features on ${tf.getBackend()}, ${threads} thread${threads > 1 ? 's' : ''}`);
  return threads > 1 ? DataParallel.start(model, { threads }) : undefined;
}

export const featuresFlags: FlagSpec = {
  ...MODEL_SOURCE_FLAGS,
  images: { type: 'string', description: DATA_HELP, default: 'sample' },
  split: { type: 'string', description: 'train or test (fashion-mnist / mnist)', default: 'train' },
  pooling: { type: 'string', description: POOLING_FLAG_HELP, default: 'cls' },
  start: { type: 'string', description: 'first image', default: '0' },
  count: { type: 'string', description: 'number of images (default: all from --start)' },
  'batch-size': { type: 'string', description: 'images per forward pass', default: '256' },
  out: { type: 'string', description: 'output .npy [N, D] float32; labels go to <out>.labels.npy' },
  backend: { type: 'string', description: 'auto | wasm | cpu | ...', default: 'auto' },
  threads: THREADS_FLAG,
};

/** Normalised images [start, start + count) of a set as one NHWC Float32Array. */
export async function normalisedImages(set: ImageSet, mean: number[], std: number[], start = 0, count = set.shape[0] - start): Promise<{ images: Float32Array; labels: Int32Array; shape: [number, number, number, number] }> {
  const [n, h, w, c] = set.shape;
  checkInteger('--start', start, 0, n - 1, usageError);
  checkInteger('--count', count, 1, Infinity, usageError);
  const end = Math.min(n, start + count);
  const size = h * w * c;
  const images = new Float32Array((end - start) * size);
  for (let i = start; i < end; i++) {
    const { image } = await set.dataset.get(i);
    const base = (i - start) * size;
    for (let k = 0; k < size; k++) images[base + k] = (image[k] - mean[k % c]) / std[k % c];
  }
  return { images, labels: set.labels.slice(start, end), shape: [end - start, h, w, c] };
}

export const featuresHelp: CommandHelp = {
  usage: `mae features (--checkpoint <run> | --weights <source>) [--images <data>] [--split train|test] [--pooling ${POOLING_CHOICES}] [--start N] [--count N] --out features.npy`,
  summary: 'Frozen encoder features (no masking) of an image set as float32 .npy [N, D], with the labels, when the set has them, in <out>.labels.npy; `mae eval --train-features` reads them.',
  flags: featuresFlags,
  examples: ['mae features --checkpoint runs/<run> --images fashion-mnist --split train --out train.npy', 'mae features --weights hf:facebook/vit-mae-base --images photos/ --pooling mean --out photos.npy'],
  notes: POOLING_NOTES,
};

/** `mae features`: frozen encoder features of an image set, as .npy. */
export async function featuresCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const flags = parseFlags(argv, featuresFlags, 'features');
  const out = requireFlag(flags, 'out', 'features');
  const pooling = checkPooling(flags.pooling);
  checkOneOf('mae features: --split', flags.split, ['train', 'test'], usageError);
  const batchSize = integerFlag(flags, 'batch-size', 'features', 1);
  const start = integerFlag(flags, 'start', 'features', 0);
  const count = integerFlag(flags, 'count', 'features', 1, 'optional');
  await initBackend(flags.backend as BackendName | 'auto');
  const { model, source, normalization, notes } = await loadModel(flags, 'features', log);
  for (const note of notes) log(`note: ${note}`);
  let engine: DataParallel | undefined;
  try {
    engine = await featureEngine(model, flags, 'features', log);
    const set = await loadImageSet(String(flags.images), flags.split as 'train' | 'test');
    const { images, labels, shape } = await normalisedImages(set, normalization?.mean ?? set.mean, normalization?.std ?? set.std, start, count ?? set.shape[0] - start);
    const began = Date.now();
    let lastLog = began;
    const features = await extractFeatures(model, images, shape, {
      pooling,
      batchSize,
      engine,
      onProgress: (done, total) => {
        if (Date.now() - lastLog > 15000 || done === total) {
          lastLog = Date.now();
          log(`  ${done}/${total} images, ${((1000 * done) / (Date.now() - began)).toFixed(1)} img/s`);
        }
      },
    });
    const d = model.config.embedDim;
    writeFileSync(out, encodeNpy({ dtype: 'float32', shape: [shape[0], d], data: features }));
    writeFileSync(out.replace(/\.npy$/, '') + '.labels.npy', encodeNpy({ dtype: 'int32', shape: [labels.length], data: labels }));
    log(`wrote ${out} [${shape[0]}, ${d}] (${pooling} pooling) from ${set.name} with weights ${source}`);
  } finally {
    await engine?.close();
    model.dispose();
  }
}
