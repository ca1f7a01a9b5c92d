import * as tf from '@tensorflow/tfjs-core';
import { PERMUTATION_KERNELS } from './permutation-kernels.js';

/**
 * Rank of every element in its row under a stable ascending sort: v [N, L] -> int32 [N, L],
 * out[n, i] = #{j : v[n, j] < v[n, i] or (v[n, j] == v[n, i] and j < i)}.
 *
 * This is argsort(argsort(v)) with ties broken by index (the official ids_restore of masking
 * noise). It runs on the device as N·L² comparisons and a sum over the last axis, with no
 * sort, TopK or transpose kernel: tfjs-backend-webgl runs TopK on the CPU after a synchronous
 * read-back, and tfjs-backend-webgpu's int32 transpose does not compile. For L <= 196 (ViT
 * patch grids) the [N, L, L] comparison is small next to one attention layer. v must hold no
 * NaN (a NaN compares false with everything, so the ranks would not be a permutation). On cpu
 * and wasm a kernel sorts each row instead (see permutation-kernels.ts); same integers.
 */
export function stableRanks(v: tf.Tensor2D): tf.Tensor2D {
  if (v.rank !== 2) throw new Error(`stableRanks: v must be [N, L], got shape [${v.shape}]`);
  const [n, l] = v.shape;
  if (tf.getKernel(PERMUTATION_KERNELS.ranks, tf.getBackend())) return tf.engine().runKernel(PERMUTATION_KERNELS.ranks, { x: v }) as tf.Tensor2D;
  return tf.tidy(() => {
    const vi = tf.reshape(v, [n, l, 1]); // [N, L(i), 1]
    const vj = tf.reshape(v, [n, 1, l]); // [N, 1, L(j)]
    const index = tf.range(0, l, 1, 'int32');
    const jBeforeI = tf.less(tf.reshape(index, [1, 1, l]), tf.reshape(index, [1, l, 1])); // [1, L(i), L(j)]
    const before = tf.logicalOr(tf.less(vj, vi), tf.logicalAnd(tf.equal(vj, vi), jBeforeI)); // [N, L(i), L(j)]
    return tf.sum(tf.cast(before, 'int32'), 2) as tf.Tensor2D; // [N, L]
  });
}

/**
 * Inverse of a batch of permutations: perm int32 [N, L], each row a permutation of 0..L-1 ->
 * int32 [N, L] with out[n, perm[n, i]] = i. Computed on the device as
 * out[n, r] = sum_i i * (perm[n, i] == r), a reduction over the last axis (N·L² compares);
 * on cpu and wasm by a kernel that also refuses a row that is not a permutation.
 */
export function inversePermutation(perm: tf.Tensor2D): tf.Tensor2D {
  if (perm.rank !== 2) throw new Error(`inversePermutation: perm must be [N, L], got shape [${perm.shape}]`);
  if (perm.dtype !== 'int32') throw new Error(`inversePermutation: perm must be int32, got ${perm.dtype}`);
  const [n, l] = perm.shape;
  if (tf.getKernel(PERMUTATION_KERNELS.inverse, tf.getBackend())) return tf.engine().runKernel(PERMUTATION_KERNELS.inverse, { x: perm }) as tf.Tensor2D;
  return tf.tidy(() => {
    const index = tf.range(0, l, 1, 'int32');
    const hit = tf.equal(tf.reshape(perm, [n, 1, l]), tf.reshape(index, [1, l, 1])); // [N, L(r), L(i)]: perm[n, i] == r
    return tf.sum(tf.mul(tf.cast(hit, 'int32'), tf.reshape(index, [1, 1, l])), 2) as tf.Tensor2D; // [N, L(r)]
  });
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

/**
 * Reorders the tokens of every sample by a permutation: out[n, i] = x[n, ids[n, i]].
 *
 * x: [N, L, D], ids: int32 [N, L], each row a permutation of 0..L-1 -> [N, L, D].
 *
 * Its gradient is the inverse permutation applied to dy, so it needs no scatter kernel
 * (wasm has no UnsortedSegmentSum, the kernel tf.gather's gradient uses). This is how MAE
 * shuffles tokens before masking and restores them in the decoder.
 */
export function permuteTokens(x: tf.Tensor3D, ids: tf.Tensor2D): tf.Tensor3D {
  if (x.rank !== 3) throw new Error(`permuteTokens: x must be [N, L, D], got shape [${x.shape}]`);
  if (ids.rank !== 2 || ids.shape[0] !== x.shape[0] || ids.shape[1] !== x.shape[1]) {
    throw new Error(`permuteTokens: ids must be [N, L] = [${x.shape[0]}, ${x.shape[1]}], got [${ids.shape}]`);
  }
  if (ids.dtype !== 'int32') throw new Error(`permuteTokens: ids must be int32, got ${ids.dtype}`);
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, idsIn, save] = args as [tf.Tensor3D, tf.Tensor2D, tf.GradSaveFunc];
    save([idsIn]);
    return {
      value: gatherRows(xIn, idsIn),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const inverse = inversePermutation(saved[0] as tf.Tensor2D);
        return [gatherRows(dy as tf.Tensor3D, inverse), tf.zerosLike(saved[0])];
      },
    };
  });
  return op(x, ids) as tf.Tensor3D;
}

/**
 * Fully connected layer on rows: x [M, in] @ weight [in, out] + bias [out] -> [M, out].
 *
 * Same value as tf.add(tf.matMul(x, weight), bias), with the gradient written out: dx = dy @
 * weight^T, dW = x^T @ dy (matMuls with a transposed operand, no transpose kernels), db = sum(dy).
 * On wasm a transposed operand is fast only with maejs's BatchMatMul kernel (installed by
 * `initBackend('wasm')`; tfjs's own runs it 5-7x slower than a plain one).
 */
export function linear(x: tf.Tensor2D, weight: tf.Tensor2D, bias: tf.Tensor1D): tf.Tensor2D {
  if (x.rank !== 2 || weight.rank !== 2 || bias.rank !== 1 || x.shape[1] !== weight.shape[0] || weight.shape[1] !== bias.shape[0]) {
    throw new Error(`linear: expected x [M, in], weight [in, out], bias [out], got [${x.shape}], [${weight.shape}], [${bias.shape}]`);
  }
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const [xIn, wIn, bIn, save] = args as [tf.Tensor2D, tf.Tensor2D, tf.Tensor1D, tf.GradSaveFunc];
    save([xIn, wIn]);
    return {
      value: tf.add(tf.matMul(xIn, wIn), bIn),
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xs, ws] = saved as [tf.Tensor2D, tf.Tensor2D];
        const dy2 = dy as tf.Tensor2D;
        return [tf.matMul(dy2, ws, false, true), tf.matMul(xs, dy2, true, false), sumRows(dy2)];
      },
    };
  });
  return op(x, weight, bias) as tf.Tensor2D;
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
