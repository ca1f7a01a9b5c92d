/**
 * Figures of a run, as RGBA pixels (browser-safe; `@maejs/trainer/node` writes them as PNG):
 * the official demo's reconstruction grid and a loss curve.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { MaskedAutoencoder } from '@maejs/mae';
import { patchify, unpatchify } from '@maejs/patchify';

/** An RGBA image, row-major, 4 bytes per pixel. */
export interface RgbaImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/** Options of {@link reconstructionGrid}. */
export interface ReconstructionOptions {
  maskRatio?: number;
  /** Masking seed: the same seed shows the same masks every epoch. */
  seed?: number;
  /** Per-channel mean and std the images were normalised with (to show them in [0, 1]). */
  mean: readonly number[];
  std: readonly number[];
  /** Pixels between tiles. */
  gap?: number;
  /** Nearest-neighbour upscaling of each tile (default: to at least 112 pixels high). */
  scale?: number;
}

/**
 * The official demo figure, one row per image: original | masked (removed patches grey) |
 * reconstruction | reconstruction with the visible patches pasted back.
 * images: normalised NHWC [N, H, W, C]. With normPixLoss the prediction is per-patch
 * normalised; it is mapped back with each patch's own mean and std (known from the original).
 */
export async function reconstructionGrid(model: MaskedAutoencoder, images: tf.Tensor4D, options: ReconstructionOptions): Promise<RgbaImage> {
  const { patchSize: p, inChans: c, normPixLoss } = model.config;
  const [n, h, w] = images.shape;
  const tiles = tf.tidy(() => {
    const out = model.forward(images, { maskRatio: options.maskRatio, seed: options.seed });
    const target = patchify(images, p); // [N, L, p*p*C]
    let pred: tf.Tensor = out.pred;
    if (normPixLoss) {
      const mean = tf.mean(target, -1, true);
      const std = tf.sqrt(tf.add(tf.div(tf.sum(tf.square(tf.sub(target, mean)), -1, true), p * p * c - 1), 1e-6));
      pred = tf.add(tf.mul(pred, std), mean); // undo the loss's per-patch normalisation (normalizePatches)
    }
    const removed = tf.expandDims(out.mask, -1); // [N, L, 1]
    const kept = tf.sub(1, removed);
    const grey = tf.neg(tf.div(tf.tensor1d(options.mean as number[]), tf.tensor1d(options.std as number[]))); // normalised value of black
    const greyPatch = tf.tile(tf.reshape(grey, [1, 1, c]), [1, p * p, 1]); // [1, p*p, C] -> patch vector
    const masked = tf.add(tf.mul(target, kept), tf.mul(tf.reshape(greyPatch, [1, 1, p * p * c]), removed));
    const pasted = tf.add(tf.mul(target, kept), tf.mul(pred, removed));
    const toImage = (t: tf.Tensor) => unpatchify(t as tf.Tensor3D, p, c); // [N, H, W, C]
    const all = tf.stack([images, toImage(masked), toImage(pred), toImage(pasted)], 1); // [N, 4, H, W, C]
    const pixels = tf.add(tf.mul(all, tf.tensor1d(options.std as number[])), tf.tensor1d(options.mean as number[]));
    return tf.clipByValue(pixels, 0, 1);
  });
  const values = await tiles.data();
  tiles.dispose();
  const gap = options.gap ?? 2;
  const scale = options.scale ?? Math.max(1, Math.floor(112 / h));
  const [th, tw] = [h * scale, w * scale]; // tile size
  const width = 4 * tw + 5 * gap;
  const height = n * th + (n + 1) * gap;
  const data = new Uint8Array(width * height * 4).fill(255);
  for (let row = 0; row < n; row++) {
    for (let col = 0; col < 4; col++) {
      const base = (row * 4 + col) * h * w * c;
      for (let y = 0; y < th; y++) {
        for (let x = 0; x < tw; x++) {
          const at = ((gap + row * (th + gap) + y) * width + gap + col * (tw + gap) + x) * 4;
          const src = base + (Math.floor(y / scale) * w + Math.floor(x / scale)) * c;
          for (let k = 0; k < 3; k++) data[at + k] = Math.round(255 * values[src + (c === 3 ? k : 0)]);
          data[at + 3] = 255;
        }
      }
    }
  }
  return { width, height, data };
}

// 3x5 bitmaps of the characters tick labels need, one 15-bit row-major mask each.
const GLYPHS: Record<string, number> = {
  '0': 0b111101101101111, '1': 0b010110010010111, '2': 0b111001111100111, '3': 0b111001111001111, '4': 0b101101111001001,
  '5': 0b111100111001111, '6': 0b111100111101111, '7': 0b111001001001001, '8': 0b111101111101111, '9': 0b111101111001111,
  '.': 0b000000000000010, '-': 0b000000111000000, 'e': 0b000111101110011,
};

function drawText(img: RgbaImage, text: string, x0: number, y0: number, scale = 2): void {
  [...text].forEach((ch, i) => {
    const bits = GLYPHS[ch] ?? 0;
    for (let r = 0; r < 5; r++) for (let cc = 0; cc < 3; cc++) {
      if (!((bits >> (14 - (r * 3 + cc))) & 1)) continue;
      for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) setPixel(img, x0 + (i * 4 + cc) * scale + dx, y0 + r * scale + dy, [0, 0, 0]);
    }
  });
}

function setPixel(img: RgbaImage, x: number, y: number, rgb: [number, number, number]): void {
  if (x < 0 || y < 0 || x >= img.width || y >= img.height) return;
  const at = (Math.round(y) * img.width + Math.round(x)) * 4;
  img.data.set([...rgb, 255], at);
}

function drawLine(img: RgbaImage, x0: number, y0: number, x1: number, y1: number, rgb: [number, number, number]): void {
  const steps = Math.max(Math.abs(x1 - x0), Math.abs(y1 - y0), 1);
  for (let i = 0; i <= steps; i++) setPixel(img, x0 + ((x1 - x0) * i) / steps, y0 + ((y1 - y0) * i) / steps, rgb);
}

/**
 * A line chart of `values` against their index (e.g. loss per update), with the y range
 * labelled at the top and bottom and the x range at the ends. Optional second series in red.
 */
export function lineChart(values: number[], options: { width?: number; height?: number; second?: number[] } = {}): RgbaImage {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const img: RgbaImage = { width, height, data: new Uint8Array(width * height * 4).fill(255) };
  const all = [...values, ...(options.second ?? [])].filter(Number.isFinite);
  if (values.length < 2 || !all.length) return img;
  const lo = Math.min(...all);
  const hi = Math.max(...all) === lo ? lo + 1 : Math.max(...all);
  const left = 70;
  const right = width - 15;
  const top = 15;
  const bottom = height - 30;
  drawLine(img, left, top, left, bottom, [0, 0, 0]);
  drawLine(img, left, bottom, right, bottom, [0, 0, 0]);
  const label = (v: number) => (Math.abs(v) >= 0.01 && Math.abs(v) < 1000 ? v.toFixed(3) : v.toExponential(1).replace('+', ''));
  drawText(img, label(hi), 4, top);
  drawText(img, label(lo), 4, bottom - 10);
  drawText(img, '0', left, bottom + 8);
  drawText(img, String(values.length - 1), right - 8 * String(values.length - 1).length, bottom + 8);
  const plot = (series: number[], rgb: [number, number, number]) => {
    const xAt = (i: number) => left + ((right - left) * i) / (series.length - 1);
    const yAt = (v: number) => bottom - ((bottom - top) * (v - lo)) / (hi - lo);
    for (let i = 1; i < series.length; i++) {
      if (Number.isFinite(series[i - 1]) && Number.isFinite(series[i])) drawLine(img, xAt(i - 1), yAt(series[i - 1]), xAt(i), yAt(series[i]), rgb);
    }
  };
  plot(values, [31, 119, 180]);
  if (options.second && options.second.length > 1) plot(options.second, [214, 39, 40]);
  return img;
}
