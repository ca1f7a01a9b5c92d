/**
 * Counts what a piece of work asks of the active backend: synchronous and asynchronous reads
 * of tensor data back to JavaScript, tfjs kernels run through the engine, and, on webgl and
 * webgpu, GPU programs dispatched (one tfjs kernel can dispatch several, or none when it only
 * reshapes).
 *
 * A training step that keeps a GPU busy makes no synchronous read (each one stalls the
 * pipeline until the device has finished everything queued before it) and as few
 * asynchronous ones as it can. On cpu and wasm, data already lives in CPU memory: a read there
 * is a view or a copy, not a transfer, and maejs's fused kernels read their inputs that way.
 */
import * as tf from '@tensorflow/tfjs-core';
import { isOpLevelKernel } from './kernel-registry.js';

/** What the counted work asked of the backend. */
export interface DeviceCounts {
  /** The backend the work ran on. */
  backend: string;
  /** `readSync` calls (dataSync, arraySync, and kernels that read their inputs on the CPU). */
  syncReads: number;
  /** `read` calls (data(), array()). */
  asyncReads: number;
  /**
   * tfjs kernels run through the engine (forward, gradients and updates alike). A maejs kernel
   * that runs as its op-level kernel is not counted itself: the tfjs ops it runs are.
   */
  kernels: number;
  /** GPU programs dispatched (webgl: runWebGLProgram; webgpu: runWebGPUProgram); null elsewhere. */
  programs: number | null;
}

/** Backend methods wrapped while counting; absent ones are skipped. */
const PROGRAM_METHODS = ['runWebGLProgram', 'runWebGPUProgram'] as const;

type Method = (...args: unknown[]) => unknown;

/**
 * Runs `work` on the active backend and counts its reads, kernels and GPU programs. Reads
 * made by a read (a backend's `read` that falls back to `readSync`) count once, as the outer
 * call. The counters are removed when `work` settles, whether it resolves or throws; work
 * running concurrently on the same backend is counted too.
 */
export async function countDeviceWork<T>(work: () => T | Promise<T>): Promise<{ result: T; counts: DeviceCounts }> {
  const backend = tf.backend() as unknown as Record<string, Method>;
  const engine = tf.engine() as unknown as Record<string, Method>;
  const counts: DeviceCounts = { backend: tf.getBackend(), syncReads: 0, asyncReads: 0, kernels: 0, programs: null };
  let readDepth = 0;
  const restore: Array<() => void> = [];
  const wrap = (target: Record<string, Method>, name: string, count: (args: unknown[]) => void, nested = false) => {
    const own = Object.prototype.hasOwnProperty.call(target, name);
    const original = target[name];
    target[name] = function (this: unknown, ...args: unknown[]) {
      if (!nested || readDepth === 0) count(args);
      if (!nested) return original.apply(this, args);
      readDepth++;
      try {
        const out = original.apply(this, args);
        if (out instanceof Promise) return out.finally(() => readDepth--);
        readDepth--;
        return out;
      } catch (error) {
        readDepth--;
        throw error;
      }
    };
    restore.push(() => {
      if (own) target[name] = original;
      else delete target[name];
    });
  };
  wrap(backend, 'readSync', () => counts.syncReads++, true);
  wrap(backend, 'read', () => counts.asyncReads++, true);
  // Registered kernels only: a custom op (tf.customGrad) and an op-level maejs kernel also pass through runKernelFunc, and their kernels are counted one by one.
  const countsAsKernel = (name: string | undefined) => name != null && !isOpLevelKernel(name, counts.backend);
  wrap(engine, 'runKernelFunc', ([params]) => countsAsKernel((params as { kernelName?: string }).kernelName) && counts.kernels++);
  for (const name of PROGRAM_METHODS) {
    if (typeof backend[name] !== 'function') continue;
    counts.programs = 0;
    wrap(backend, name, () => (counts.programs = (counts.programs ?? 0) + 1));
  }
  try {
    const result = await work();
    return { result, counts };
  } finally {
    for (const undo of restore.reverse()) undo();
  }
}
