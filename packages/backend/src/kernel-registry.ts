/**
 * How maejs adds compute to tfjs (docs/backends.md, "How maejs adds a kernel").
 *
 * A maejs kernel is a tfjs kernel name (`Maejs<Op>`) with
 * - backend kernels: a fast implementation for each backend that has one, registered with
 *   `tf.registerKernel` while maejs's kernels are switched on ({@link registerBackendKernel});
 * - an op-level kernel: the same computation in tfjs ops, which {@link runMaejsKernel} registers
 *   for a backend that has no kernel of that name the first time the kernel runs there
 *   (tensorflow, webgl, webgpu, a backend of your own; cpu and wasm while switched off);
 * - if it is differentiable, a gradient registered once with `tf.registerGradient` under the same
 *   name, which applies whichever implementation ran.
 *
 * maejs also replaces two of tfjs-backend-wasm's own kernels ({@link replaceTfjsKernel}); the
 * registration it replaced is kept, and {@link restoreTfjsKernels} registers it again unchanged.
 *
 * The switch ({@link maejsKernelsEnabled}) starts on, or off when the environment variable
 * `MAEJS_KERNELS` is `off` (also in worker threads, which inherit the environment).
 */
import * as tf from '@tensorflow/tfjs-core';

/** Environment variable: `off` starts a process with maejs's kernels switched off (`useMaejsKernels(false)`). */
export const KERNELS_ENV = 'MAEJS_KERNELS';

/** A maejs kernel: its name and its computation in tfjs ops (the op-level kernel). */
export interface MaejsKernel {
  readonly name: string;
  /**
   * The computation in tfjs ops, for any backend: input tensors and attributes -> new output
   * tensors (never an input itself). Runs inside `tf.tidy`, off the gradient tape.
   */
  readonly opLevel: (inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap) => tf.Tensor | tf.Tensor[];
}

/** The switch a value of `MAEJS_KERNELS` asks for: on unless `off`; anything else is refused, naming the variable. */
export function kernelsSwitchFrom(value: string | undefined): boolean {
  if (value === undefined || value === '' || value === 'on') return true;
  if (value === 'off') return false;
  throw new Error(`${KERNELS_ENV} is '${value}': expected 'on' (maejs's kernels, the default) or 'off' (tfjs's ops and kernels only)`);
}

let enabled = kernelsSwitchFrom((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[KERNELS_ENV]);
/** The op-level kernelFuncs registered by runMaejsKernel (a backend kernel replaces them). */
const opLevelFuncs = new WeakSet<tf.KernelFunc>();
/** Backend kernels registered by maejs: kernel name -> backend names, in registration order. */
const backendKernels = new Map<string, Set<string>>();
/** tfjs's registrations maejs replaced, by `backend/kernel`: what restoreTfjsKernels puts back. */
const replaced = new Map<string, tf.KernelConfig>();
/** maejs's replacements of tfjs kernels. */
const replacements = new WeakSet<tf.KernelFunc>();

/** Whether maejs's kernels are switched on (`useMaejsKernels`; on unless `MAEJS_KERNELS=off`). */
export function maejsKernelsEnabled(): boolean {
  return enabled;
}

/** Sets the switch; `useMaejsKernels` registers and unregisters the kernels around it. */
export function setMaejsKernelsEnabled(on: boolean): void {
  enabled = on;
}

/**
 * Runs `kernel` on the active backend: its backend kernel where one is registered, else its
 * op-level kernel, registered for this backend first if needed. One tape entry either way, so a
 * gradient registered for `kernel.name` applies to both.
 */
export function runMaejsKernel(kernel: MaejsKernel, inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap = {}): tf.Tensor | tf.Tensor[] {
  const backendName = tf.getBackend();
  if (!tf.getKernel(kernel.name, backendName)) {
    // The engine takes tensors returned by a kernelFunc as its outputs (as tfjs-node's kernels return them).
    const kernelFunc = (({ inputs: given, attrs: attributes }) => tf.tidy(() => kernel.opLevel(given as tf.NamedTensorMap, attributes ?? {}))) as tf.KernelFunc;
    opLevelFuncs.add(kernelFunc);
    tf.registerKernel({ kernelName: kernel.name, backendName, kernelFunc });
  }
  return tf.engine().runKernel(kernel.name, inputs, attrs);
}

/** Whether `kernelName` runs on `backendName` as maejs's op-level kernel (tfjs ops, each run through the engine). */
export function isOpLevelKernel(kernelName: string, backendName: string): boolean {
  const config = tf.getKernel(kernelName, backendName);
  return config !== undefined && opLevelFuncs.has(config.kernelFunc);
}

/**
 * Registers maejs's fast implementation of `kernelName` for `backendName`, replacing the
 * op-level kernel if that ran there before. Idempotent: a backend kernel already registered
 * stays. Does nothing while maejs's kernels are switched off.
 */
export function registerBackendKernel(kernelName: string, backendName: string, kernelFunc: tf.KernelFunc): void {
  if (!enabled) return;
  const existing = tf.getKernel(kernelName, backendName);
  if (existing && !opLevelFuncs.has(existing.kernelFunc)) return;
  if (existing) tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ kernelName, backendName, kernelFunc });
  if (!backendKernels.has(kernelName)) backendKernels.set(kernelName, new Set());
  backendKernels.get(kernelName)!.add(backendName);
}

/** Unregisters every backend kernel maejs registered: its kernels then run as op-level kernels. */
export function unregisterBackendKernels(): void {
  for (const [kernelName, backendNames] of backendKernels) {
    for (const backendName of backendNames) {
      const config = tf.getKernel(kernelName, backendName);
      if (config && !opLevelFuncs.has(config.kernelFunc)) tf.unregisterKernel(kernelName, backendName);
    }
  }
  backendKernels.clear();
}

/** Names of maejs's backend kernels registered for `backendName` now, in registration order. */
export function backendKernelNames(backendName: string): string[] {
  const registered = (name: string) => tf.getKernel(name, backendName) !== undefined && !isOpLevelKernel(name, backendName);
  return [...backendKernels].filter(([name, backends]) => backends.has(backendName) && registered(name)).map(([name]) => name);
}

/**
 * Replaces tfjs's kernel `kernelName` on `backendName` with `make(original)`, where `original` is
 * tfjs's kernelFunc (for the cases maejs leaves to it). The rest of tfjs's registration (its
 * setupFunc and disposeFunc) is kept. Idempotent; nothing happens while switched off. The caller
 * checks that the kernel is registered.
 */
export function replaceTfjsKernel(kernelName: string, backendName: string, make: (original: tf.KernelFunc) => tf.KernelFunc): void {
  const current = tf.getKernel(kernelName, backendName);
  if (!enabled || !current || replacements.has(current.kernelFunc)) return;
  const kernelFunc = make(current.kernelFunc);
  replacements.add(kernelFunc);
  replaced.set(`${backendName}/${kernelName}`, current);
  tf.unregisterKernel(kernelName, backendName);
  tf.registerKernel({ ...current, kernelFunc });
}

/** Registers tfjs's own kernels again where maejs replaced them: the registry then holds tfjs's original configs. */
export function restoreTfjsKernels(): void {
  for (const original of replaced.values()) {
    if (tf.getKernel(original.kernelName, original.backendName)) tf.unregisterKernel(original.kernelName, original.backendName);
    tf.registerKernel(original);
  }
  replaced.clear();
}

/** Names of tfjs's kernels on `backendName` that maejs has replaced now. */
export function replacedTfjsKernels(backendName: string): string[] {
  return [...replaced.values()]
    .filter((original) => original.backendName === backendName && replacements.has(tf.getKernel(original.kernelName, backendName)?.kernelFunc as tf.KernelFunc))
    .map((original) => original.kernelName);
}
