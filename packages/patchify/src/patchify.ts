import * as tf from '@tensorflow/tfjs-core';

/** Patch grid of an image: h x w patches of p x p pixels, C channels. */
export interface PatchGrid {
  patchSize: number;
  gridH: number;
  gridW: number;
  channels: number;
}

function checkImages(imgs: tf.Tensor, patchSize: number): PatchGrid {
  if (!Number.isInteger(patchSize) || patchSize < 1) throw new Error(`patchify: patchSize must be a positive integer, got ${patchSize}`);
  if (imgs.rank !== 4) throw new Error(`patchify: images must be NHWC [N, H, W, C], got rank ${imgs.rank} shape [${imgs.shape}]`);
  const [, h, w, c] = imgs.shape;
  if (h % patchSize !== 0 || w % patchSize !== 0) {
    throw new Error(`patchify: image size ${h}x${w} is not divisible by patch size ${patchSize}`);
  }
  return { patchSize, gridH: h / patchSize, gridW: w / patchSize, channels: c };
}

/**
 * Cuts NHWC images into flattened patches in the official layout.
 *
 * imgs: [N, H, W, C] -> [N, L, p*p*C], L = (H/p)*(W/p). Patch index = row*(W/p) + col; inside
 * a patch the order is (pixel row, pixel col, channel), channel fastest: the official
 * `nhwpqc` layout, so official checkpoints and targets line up unchanged.
 */
export function patchify(imgs: tf.Tensor4D, patchSize: number): tf.Tensor3D {
  const { gridH, gridW, channels } = checkImages(imgs, patchSize);
  const n = imgs.shape[0];
  const p = patchSize;
  return tf.tidy(() => {
    const grid = tf.reshape(imgs, [n, gridH, p, gridW, p, channels]); // [N, h, p, w, q, C]
    const perPatch = tf.transpose(grid, [0, 1, 3, 2, 4, 5]); // [N, h, w, p, q, C]
    return tf.reshape(perPatch, [n, gridH * gridW, p * p * channels]); // [N, L, p*q*C]
  });
}

/**
 * Inverse of {@link patchify}.
 *
 * patches: [N, L, p*p*C] -> [N, H, W, C], assuming a square grid (L = h*h) unless `gridH`
 * and `gridW` are given.
 */
export function unpatchify(patches: tf.Tensor3D, patchSize: number, channels: number, grid?: { gridH: number; gridW: number }): tf.Tensor4D {
  if (patches.rank !== 3) throw new Error(`unpatchify: patches must be [N, L, p*p*C], got rank ${patches.rank} shape [${patches.shape}]`);
  const [n, l, dim] = patches.shape;
  const p = patchSize;
  if (dim !== p * p * channels) {
    throw new Error(`unpatchify: patch vectors have length ${dim}, expected p*p*C = ${p}*${p}*${channels} = ${p * p * channels}`);
  }
  const gridH = grid?.gridH ?? Math.round(Math.sqrt(l));
  const gridW = grid?.gridW ?? gridH;
  if (gridH * gridW !== l) {
    throw new Error(`unpatchify: ${l} patches do not form a ${gridH}x${gridW} grid${grid ? '' : ' (pass gridH and gridW for non-square images)'}`);
  }
  return tf.tidy(() => {
    const blocks = tf.reshape(patches, [n, gridH, gridW, p, p, channels]); // [N, h, w, p, q, C]
    const rows = tf.transpose(blocks, [0, 1, 3, 2, 4, 5]); // [N, h, p, w, q, C]
    return tf.reshape(rows, [n, gridH * p, gridW * p, channels]); // [N, H, W, C]
  });
}
