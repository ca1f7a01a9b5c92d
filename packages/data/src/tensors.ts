/**
 * Hands a batch to tfjs. The only module of the package that touches tfjs-core.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { Batch } from './batches.js';

/**
 * The batch as tensors: images [B, H, W, C] float32 and labels [B] int32. The caller owns (and
 * must dispose) both.
 */
export function batchToTensors(batch: Batch): { images: tf.Tensor4D; labels: tf.Tensor1D } {
  return {
    images: tf.tensor4d(batch.images, batch.shape, 'float32'), // [B, H, W, C]
    labels: tf.tensor1d(batch.labels, 'int32'), // [B]
  };
}
