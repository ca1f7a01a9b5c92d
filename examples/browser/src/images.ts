/** Pictures for the model: decoding user files and drawing RGBA results on canvases. */
import * as tf from '@tensorflow/tfjs-core';
import type { RgbaImage } from '@maejs/trainer';

/**
 * Decodes image files (PNG, JPEG, WebP, ... whatever the browser reads), resizes each to
 * size x size (centre square crop) and returns a normalised NHWC batch [N, size, size, channels].
 * Gray is 0.299 R + 0.587 G + 0.114 B. `invert` turns dark-on-light photos into the
 * light-on-dark look of Fashion-MNIST.
 */
export async function imagesToBatch(files: File[], size: number, channels: number, mean: readonly number[], std: readonly number[], invert: boolean): Promise<tf.Tensor4D> {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = size;
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  const out = new Float32Array(files.length * size * size * channels);
  for (let n = 0; n < files.length; n++) {
    let bitmap: ImageBitmap;
    try {
      bitmap = await createImageBitmap(files[n]);
    } catch {
      throw new Error(`${files[n].name}: not an image this browser can decode`);
    }
    const side = Math.min(bitmap.width, bitmap.height);
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, size, size);
    ctx.drawImage(bitmap, (bitmap.width - side) / 2, (bitmap.height - side) / 2, side, side, 0, 0, size, size);
    bitmap.close();
    const rgba = ctx.getImageData(0, 0, size, size).data; // [size, size, 4]
    for (let i = 0; i < size * size; i++) {
      const rgb = [rgba[4 * i], rgba[4 * i + 1], rgba[4 * i + 2]].map((v) => (invert ? 255 - v : v) / 255);
      const values = channels === 1 ? [0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2]] : rgb;
      for (let c = 0; c < channels; c++) out[(n * size * size + i) * channels + c] = (values[c] - mean[c]) / std[c];
    }
  }
  return tf.tensor4d(out, [files.length, size, size, channels]);
}

/** Draws an RGBA image from @maejs/trainer (reconstructionGrid) on a canvas, resizing it to fit. */
export function drawRgba(canvas: HTMLCanvasElement, image: RgbaImage): void {
  canvas.width = image.width;
  canvas.height = image.height;
  const ctx = canvas.getContext('2d')!;
  ctx.putImageData(new ImageData(Uint8ClampedArray.from(image.data), image.width, image.height), 0, 0);
}

/** A small line chart of the loss per update, drawn with the 2D canvas API. */
export function drawLossChart(canvas: HTMLCanvasElement, losses: number[]): void {
  const ctx = canvas.getContext('2d')!;
  const { width, height } = canvas;
  ctx.clearRect(0, 0, width, height);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, width, height);
  const left = 56;
  const right = width - 12;
  const top = 12;
  const bottom = height - 28;
  ctx.strokeStyle = '#444';
  ctx.lineWidth = 1;
  ctx.beginPath();
  ctx.moveTo(left, top);
  ctx.lineTo(left, bottom);
  ctx.lineTo(right, bottom);
  ctx.stroke();
  ctx.fillStyle = '#333';
  ctx.font = '12px system-ui, sans-serif';
  const finite = losses.filter(Number.isFinite);
  if (finite.length === 0) {
    ctx.fillText('loss per update appears here', left + 10, (top + bottom) / 2);
    return;
  }
  const lo = Math.min(...finite);
  const hi = Math.max(...finite) === lo ? lo + 1e-6 : Math.max(...finite);
  ctx.fillText(hi.toFixed(4), 4, top + 10);
  ctx.fillText(lo.toFixed(4), 4, bottom);
  ctx.fillText('1', left, bottom + 16);
  ctx.fillText(String(losses.length), right - 8 * String(losses.length).length, bottom + 16);
  ctx.fillText('update', (left + right) / 2 - 20, bottom + 16);
  const x = (i: number) => left + ((right - left) * i) / Math.max(1, losses.length - 1);
  const y = (v: number) => bottom - ((bottom - top) * (v - lo)) / (hi - lo);
  ctx.strokeStyle = '#1f77b4';
  ctx.lineWidth = 2;
  ctx.beginPath();
  losses.forEach((v, i) => (i === 0 ? ctx.moveTo(x(i), y(v)) : ctx.lineTo(x(i), y(v))));
  ctx.stroke();
  if (losses.length === 1) ctx.fillRect(x(0) - 2, y(losses[0]) - 2, 4, 4);
}
