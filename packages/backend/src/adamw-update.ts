/**
 * One AdamW update of one parameter, as torch.optim.AdamW's single-tensor path (amsgrad off):
 *   p' = p * (1 - lr*wd);  m' = b1*m + (1-b1)*g;  v' = b2*v + (1-b2)*g*g;
 *   p'' = p' - lr/(1-b1^t) * m' / (sqrt(v')/sqrt(1-b2^t) + eps).
 *
 * A maejs kernel (`MaejsAdamWUpdate`, see kernel-registry.ts). On cpu and wasm it is a backend
 * kernel: a loop over the four arrays with every operation rounded to float32 in the order of the
 * op-by-op form, so both give the same bits. Elsewhere it runs as its op-level kernel, ~11 tfjs
 * ops: every scalar becomes a tensor and every step a kernel call, ~530 calls per update of a
 * 48-parameter model, ~40 ms on wasm. No gradient: it is an optimizer step.
 */
import * as tf from '@tensorflow/tfjs-core';
import { registerBackendKernel, runMaejsKernel, type MaejsKernel } from './kernel-registry.js';

/** The update's scalars in float64 (PyTorch computes them in Python floats); each is rounded to float32 where used. */
export interface AdamWScalars {
  /** 1 - lr * weightDecay (1: no decay) */
  decayFactor: number;
  /** lr / (1 - b1^t) */
  stepSize: number;
  /** sqrt(1 - b2^t) */
  bc2Sqrt: number;
  b1: number;
  b2: number;
  eps: number;
}

/** Name of the fused AdamW kernel (cpu, wasm). */
export const ADAMW_KERNEL = 'MaejsAdamWUpdate';
/** Backends whose tensors live in CPU memory, so a JS loop over them is cheap. */

/** The update in tfjs ops (the op-level kernel): the single-tensor path of torch.optim.AdamW, op by op. */
function adamwOps(inputs: tf.NamedTensorMap, attrs: tf.NamedAttrMap): tf.Tensor[] {
  const { p, g, m, v } = inputs as Record<'p' | 'g' | 'm' | 'v', tf.Tensor>;
  const s = attrs as unknown as AdamWScalars;
  const decayed = s.decayFactor === 1 ? p : tf.mul(p, s.decayFactor); // p.mul_(1 - lr*wd)
  const m1 = tf.add(tf.mul(m, s.b1), tf.mul(g, 1 - s.b1)); // exp_avg.mul_(b1).add_(g, alpha=1-b1)
  const v1 = tf.add(tf.mul(v, s.b2), tf.mul(tf.mul(g, 1 - s.b2), g)); // exp_avg_sq.mul_(b2).addcmul_(g, g, value=1-b2)
  const denom = tf.add(tf.div(tf.sqrt(v1), s.bc2Sqrt), s.eps); // sqrt(v)/sqrt(bc2) + eps
  const p1 = tf.add(decayed, tf.mul(tf.div(m1, denom), -s.stepSize)); // p.addcdiv_(m, denom, value=-lr/bc1)
  return [p1, m1, v1];
}

const ADAMW: MaejsKernel = { name: ADAMW_KERNEL, opLevel: adamwOps };

/** New [p, m, v] after one update; the caller assigns them and owns them. */
export function adamwUpdate(p: tf.Tensor, g: tf.Tensor, m: tf.Tensor, v: tf.Tensor, s: AdamWScalars): [tf.Tensor, tf.Tensor, tf.Tensor] {
  checkOperands(p, { g, m, v });
  return runMaejsKernel(ADAMW, { p, g, m, v }, { ...s } as unknown as tf.NamedAttrMap) as [tf.Tensor, tf.Tensor, tf.Tensor];
}

/** Refuses a gradient or moment that is not float32 with the parameter's shape. */
function checkOperands(p: tf.TensorInfo, others: Record<'g' | 'm' | 'v', tf.TensorInfo>): void {
  for (const [name, t] of Object.entries(others)) {
    if (t.dtype !== 'float32' || !tf.util.arraysEqual(t.shape, p.shape)) {
      throw new Error(`adamwUpdate: ${name} must be float32 with the parameter's shape [${p.shape}], got ${t.dtype} [${t.shape}]`);
    }
  }
}

/** The fused update on arrays: the op-by-op form's float32 roundings, in its order. */
function updateArrays(P: Float32Array, G: Float32Array, M: Float32Array, V: Float32Array, s: AdamWScalars): [Float32Array, Float32Array, Float32Array] {
  const f = Math.fround;
  const { decay, b1, c1, b2, c2, bc2, eps, step } = adamwKernelScalars(s);
  const noDecay = s.decayFactor === 1;
  const [p1, m1, v1] = [new Float32Array(P.length), new Float32Array(P.length), new Float32Array(P.length)];
  for (let i = 0; i < P.length; i++) {
    const g = G[i];
    const m = f(f(M[i] * b1) + f(g * c1));
    const v = f(f(V[i] * b2) + f(f(g * c2) * g));
    const denom = f(f(f(Math.sqrt(v)) / bc2) + eps);
    const decayed = noDecay ? P[i] : f(P[i] * decay);
    p1[i] = decayed + f(f(m / denom) * step); // the store rounds
    m1[i] = m;
    v1[i] = v;
  }
  return [p1, m1, v1];
}

/**
 * Registers the fused AdamW kernel for cpu, in JavaScript (idempotent; done on import of
 * @maejs/backend unless MAEJS_KERNELS=off). wasm's, in kernels/adamw.c with the same roundings,
 * comes with the other wasm kernels (`installWasmKernels`).
 */
export function registerAdamWKernel(): void {
  registerBackendKernel(ADAMW_KERNEL, 'cpu', ({ inputs, backend: anyBackend, attrs }) => {
    const backend = anyBackend as tf.KernelBackend;
    const { p, g, m, v } = inputs as Record<'p' | 'g' | 'm' | 'v', tf.TensorInfo>;
    const read = (t: tf.TensorInfo) => backend.readSync(t.dataId) as Float32Array;
    const outputs = updateArrays(read(p), read(g), read(m), read(v), attrs as unknown as AdamWScalars);
    return outputs.map((values) => ({ dataId: backend.write(values, p.shape, 'float32'), shape: p.shape, dtype: 'float32' as const }));
  });
}

/** The scalars of one update as the kernels take them, each rounded to float32 as the op-by-op form rounds it. */
export function adamwKernelScalars(s: AdamWScalars): { decay: number; b1: number; c1: number; b2: number; c2: number; bc2: number; eps: number; step: number } {
  const f = Math.fround;
  return { decay: f(s.decayFactor), b1: f(s.b1), c1: f(1 - s.b1), b2: f(s.b2), c2: f(1 - s.b2), bc2: f(s.bc2Sqrt), eps: f(s.eps), step: f(-s.stepSize) };
}
