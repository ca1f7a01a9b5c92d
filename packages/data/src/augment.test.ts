import {
  channelStats,
  createAugmentation,
  FASHION_MNIST_MEAN,
  FASHION_MNIST_STD,
  horizontalFlip,
  IMAGENET_MEAN,
  IMAGENET_STD,
  normalize,
  roundHalfEven,
  sampleResizedCrop,
} from './augment.js';
import { DataFormatError } from './errors.js';
import { resizeBilinear } from './resize.js';
import { Rng } from '@maejs/random';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseIdx } from './idx.js';

/** An HWC image whose value encodes its position: (y * W + x) * C + c. */
function ramp(h: number, w: number, c: number): Float32Array {
  return Float32Array.from({ length: h * w * c }, (_, i) => i);
}

const SCALE: [number, number] = [0.2, 1.0];
const RATIO: [number, number] = [3 / 4, 4 / 3];

describe('sampleResizedCrop (torchvision RandomResizedCrop.get_params)', () => {
  it('keeps area and aspect ratio within the configured bounds over many draws (224 x 224)', () => {
    const rng = new Rng(11);
    const n = 20000;
    let logRatioSum = 0;
    let minArea = 1;
    let maxArea = 0;
    let topFraction = 0;
    const outside: string[] = [];
    for (let i = 0; i < n; i++) {
      const box = sampleResizedCrop(224, 224, SCALE, RATIO, rng);
      const area = (box.width * box.height) / (224 * 224);
      const ratio = box.width / box.height;
      // integer rounding of w and h moves the area/ratio by at most ~1 pixel out of ~100
      const inside = box.top >= 0 && box.left >= 0 && box.top + box.height <= 224 && box.left + box.width <= 224;
      if (area < 0.2 - 0.01 || area > 1 || ratio < 3 / 4 - 0.02 || ratio > 4 / 3 + 0.02 || !inside) outside.push(JSON.stringify(box));
      logRatioSum += Math.log(ratio);
      minArea = Math.min(minArea, area);
      maxArea = Math.max(maxArea, area);
      if (box.height < 224) topFraction += box.top / (224 - box.height);
    }
    expect(outside).toEqual([]);
    expect(Math.abs(logRatioSum / n)).toBeLessThan(0.01); // log-uniform ratio is symmetric about 1
    expect(minArea).toBeLessThan(0.21);
    expect(maxArea).toBeGreaterThan(0.97);
    expect(Math.abs(topFraction / n - 0.5)).toBeLessThan(0.02); // uniform placement
  });

  it('stays inside 28 x 28 images with the rounding of small crops', () => {
    const rng = new Rng(5);
    const outside: string[] = [];
    for (let i = 0; i < 5000; i++) {
      const box = sampleResizedCrop(28, 28, SCALE, RATIO, rng);
      const ratio = box.width / box.height;
      const ok = box.width * box.height >= Math.floor(0.2 * 784 * 0.85) && ratio > 0.65 && ratio < 1.55 && box.top + box.height <= 28 && box.left + box.width <= 28;
      if (!ok) outside.push(JSON.stringify(box));
    }
    expect(outside).toEqual([]);
  });

  it('falls back to the centre crop with the ratio clamped when 10 attempts fail', () => {
    // no crop of area >= 0.2 * 2000 and ratio <= 4/3 fits in 10 rows: always the fallback
    expect(sampleResizedCrop(10, 200, SCALE, RATIO, new Rng(1))).toEqual({ top: 0, left: 93, height: 10, width: 13 });
    expect(sampleResizedCrop(200, 10, SCALE, RATIO, new Rng(1))).toEqual({ top: 93, left: 0, height: 13, width: 10 });
    // scale forced above 1: never fits, and an in-range ratio falls back to the whole image
    expect(sampleResizedCrop(20, 20, [1.5, 1.6], RATIO, new Rng(1))).toEqual({ top: 0, left: 0, height: 20, width: 20 });
  });

  it('rounds like Python (half to even)', () => {
    expect([0.5, 1.5, 2.5, 3.5, 2.4, 2.6, 13.333].map(roundHalfEven)).toEqual([0, 2, 2, 4, 2, 3, 13]);
  });
});

describe('resizeBilinear', () => {
  it('is the identity at equal size and matches torch bilinear (align_corners=False) when enlarging', () => {
    const image = ramp(5, 7, 3);
    expect(resizeBilinear(image, [5, 7, 3], { top: 0, left: 0, height: 5, width: 7 }, 5, 7)).toEqual(image);
    const row = new Float32Array([0, 1]); // [1, 2, 1]
    expect(Array.from(resizeBilinear(row, [1, 2, 1], { top: 0, left: 0, height: 1, width: 2 }, 1, 4))).toEqual([0, 0.25, 0.75, 1]);
    const crop = resizeBilinear(ramp(4, 4, 1), [4, 4, 1], { top: 1, left: 1, height: 2, width: 2 }, 2, 2);
    expect(Array.from(crop)).toEqual([5, 6, 9, 10]);
  });

  it('antialiases when shrinking (triangle filter widened by the scale, as Pillow) and keeps constants', () => {
    const row = new Float32Array([0, 1, 2, 3]);
    const half = resizeBilinear(row, [1, 4, 1], { top: 0, left: 0, height: 1, width: 4 }, 1, 2);
    expect(half[0]).toBeCloseTo((0 * 0.75 + 1 * 0.75 + 2 * 0.25) / 1.75, 6);
    expect(half[1]).toBeCloseTo((1 * 0.25 + 2 * 0.75 + 3 * 0.75) / 1.75, 6);
    const flat = new Float32Array(9 * 13 * 2).fill(0.7);
    for (const [h, w] of [[4, 5], [20, 3], [9, 13]]) {
      for (const v of resizeBilinear(flat, [9, 13, 2], { top: 0, left: 0, height: 9, width: 13 }, h, w)) expect(v).toBeCloseTo(0.7, 6);
    }
  });

  it('refuses boxes outside the image and mismatched buffers', () => {
    expect(() => resizeBilinear(ramp(4, 4, 1), [4, 4, 1], { top: 2, left: 0, height: 3, width: 2 }, 2, 2)).toThrow(
      /resizeBilinear: crop box \(top 2, left 0, 3x2\) is not an integer box inside the 4x4 image/,
    );
    expect(() => resizeBilinear(ramp(4, 4, 1), [4, 5, 1], { top: 0, left: 0, height: 1, width: 1 }, 2, 2)).toThrow(/image has 16 values but shape \[4, 5, 1\] needs 20/);
  });
});

describe('horizontalFlip and normalize', () => {
  it('flip mirrors every row exactly and twice is the identity', () => {
    const image = ramp(2, 3, 2); // [2, 3, 2]
    const flipped = horizontalFlip(image, [2, 3, 2]);
    expect(Array.from(flipped)).toEqual([4, 5, 2, 3, 0, 1, 10, 11, 8, 9, 6, 7]);
    expect(horizontalFlip(flipped, [2, 3, 2])).toEqual(image);
    const inPlace = ramp(3, 4, 1);
    horizontalFlip(inPlace, [3, 4, 1], inPlace);
    expect(Array.from(inPlace.subarray(0, 4))).toEqual([3, 2, 1, 0]);
  });

  it('normalize computes (x - mean[c]) / std[c] per channel', () => {
    const pixels = new Float32Array([0.485, 0.456, 0.406, 1, 1, 1]);
    const out = normalize(pixels, 3, IMAGENET_MEAN, IMAGENET_STD);
    [0, 1, 2].forEach((c) => expect(out[c]).toBeCloseTo(0, 6));
    [0, 1, 2].forEach((c) => expect(out[3 + c]).toBeCloseTo((1 - IMAGENET_MEAN[c]) / IMAGENET_STD[c], 5));
    const gray = normalize(new Float32Array([0, 0.5, 1]), 1, [0.5], [0.25]);
    expect(Array.from(gray)).toEqual([-2, 0, 2]);
    expect(Array.from(normalize(new Float32Array([1, 1]), 2, [0.5], [0.5]))).toEqual([1, 1]); // one value for all channels
    expect(() => normalize(pixels, 3, [0.5, 0.5], [1, 1])).toThrow(/normalize: mean has 2 values but the image has 3 channels; give 3 values or 1/);
    expect(() => normalize(pixels, 3, [0.5], [0])).toThrow(/std\[0\] must be a positive finite number, got 0/);
  });

  it('the Fashion-MNIST constants are the bundled sample statistics to 1e-2 (train-set values)', () => {
    const sample = parseIdx(readFileSync(join(__dirname, '..', 'sample', 'fashion-mnist-sample-images-idx3-ubyte.gz')));
    const { mean, std } = channelStats(sample.data, 1, 1 / 255);
    expect(Math.abs(mean[0] - FASHION_MNIST_MEAN[0])).toBeLessThan(0.01);
    expect(Math.abs(std[0] - FASHION_MNIST_STD[0])).toBeLessThan(0.01);
    expect(channelStats([0, 2, 4, 6], 2)).toEqual({ mean: [2, 4], std: [2, 2] });
  });
});

describe('createAugmentation', () => {
  const image = Float32Array.from({ length: 28 * 28 }, (_, i) => (i % 97) / 97);

  it('is deterministic for a seed, and differs across seeds', () => {
    const augment = createAugmentation({ size: 28, mean: FASHION_MNIST_MEAN, std: FASHION_MNIST_STD });
    const run = (seed: number): Float32Array[] => {
      const rng = new Rng(seed);
      return Array.from({ length: 20 }, () => augment.apply(image, [28, 28, 1], rng));
    };
    expect(run(3)).toEqual(run(3));
    expect(run(3)).not.toEqual(run(4));
  });

  it('without crop and flip it is a plain resize; normalisation is applied last', () => {
    const plain = createAugmentation({ size: [14, 20], crop: false, flipProbability: 0 });
    expect(plain.outputShape([28, 28, 1])).toEqual([14, 20, 1]);
    const expected = resizeBilinear(image, [28, 28, 1], { top: 0, left: 0, height: 28, width: 28 }, 14, 20);
    expect(plain.apply(image, [28, 28, 1], new Rng(0))).toEqual(expected);
    const normalized = createAugmentation({ size: 28, crop: false, flipProbability: 0, mean: [0.5], std: [0.5] }).apply(image, [28, 28, 1], new Rng(0));
    normalized.forEach((v, i) => expect(v).toBeCloseTo((image[i] - 0.5) / 0.5, 5));
  });

  it('flips about half the time and writes into a given buffer', () => {
    const flipOnly = createAugmentation({ size: 28, crop: false });
    const rng = new Rng(9);
    const flipped = horizontalFlip(image, [28, 28, 1]);
    let flips = 0;
    const out = new Float32Array(784);
    expect(flipOnly.apply(image, [28, 28, 1], rng, out)).toBe(out);
    for (let i = 0; i < 2000; i++) {
      const result = flipOnly.apply(image, [28, 28, 1], rng, out);
      if (result[0] === flipped[0] && result[1] === flipped[1]) flips++;
    }
    expect(Math.abs(flips / 2000 - 0.5)).toBeLessThan(0.05);
  });

  it('validates its options', () => {
    expect(() => createAugmentation({ size: 0 })).toThrow(/augment: size must be a positive integer or \[height, width\], got 0/);
    expect(() => createAugmentation({ size: 8, scale: [0.9, 0.2] })).toThrow(/scale must be \[min, max\] with 0 <= min <= max, got \[0.9,0.2\]/);
    expect(() => createAugmentation({ size: 8, scale: [0.2, 1.5] })).toThrow(/scale must lie in \(0, 1\]/);
    expect(() => createAugmentation({ size: 8, ratio: [0, 1] })).toThrow(/ratio must be \[min, max\] with 0 < min <= max/);
    expect(() => createAugmentation({ size: 8, flipProbability: 2 })).toThrow(/flipProbability must be in \[0, 1\], got 2/);
    expect(() => createAugmentation({ size: 8, mean: [0.5] })).toThrow(/give both mean and std, or neither/);
    expect(() => createAugmentation({ size: 8 }).apply(new Float32Array(5), [2, 2, 1], new Rng(0))).toThrow(DataFormatError);
  });
});
