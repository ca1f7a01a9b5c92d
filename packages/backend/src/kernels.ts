/**
 * The switch for maejs's kernels, and what they are (see kernel-registry.ts for the mechanism).
 *
 * maejs registers backend kernels where it has a faster implementation than tfjs ops:
 * `MaejsAdamWUpdate`, `MaejsStableRanks` and `MaejsInversePermutation` on cpu and wasm (on
 * import, except wasm's AdamW), `MaejsGelu`, `MaejsGeluGrad` and `MaejsAdamWUpdate` on wasm from
 * kernels/*.c; and on wasm it replaces four of tfjs-backend-wasm's own kernels, `BatchMatMul`,
 * `GatherV2`, `Identity` and `Slice` (the wasm ones are installed by `installWasmKernels()`, which
 * `initBackend('wasm')` calls unless told not to). Every maejs kernel
 * also has an op-level kernel in tfjs ops, which is what every other backend (tensorflow, webgl,
 * webgpu) runs. `useMaejsKernels(false)` makes cpu and wasm run those and tfjs's own kernels too.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerAdamWKernel } from './adamw-update.js';
import { backendKernelNames, maejsKernelsEnabled, replacedTfjsKernels, restoreTfjsKernels, setMaejsKernelsEnabled, unregisterBackendKernels } from './kernel-registry.js';
import { registerPermutationKernels } from './permutation-kernels.js';
import { installWasmKernels } from './wasm-kernels.js';

export { KERNELS_ENV, maejsKernelsEnabled, replacedTfjsKernels } from './kernel-registry.js';

/** Registers the cpu and wasm kernels that need no wasm module (done on import of @maejs/backend, unless `MAEJS_KERNELS=off`). */
export function registerCpuMemoryKernels(): void {
  registerAdamWKernel();
  registerPermutationKernels();
}

/**
 * Switches maejs's kernels off or back on, for every backend at once (reversible, any number of
 * times; on by default, off from the start with the environment variable `MAEJS_KERNELS=off`).
 *
 * - off: maejs's backend kernels are unregistered (its kernels run as op-level kernels, in tfjs
 *   ops, on every backend), tfjs-backend-wasm's own `BatchMatMul`, `GatherV2`, `Identity` and `Slice` registrations
 *   are registered again exactly as tfjs made them, and `initBackend('wasm')` /
 *   `installWasmKernels()` install nothing until switched on.
 * - on: registers maejs's backend kernels again (the wasm ones now if tfjs-backend-wasm's kernels
 *   are registered, else when `initBackend('wasm')` or `installWasmKernels()` runs).
 *
 * Affects the tfjs of this thread; `DataParallel` starts its workers with this thread's setting.
 */
export async function useMaejsKernels(on: boolean): Promise<void> {
  if (typeof on !== 'boolean') throw new Error(`useMaejsKernels: expected true (maejs's kernels on) or false (tfjs ops and kernels only), got ${String(on)}`);
  setMaejsKernelsEnabled(on);
  if (!on) {
    unregisterBackendKernels();
    restoreTfjsKernels();
    return;
  }
  registerCpuMemoryKernels();
  if (tf.getKernel('BatchMatMul', 'wasm')) await installWasmKernels(); // tfjs-backend-wasm is loaded
}

/**
 * maejs's kernels registered for `backend` now: its backend kernels (`MaejsAdamWUpdate`,
 * `MaejsStableRanks`, `MaejsInversePermutation`, and on wasm `MaejsGelu`, `MaejsGeluGrad`) and
 * then the tfjs kernels it has replaced there (`BatchMatMul`, `GatherV2`, `Identity`, `Slice` on wasm; see
 * {@link replacedTfjsKernels}). Empty while switched off, and on backends maejs has no kernels
 * for: there its kernels run as op-level kernels.
 */
export function registeredMaejsKernels(backend: string = tf.getBackend()): string[] {
  return [...backendKernelNames(backend), ...replacedTfjsKernels(backend)];
}
