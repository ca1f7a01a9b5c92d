/**
 * The backend kernels of `stableRanks` and `inversePermutation` (maejs kernels, see
 * kernel-registry.ts) on the backends whose tensors live in CPU memory (cpu, wasm): a sort of
 * each row in JavaScript instead of the N·L² comparisons of the op-level kernel.
 * tfjs-backend-wasm broadcasts int32 comparisons element by element, so on a [128, 49] masking
 * noise the op-level kernel costs ~300 ms per training step there; these take well under a
 * millisecond. Both give the same integers as the op-level kernels.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerBackendKernel } from './kernel-registry.js';

/** Kernel names; registered for cpu and wasm. */
export const PERMUTATION_KERNELS = { ranks: 'MaejsStableRanks', inverse: 'MaejsInversePermutation' } as const;
const CPU_MEMORY_BACKENDS = ['cpu', 'wasm'];

/** Stable ranks of each row of `v` ([n, l], row-major): out[i] = place of v[i] in the ascending order, ties by index. */
function ranksOf(v: ArrayLike<number>, n: number, l: number): Int32Array {
  const out = new Int32Array(n * l);
  const order = new Int32Array(l);
  for (let row = 0; row < n; row++) {
    const base = row * l;
    for (let i = 0; i < l; i++) order[i] = i;
    order.sort((a, b) => v[base + a] - v[base + b] || a - b);
    for (let k = 0; k < l; k++) out[base + order[k]] = k;
  }
  return out;
}

/** Inverse of each row of `perm` ([n, l]); throws when a row is not a permutation of 0..l-1. */
function inverseOf(perm: ArrayLike<number>, n: number, l: number): Int32Array {
  const out = new Int32Array(n * l).fill(-1);
  for (let row = 0; row < n; row++) {
    for (let i = 0; i < l; i++) {
      const target = perm[row * l + i];
      if (!(target >= 0 && target < l) || out[row * l + target] !== -1) {
        throw new Error(`inversePermutation: row ${row} is not a permutation of 0..${l - 1} (perm[${row}][${i}] is ${target})`);
      }
      out[row * l + target] = i;
    }
  }
  return out;
}

/** Registers both kernels for cpu and wasm (idempotent; done on import of @maejs/backend unless MAEJS_KERNELS=off). */
export function registerPermutationKernels(): void {
  const kernels: Array<[string, (values: ArrayLike<number>, n: number, l: number) => Int32Array]> = [
    [PERMUTATION_KERNELS.ranks, ranksOf],
    [PERMUTATION_KERNELS.inverse, inverseOf],
  ];
  for (const backendName of CPU_MEMORY_BACKENDS) {
    for (const [kernelName, compute] of kernels) {
      registerBackendKernel(kernelName, backendName, ({ inputs, backend: anyBackend }) => {
        const backend = anyBackend as tf.KernelBackend;
        const { x } = inputs as { x: tf.TensorInfo };
        const [n, l] = x.shape;
        const values = compute(backend.readSync(x.dataId) as ArrayLike<number>, n, l); // CPU memory: a view, not a transfer
        return { dataId: backend.write(values, x.shape, 'int32'), shape: x.shape, dtype: 'int32' as const };
      });
    }
  }
}
