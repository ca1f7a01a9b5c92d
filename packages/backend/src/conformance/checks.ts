/**
 * The built-in checks of the conformance kit: each runs ops and gradients on the active tfjs
 * backend and returns their values beside float64 references (see ./reference.ts).
 */
import * as tf from '@tensorflow/tfjs-core';
import { argsort, expandTo, inversePermutation, linear, permuteTokens, stableRanks, tfSeed } from '../ops.js';
import { Rng } from '@maejs/random';
import type { Pair } from './compare.js';
import { gelu64, geluGrad64, permutations, permute0213, randn, refMatMul, stableOrder } from './reference.js';
import type { CheckGroup, Tolerance } from './types.js';

export interface CheckDef {
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
  const rng = new Rng(141);
  const values = Float32Array.from({ length: n * l }, () => rng.int(0, 8) / 8); // ties on purpose
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
  const rng = new Rng(92);
  const noise = Float32Array.from({ length: n * l }, () => rng.int(0, 16) / 16); // ties: index order decides
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
  const sim = new Rng(91).fillUniform(new Float32Array(n * l), 0, 1);
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
export function allChecks(): CheckDef[] {
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
