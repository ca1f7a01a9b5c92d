/**
 * The MAE pre-training augmentation (official `main_pretrain.py`):
 * RandomResizedCrop(size, scale=(0.2, 1.0), ratio=(3/4, 4/3)) -> RandomHorizontalFlip(0.5) ->
 * Normalize(mean, std), on HWC Float32Array images in [0, 1], driven by a seeded {@link Rng}.
 *
 * The crop sampling is torchvision's `RandomResizedCrop.get_params` step for step (10 attempts,
 * log-uniform aspect ratio, Python's round-half-to-even, centre-crop fallback); the random
 * numbers come from {@link Rng}, not torch's generator, so crops are torchvision's distribution,
 * not its exact stream. The resize is bilinear (see {@link resizeBilinear}); the official code
 * passes interpolation=3 (bicubic) to PIL, a deliberate difference documented in the README.
 */
import { DataFormatError } from './errors.js';
import { checkImage, type CropBox, type ImageShape, resizeBilinear } from './resize.js';
import type { Rng } from '@maejs/random';

/** ImageNet channel mean (RGB), as in the official MAE code. */
export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
/** ImageNet channel std (RGB), as in the official MAE code. */
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];
/** Fashion-MNIST training-set pixel mean (pixels / 255). */
export const FASHION_MNIST_MEAN: readonly number[] = [0.286];
/** Fashion-MNIST training-set pixel std (pixels / 255, population std). */
export const FASHION_MNIST_STD: readonly number[] = [0.353];
/** MNIST training-set pixel mean (pixels / 255). */
export const MNIST_MEAN: readonly number[] = [0.1307];
/** MNIST training-set pixel std (pixels / 255). */
export const MNIST_STD: readonly number[] = [0.3081];

/** Options of {@link createAugmentation}. */
export interface AugmentOptions {
  /** Output size: `n` for n x n, or [height, width]. */
  size: number | readonly [number, number];
  /** Random resized crop on (default) or off (then the whole image is resized to `size`). */
  crop?: boolean;
  /** Range of the crop area as a fraction of the image area. Default [0.2, 1.0] (MAE). */
  scale?: readonly [number, number];
  /** Range of the crop aspect ratio width/height, sampled log-uniformly. Default [3/4, 4/3]. */
  ratio?: readonly [number, number];
  /** Probability of a horizontal flip. Default 0.5; 0 disables the flip (and its random draw). */
  flipProbability?: number;
  /** Per-channel mean subtracted after crop and flip (length C, or 1 for all channels). */
  mean?: readonly number[];
  /** Per-channel std divided by after subtracting the mean (same length as `mean`). */
  std?: readonly number[];
}

/** {@link AugmentOptions} with the defaults filled in. */
export interface ResolvedAugmentOptions {
  size: readonly [number, number];
  crop: boolean;
  scale: readonly [number, number];
  ratio: readonly [number, number];
  flipProbability: number;
  mean?: readonly number[];
  std?: readonly number[];
}

/** A configured augmentation: input [H, W, C] in, [outH, outW, C] out. */
export interface Augmentation {
  /** The options with defaults filled in. */
  readonly options: ResolvedAugmentOptions;
  /** Shape of the output for an input of shape `input`. */
  outputShape(input: ImageShape): ImageShape;
  /**
   * Augments one image ([H, W, C], values typically in [0, 1]) with random numbers from `rng`,
   * writing into `out` ([outH, outW, C]) when given. Draw order: crop, then flip.
   */
  apply(image: Float32Array, shape: ImageShape, rng: Rng, out?: Float32Array): Float32Array;
}

/** Builds the crop -> flip -> normalize pipeline, validating every option once. */
export function createAugmentation(options: AugmentOptions): Augmentation {
  const size = outputSize(options.size);
  const scale = orderedPair(options.scale ?? [0.2, 1.0], 'scale', 0);
  const ratio = orderedPair(options.ratio ?? [3 / 4, 4 / 3], 'ratio', Number.MIN_VALUE);
  if (scale[1] > 1) throw new DataFormatError('augment', `scale must lie in (0, 1], got [${scale.join(', ')}]`);
  const flipProbability = options.flipProbability ?? 0.5;
  if (!(flipProbability >= 0 && flipProbability <= 1)) throw new DataFormatError('augment', `flipProbability must be in [0, 1], got ${flipProbability}`);
  if ((options.mean === undefined) !== (options.std === undefined)) throw new DataFormatError('augment', 'give both mean and std, or neither');
  const crop = options.crop ?? true;
  const resolved: ResolvedAugmentOptions = { size, crop, scale, ratio, flipProbability, mean: options.mean, std: options.std };
  return {
    options: resolved,
    outputShape: (input) => [size[0], size[1], input[2]],
    apply(image, shape, rng, out) {
      checkImage(image, shape, 'augment');
      const box = crop ? sampleResizedCrop(shape[0], shape[1], scale, ratio, rng) : { top: 0, left: 0, height: shape[0], width: shape[1] };
      const result = resizeBilinear(image, shape, box, size[0], size[1], out); // [outH, outW, C]
      const outShape: ImageShape = [size[0], size[1], shape[2]];
      if (flipProbability > 0 && rng.random() < flipProbability) horizontalFlip(result, outShape, result);
      if (resolved.mean && resolved.std) normalize(result, shape[2], resolved.mean, resolved.std, result);
      return result;
    },
  };
}

/**
 * torchvision `RandomResizedCrop.get_params(img, scale, ratio)` for an image of
 * `height` x `width`: up to 10 attempts drawing an area fraction uniformly in `scale` and an
 * aspect ratio log-uniformly in `ratio`; the first crop that fits is placed uniformly at random.
 * If none fits, the centre crop with the aspect ratio clamped to `ratio` (or the whole image).
 */
export function sampleResizedCrop(height: number, width: number, scale: readonly [number, number], ratio: readonly [number, number], rng: Rng): CropBox {
  const area = height * width;
  const logRatio = [Math.log(ratio[0]), Math.log(ratio[1])];
  for (let attempt = 0; attempt < 10; attempt++) {
    const targetArea = area * rng.uniform(scale[0], scale[1]);
    const aspect = Math.exp(rng.uniform(logRatio[0], logRatio[1]));
    const w = roundHalfEven(Math.sqrt(targetArea * aspect));
    const h = roundHalfEven(Math.sqrt(targetArea / aspect));
    if (w > 0 && w <= width && h > 0 && h <= height) {
      const top = rng.int(0, height - h + 1);
      const left = rng.int(0, width - w + 1);
      return { top, left, height: h, width: w };
    }
  }
  return centerCropFallback(height, width, ratio);
}

/** torchvision's fallback: the central crop, aspect ratio clamped into `ratio`. */
function centerCropFallback(height: number, width: number, ratio: readonly [number, number]): CropBox {
  const inRatio = width / height;
  let w = width;
  let h = height;
  if (inRatio < Math.min(...ratio)) h = roundHalfEven(w / Math.min(...ratio));
  else if (inRatio > Math.max(...ratio)) w = roundHalfEven(h * Math.max(...ratio));
  return { top: Math.floor((height - h) / 2), left: Math.floor((width - w) / 2), height: h, width: w };
}

/** Python 3's `round(x)`: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** Mirrors an HWC image left-right (column x <-> W-1-x); `out` may be `image` itself. */
export function horizontalFlip(image: Float32Array, shape: ImageShape, out?: Float32Array): Float32Array {
  checkImage(image, shape, 'horizontalFlip');
  const [height, width, channels] = shape;
  const result = out ?? new Float32Array(image.length);
  if (result.length !== image.length) throw new DataFormatError('horizontalFlip', `out has ${result.length} values, expected ${image.length}`);
  for (let y = 0; y < height; y++) {
    const row = y * width * channels;
    for (let x = 0; x < Math.ceil(width / 2); x++) {
      const a = row + x * channels;
      const b = row + (width - 1 - x) * channels;
      for (let c = 0; c < channels; c++) {
        const left = image[a + c];
        result[a + c] = image[b + c];
        result[b + c] = left;
      }
    }
  }
  return result;
}

/**
 * (x - mean[c]) / std[c] for every value of an interleaved image or batch with `channels`
 * channels (mean/std of length `channels`, or 1 for all); `out` may be `data` itself.
 */
export function normalize(data: Float32Array, channels: number, mean: readonly number[], std: readonly number[], out?: Float32Array): Float32Array {
  const m = perChannel(mean, channels, 'mean');
  const s = perChannel(std, channels, 'std');
  s.forEach((v, c) => {
    if (!(v > 0) || !Number.isFinite(v)) throw new DataFormatError('normalize', `std[${c}] must be a positive finite number, got ${v}`);
  });
  if (data.length % channels !== 0) throw new DataFormatError('normalize', `${data.length} values do not split into ${channels} channels`);
  const result = out ?? new Float32Array(data.length);
  const inv = s.map((v) => 1 / v);
  for (let i = 0; i < data.length; i += channels) {
    for (let c = 0; c < channels; c++) result[i + c] = (data[i + c] - m[c]) * inv[c];
  }
  return result;
}

/**
 * Per-channel mean and population std of interleaved pixel data (e.g. a whole dataset
 * [N, H, W, C]), after multiplying by `scale` (1/255 for uint8 pixels).
 */
export function channelStats(data: ArrayLike<number>, channels: number, scale = 1): { mean: number[]; std: number[] } {
  if (data.length === 0 || data.length % channels !== 0) throw new DataFormatError('channelStats', `${data.length} values do not form whole pixels of ${channels} channels`);
  const sum = new Float64Array(channels);
  const sumSq = new Float64Array(channels);
  for (let i = 0; i < data.length; i += channels) {
    for (let c = 0; c < channels; c++) {
      const v = data[i + c] * scale;
      sum[c] += v;
      sumSq[c] += v * v;
    }
  }
  const count = data.length / channels;
  const mean = Array.from(sum, (s) => s / count);
  const std = Array.from(sumSq, (s, c) => Math.sqrt(Math.max(0, s / count - mean[c] * mean[c])));
  return { mean, std };
}

function perChannel(values: readonly number[], channels: number, name: string): number[] {
  if (values.length === channels) return [...values];
  if (values.length === 1) return new Array<number>(channels).fill(values[0]);
  throw new DataFormatError('normalize', `${name} has ${values.length} values but the image has ${channels} channels; give ${channels} values or 1`);
}

function outputSize(size: AugmentOptions['size']): [number, number] {
  const pair: [number, number] = typeof size === 'number' ? [size, size] : [size[0], size[1]];
  if (!pair.every((d) => Number.isInteger(d) && d > 0)) throw new DataFormatError('augment', `size must be a positive integer or [height, width], got ${JSON.stringify(size)}`);
  return pair;
}

function orderedPair(pair: readonly [number, number], name: string, min: number): [number, number] {
  if (pair.length !== 2 || !pair.every((v) => Number.isFinite(v) && v >= min) || pair[0] > pair[1]) {
    throw new DataFormatError('augment', `${name} must be [min, max] with ${min > 0 ? '0 <' : '0 <='} min <= max, got ${JSON.stringify(pair)}`);
  }
  if (name === 'scale' && pair[1] <= 0) throw new DataFormatError('augment', `scale must lie in (0, 1], got ${JSON.stringify(pair)}`);
  return [pair[0], pair[1]];
}
