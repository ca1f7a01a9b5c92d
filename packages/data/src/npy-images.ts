/**
 * Image datasets stored as NumPy `.npy` arrays (read with @maejs/formats' `parseNpy`):
 * [N, H, W] (one channel), or [N, H, W, C] / [N, C, H, W] with an explicit layout.
 */
import { parseNpy, WeightsFormatError } from '@maejs/formats';
import { DataFormatError, shapeText } from './errors.js';

/** Axis order of a 4-D image array. */
export type ArrayLayout = 'NHWC' | 'NCHW';

/** Options of {@link imagesFromNpy}. */
export interface NpyImagesOptions {
  /** Axis order of 4-D arrays; required, because [N, 3, 32, 32] and [N, 32, 32, 3] are both plausible. */
  layout: ArrayLayout;
  /** Multiplier applied to the values. Default 1/255 for uint8 arrays, 1 otherwise. */
  scale?: number;
}

/** Images read from an array file, always NHWC float32. */
export interface NpyImages {
  /** [N, H, W, C] */
  images: Float32Array;
  /** [N, H, W, C] */
  shape: [number, number, number, number];
}

/** Most channels accepted; more almost always means the layout option is wrong. */
const MAX_CHANNELS = 4;

/** Parses an `.npy` image array into NHWC float32 (NCHW input is transposed). */
export function imagesFromNpy(bytes: Uint8Array, source: string, options: NpyImagesOptions): NpyImages {
  if (options.layout !== 'NHWC' && options.layout !== 'NCHW') throw new DataFormatError(source, `layout must be 'NHWC' or 'NCHW', got ${JSON.stringify(options.layout)}`);
  const record = parseNpyOrThrow(bytes, source);
  const scale = options.scale ?? (record.dtype === 'uint8' ? 1 / 255 : 1);
  const shape = nhwcShape(record.shape, options.layout, source);
  const images = options.layout === 'NCHW' && record.shape.length === 4 ? nchwToNhwc(record.data, shape, scale) : scaled(record.data, scale);
  return { images, shape };
}

/** Parses an `.npy` array of integer class labels, shape [N]. */
export function labelsFromNpy(bytes: Uint8Array, source: string): Int32Array {
  const record = parseNpyOrThrow(bytes, source);
  if (record.shape.length !== 1 || !(record.data instanceof Int32Array)) {
    throw new DataFormatError(source, `expected integer labels of shape [N], found ${record.dtype} ${shapeText(record.shape)}`);
  }
  return record.data;
}

function parseNpyOrThrow(bytes: Uint8Array, source: string): ReturnType<typeof parseNpy> {
  try {
    return parseNpy(bytes, source);
  } catch (error) {
    if (error instanceof WeightsFormatError) throw new DataFormatError(source, error.message.slice(source.length + 2));
    throw error;
  }
}

/** [N, H, W, C] of a 3-D [N, H, W] or 4-D array in `layout`. */
function nhwcShape(shape: number[], layout: ArrayLayout, source: string): [number, number, number, number] {
  if (shape.length === 3) return [shape[0], shape[1], shape[2], 1];
  if (shape.length !== 4) throw new DataFormatError(source, `expected an image array [N, H, W] or [N, H, W, C] / [N, C, H, W], found shape ${shapeText(shape)}`);
  const [n, a, b, c] = shape;
  const nhwc: [number, number, number, number] = layout === 'NHWC' ? [n, a, b, c] : [n, b, c, a];
  if (nhwc[3] < 1 || nhwc[3] > MAX_CHANNELS) {
    const other = layout === 'NHWC' ? 'NCHW' : 'NHWC';
    throw new DataFormatError(source, `shape ${shapeText(shape)} read as ${layout} has ${nhwc[3]} channels; expected 1 to ${MAX_CHANNELS} — is the array ${other}?`);
  }
  return nhwc;
}

function scaled(data: Float32Array | Int32Array, scale: number): Float32Array {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) out[i] = data[i] * scale;
  return out;
}

/** [N, C, H, W] -> [N, H, W, C], times `scale`. */
function nchwToNhwc(data: Float32Array | Int32Array, [n, h, w, c]: [number, number, number, number], scale: number): Float32Array {
  const out = new Float32Array(data.length);
  const plane = h * w;
  for (let i = 0; i < n; i++) {
    const base = i * plane * c;
    for (let ch = 0; ch < c; ch++) {
      const src = base + ch * plane;
      for (let p = 0; p < plane; p++) out[base + p * c + ch] = data[src + p] * scale;
    }
  }
  return out;
}
