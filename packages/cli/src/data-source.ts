/** The image sets the CLI accepts: the bundled sample, Fashion-MNIST/MNIST, an image folder, an .npy file. */
import { existsSync, statSync } from 'node:fs';
import { float32ImageDataset, uint8ImageDataset, FASHION_MNIST_MEAN, FASHION_MNIST_STD, MNIST_MEAN, MNIST_STD, IMAGENET_MEAN, IMAGENET_STD, channelStats, type Dataset } from '@maejs/data';
import { loadBundledSample, loadFashionMnist, loadImageFolder, loadMnist, loadNpyImages } from '@maejs/data/node';
import { UsageError } from './args.js';

/** A labelled image set with values in [0, 1] and the statistics to normalise it. */
export interface ImageSet {
  name: string;
  dataset: Dataset;
  /** [N, H, W, C] */
  shape: [number, number, number, number];
  labels: Int32Array;
  mean: number[];
  std: number[];
}

export const DATA_HELP = "'sample' (bundled 3000 Fashion-MNIST test images), 'fashion-mnist', 'mnist', a folder of PNG/JPEG images, or an .npy file (NCHW float32)";

function fromIdx(d: { images: Uint8Array; labels: Uint8Array; n: number; height: number; width: number }, name: string, mean: readonly number[], std: readonly number[]): ImageSet {
  return { name, dataset: uint8ImageDataset(d.images, d.labels, [d.n, d.height, d.width, 1]), shape: [d.n, d.height, d.width, 1], labels: Int32Array.from(d.labels), mean: [...mean], std: [...std] };
}

/**
 * Loads `spec` (see DATA_HELP). `split` picks train or test for the IDX datasets; `dataDir`
 * is where to look for them first (--data-dir).
 */
export async function loadImageSet(spec: string, split: 'train' | 'test', dataDir?: string): Promise<ImageSet> {
  if (spec === 'sample') return fromIdx(await loadBundledSample(), 'fashion-mnist-sample', FASHION_MNIST_MEAN, FASHION_MNIST_STD);
  if (spec === 'fashion-mnist') return fromIdx(await loadFashionMnist({ split, dir: dataDir }), `fashion-mnist-${split}`, FASHION_MNIST_MEAN, FASHION_MNIST_STD);
  if (spec === 'mnist') return fromIdx(await loadMnist({ split, dir: dataDir }), `mnist-${split}`, MNIST_MEAN, MNIST_STD);
  if (!existsSync(spec)) throw new UsageError(`--data ${spec}: no such file or folder; expected ${DATA_HELP}`);
  if (statSync(spec).isDirectory()) {
    const folder = await loadImageFolder(spec, { channels: 3 });
    const stats = channelStats(folder.images, 3);
    return { name: spec, dataset: float32ImageDataset(folder.images, folder.labels, folder.shape), shape: folder.shape, labels: folder.labels, mean: stats.mean.length === 3 ? stats.mean : [...IMAGENET_MEAN], std: stats.std.length === 3 ? stats.std : [...IMAGENET_STD] };
  }
  if (spec.endsWith('.npy')) {
    const npy = await loadNpyImages(spec, { layout: 'NCHW' });
    const stats = channelStats(npy.images, npy.shape[3]);
    const labels = new Int32Array(npy.shape[0]).fill(-1);
    return { name: spec, dataset: float32ImageDataset(npy.images, labels, npy.shape), shape: npy.shape, labels, mean: stats.mean, std: stats.std };
  }
  throw new UsageError(`--data ${spec}: expected ${DATA_HELP}`);
}
