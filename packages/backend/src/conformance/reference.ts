/**
 * Deterministic inputs and the float64 references of the conformance checks, in plain
 * JavaScript (analytic formulas, no tfjs).
 */
import { Rng } from '@maejs/random';

/** Float32 values ~ N(0, std^2) (Box-Muller), rounded to float32 so the reference sees what the backend sees. */
export function randn(size: number, seed: number, std = 1): Float32Array {
  return new Rng(seed).fillNormal(new Float32Array(size), 0, std);
}

/** A random permutation of 0..n-1 per row: int32 [rows * n]. */
export function permutations(rows: number, n: number, seed: number): Int32Array {
  const rng = new Rng(seed);
  const out = new Int32Array(rows * n);
  for (let row = 0; row < rows; row++) out.set(rng.permutation(n), row * n);
  return out;
}

/** C = op(A) op(B) for row-major A, B (batched over `batch` leading matrices). */
export function refMatMul(a: ArrayLike<number>, b: ArrayLike<number>, batch: number, m: number, k: number, n: number, transposeA: boolean, transposeB: boolean): Float64Array {
  const out = new Float64Array(batch * m * n);
  for (let s = 0; s < batch; s++) {
    const ao = s * m * k;
    const bo = s * k * n;
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let t = 0; t < k; t++) {
          const av = transposeA ? a[ao + t * m + i] : a[ao + i * k + t];
          const bv = transposeB ? b[bo + j * k + t] : b[bo + t * n + j];
          acc += av * bv;
        }
        out[s * m * n + i * n + j] = acc;
      }
    }
  }
  return out;
}

/** erf in float64 (Taylor series below 2, continued fraction of erfc above; error ~1e-16). */
export function erf64(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2) {
    let term = ax;
    let sum = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  let t = ax;
  for (let k = 80; k >= 1; k--) t = ax + k / 2 / t;
  const erfc = Math.exp(-ax * ax) / (Math.sqrt(Math.PI) * t);
  return Math.sign(x) * (1 - erfc);
}

export function gelu64(x: number): number {
  return 0.5 * x * (1 + erf64(x * Math.SQRT1_2));
}

export function geluGrad64(x: number): number {
  return 0.5 * (1 + erf64(x * Math.SQRT1_2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
}

// [d0, d1, d2, d3] -> [d0, d2, d1, d3]
export function permute0213(data: ArrayLike<number>, d0: number, d1: number, d2: number, d3: number): Float64Array {
  const out = new Float64Array(d0 * d1 * d2 * d3);
  for (let a = 0; a < d0; a++) for (let c = 0; c < d1; c++) for (let e = 0; e < d2; e++) for (let f = 0; f < d3; f++) out[((a * d2 + e) * d1 + c) * d3 + f] = data[((a * d1 + c) * d2 + e) * d3 + f];
  return out;
}

/** Rows of `values` [rows, cols] sorted stably: out[r * cols + i] = index of the i-th smallest (ties by index). */
export function stableOrder(values: ArrayLike<number>, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const order = Array.from({ length: cols }, (_, i) => i).sort((a, b) => values[r * cols + a] - values[r * cols + b] || a - b);
    out.set(order, r * cols);
  }
  return out;
}
