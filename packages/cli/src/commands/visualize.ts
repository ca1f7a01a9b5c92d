import * as tf from '@tensorflow/tfjs-core';
import { checkOneOf, initBackend, type BackendName } from '@maejs/backend';
import { reconstructionGrid, writePng } from '@maejs/trainer/node';
import { type CommandHelp, type FlagSpec, integerFlag, parseFlags, requireFlag, UsageError, usageError } from '../args.js';
import { DATA_HELP, loadImageSet } from '../data-source.js';
import { loadModel, MODEL_SOURCE_FLAGS } from '../model-source.js';

export const visualizeFlags: FlagSpec = {
  ...MODEL_SOURCE_FLAGS,
  images: { type: 'string', description: DATA_HELP, default: 'sample' },
  split: { type: 'string', description: 'train or test (for fashion-mnist / mnist)', default: 'test' },
  count: { type: 'string', description: 'number of images (rows)', default: '8' },
  'mask-ratio': { type: 'string', description: 'fraction of patches removed (default: the model config)' },
  seed: { type: 'string', description: 'masking seed', default: '1' },
  out: { type: 'string', description: 'output PNG' },
  backend: { type: 'string', description: 'auto | wasm | cpu | ...', default: 'auto' },
};

export const visualizeHelp: CommandHelp = {
  usage: 'mae visualize (--checkpoint <run> | --weights <source>) [--images <data>] [--split test] [--count 8] [--mask-ratio r] [--seed 1] --out fig.png',
  summary: 'Writes the reconstruction figure of a checkpoint as a PNG: one row per image with the original, the masked input, the reconstruction and the reconstruction pasted over the visible patches.',
  flags: visualizeFlags,
  examples: ['mae visualize --checkpoint runs/<run> --images fashion-mnist --out fig.png', 'mae visualize --weights mae_visualize_vit_base --images photos/ --count 4 --out fig.png'],
};

/** `mae visualize`: the reconstruction figure (original | masked | reconstruction | pasted) as a PNG. */
export async function visualizeCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const flags = parseFlags(argv, visualizeFlags, 'visualize');
  const out = requireFlag(flags, 'out', 'visualize');
  const count = integerFlag(flags, 'count', 'visualize', 1);
  const seed = integerFlag(flags, 'seed', 'visualize', 0);
  const maskRatio = flags['mask-ratio'] === undefined ? undefined : Number(flags['mask-ratio']);
  checkOneOf('mae visualize: --split', flags.split, ['train', 'test'], usageError);
  await initBackend(flags.backend as BackendName | 'auto');
  const { model, source, normalization, notes } = await loadModel(flags, 'visualize', log);
  for (const note of notes) log(`note: ${note}`);
  try {
    const set = await loadImageSet(String(flags.images), flags.split as 'train' | 'test');
    const [n, h, w, c] = set.shape;
    const cfg = model.config;
    if (h !== cfg.imgSize || w !== cfg.imgSize || c !== cfg.inChans) throw new UsageError(`images ${set.name} are ${h}x${w}x${c}, but the model expects ${cfg.imgSize}x${cfg.imgSize}x${cfg.inChans}`);
    const { mean, std } = normalization ?? set;
    const values = new Float32Array(Math.min(count, n) * h * w * c);
    for (let i = 0; i < Math.min(count, n); i++) {
      const { image } = await set.dataset.get(i);
      for (let k = 0; k < image.length; k++) values[i * image.length + k] = (image[k] - mean[k % c]) / std[k % c];
    }
    const images = tf.tensor4d(values, [Math.min(count, n), h, w, c]);
    const grid = await reconstructionGrid(model, images, { maskRatio, seed, mean, std });
    images.dispose();
    writePng(out, grid);
    log(`wrote ${out} (${grid.width}x${grid.height}): ${Math.min(count, n)} images of ${set.name}, weights from ${source}`);
  } finally {
    model.dispose();
  }
}
