/**
 * `.npy` image datasets from disk (Node).
 */
import { readFile, stat } from 'node:fs/promises';
import { bytesText, DataFormatError } from './errors.js';
import { imagesFromNpy, labelsFromNpy, type NpyImages, type NpyImagesOptions } from './npy-images.js';

/** Options of {@link loadNpyImages}. */
export interface LoadNpyOptions extends NpyImagesOptions {
  /** Path of an `.npy` of integer labels [N]. */
  labels?: string;
  /** Refuse files larger than this. Default 2 GiB. */
  maxBytes?: number;
}

/** Images (NHWC float32) and optional labels read from `.npy` files. */
export interface NpyDataset extends NpyImages {
  /** [N] labels, or undefined when no labels file was given. */
  labels: Int32Array | undefined;
  /** The images path. */
  source: string;
}

const DEFAULT_MAX_NPY_BYTES = 2 * 1024 ** 3;

/**
 * Reads an image array ([N, H, W], or 4-D in the explicit `layout`) and optionally its labels.
 * Errors name the file.
 */
export async function loadNpyImages(path: string, options: LoadNpyOptions): Promise<NpyDataset> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_NPY_BYTES;
  const { images, shape } = imagesFromNpy(await readBounded(path, maxBytes), path, options);
  if (options.labels === undefined) return { images, shape, labels: undefined, source: path };
  const labels = labelsFromNpy(await readBounded(options.labels, maxBytes), options.labels);
  if (labels.length !== shape[0]) throw new DataFormatError(options.labels, `has ${labels.length} labels but ${path} has ${shape[0]} images; the counts must match`);
  return { images, shape, labels, source: path };
}

async function readBounded(path: string, maxBytes: number): Promise<Uint8Array> {
  const info = await stat(path);
  if (info.size > maxBytes) throw new DataFormatError(path, `file of ${bytesText(info.size)} is above the limit of ${bytesText(maxBytes)}`);
  return new Uint8Array(await readFile(path));
}
