/**
 * Pairs an images IDX array with a labels IDX array (MNIST-style datasets).
 */
import { DataFormatError, shapeText } from './errors.js';
import type { IdxArray } from './idx.js';

/** uint8 images and labels of an MNIST-style dataset. */
export interface LabelledImages {
  /** [N, H, W] pixel values 0..255, row-major. */
  images: Uint8Array;
  /** [N] class indices. */
  labels: Uint8Array;
  /** Number of images. */
  n: number;
  height: number;
  width: number;
}

/**
 * Checks that `images` is a uint8 [N, H, W] array and `labels` a uint8 [N] array with the same N,
 * and returns them together. Errors name both sources.
 */
export function pairImagesAndLabels(images: IdxArray, labels: IdxArray, sources: { images: string; labels: string } = { images: 'images', labels: 'labels' }): LabelledImages {
  if (images.dtype !== 'uint8' || images.shape.length !== 3) {
    throw new DataFormatError(sources.images, `expected uint8 images of shape [N, H, W], found ${images.dtype} ${shapeText(images.shape)}`);
  }
  if (labels.dtype !== 'uint8' || labels.shape.length !== 1) {
    throw new DataFormatError(sources.labels, `expected uint8 labels of shape [N], found ${labels.dtype} ${shapeText(labels.shape)}`);
  }
  const [n, height, width] = images.shape;
  if (labels.shape[0] !== n) {
    throw new DataFormatError(sources.labels, `has ${labels.shape[0]} labels but ${sources.images} has ${n} images; the counts must match`);
  }
  return { images: images.data as Uint8Array, labels: labels.data as Uint8Array, n, height, width };
}
