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

// 3x5 bitmaps of the characters tick labels and axis titles need, one 15-bit row-major mask each.
const GLYPHS: Record<string, number> = {
  '0': 0b111101101101111, '1': 0b010110010010111, '2': 0b111001111100111, '3': 0b111001111001111, '4': 0b101101111001001,
  '5': 0b111100111001111, '6': 0b111100111101111, '7': 0b111001001001001, '8': 0b111101111101111, '9': 0b111101111001111,
  '.': 0b000000000000010, '-': 0b000000111000000, ' ': 0, 'e': 0b000111101110011,
  'a': 0b000111011101111, 'd': 0b001001111101111, 'l': 0b110010010010111, 'o': 0b000000111101111, 'p': 0b000111101111100,
  's': 0b000011110011110, 't': 0b010111010010011, 'u': 0b000000101101111, 'r': 0b000000111100100, 'n': 0b000000110101101,
  'i': 0b010000010010010, 'c': 0b000000111100111, 'h': 0b100100111101101, 'm': 0b000000111111101, 'g': 0b000111101111001,
};

/** Width in pixels of `text` drawn by drawText at `scale`. */
const textWidth = (text: string, scale = 2) => text.length * 4 * scale;

/** Throws unless every character of an axis title has a glyph. */
function checkDrawable(what: string, text: string): void {
  const missing = [...text].find((ch) => !(ch in GLYPHS));
  if (missing !== undefined) throw new Error(`lineChart: ${what} '${text}' has the character '${missing}', which has no glyph: expected only ${Object.keys(GLYPHS).filter((c) => c !== ' ').join('')} and spaces`);
}

/** A step of 1, 2 or 5 times a power of ten, at least `raw` (at least 1: x ticks are update numbers). */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  return Math.max(1, [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power);
}

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

/** Options of {@link lineChart}. */
export interface LineChartOptions {
  width?: number;
  height?: number;
  /** A second series, drawn in red on the same axes. */
  second?: number[];
  /** Title of the x axis (default 'update'); lower-case letters, digits, '.', '-' and spaces. */
  xLabel?: string;
  /** Title of the y axis (default 'loss'), drawn above the axis. */
  yLabel?: string;
}

/**
 * A line chart of `values` against their index (e.g. loss per update): axes with titles
 * (x: 'update', y: 'loss' by default), five labelled ticks on the y axis and ticks at round
 * update numbers on the x axis. Optional second series in red.
 */
export function lineChart(values: number[], options: LineChartOptions = {}): RgbaImage {
  const width = options.width ?? 640;
  const height = options.height ?? 360;
  const xLabel = options.xLabel ?? 'update';
  const yLabel = options.yLabel ?? 'loss';
  checkDrawable('xLabel', xLabel);
  checkDrawable('yLabel', yLabel);
  const img: RgbaImage = { width, height, data: new Uint8Array(width * height * 4).fill(255) };
  const all = [...values, ...(options.second ?? [])].filter(Number.isFinite);
  if (values.length < 2 || !all.length) return img;
  const lo = Math.min(...all);
  const hi = Math.max(...all) === lo ? lo + 1 : Math.max(...all);
  const left = 70;
  const right = width - 15;
  const top = 30;
  const bottom = height - 46;
  const black: [number, number, number] = [0, 0, 0];
  drawLine(img, left, top, left, bottom, black);
  drawLine(img, left, bottom, right, bottom, black);
  const label = (v: number) => (Math.abs(v) >= 0.01 && Math.abs(v) < 1000 ? v.toFixed(3) : v.toExponential(1).replace('+', ''));
  for (let k = 0; k <= 4; k++) {
    const y = Math.round(bottom - ((bottom - top) * k) / 4);
    drawLine(img, left - 5, y, left - 1, y, black);
    const text = label(lo + ((hi - lo) * k) / 4);
    drawText(img, text, Math.max(0, left - 8 - textWidth(text)), y - 5);
  }
  const last = values.length - 1;
  const step = niceStep(last / 5);
  for (let i = 0; i <= last; i += step) {
    const x = Math.round(left + ((right - left) * i) / last);
    drawLine(img, x, bottom + 1, x, bottom + 5, black);
    drawText(img, String(i), Math.min(width - textWidth(String(i)), Math.max(0, x - textWidth(String(i)) / 2)), bottom + 9);
  }
  drawText(img, xLabel, Math.round((left + right - textWidth(xLabel)) / 2), bottom + 28);
  drawText(img, yLabel, Math.max(0, left - textWidth(yLabel) / 2), top - 20);
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
