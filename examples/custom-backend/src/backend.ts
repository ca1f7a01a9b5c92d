/**
 * A new tfjs backend: every kernel of tfjs's cpu backend, registered again under a new backend
 * name, except Softmax, which is our own implementation. This is the shape of real backend work:
 * a backend package registers a backend factory and one kernel per op, and a contributor replaces
 * or adds kernels one at a time.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu'; // importing it registers the 'cpu' backend and its kernels

/**
 * A Softmax kernel over the last axis (the only axis `tf.softmax` asks a kernel for), computing
 * exp with `exp`: per row, subtract the row's max (no overflow), exponentiate, divide by the sum
 * (accumulated in float64).
 */
export function softmaxKernel(backendName: string, exp: (x: number) => number): tf.KernelConfig {
  return {
    kernelName: tf.Softmax,
    backendName,
    kernelFunc: ({ inputs, backend, attrs }) => {
      const { logits } = inputs as tf.SoftmaxInputs;
      const { dim } = attrs as unknown as tf.SoftmaxAttrs;
      if (!logits) throw new Error(`${backendName} Softmax: no 'logits' input`);
      const rank = logits.shape.length;
      if (dim !== -1 && dim !== rank - 1) throw new Error(`${backendName} Softmax: only the last axis is supported, got dim ${dim} for a rank-${rank} input`);
      if (logits.dtype !== 'float32') throw new Error(`${backendName} Softmax: expected float32 logits, got ${logits.dtype}`);
      const cpu = backend as MathBackendCPU;
      const x = cpu.data.get(logits.dataId).values as Float32Array;
      const cols = logits.shape[rank - 1];
      const y = new Float32Array(x.length);
      for (let row = 0; row < x.length; row += cols) {
        let max = -Infinity;
        for (let j = row; j < row + cols; j++) max = Math.max(max, x[j]);
        let sum = 0;
        for (let j = row; j < row + cols; j++) {
          y[j] = exp(x[j] - max);
          sum += y[j];
        }
        for (let j = row; j < row + cols; j++) y[j] /= sum;
      }
      return cpu.makeTensorInfo(logits.shape, 'float32', y);
    },
  };
}

/**
 * A "fast" exp: (1 + x/256)^256 by eight squarings. It looks right near 0 and is about 1% off at
 * x = -5 (the relative error grows like x^2 / 512), a typical approximation that passes a casual
 * look and fails a float32 comparison.
 */
export function fastExp(x: number): number {
  let y = 1 + x / 256;
  if (y <= 0) return 0;
  for (let i = 0; i < 8; i++) y *= y;
  return y;
}

/**
 * Registers backend `name`: tfjs's cpu kernels with Softmax replaced by {@link softmaxKernel}
 * using `exp`, and a factory that makes a new cpu backend instance. Call `tf.setBackend(name)` to
 * use it. Registering a name twice is an error.
 */
export function registerBackend(name: string, exp: (x: number) => number): void {
  if (tf.findBackendFactory(name)) throw new Error(`a tfjs backend named '${name}' is already registered`);
  for (const kernel of tf.getKernelsForBackend('cpu')) {
    if (kernel.kernelName !== tf.Softmax) tf.registerKernel({ ...kernel, backendName: name });
  }
  tf.registerKernel(softmaxKernel(name, exp));
  tf.registerBackend(name, () => new MathBackendCPU(), -1); // priority -1: never chosen on its own
}
