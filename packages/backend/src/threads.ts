/**
 * Which backends may train data-parallel over worker threads (one tfjs per thread, see
 * `DataParallel` in `@maejs/trainer/node`), and how many threads a run gets.
 *
 * cpu and wasm run their kernels on the calling thread in CPU memory, so a second thread with a
 * second tfjs uses a second core. The GPU backends hold one device per tfjs: every worker would
 * start its own TensorFlow runtime and CUDA context (`tensorflow`, i.e. tfjs-node-gpu; tfjs-node
 * already runs its native kernels on every core), WebGL context (`webgl`) or GPU device
 * (`webgpu`), competing for the same GPU and its memory. There one thread is the rule.
 */
import { failArgument } from './validate.js';

/** Backends that run on a GPU (or a native runtime of their own): one thread, no worker replicas. */
export const GPU_BACKENDS = ['tensorflow', 'webgl', 'webgpu'] as const;

/** What each GPU backend would start again in every worker thread. */
const PER_THREAD_RUNTIME: Record<(typeof GPU_BACKENDS)[number], string> = {
  tensorflow: 'TensorFlow runtime (with tfjs-node-gpu a CUDA context on the GPU; tfjs-node already uses every core)',
  webgl: 'WebGL context on the GPU',
  webgpu: 'GPU device',
};

/** Whether `backend` is one of {@link GPU_BACKENDS}. */
export function isGpuBackend(backend: string): boolean {
  return (GPU_BACKENDS as readonly string[]).includes(backend);
}

/** Whether `backend` can train data-parallel over worker threads (every backend but the GPU ones). */
export function supportsDataParallel(backend: string): boolean {
  return !isGpuBackend(backend);
}

/**
 * Threads that compute, for a run on `backend`: `'auto'` is `cores` on cpu and wasm and 1 on a
 * GPU backend; a number is checked (a positive integer; 1 on a GPU backend). Throws an error that
 * names `what` (for example `--threads`), the backend, the value and what is allowed.
 */
export function resolveThreads(backend: string, requested: number | 'auto', cores: number, what = 'threads'): number {
  if (requested === 'auto') return supportsDataParallel(backend) ? Math.max(1, Math.floor(cores)) : 1;
  if (!Number.isInteger(requested) || requested < 1) failArgument(what, requested, '"auto" or an integer >= 1 (threads that compute, this one included)');
  if (requested > 1 && isGpuBackend(backend)) {
    const runtime = PER_THREAD_RUNTIME[backend as (typeof GPU_BACKENDS)[number]];
    throw new Error(
      `${what} ${requested} is not allowed on the '${backend}' backend: it runs on a GPU, and every data-parallel worker thread would start its own ${runtime}; ` +
        `use 1 (or 'auto', which is 1 on ${GPU_BACKENDS.join(', ')}); data-parallel threads are for cpu and wasm`,
    );
  }
  return requested;
}
