/**
 * The switch for maejs's own kernels. maejs registers a few kernels where tfjs lacks a fast one:
 * `MaejsAdamWUpdate`, `MaejsStableRanks` and `MaejsInversePermutation` on cpu and wasm, and on wasm `MaejsGelu`, `MaejsGeluGrad` and replacements
 * of tfjs's `BatchMatMul` and `GatherV2`. Each has an op-level fallback that runs wherever the
 * kernel is not registered (tfjs ops for AdamW and GELU, tfjs's own kernels for the replaced two),
 * which is what every other backend (tensorflow, webgl, webgpu) runs. `useMaejsKernels(false)`
 * makes cpu and wasm run those fallbacks too, for comparison or to rule maejs's kernels out.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ADAMW_KERNEL, registerAdamWKernel, unregisterAdamWKernel } from './adamw-update.js';
import { PERMUTATION_KERNELS, registerPermutationKernels, unregisterPermutationKernels } from './permutation-kernels.js';
import { GELU_KERNELS } from './gelu.js';
import { replacedWasmKernels, setWasmKernels } from './wasm-kernels.js';

let enabled = true;

/**
 * Switches maejs's kernels off or back on, for every backend at once (reversible, any number of
 * times; the default is on).
 *
 * - off: `MaejsAdamWUpdate`, `MaejsStableRanks` and `MaejsInversePermutation` are unregistered from cpu and wasm, `MaejsGelu` / `MaejsGeluGrad`
 *   from wasm, and tfjs-backend-wasm's own `BatchMatMul` and `GatherV2` are registered again;
 *   `initBackend('wasm')` and `installWasmKernels()` install nothing until switched on.
 *   `adamwUpdate`, `geluForward` and `geluBackward` then run as tfjs ops.
 * - on: registers them again (the wasm ones now if tfjs-backend-wasm is loaded, else when wasm
 *   is started with `initBackend('wasm')`).
 *
 * Affects the tfjs of this thread only: `DataParallel` workers start with maejs's kernels on.
 */
export async function useMaejsKernels(on: boolean): Promise<void> {
  if (typeof on !== 'boolean') throw new Error(`useMaejsKernels: expected true (maejs's kernels on) or false (tfjs ops and kernels only), got ${String(on)}`);
  if (on) {
    registerAdamWKernel();
    registerPermutationKernels();
  } else {
    unregisterAdamWKernel();
    unregisterPermutationKernels();
  }
  await setWasmKernels(on);
  enabled = on;
}

/** Whether maejs's kernels are switched on ({@link useMaejsKernels}; on by default). */
export function maejsKernelsEnabled(): boolean {
  return enabled;
}

/**
 * maejs's kernels registered for `backend` now: its own (`MaejsAdamWUpdate`, `MaejsGelu`,
 * `MaejsGeluGrad`) and, on wasm, the tfjs kernels it has replaced (`BatchMatMul`, `GatherV2`).
 * Empty on every backend while switched off, and on backends maejs has no kernels for.
 */
export function registeredMaejsKernels(backend: string = tf.getBackend()): string[] {
  const own = [ADAMW_KERNEL, PERMUTATION_KERNELS.ranks, PERMUTATION_KERNELS.inverse, GELU_KERNELS.forward, GELU_KERNELS.backward].filter((name) => tf.getKernel(name, backend));
  return backend === 'wasm' ? [...own, ...replacedWasmKernels()] : own;
}
