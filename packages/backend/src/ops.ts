import * as tf from '@tensorflow/tfjs-core';
import { runMaejsKernel, type MaejsKernel } from './kernel-registry.js';
import { PERMUTATION_KERNELS } from './permutation-kernels.js';

/** Op-level `MaejsStableRanks`: N·L² comparisons and a sum over the last axis. */
function stableRanksOps(inputs: tf.NamedTensorMap): tf.Tensor {
  const v = inputs.x as tf.Tensor2D;
  const [n, l] = v.shape;
  const vi = tf.reshape(v, [n, l, 1]); // [N, L(i), 1]
  const vj = tf.reshape(v, [n, 1, l]); // [N, 1, L(j)]
  const index = tf.range(0, l, 1, 'int32');
  const jBeforeI = tf.less(tf.reshape(index, [1, 1, l]), tf.reshape(index, [1, l, 1])); // [1, L(i), L(j)]
  const before = tf.logicalOr(tf.less(vj, vi), tf.logicalAnd(tf.equal(vj, vi), jBeforeI)); // [N, L(i), L(j)]
  return tf.sum(tf.cast(before, 'int32'), 2); // [N, L]
}

/** Op-level `MaejsInversePermutation`: out[n, r] = sum_i i * (perm[n, i] == r), N·L² compares. */
function inversePermutationOps(inputs: tf.NamedTensorMap): tf.Tensor {
  const perm = inputs.x as tf.Tensor2D;
  const [n, l] = perm.shape;
  const index = tf.range(0, l, 1, 'int32');
  const hit = tf.equal(tf.reshape(perm, [n, 1, l]), tf.reshape(index, [1, l, 1])); // [N, L(r), L(i)]: perm[n, i] == r
  return tf.sum(tf.mul(tf.cast(hit, 'int32'), tf.reshape(index, [1, 1, l])), 2); // [N, L(r)]
}

const STABLE_RANKS: MaejsKernel = { name: PERMUTATION_KERNELS.ranks, opLevel: stableRanksOps };
const INVERSE_PERMUTATION: MaejsKernel = { name: PERMUTATION_KERNELS.inverse, opLevel: inversePermutationOps };

/**
 * Rank of every element in its row under a stable ascending sort: v [N, L] -> int32 [N, L],
 * out[n, i] = #{j : v[n, j] < v[n, i] or (v[n, j] == v[n, i] and j < i)}.
 *
 * This is argsort(argsort(v)) with ties broken by index (the official ids_restore of masking
 * noise). The maejs kernel `MaejsStableRanks`: its op-level kernel runs on the device as N·L²
 * comparisons and a sum over the last axis, with no sort, TopK or transpose kernel:
 * tfjs-backend-webgl runs TopK on the CPU after a synchronous read-back, and
 * tfjs-backend-webgpu's int32 transpose does not compile. For L <= 196 (ViT patch grids) the
 * [N, L, L] comparison is small next to one attention layer. v must hold no NaN (a NaN compares
 * false with everything, so the ranks would not be a permutation). On cpu and wasm a backend
 * kernel sorts each row instead (see permutation-kernels.ts); same integers.
 */
export function stableRanks(v: tf.Tensor2D): tf.Tensor2D {
  if (v.rank !== 2) throw new Error(`stableRanks: v must be [N, L], got shape [${v.shape}]`);
  return runMaejsKernel(STABLE_RANKS, { x: v }) as tf.Tensor2D;
}

/**
 * Inverse of a batch of permutations: perm int32 [N, L], each row a permutation of 0..L-1 ->
 * int32 [N, L] with out[n, perm[n, i]] = i. The maejs kernel `MaejsInversePermutation`: on the
 * device a reduction over the last axis (N·L² compares); on cpu and wasm a backend kernel that
 * also refuses a row that is not a permutation.
 */
export function inversePermutation(perm: tf.Tensor2D): tf.Tensor2D {
  if (perm.rank !== 2) throw new Error(`inversePermutation: perm must be [N, L], got shape [${perm.shape}]`);
  if (perm.dtype !== 'int32') throw new Error(`inversePermutation: perm must be int32, got ${perm.dtype}`);
  return runMaejsKernel(INVERSE_PERMUTATION, { x: perm }) as tf.Tensor2D;
}

/**
 * Stable ascending argsort along the last axis: v [N, L] -> int32 [N, L], v[n, out[n, 0]] is
 * the smallest and equal values keep their index order. On the device, from
 * {@link stableRanks} and {@link inversePermutation}; no gradient flows through it.
 */
export function argsort(v: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => inversePermutation(stableRanks(v)));
}

// x: [N, L, D], ids: int32 [N, L] -> [N, L, D] with out[n, i] = x[n, ids[n, i]].
// A gather on the flattened [N*L, D] with offset indices: batched gather (batchDims 1) is
// wrong on wasm (tfjs issue 8658) and slow elsewhere.
function gatherRows(x: tf.Tensor3D, ids: tf.Tensor2D): tf.Tensor3D {
  const [n, l, d] = x.shape;
  const offsets = tf.reshape(tf.mul(tf.range(0, n, 1, 'int32'), tf.scalar(l, 'int32')), [n, 1]); // [N, 1]
  const flatIds = tf.reshape(tf.add(ids, offsets), [-1]); // [N*L]
  return tf.reshape(tf.gather(tf.reshape(x, [n * l, d]), flatIds, 0), [n, ids.shape[1], d]);
}

const PERMUTE_TOKENS: MaejsKernel = { name: 'MaejsPermuteTokens', opLevel: ({ x, ids }) => gatherRows(x as tf.Tensor3D, ids as tf.Tensor2D) };

/** Gradient of `MaejsPermuteTokens`: the inverse permutation applied to dy (ids get none). */
export const PERMUTE_TOKENS_GRADIENT: tf.GradConfig = {
  kernelName: PERMUTE_TOKENS.name,
  inputsToSave: ['ids'],
  gradFunc: (dy, [ids]) => ({
    x: () => gatherRows(dy as tf.Tensor3D, inversePermutation(ids as tf.Tensor2D)),
    ids: () => tf.zerosLike(ids),
  }),
};

/**
 * Reorders the tokens of every sample by a permutation: out[n, i] = x[n, ids[n, i]].
 *
 * x: [N, L, D], ids: int32 [N, L], each row a permutation of 0..L-1 -> [N, L, D].
 *
 * The maejs kernel `MaejsPermuteTokens` (tfjs ops on every backend). Its registered gradient is
 * the inverse permutation applied to dy, so it needs no scatter kernel (wasm has no
 * UnsortedSegmentSum, the kernel tf.gather's gradient uses). This is how MAE shuffles tokens
 * before masking and restores them in the decoder.
 */
export function permuteTokens(x: tf.Tensor3D, ids: tf.Tensor2D): tf.Tensor3D {
  if (x.rank !== 3) throw new Error(`permuteTokens: x must be [N, L, D], got shape [${x.shape}]`);
  if (ids.rank !== 2 || ids.shape[0] !== x.shape[0] || ids.shape[1] !== x.shape[1]) {
    throw new Error(`permuteTokens: ids must be [N, L] = [${x.shape[0]}, ${x.shape[1]}], got [${ids.shape}]`);
  }
  if (ids.dtype !== 'int32') throw new Error(`permuteTokens: ids must be int32, got ${ids.dtype}`);
  return runMaejsKernel(PERMUTE_TOKENS, { x, ids }) as tf.Tensor3D;
}

const LINEAR: MaejsKernel = { name: 'MaejsLinear', opLevel: ({ x, weight, bias }) => tf.add(tf.matMul(x as tf.Tensor2D, weight as tf.Tensor2D), bias) };

/**
 * Gradient of `MaejsLinear`: dx = dy @ weight^T, dW = x^T @ dy (matMuls with a transposed
 * operand, no transpose kernels), db = sum(dy). tfjs computes only the ones it needs: no dx for
 * the images' patch embedding.
 */
export const LINEAR_GRADIENT: tf.GradConfig = {
  kernelName: LINEAR.name,
  inputsToSave: ['x', 'weight'],
  gradFunc: (dy, [x, weight]) => ({
    x: () => tf.matMul(dy as tf.Tensor2D, weight as tf.Tensor2D, false, true),
    weight: () => tf.matMul(x as tf.Tensor2D, dy as tf.Tensor2D, true, false),
    bias: () => sumRows(dy as tf.Tensor2D),
  }),
};

/**
 * Fully connected layer on rows: x [M, in] @ weight [in, out] + bias [out] -> [M, out].
 *
 * Same value as tf.add(tf.matMul(x, weight), bias): the maejs kernel `MaejsLinear` (tfjs ops on
 * every backend) with the gradient above. On wasm a transposed operand is fast only with maejs's
 * BatchMatMul kernel (installed by `initBackend('wasm')`; tfjs's own runs it 5-7x slower than a
 * plain one).
 */
export function linear(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  if (x.rank !== 2 || weight.rank !== 2 || bias.rank !== 1 || x.shape[1] !== weight.shape[0] || weight.shape[1] !== bias.shape[0]) {
    throw new Error(`linear: expected x [M, in], weight [in, out], bias [out], got [${x.shape}], [${weight.shape}], [${bias.shape}]`);
  }
  return runMaejsKernel(LINEAR, { x, weight, bias }) as tf.Tensor2D;
}

/**
 * Column sums of a matrix: x [M, N] -> [N], as tf.sum(x, 0), computed as ones[1, M] @ x. A
 * reduction over the first axis makes tfjs-backend-wasm transpose x first (~0.8 ms for
 * [1664, 128]); the product runs in the matMul kernel in a few microseconds. Used for bias and
 * LayerNorm parameter gradients.
 */
export function sumRows(x: tf.Tensor2D): tf.Tensor1D {
  if (x.rank !== 2) throw new Error(`sumRows: expected x [M, N], got [${x.shape}]`);
  return tf.tidy(() => tf.reshape(tf.matMul(tf.ones([1, x.shape[0]]), x), [x.shape[1]]));
}

/**
 * Broadcasts x to `shape` (as tf.broadcastTo), with a gradient that is a plain sum over the
 * broadcast axes. tf.broadcastTo runs the Tile kernel, whose gradient is one slice per copy:
 * thousands of kernel calls for a mask token repeated over a batch.
 */
export function expandTo(x: tf.Tensor, shape: number[]): tf.Tensor {
  return tf.add(tf.zeros(shape, x.dtype), x);
}

/**
 * The seed to pass to tfjs random ops for a user seed. tfjs treats a seed of 0 as "no seed"
 * (`seed ? seed : Math.random()` in its Gaussian sampler), so seed 0 would not be
 * reproducible; every seed is shifted away from 0 here.
 */
export function tfSeed(seed: number): number {
  if (!Number.isFinite(seed)) throw new Error(`seed must be a finite number, got ${seed}`);
  return seed >= 0 ? seed + 1 : seed;
}
