/** Small seeded synthetic data sets for the eval tests. */
import { Rng } from '@maejs/random';
import type { FeatureSet } from '../labelled-sets.js';

/**
 * Gaussian clusters: class c has mean `means[c]` (length D) and per-dimension std `std`;
 * samples are interleaved by class (labels 0, 1, ..., K-1, 0, 1, ...).
 */
export function clusters(means: number[][], perClass: number, std: number | number[], seed: number): FeatureSet & { labels: Int32Array } {
  const rng = new Rng(seed);
  const k = means.length;
  const dim = means[0].length;
  const n = k * perClass;
  const features = new Float32Array(n * dim);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const c = i % k;
    labels[i] = c;
    for (let j = 0; j < dim; j++) features[i * dim + j] = means[c][j] + (Array.isArray(std) ? std[j] : std) * rng.normal();
  }
  return { features, labels, dim };
}

/** Column means and biased / unbiased variances of a [N, D] row-major matrix, in float64. */
export function columnStats(x: Float32Array, dim: number): { mean: Float64Array; varBiased: Float64Array; varUnbiased: Float64Array } {
  const n = x.length / dim;
  const mean = new Float64Array(dim);
  const ss = new Float64Array(dim);
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) mean[j] += x[i * dim + j] / n;
  for (let i = 0; i < n; i++) for (let j = 0; j < dim; j++) ss[j] += (x[i * dim + j] - mean[j]) ** 2;
  return { mean, varBiased: ss.map((s) => s / n), varUnbiased: ss.map((s) => s / (n - 1)) };
}

/**
 * Tiny two-class images [N, S, S, 1]: class 0 is bright (+1) in the top half and dark (-1) in the
 * bottom half, class 1 the reverse, plus N(0, noise^2). Labels alternate 0, 1, 0, ...
 */
export function halfImages(n: number, size: number, noise: number, seed: number): { images: Float32Array; labels: Int32Array } {
  const rng = new Rng(seed);
  const images = new Float32Array(n * size * size);
  const labels = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 2;
    for (let r = 0; r < size; r++) {
      const top = r < size / 2;
      const value = top === (labels[i] === 0) ? 1 : -1;
      for (let c = 0; c < size; c++) images[(i * size + r) * size + c] = value + noise * rng.normal();
    }
  }
  return { images, labels };
}
