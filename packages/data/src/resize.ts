/**
 * Bilinear resampling of HWC float images (a crop box of the source to a new size).
 *
 * The filter is the triangle (bilinear) filter evaluated the way Pillow's `Image.resize(...,
 * BILINEAR)` does it: pixel centres at half-integers, weights renormalised at the borders, and
 * when shrinking the triangle is widened by the scale factor (antialiasing). When enlarging, or
 * at equal size, this is exactly torch's `interpolate(mode='bilinear', align_corners=False)`;
 * resizing to the same size returns the crop unchanged. Separable: a horizontal pass, then a
 * vertical one.
 */
import { DataFormatError } from './errors.js';

/** [height, width, channels] of one image. */
export type ImageShape = readonly [height: number, width: number, channels: number];

/** An integer box inside an image: rows top..top+height-1, columns left..left+width-1. */
export interface CropBox {
  top: number;
  left: number;
  height: number;
  width: number;
}

/** Filter taps of one axis: output i reads `count[i]` inputs from `start[i]` with `weights`. */
interface AxisWeights {
  start: Int32Array;
  count: Int32Array;
  /** [out, taps] row-major, normalised to sum 1 per output. */
  weights: Float32Array;
  taps: number;
}

const weightCache = new Map<number, AxisWeights>();
const MAX_CACHED = 4096;
/** Reused scratch for the horizontal pass (grown on demand; single-threaded JS makes this safe). */
let scratch = new Float32Array(0);

/**
 * Resamples `box` of the HWC image `image` ([H, W, C] given by `shape`) to
 * [outHeight, outWidth, C]; writes into `out` when given (its length must match).
 */
export function resizeBilinear(image: Float32Array, shape: ImageShape, box: CropBox, outHeight: number, outWidth: number, out?: Float32Array): Float32Array {
  const [height, width, channels] = shape;
  checkImage(image, shape, 'resizeBilinear');
  checkBox(box, height, width);
  if (!(Number.isInteger(outHeight) && outHeight > 0 && Number.isInteger(outWidth) && outWidth > 0)) {
    throw new DataFormatError('resizeBilinear', `output size must be positive integers, got ${outHeight}x${outWidth}`);
  }
  const result = out ?? new Float32Array(outHeight * outWidth * channels);
  if (result.length !== outHeight * outWidth * channels) {
    throw new DataFormatError('resizeBilinear', `out has ${result.length} values; [${outHeight}, ${outWidth}, ${channels}] needs ${outHeight * outWidth * channels}`);
  }
  const rowsLength = box.height * outWidth * channels;
  if (scratch.length < rowsLength) scratch = new Float32Array(rowsLength);
  const rows = scratch.subarray(0, rowsLength); // [box.height, outWidth, C]
  horizontalPass(image, width, channels, box, axisWeights(box.width, outWidth), rows);
  verticalPass(rows, outWidth * channels, axisWeights(box.height, outHeight), result);
  return result;
}

/** Horizontal pass: rows of the box, columns resampled to outWidth. `rows` is [box.height, outW, C]. */
function horizontalPass(image: Float32Array, width: number, channels: number, box: CropBox, wx: AxisWeights, rows: Float32Array): void {
  const outWidth = wx.start.length;
  for (let y = 0; y < box.height; y++) {
    const srcRow = ((box.top + y) * width + box.left) * channels;
    const dstRow = y * outWidth * channels;
    for (let x = 0; x < outWidth; x++) {
      const first = srcRow + wx.start[x] * channels;
      const taps = wx.count[x];
      const w0 = x * wx.taps;
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let k = 0; k < taps; k++) sum += wx.weights[w0 + k] * image[first + k * channels + c];
        rows[dstRow + x * channels + c] = sum;
      }
    }
  }
}

/** Vertical pass: `rows` [inH, rowLength] to `out` [outH, rowLength]. */
function verticalPass(rows: Float32Array, rowLength: number, wy: AxisWeights, out: Float32Array): void {
  const outHeight = wy.start.length;
  for (let y = 0; y < outHeight; y++) {
    const taps = wy.count[y];
    const w0 = y * wy.taps;
    const dst = y * rowLength;
    const first = wy.start[y] * rowLength;
    for (let i = 0; i < rowLength; i++) {
      let sum = 0;
      for (let k = 0; k < taps; k++) sum += wy.weights[w0 + k] * rows[first + k * rowLength + i];
      out[dst + i] = sum;
    }
  }
}

/** Triangle-filter taps for resampling `inSize` samples to `outSize` (cached). */
function axisWeights(inSize: number, outSize: number): AxisWeights {
  const key = inSize * 2 ** 26 + outSize;
  const cached = weightCache.get(key);
  if (cached) return cached;
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = filterScale; // triangle support 1, widened when shrinking
  const taps = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Float32Array(outSize * taps);
  for (let i = 0; i < outSize; i++) {
    const center = (i + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    let total = 0;
    for (let x = lo; x < hi; x++) {
      const w = Math.max(0, 1 - Math.abs((x - center + 0.5) / filterScale));
      weights[i * taps + x - lo] = w;
      total += w;
    }
    for (let x = lo; x < hi; x++) weights[i * taps + x - lo] /= total;
    start[i] = lo;
    count[i] = hi - lo;
  }
  const result = { start, count, weights, taps };
  if (weightCache.size >= MAX_CACHED) weightCache.clear();
  weightCache.set(key, result);
  return result;
}

/** Throws unless `image` holds H*W*C values of a valid shape. */
export function checkImage(image: Float32Array, shape: ImageShape, where: string): void {
  const [h, w, c] = shape;
  if (![h, w, c].every((d) => Number.isInteger(d) && d > 0)) throw new DataFormatError(where, `image shape must be positive integers [H, W, C], got [${shape.join(', ')}]`);
  if (image.length !== h * w * c) throw new DataFormatError(where, `image has ${image.length} values but shape [${h}, ${w}, ${c}] needs ${h * w * c}`);
}

function checkBox(box: CropBox, height: number, width: number): void {
  const { top, left } = box;
  const ok = [top, left, box.height, box.width].every(Number.isInteger) && top >= 0 && left >= 0 && box.height > 0 && box.width > 0 && top + box.height <= height && left + box.width <= width;
  if (!ok) {
    throw new DataFormatError('resizeBilinear', `crop box (top ${top}, left ${left}, ${box.height}x${box.width}) is not an integer box inside the ${height}x${width} image`);
  }
}
