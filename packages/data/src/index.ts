/**
 * `@maejs/data`, browser-safe core: bytes in, typed arrays out. IDX (MNIST / Fashion-MNIST) and
 * `.npy` parsing with bounded gzip, the MAE augmentation, and seeded, prefetching, resumable
 * batches. File-system parts (finding datasets, image folders) are in `@maejs/data/node`.
 *
 * @module index
 */
export { DataFormatError } from './errors.js';
export { gunzip, isGzip, DEFAULT_MAX_BYTES, type GunzipOptions } from './gzip.js';
export { parseIdx, readIdxHeader, encodeIdx, MAX_IDX_DIMS, type IdxArray, type IdxDtype, type IdxHeader, type ParseIdxOptions } from './idx.js';
export { pairImagesAndLabels, type LabelledImages } from './labelled.js';
export { imagesFromNpy, labelsFromNpy, type ArrayLayout, type NpyImages, type NpyImagesOptions } from './npy-images.js';
/** The seeded generator, re-exported from `@maejs/random` (where it lives). */
export { Rng, deriveSeed, shuffledIndices, type RngState } from '@maejs/random';
export { resizeBilinear, type CropBox, type ImageShape } from './resize.js';
export {
  createAugmentation,
  sampleResizedCrop,
  horizontalFlip,
  normalize,
  channelStats,
  roundHalfEven,
  IMAGENET_MEAN,
  IMAGENET_STD,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  MNIST_MEAN,
  MNIST_STD,
  type AugmentOptions,
  type Augmentation,
  type ResolvedAugmentOptions,
} from './augment.js';
export {
  batchIterator,
  BatchIterator,
  epochOrder,
  uint8ImageDataset,
  float32ImageDataset,
  type Batch,
  type BatchOptions,
  type BatchPosition,
  type Dataset,
  type Sample,
} from './batches.js';
export { batchToTensors } from './tensors.js';
