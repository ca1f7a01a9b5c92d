/**
 * Backend conformance kit: runs, on whatever tfjs backend is active, every op and gradient
 * maejs relies on and compares it with a float64 reference computed in plain JavaScript
 * (analytic formulas, no second backend needed), plus an optional model-level check that
 * the caller injects (for example the golden tiny-gray forward/backward from the official
 * PyTorch code; @maejs/backend cannot import the model, it is the bottom package).
 *
 * ```ts
 * import '@tensorflow/tfjs-backend-webgl';
 * import { initBackend } from '@maejs/backend';
 * import { runConformance, formatReport } from '@maejs/backend/conformance';
 *
 * await initBackend('webgl');
 * const report = await runConformance();
 * console.log(formatReport(report)); // one line per check: pass/fail, max abs / rel error
 * ```
 *
 * A check passes when every element satisfies `|a - b| <= atol * scale + rtol * |b|`, where
 * `b` is the reference, `a` the backend's value and `scale = max|b|` (1 if that is 0), and
 * every value is finite. The report gives per check the max absolute error and the max
 * relative error `|a - b| / max(|b|, 1e-3 * scale)` (elements far below the check's own
 * magnitude do not blow it up).
 *
 * @module conformance
 */
import * as tf from '@tensorflow/tfjs-core';
import { detectEnvironment, type Environment } from './environment.js';
import { registerTfjsGradients } from './gradients.js';
import { argsort, expandTo, inversePermutation, linear, permuteTokens, stableRanks, tfSeed } from './ops.js';
import { prng } from './prng.js';

/** What a check exercises. */
export type CheckGroup = 'op' | 'gradient' | 'random' | 'model';

/** Element-wise tolerance: `|a - b| <= atol * max|b| + rtol * |b|`. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** One row of the report. */
export interface CheckResult {
  name: string;
  group: CheckGroup;
  status: 'pass' | 'fail' | 'skip';
  /** Largest |a - b| over all compared values (0 when nothing was compared). */
  maxAbsError: number;
  /** Largest |a - b| / max(|b|, 1e-3 * max|b|). */
  maxRelError: number;
  tolerance: Tolerance;
  /** Why it failed (first bad element, a thrown error, a non-finite value) or was skipped. */
  error?: string;
  /** Wall-clock milliseconds, including read-backs. */
  ms: number;
}

/** What {@link runConformance} returns. */
export interface ConformanceReport {
  backend: string;
  environment: Environment;
  tfjsVersion: string;
  /** The default tolerance used for op and gradient checks. */
  tolerance: Tolerance;
  /** True when no check failed (skipped checks do not fail the report). */
  passed: boolean;
  counts: { pass: number; fail: number; skip: number };
  checks: CheckResult[];
  /** Tensors alive after the run minus before it (should be 0). */
  leakedTensors: number;
  seconds: number;
}

/** One comparison produced by an injected model-level check. */
export interface GoldenComparison {
  name: string;
  actual: ArrayLike<number>;
  expected: ArrayLike<number>;
  /** Defaults to the report's tolerance. */
  tolerance?: Partial<Tolerance>;
  /** Require bit-equal values (masks, ids). */
  exact?: boolean;
}

/**
 * A model-level check run after the op checks, on the active backend: it computes the
 * model's outputs and returns them beside their expected values; the kit compares them and
 * adds one `model` row per comparison. A thrown error becomes one failed row.
 */
export type GoldenCheck = (context: { backend: string; tolerance: Tolerance }) => Promise<GoldenComparison[]> | GoldenComparison[];

/** Options of {@link runConformance}. */
export interface ConformanceOptions {
  /** Model-level check(s) to run after the op checks (see {@link GoldenCheck}). */
  golden?: GoldenCheck;
  /** Overrides the backend's default tolerance (see {@link defaultTolerance}). */
  tolerance?: Partial<Tolerance>;
  /** Runs only the checks whose name contains one of these strings (model checks always run). */
  only?: string[];
  /** Called after every check, e.g. to show progress. */
  onCheck?: (result: CheckResult) => void;
}

/**
 * Default tolerance of a backend: float32 kernels against a float64 reference. GPU backends
 * (webgl, webgpu) may use other summation orders or float16 textures: 1e-3 as in the design.
 */
export function defaultTolerance(backend: string): Tolerance {
  return backend === 'webgl' || backend === 'webgpu' ? { atol: 1e-4, rtol: 1e-3 } : { atol: 1e-5, rtol: 1e-4 };
}

// ---------------------------------------------------------------------------------------
// Comparison

interface Comparison {
  maxAbs: number;
  maxRel: number;
  firstBad: number;
  nonFinite: number;
  actualAtBad?: number;
  expectedAtBad?: number;
}

function compare(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, exact = false): Comparison {
  if (actual.length !== expected.length) throw new Error(`got ${actual.length} values, expected ${expected.length}`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  if (scale === 0) scale = 1;
  const floor = 1e-3 * scale;
  let maxAbs = 0;
  let maxRel = 0;
  let firstBad = -1;
  let nonFinite = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (!Number.isFinite(a)) {
      if (nonFinite < 0) nonFinite = i;
      if (firstBad < 0) firstBad = i;
      continue;
    }
    const diff = Math.abs(a - b);
    maxAbs = Math.max(maxAbs, diff);
    maxRel = Math.max(maxRel, diff / Math.max(Math.abs(b), floor));
    const ok = exact ? a === b : diff <= tol.atol * scale + tol.rtol * Math.abs(b);
    if (!ok && firstBad < 0) firstBad = i;
  }
  const out: Comparison = { maxAbs, maxRel, firstBad, nonFinite };
  if (firstBad >= 0) {
    out.actualAtBad = actual[firstBad];
    out.expectedAtBad = expected[firstBad];
  }
  return out;
}

/** A named pair of arrays to compare inside one check. */
interface Pair {
  what: string;
  actual: ArrayLike<number>;
  expected: ArrayLike<number>;
  exact?: boolean;
  tolerance?: Tolerance;
  /** Leave out of the reported max abs / rel errors (statistics such as sample moments). */
  notInErrors?: boolean;
}

function judge(name: string, group: CheckGroup, pairs: Pair[], tol: Tolerance, ms: number): CheckResult {
  let maxAbs = 0;
  let maxRel = 0;
  let error: string | undefined;
  for (const p of pairs) {
    const t = p.tolerance ?? tol;
    let c: Comparison;
    try {
      c = compare(p.actual, p.expected, t, p.exact);
    } catch (e) {
      error ??= `${p.what}: ${(e as Error).message}`;
      continue;
    }
    if (!p.notInErrors) {
      maxAbs = Math.max(maxAbs, c.maxAbs);
      maxRel = Math.max(maxRel, c.maxRel);
    }
    if (c.firstBad >= 0 && error === undefined) {
      error =
        c.nonFinite >= 0
          ? `${p.what}: element ${c.nonFinite} is ${p.actual[c.nonFinite]} (non-finite), expected ${p.expected[c.nonFinite]}`
          : `${p.what}: element ${c.firstBad} is ${c.actualAtBad}, expected ${c.expectedAtBad}${p.exact ? ' (exact match required)' : ` (atol ${t.atol} x max|ref|, rtol ${t.rtol})`}`;
    }
  }
  return { name, group, status: error === undefined ? 'pass' : 'fail', maxAbsError: maxAbs, maxRelError: maxRel, tolerance: tol, error, ms };
}

// ---------------------------------------------------------------------------------------
// Deterministic inputs and float64 references


/** Float32 values ~ N(0, std^2) (Box-Muller), rounded to float32 so the reference sees what the backend sees. */
function randn(size: number, seed: number, std = 1): Float32Array {
  const r = prng(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    const u = Math.max(r(), 1e-12);
    out[i] = std * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * r());
  }
  return out;
}

/** A random permutation of 0..n-1 per row: int32 [rows * n]. */
function permutations(rows: number, n: number, seed: number): Int32Array {
  const r = prng(seed);
  const out = new Int32Array(rows * n);
  for (let row = 0; row < rows; row++) {
    const p = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(r() * (i + 1));
      [p[i], p[j]] = [p[j], p[i]];
    }
    out.set(p, row * n);
  }
  return out;
}

/** C = op(A) op(B) for row-major A, B (batched over `batch` leading matrices). */
function refMatMul(a: ArrayLike<number>, b: ArrayLike<number>, batch: number, m: number, k: number, n: number, transposeA: boolean, transposeB: boolean): Float64Array {
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

function gelu64(x: number): number {
  return 0.5 * x * (1 + erf64(x * Math.SQRT1_2));
}

function geluGrad64(x: number): number {
  return 0.5 * (1 + erf64(x * Math.SQRT1_2)) + (x * Math.exp(-0.5 * x * x)) / Math.sqrt(2 * Math.PI);
}

// ---------------------------------------------------------------------------------------
// The checks

interface CheckDef {
  name: string;
  group: CheckGroup;
  /**
   * Runs after the model-level check: a failing integer shader can lose the whole device
   * (seen on WebGPU), which would turn every later check into a failure of its own.
   */
  last?: boolean;
  /** Returns the pairs to compare (actual read back from the backend, expected in float64). */
  run: () => Promise<Pair[]>;
}

async function values(t: tf.Tensor): Promise<Float32Array | Int32Array | Uint8Array> {
  return (await t.data()) as Float32Array | Int32Array | Uint8Array;
}

/** Reads tensors back and disposes them. */
async function readAll(ts: tf.Tensor[]): Promise<Array<Float32Array | Int32Array | Uint8Array>> {
  try {
    return await Promise.all(ts.map(values));
  } finally {
    tf.dispose(ts);
  }
}

/** Vector-Jacobian product of f at xs with cotangent dy; returns [y, ...dxs] (caller disposes). */
function vjp(f: (...xs: tf.Tensor[]) => tf.Tensor, xs: tf.Tensor[], dy: tf.Tensor): tf.Tensor[] {
  const { value, grads } = tf.tidy(() => {
    const g = tf.valueAndGrads(f as (...args: tf.Tensor[]) => tf.Tensor);
    return g(xs, dy);
  });
  return [value, ...grads];
}

function matMulChecks(): CheckDef[] {
  const defs: CheckDef[] = [];
  const [m, k, n] = [49, 96, 80];
  for (const [ta, tb] of [
    [false, false],
    [true, false],
    [false, true],
    [true, true],
  ] as const) {
    const label = `matMul [${m},${k}]x[${k},${n}]${ta ? ' transposeA' : ''}${tb ? ' transposeB' : ''}`;
    const aData = randn(m * k, 11);
    const bData = randn(k * n, 12);
    const aShape = ta ? [k, m] : [m, k];
    const bShape = tb ? [n, k] : [k, n];
    defs.push({
      name: label,
      group: 'op',
      run: async () => {
        const [y] = await readAll([tf.tidy(() => tf.matMul(tf.tensor2d(aData, aShape as [number, number]), tf.tensor2d(bData, bShape as [number, number]), ta, tb))]);
        return [{ what: 'C', actual: y, expected: refMatMul(aData, bData, 1, m, k, n, ta, tb) }];
      },
    });
    defs.push({
      name: `${label} gradient`,
      group: 'gradient',
      run: async () => {
        const dyData = randn(m * n, 13);
        const a = tf.tensor2d(aData, aShape as [number, number]);
        const b = tf.tensor2d(bData, bShape as [number, number]);
        const dy = tf.tensor2d(dyData, [m, n]);
        const [, da, db] = await readAll([...vjp((x, w) => tf.matMul(x, w, ta, tb), [a, b], dy), a, b, dy]);
        // C = op(A) op(B): d op(A) = dY op(B)^T, d op(B) = op(A)^T dY; transposed operands get the transpose.
        const dOpA = refMatMul(dyData, bData, 1, m, n, k, false, !tb); // [m, k]
        const dOpB = refMatMul(aData, dyData, 1, k, m, n, !ta, false); // [k, n]
        const transpose = (x: Float64Array, r: number, c: number) => {
          const t = new Float64Array(r * c);
          for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) t[j * r + i] = x[i * c + j];
          return t;
        };
        return [
          { what: 'dA', actual: da, expected: ta ? transpose(dOpA, m, k) : dOpA },
          { what: 'dB', actual: db, expected: tb ? transpose(dOpB, k, n) : dOpB },
        ];
      },
    });
  }
  // Batched (attention): q k^T and probs v, [B, H, T, hd].
  const [bb, h, t, hd] = [2, 4, 50, 16];
  const qData = randn(bb * h * t * hd, 21);
  const kData = randn(bb * h * t * hd, 22);
  const dyData = randn(bb * h * t * t, 23);
  defs.push({
    name: `batched matMul [${bb},${h},${t},${hd}]x[${bb},${h},${t},${hd}]^T (attention scores)`,
    group: 'op',
    run: async () => {
      const [y] = await readAll([tf.tidy(() => tf.matMul(tf.tensor4d(qData, [bb, h, t, hd]), tf.tensor4d(kData, [bb, h, t, hd]), false, true))]);
      return [{ what: 'scores', actual: y, expected: refMatMul(qData, kData, bb * h, t, hd, t, false, true) }];
    },
  });
  defs.push({
    name: `batched matMul [${bb},${h},${t},${hd}]x[${bb},${h},${t},${hd}]^T gradient`,
    group: 'gradient',
    run: async () => {
      const q = tf.tensor4d(qData, [bb, h, t, hd]);
      const kk = tf.tensor4d(kData, [bb, h, t, hd]);
      const dy = tf.tensor4d(dyData, [bb, h, t, t]);
      const [, dq, dk] = await readAll([...vjp((x, w) => tf.matMul(x, w, false, true), [q, kk], dy), q, kk, dy]);
      return [
        { what: 'dQ', actual: dq, expected: refMatMul(dyData, kData, bb * h, t, t, hd, false, false) }, // dY K
        { what: 'dK', actual: dk, expected: refMatMul(dyData, qData, bb * h, t, t, hd, true, false) }, // dY^T Q
      ];
    },
  });
  const vData = randn(bb * h * t * hd, 24);
  const pData = randn(bb * h * t * t, 25);
  defs.push({
    name: `batched matMul [${bb},${h},${t},${t}]x[${bb},${h},${t},${hd}] (attention context) + gradient`,
    group: 'gradient',
    run: async () => {
      const p = tf.tensor4d(pData, [bb, h, t, t]);
      const v = tf.tensor4d(vData, [bb, h, t, hd]);
      const dyc = randn(bb * h * t * hd, 26);
      const dy = tf.tensor4d(dyc, [bb, h, t, hd]);
      const [y, dp, dv] = await readAll([...vjp((x, w) => tf.matMul(x, w), [p, v], dy), p, v, dy]);
      return [
        { what: 'context', actual: y, expected: refMatMul(pData, vData, bb * h, t, t, hd, false, false) },
        { what: 'dP', actual: dp, expected: refMatMul(dyc, vData, bb * h, t, hd, t, false, true) },
        { what: 'dV', actual: dv, expected: refMatMul(pData, dyc, bb * h, t, t, hd, true, false) },
      ];
    },
  });
  // Shapes that are not multiples of a kernel's blocks, one-sided batch broadcasting, k = 1.
  const cases: Array<{ a: number[]; b: number[]; ta: boolean; tb: boolean }> = [
    { a: [3, 5, 7], b: [3, 7, 9], ta: false, tb: false },
    { a: [1, 5, 7], b: [4, 9, 7], ta: false, tb: true },
    { a: [4, 7, 5], b: [1, 7, 9], ta: true, tb: false },
    { a: [2, 3, 1, 6], b: [2, 3, 6, 1], ta: false, tb: false },
    { a: [2, 13, 1], b: [2, 1, 11], ta: false, tb: false },
  ];
  defs.push({
    name: 'batched matMul: odd sizes, one-sided batch broadcast, k = 1, transposes',
    group: 'op',
    run: async () => {
      const results = [];
      for (const [i, c] of cases.entries()) {
        const aData = randn(c.a.reduce((x, y) => x * y, 1), 31 + i);
        const bData = randn(c.b.reduce((x, y) => x * y, 1), 41 + i);
        const [y] = await readAll([tf.tidy(() => tf.matMul(tf.tensor(aData, c.a), tf.tensor(bData, c.b), c.ta, c.tb))]);
        const [a1, a2] = c.a.slice(-2);
        const [b1, b2] = c.b.slice(-2);
        const [m, k] = c.ta ? [a2, a1] : [a1, a2];
        const n = c.tb ? b1 : b2;
        const countA = c.a.slice(0, -2).reduce((x, y) => x * y, 1);
        const countB = c.b.slice(0, -2).reduce((x, y) => x * y, 1);
        const batch = Math.max(countA, countB);
        const repeat = (data: Float32Array, count: number, size: number) => (count === batch ? data : Float32Array.from({ length: batch * size }, (_, j) => data[j % size]));
        const expected = refMatMul(repeat(aData, countA, m * k), repeat(bData, countB, k * n), batch, m, k, n, c.ta, c.tb);
        results.push({ what: `[${c.a}]${c.ta ? '^T' : ''} x [${c.b}]${c.tb ? '^T' : ''}`, actual: y, expected });
      }
      return results;
    },
  });
  return defs;
}

function softmaxCheck(): CheckDef {
  const [rows, n] = [2 * 4 * 50, 50];
  const xData = randn(rows * n, 31, 3);
  const dyData = randn(rows * n, 32);
  return {
    name: `softmax [${rows},${n}] + gradient`,
    group: 'gradient',
    run: async () => {
      const x = tf.tensor2d(xData, [rows, n]);
      const dy = tf.tensor2d(dyData, [rows, n]);
      const [y, dx] = await readAll([...vjp((a) => tf.softmax(a), [x], dy), x, dy]);
      const s = new Float64Array(rows * n);
      const g = new Float64Array(rows * n);
      for (let r = 0; r < rows; r++) {
        let max = -Infinity;
        for (let j = 0; j < n; j++) max = Math.max(max, xData[r * n + j]);
        let sum = 0;
        for (let j = 0; j < n; j++) sum += Math.exp(xData[r * n + j] - max);
        let dot = 0;
        for (let j = 0; j < n; j++) {
          s[r * n + j] = Math.exp(xData[r * n + j] - max) / sum;
          dot += dyData[r * n + j] * s[r * n + j];
        }
        for (let j = 0; j < n; j++) g[r * n + j] = s[r * n + j] * (dyData[r * n + j] - dot);
      }
      return [
        { what: 'softmax', actual: y, expected: s },
        { what: 'dx', actual: dx, expected: g },
      ];
    },
  };
}

function geluCheck(): CheckDef {
  const size = 98 * 256;
  const xData = randn(size, 41, 2);
  const dyData = randn(size, 42);
  return {
    name: `erf-GELU [${size}] + gradient`,
    group: 'gradient',
    run: async () => {
      const x = tf.tensor1d(xData);
      const dy = tf.tensor1d(dyData);
      const gelu = (a: tf.Tensor) => tf.mul(tf.mul(a, 0.5), tf.add(tf.erf(tf.mul(a, Math.SQRT1_2)), 1));
      const [y, dx] = await readAll([...vjp(gelu, [x], dy), x, dy]);
      return [
        { what: 'gelu', actual: y, expected: Float64Array.from(xData, gelu64) },
        { what: 'dx', actual: dx, expected: Float64Array.from(xData, (v, i) => geluGrad64(v) * dyData[i]) },
      ];
    },
  };
}

function layerNormCheck(): CheckDef {
  const [rows, d, eps] = [2 * 50, 64, 1e-6];
  const xData = randn(rows * d, 51, 2);
  for (let r = 0; r < rows; r++) for (let j = 0; j < d; j++) xData[r * d + j] += r % 7; // row offsets
  const wData = randn(d, 52);
  const bData = randn(d, 53);
  const dyData = randn(rows * d, 54);
  return {
    name: `LayerNorm pattern [${rows},${d}] eps 1e-6 + gradients (x, weight, bias)`,
    group: 'gradient',
    run: async () => {
      const x = tf.tensor2d(xData, [rows, d]);
      const w = tf.tensor1d(wData);
      const b = tf.tensor1d(bData);
      const dy = tf.tensor2d(dyData, [rows, d]);
      const ln = (xi: tf.Tensor, wi: tf.Tensor, bi: tf.Tensor) => {
        const mean = tf.mean(xi, -1, true);
        const centered = tf.sub(xi, mean);
        const variance = tf.mean(tf.square(centered), -1, true);
        return tf.add(tf.mul(tf.mul(centered, tf.rsqrt(tf.add(variance, eps))), wi), bi);
      };
      const [y, dx, dw, db] = await readAll([...vjp(ln, [x, w, b], dy), x, w, b, dy]);
      const yRef = new Float64Array(rows * d);
      const dxRef = new Float64Array(rows * d);
      const dwRef = new Float64Array(d);
      const dbRef = new Float64Array(d);
      for (let r = 0; r < rows; r++) {
        const o = r * d;
        let mean = 0;
        for (let j = 0; j < d; j++) mean += xData[o + j];
        mean /= d;
        let v = 0;
        for (let j = 0; j < d; j++) v += (xData[o + j] - mean) ** 2;
        v /= d;
        const inv = 1 / Math.sqrt(v + eps);
        let gMean = 0;
        let gxMean = 0;
        for (let j = 0; j < d; j++) {
          const xh = (xData[o + j] - mean) * inv;
          yRef[o + j] = xh * wData[j] + bData[j];
          dwRef[j] += dyData[o + j] * xh;
          dbRef[j] += dyData[o + j];
          const g = dyData[o + j] * wData[j];
          gMean += g / d;
          gxMean += (g * xh) / d;
        }
        for (let j = 0; j < d; j++) {
          const xh = (xData[o + j] - mean) * inv;
          dxRef[o + j] = inv * (dyData[o + j] * wData[j] - gMean - xh * gxMean);
        }
      }
      return [
        { what: 'y', actual: y, expected: yRef },
        { what: 'dx', actual: dx, expected: dxRef },
        { what: 'dweight', actual: dw, expected: dwRef },
        { what: 'dbias', actual: db, expected: dbRef },
      ];
    },
  };
}

function linearCheck(): CheckDef {
  const [m, i, o] = [98, 64, 192];
  const xData = randn(m * i, 61);
  const wData = randn(i * o, 62, 0.2);
  const bData = randn(o, 63);
  const dyData = randn(m * o, 64);
  return {
    name: `linear (@maejs/backend) [${m},${i}]x[${i},${o}]+b + gradients`,
    group: 'gradient',
    run: async () => {
      const x = tf.tensor2d(xData, [m, i]);
      const w = tf.tensor2d(wData, [i, o]);
      const b = tf.tensor1d(bData);
      const dy = tf.tensor2d(dyData, [m, o]);
      const [y, dx, dw, db] = await readAll([...vjp((a, ww, bb) => linear(a as tf.Tensor2D, ww as tf.Tensor2D, bb as tf.Tensor1D), [x, w, b], dy), x, w, b, dy]);
      const yRef = refMatMul(xData, wData, 1, m, i, o, false, false);
      for (let r = 0; r < m; r++) for (let j = 0; j < o; j++) yRef[r * o + j] += bData[j];
      const dbRef = new Float64Array(o);
      for (let r = 0; r < m; r++) for (let j = 0; j < o; j++) dbRef[j] += dyData[r * o + j];
      return [
        { what: 'y', actual: y, expected: yRef },
        { what: 'dx', actual: dx, expected: refMatMul(dyData, wData, 1, m, o, i, false, true) },
        { what: 'dweight', actual: dw, expected: refMatMul(xData, dyData, 1, i, m, o, true, false) },
        { what: 'dbias', actual: db, expected: dbRef },
      ];
    },
  };
}

// [d0, d1, d2, d3] -> [d0, d2, d1, d3]
function permute0213(data: ArrayLike<number>, d0: number, d1: number, d2: number, d3: number): Float64Array {
  const out = new Float64Array(d0 * d1 * d2 * d3);
  for (let a = 0; a < d0; a++) for (let c = 0; c < d1; c++) for (let e = 0; e < d2; e++) for (let f = 0; f < d3; f++) out[((a * d2 + e) * d1 + c) * d3 + f] = data[((a * d1 + c) * d2 + e) * d3 + f];
  return out;
}

const [TB, TT, TH, THD] = [2, 50, 4, 16];

function transposeCheck(): CheckDef {
  const xData = randn(TB * TT * TH * THD, 71);
  const dyData = randn(TB * TT * TH * THD, 72);
  return {
    name: `transpose [${TB},${TT},${TH},${THD}] perm [0,2,1,3] (attention heads) + gradient`,
    group: 'gradient',
    run: async () => {
      const x = tf.tensor4d(xData, [TB, TT, TH, THD]);
      const dy = tf.tensor4d(dyData, [TB, TH, TT, THD]);
      const [y, dx] = await readAll([...vjp((a) => tf.transpose(a, [0, 2, 1, 3]), [x], dy), x, dy]);
      return [
        { what: 'y', actual: y, expected: permute0213(xData, TB, TT, TH, THD), exact: true },
        { what: 'dx', actual: dx, expected: permute0213(dyData, TB, TH, TT, THD), exact: true },
      ];
    },
  };
}

/** Rows of `values` [rows, cols] sorted stably: out[r * cols + i] = index of the i-th smallest (ties by index). */
function stableOrder(values: ArrayLike<number>, rows: number, cols: number): Int32Array {
  const out = new Int32Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const order = Array.from({ length: cols }, (_, i) => i).sort((a, b) => values[r * cols + a] - values[r * cols + b] || a - b);
    out.set(order, r * cols);
  }
  return out;
}

/**
 * The integer kernels of maejs's index arithmetic (masking ids, token gathers), each in its own
 * pair so a failure names it: comparisons of float32 and of int32 values, logical and/or, casts
 * bool -> int32 and int32 -> float32, int32 sums over the last axis, int32 add and mul, gathers
 * with int32 indices, an int32 slice. Run last: see {@link CheckDef.last}.
 *
 * tfjs-backend-webgpu runs a kernel on the CPU when all its inputs are still in CPU memory and
 * have fewer than 1000 elements (WEBGPU_CPU_HANDOFF_SIZE_THRESHOLD), so the integer and
 * masking checks use inputs above that size: they test the GPU's shaders.
 */
function int32Check(): CheckDef {
  const [n, l, d, keep] = [32, 49, 32, 12]; // [N, L] and [L, D] inputs of more than 1000 elements
  const r = prng(141);
  const values = Float32Array.from({ length: n * l }, () => Math.floor(r() * 8) / 8); // ties on purpose
  const ints = Int32Array.from({ length: n * l }, (_, i) => ((i * 7919) % 1000) - 500);
  const rows = randn(l * d, 142);
  const ids = permutations(1, l, 143);
  return {
    name: 'int32 kernels: less/equal, logicalAnd/Or, cast bool->int32->float32, sum, add, mul, gather, slice (index arithmetic)',
    group: 'op',
    last: true,
    run: async () => {
      const v = tf.tensor2d(values, [n, l]);
      const x = tf.tensor2d(ints, [n, l], 'int32');
      const table = tf.tensor2d(rows, [l, d]);
      const idsT = tf.tensor1d(ids, 'int32');
      const outs = tf.tidy(() => {
        const vi = tf.reshape(v, [n, l, 1]); // [N, L(i), 1]
        const vj = tf.reshape(v, [n, 1, l]); // [N, 1, L(j)]
        const index = tf.range(0, l, 1, 'int32'); // [L]
        const jBeforeI = tf.less(tf.reshape(index, [1, 1, l]), tf.reshape(index, [1, l, 1])); // int32 compare, [1, L, L]
        const smaller = tf.less(vj, vi); // [N, L, L]
        const same = tf.equal(vj, vi); // [N, L, L]
        return [
          tf.sum(tf.cast(smaller, 'int32'), 2), // [N, L]
          tf.sum(tf.cast(tf.logicalOr(smaller, tf.logicalAnd(same, jBeforeI)), 'int32'), 2), // [N, L]
          tf.sum(tf.mul(tf.cast(same, 'int32'), tf.reshape(index, [1, 1, l])), 2), // [N, L]
          tf.add(tf.mul(x, tf.scalar(3, 'int32')), tf.scalar(49, 'int32')), // [N, L]
          tf.cast(x, 'float32'), // [N, L]
          tf.gather(table, idsT, 0), // [L, D]
          tf.gather(tf.reshape(x, [n * l]), idsT, 0), // [L]
          tf.slice(x, [0, 0], [n, keep]), // [N, keep]
        ];
      });
      const [less, rank, weighted, affine, asFloat, gathered, gatheredInt, sliced] = await readAll([...outs, v, x, table, idsT]);
      const refLess = new Float64Array(n * l);
      const refWeighted = new Float64Array(n * l);
      const refRank = new Float64Array(n * l);
      for (let s = 0; s < n; s++) {
        for (let i = 0; i < l; i++) {
          for (let j = 0; j < l; j++) {
            const [a, b] = [values[s * l + j], values[s * l + i]];
            refLess[s * l + i] += a < b ? 1 : 0;
            refWeighted[s * l + i] += a === b ? j : 0;
          }
        }
      }
      stableOrder(values, n, l).forEach((id, k) => (refRank[Math.floor(k / l) * l + id] = k % l));
      return [
        { what: 'less(float32) -> cast int32 -> sum', actual: less, expected: refLess, exact: true },
        { what: 'stable ranks: less, equal (float32, int32), logicalAnd/Or -> cast int32 -> sum', actual: rank, expected: refRank, exact: true },
        { what: 'equal -> cast int32, mul by int32 range -> sum', actual: weighted, expected: refWeighted, exact: true },
        { what: 'int32 3x + 49', actual: affine, expected: Array.from(ints, (w) => 3 * w + 49), exact: true },
        { what: 'cast int32 -> float32', actual: asFloat, expected: ints, exact: true },
        { what: 'gather float32 rows by int32 ids', actual: gathered, expected: Array.from({ length: l * d }, (_, k) => rows[ids[Math.floor(k / d)] * d + (k % d)]), exact: true },
        { what: 'gather int32 values by int32 ids', actual: gatheredInt, expected: Array.from(ids, (id) => ints[id]), exact: true },
        { what: 'slice int32 [:, :12]', actual: sliced, expected: Array.from({ length: n * keep }, (_, k) => ints[Math.floor(k / keep) * l + (k % keep)]), exact: true },
      ];
    },
  };
}

function permuteTokensCheck(): CheckDef {
  const [n, l, d] = [16, 49, 64];
  const xData = randn(n * l * d, 81);
  const dyData = randn(n * l * d, 82);
  const ids = permutations(n, l, 83);
  return {
    name: `permuteTokens (gather) [${n},${l},${d}] + gradient`,
    group: 'gradient',
    run: async () => {
      const x = tf.tensor3d(xData, [n, l, d]);
      const idsT = tf.tensor2d(ids, [n, l], 'int32');
      const dy = tf.tensor3d(dyData, [n, l, d]);
      const [y, dx] = await readAll([...vjp((a) => permuteTokens(a as tf.Tensor3D, idsT), [x], dy), x, idsT, dy]);
      const yRef = new Float64Array(n * l * d);
      const dxRef = new Float64Array(n * l * d);
      for (let s = 0; s < n; s++) {
        for (let i = 0; i < l; i++) {
          const src = ids[s * l + i];
          for (let j = 0; j < d; j++) {
            yRef[(s * l + i) * d + j] = xData[(s * l + src) * d + j];
            dxRef[(s * l + src) * d + j] += dyData[(s * l + i) * d + j];
          }
        }
      }
      return [
        { what: 'y', actual: y, expected: yRef, exact: true },
        { what: 'dx', actual: dx, expected: dxRef, exact: true },
      ];
    },
  };
}

function maskingIdsCheck(): CheckDef {
  const [n, l] = [32, 49]; // N * L > 1000: on the GPU in webgpu (see int32Check)
  const r = prng(92);
  const noise = Float32Array.from({ length: n * l }, () => Math.floor(r() * 16) / 16); // ties: index order decides
  return {
    name: `masking ids [${n},${l}] with ties: stableRanks (ids_restore), inversePermutation, argsort (ids_shuffle)`,
    group: 'op',
    run: async () => {
      const noiseT = tf.tensor2d(noise, [n, l]);
      const ranks = stableRanks(noiseT);
      const shuffle = inversePermutation(ranks);
      const order = argsort(noiseT);
      const [ranksV, shuffleV, orderV] = await readAll([ranks, shuffle, order, noiseT]);
      const refOrder = stableOrder(noise, n, l);
      const refRanks = new Int32Array(n * l);
      refOrder.forEach((id, k) => (refRanks[Math.floor(k / l) * l + id] = k % l));
      return [
        { what: 'stableRanks', actual: ranksV, expected: refRanks, exact: true },
        { what: 'inversePermutation(stableRanks)', actual: shuffleV, expected: refOrder, exact: true },
        { what: 'argsort', actual: orderV, expected: refOrder, exact: true },
      ];
    },
  };
}

function topkCheck(): CheckDef {
  const [n, l, k] = [32, 49, 12]; // N * L > 1000: on the GPU in webgpu (see int32Check)
  const r = prng(91);
  const sim = Float32Array.from({ length: n * l }, () => r());
  return {
    name: `topk [${n},${l}] k ${k} values and indices (kNN evaluation)`,
    group: 'op',
    run: async () => {
      const simT = tf.tensor2d(sim, [n, l]);
      const top = tf.topk(simT, k);
      const [values, indices] = await readAll([top.values, top.indices, simT]);
      const refV = new Float64Array(n * k);
      const refI = new Float64Array(n * k);
      const negated = Float64Array.from(sim, (x) => -x);
      stableOrder(negated, n, l).forEach((id, j) => {
        const [row, place] = [Math.floor(j / l), j % l];
        if (place >= k) return;
        refI[row * k + place] = id;
        refV[row * k + place] = sim[row * l + id];
      });
      return [
        { what: 'topk values', actual: values, expected: refV, exact: true },
        { what: 'topk indices', actual: indices, expected: refI, exact: true },
      ];
    },
  };
}

function expandToCheck(): CheckDef {
  const [n, l, d] = [8, 37, 32];
  const tokData = randn(d, 101);
  const dyData = randn(n * l * d, 102);
  return {
    name: `expandTo (@maejs/backend) [1,1,${d}] -> [${n},${l},${d}] + gradient`,
    group: 'gradient',
    run: async () => {
      const tok = tf.tensor3d(tokData, [1, 1, d]);
      const dy = tf.tensor3d(dyData, [n, l, d]);
      const [y, dx] = await readAll([...vjp((a) => expandTo(a, [n, l, d]), [tok], dy), tok, dy]);
      const yRef = new Float64Array(n * l * d);
      const dxRef = new Float64Array(d);
      for (let i = 0; i < n * l; i++) {
        for (let j = 0; j < d; j++) {
          yRef[i * d + j] = tokData[j];
          dxRef[j] += dyData[i * d + j];
        }
      }
      return [
        { what: 'y', actual: y, expected: yRef, exact: true },
        { what: 'dx', actual: dx, expected: dxRef },
      ];
    },
  };
}

function concatSliceCheck(): CheckDef {
  const [n, d] = [8, 32];
  const [la, lb] = [1, 12];
  const aData = randn(n * la * d, 111);
  const bData = randn(n * lb * d, 112);
  const dyData = randn(n * (la + lb - 1) * d, 113);
  return {
    name: `concat [${n},${la},${d}]+[${n},${lb},${d}] axis 1, slice [:, 1:] + gradients`,
    group: 'gradient',
    run: async () => {
      const a = tf.tensor3d(aData, [n, la, d]);
      const b = tf.tensor3d(bData, [n, lb, d]);
      const dy = tf.tensor3d(dyData, [n, la + lb - 1, d]);
      // cat([cls, tokens]) then drop the first row but keep the cls contribution: y = slice(cat, 1) + slice(cat, 0, L) (touches both inputs).
      const f = (x: tf.Tensor, z: tf.Tensor) => {
        const cat = tf.concat([x, z], 1);
        return tf.add(tf.slice(cat, [0, 1, 0], [n, la + lb - 1, d]), tf.slice(cat, [0, 0, 0], [n, la + lb - 1, d]));
      };
      const [y, da, db] = await readAll([...vjp(f, [a, b], dy), a, b, dy]);
      const l = la + lb;
      const cat = new Float64Array(n * l * d);
      for (let s = 0; s < n; s++) {
        for (let i = 0; i < l; i++) for (let j = 0; j < d; j++) cat[(s * l + i) * d + j] = i < la ? aData[(s * la + i) * d + j] : bData[(s * lb + i - la) * d + j];
      }
      const yRef = new Float64Array(n * (l - 1) * d);
      const dcat = new Float64Array(n * l * d);
      for (let s = 0; s < n; s++) {
        for (let i = 0; i < l - 1; i++) {
          for (let j = 0; j < d; j++) {
            yRef[(s * (l - 1) + i) * d + j] = cat[(s * l + i + 1) * d + j] + cat[(s * l + i) * d + j];
            const g = dyData[(s * (l - 1) + i) * d + j];
            dcat[(s * l + i + 1) * d + j] += g;
            dcat[(s * l + i) * d + j] += g;
          }
        }
      }
      const daRef = new Float64Array(n * la * d);
      const dbRef = new Float64Array(n * lb * d);
      for (let s = 0; s < n; s++) {
        for (let i = 0; i < l; i++) for (let j = 0; j < d; j++) (i < la ? daRef : dbRef)[(s * (i < la ? la : lb) + (i < la ? i : i - la)) * d + j] = dcat[(s * l + i) * d + j];
      }
      return [
        { what: 'y', actual: y, expected: yRef },
        { what: 'da', actual: da, expected: daRef },
        { what: 'db', actual: db, expected: dbRef },
      ];
    },
  };
}

function clipCheck(): CheckDef {
  const size = 3 * 49;
  const xData = Float32Array.from(randn(size, 121, 2), (v) => (Math.abs(v - Math.round(v)) < 1e-3 ? v + 0.01 : v)); // keep off the clip edges
  const dyData = randn(size, 122);
  return {
    name: `clipByValue [${size}] to [0, 1] (mask from places) + gradient`,
    group: 'gradient',
    run: async () => {
      const x = tf.tensor1d(xData);
      const dy = tf.tensor1d(dyData);
      const [y, dx] = await readAll([...vjp((a) => tf.clipByValue(a, 0, 1), [x], dy), x, dy]);
      return [
        { what: 'y', actual: y, expected: Float64Array.from(xData, (v) => Math.min(1, Math.max(0, v))), exact: true },
        { what: 'dx', actual: dx, expected: Float64Array.from(xData, (v, i) => (v > 0 && v < 1 ? dyData[i] : 0)), exact: true },
      ];
    },
  };
}

function maskedMseCheck(): CheckDef {
  const [n, l, p] = [4, 49, 16];
  const predData = randn(n * l * p, 131);
  const targetData = randn(n * l * p, 132);
  const maskData = Float32Array.from(permutations(n, l, 133), (v) => (v < 12 ? 0 : 1));
  return {
    name: `masked MSE pattern (squaredDifference, mean, sum, div) [${n},${l},${p}] + gradient`,
    group: 'gradient',
    run: async () => {
      const pred = tf.tensor3d(predData, [n, l, p]);
      const target = tf.tensor3d(targetData, [n, l, p]);
      const mask = tf.tensor2d(maskData, [n, l]);
      const f = (x: tf.Tensor) => tf.div(tf.sum(tf.mul(tf.mean(tf.square(tf.sub(x, target)), -1), mask)), tf.sum(mask));
      const one = tf.scalar(1);
      const [y, dx] = await readAll([...vjp(f, [pred], one), pred, target, mask, one]);
      let num = 0;
      let den = 0;
      const dxRef = new Float64Array(n * l * p);
      for (let i = 0; i < n * l; i++) den += maskData[i];
      for (let i = 0; i < n * l; i++) {
        let e = 0;
        for (let j = 0; j < p; j++) {
          const diff = predData[i * p + j] - targetData[i * p + j];
          e += diff * diff;
          dxRef[i * p + j] = (maskData[i] * 2 * diff) / p / den;
        }
        num += (e / p) * maskData[i];
      }
      return [
        { what: 'loss', actual: y, expected: [num / den] },
        { what: 'dpred', actual: dx, expected: dxRef },
      ];
    },
  };
}

/** First values of tf.randomUniform / tf.randomNormal([4], ..., 'float32', tfSeed(42) = 43): tfjs 4.x draws them in JavaScript (seedrandom), so every backend must give these exactly. */
const UNIFORM_SEED42 = [0.29862508177757263, 0.2202664017677307, 0.5210622549057007, 0.869679868221283];
const NORMAL_SEED42 = [-0.7126767039299011, -0.9899923205375671, 0.06234762445092201, 1.0943098068237305];

function randomChecks(): CheckDef[] {
  const size = 4096;
  const make = (kind: 'uniform' | 'normal', seed: number) => (kind === 'uniform' ? tf.randomUniform([size], 0, 1, 'float32', seed) : tf.randomNormal([size], 0, 1, 'float32', seed));
  return (['uniform', 'normal'] as const).map((kind) => ({
    name: `random${kind === 'uniform' ? 'Uniform' : 'Normal'} [${size}]: same seed same values, other seed other values, moments`,
    group: 'random' as const,
    run: async () => {
      const [a, b, c] = await readAll([make(kind, tfSeed(41)), make(kind, tfSeed(41)), make(kind, tfSeed(42))]);
      let same = 0;
      let mean = 0;
      let sq = 0;
      let lo = Infinity;
      let hi = -Infinity;
      for (let i = 0; i < size; i++) {
        if (a[i] === c[i]) same++;
        mean += a[i] / size;
        sq += (a[i] * a[i]) / size;
        lo = Math.min(lo, a[i]);
        hi = Math.max(hi, a[i]);
      }
      const std = Math.sqrt(sq - mean * mean);
      const [wantMean, wantStd] = kind === 'uniform' ? [0.5, Math.sqrt(1 / 12)] : [0, 1];
      const inRange = kind === 'uniform' ? lo >= 0 && hi < 1 : true;
      const loose: Tolerance = { atol: 0.05, rtol: 0 };
      return [
        { what: 'repeat with the same seed', actual: b, expected: a, exact: true },
        { what: 'another seed differs (values equal to seed 41)', actual: [same], expected: [0], exact: true, notInErrors: true },
        { what: 'first values for seed 42', actual: Array.from(c.subarray(0, 4)), expected: kind === 'uniform' ? UNIFORM_SEED42 : NORMAL_SEED42, exact: true },
        { what: `mean and std`, actual: [mean, std], expected: [wantMean, wantStd], tolerance: loose, notInErrors: true },
        { what: 'values in [0, 1)', actual: [inRange ? 1 : 0], expected: [1], exact: true, notInErrors: true },
      ];
    },
  }));
}

/** Every op/gradient/random check, in run order. */
function allChecks(): CheckDef[] {
  return [
    ...matMulChecks(),
    softmaxCheck(),
    geluCheck(),
    layerNormCheck(),
    linearCheck(),
    transposeCheck(),
    permuteTokensCheck(),
    maskingIdsCheck(),
    topkCheck(),
    expandToCheck(),
    concatSliceCheck(),
    clipCheck(),
    maskedMseCheck(),
    ...randomChecks(),
    int32Check(),
  ];
}

/** Names of the built-in checks, in run order (the model-level check runs before the `int32` one). */
export function conformanceCheckNames(): string[] {
  const all = allChecks();
  return [...all.filter((c) => !c.last), ...all.filter((c) => c.last)].map((c) => c.name);
}

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * Runs the conformance checks on the active tfjs backend (start one first, e.g. with
 * `initBackend`) and returns the report. Never throws for a failing check: failures, thrown
 * errors (a missing kernel, a shader that does not compile) and non-finite values become
 * failed rows.
 */
export async function runConformance(options: ConformanceOptions = {}): Promise<ConformanceReport> {
  registerTfjsGradients();
  await tf.ready();
  const backend = tf.getBackend();
  if (!backend) throw new Error('runConformance: no tfjs backend is active; call initBackend(name) first');
  const tolerance = { ...defaultTolerance(backend), ...options.tolerance };
  const started = now();
  const before = tf.memory().numTensors;
  const checks: CheckResult[] = [];
  const push = (r: CheckResult) => {
    checks.push(r);
    options.onCheck?.(r);
  };
  const selected = allChecks().filter((c) => !options.only || options.only.some((s) => c.name.includes(s)));
  const runChecks = async (defs: CheckDef[]) => {
    for (const check of defs) {
      const t0 = now();
      try {
        const pairs = await check.run();
        push(judge(check.name, check.group, pairs, tolerance, now() - t0));
      } catch (error) {
        push({ name: check.name, group: check.group, status: 'fail', maxAbsError: NaN, maxRelError: NaN, tolerance, error: `threw: ${(error as Error)?.message ?? String(error)}`, ms: now() - t0 });
      }
      await new Promise((resolve) => setTimeout(resolve, 0)); // let a page repaint between checks
    }
  };
  await runChecks(selected.filter((c) => !c.last));
  if (options.golden) {
    const t0 = now();
    try {
      const comparisons = await options.golden({ backend, tolerance });
      const ms = (now() - t0) / Math.max(1, comparisons.length);
      for (const c of comparisons) {
        const tol = { ...tolerance, ...c.tolerance };
        push(judge(`model: ${c.name}`, 'model', [{ what: c.name, actual: c.actual, expected: c.expected, exact: c.exact, tolerance: tol }], tol, ms));
      }
    } catch (error) {
      push({ name: 'model: golden check', group: 'model', status: 'fail', maxAbsError: NaN, maxRelError: NaN, tolerance, error: `threw: ${(error as Error)?.message ?? String(error)}`, ms: now() - t0 });
    }
  }
  await runChecks(selected.filter((c) => c.last));
  const counts = { pass: 0, fail: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  return {
    backend,
    environment: detectEnvironment(),
    tfjsVersion: tf.version_core,
    tolerance,
    passed: counts.fail === 0,
    counts,
    checks,
    leakedTensors: tf.memory().numTensors - before,
    seconds: (now() - started) / 1000,
  };
}

/** The report as plain text: a header and one line per check. */
export function formatReport(report: ConformanceReport): string {
  const e = (v: number) => (Number.isNaN(v) ? '   -    ' : v.toExponential(2).padStart(8));
  const lines = [
    `backend ${report.backend} (${report.environment}, tfjs ${report.tfjsVersion}): ${report.passed ? 'PASS' : 'FAIL'} — ${report.counts.pass} passed, ${report.counts.fail} failed, ${report.counts.skip} skipped in ${report.seconds.toFixed(1)} s; tolerance atol ${report.tolerance.atol} x max|ref|, rtol ${report.tolerance.rtol}; leaked tensors ${report.leakedTensors}`,
    `  status  max abs   max rel   check`,
  ];
  for (const c of report.checks) {
    lines.push(`  ${c.status.padEnd(6)} ${e(c.maxAbsError)}  ${e(c.maxRelError)}  ${c.name}${c.error ? `\n           -> ${c.error}` : ''}`);
  }
  return lines.join('\n');
}
