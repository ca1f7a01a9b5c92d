/**
 * maejs's own kernels for tfjs-backend-wasm, compiled from C (kernels/*.c) with 128-bit SIMD.
 *
 * BatchMatMul: tfjs-backend-wasm 4.22 runs a batched or transposed matMul in a scalar loop
 * (1-2 GFLOP/s on attention shapes such as [512, 50, 16] x [512, 16, 50], ~2.7 GFLOP/s for a
 * transposed 2-D operand) and a plain 2-D one through XNNPACK (~20-24 GFLOP/s here). The
 * kernel here packs operands into zero-padded panels and runs a 4x8 register block: 10-25
 * GFLOP/s on attention shapes and 24-36 GFLOP/s on the 2-D ones, transposed or not. It
 * replaces the registered wasm BatchMatMul for float32 operands whose batch dimensions are equal
 * or one-sided (a single matrix against a batch); everything else goes to the original kernel.
 *
 * GatherV2: copies whole slices instead of one element at a time (see gatherV2 below).
 *
 * Identity: shares the input's memory instead of copying it (see identity below).
 *
 * Slice: copies the slice out of the input's memory instead of a copy of the whole input (see
 * slice below).
 *
 * MaejsGelu / MaejsGeluGrad (kernels/gelu.c): GELU forward and backward in one pass each (see
 * gelu.ts), instead of 5 and 7 tfjs kernels. MaejsAdamWUpdate (kernels/adamw.c): one AdamW step
 * with SIMD, the same bits as the op-by-op form and the JavaScript kernel of cpu.
 *
 * BatchMatMul, GatherV2, Identity and Slice replace tfjs-backend-wasm's own kernels (a process-wide
 * change of tfjs's kernel registry, reported by `registeredMaejsKernels('wasm')` and
 * `mae backends`, undone by `useMaejsKernels(false)`); the GELU and AdamW kernels are maejs
 * kernels that tfjs does not have.
 *
 * The matMul module has its own linear memory: operands are copied in, the product copied out
 * (a memcpy, small next to the product). That memory grows to the largest product seen and
 * is kept for reuse.
 */
import * as tf from '@tensorflow/tfjs-core';
import { ADAMW_KERNEL, adamwKernelScalars, type AdamWScalars } from './adamw-update.js';
import { GELU_KERNELS } from './gelu.js';
import { maejsKernelsEnabled, registerBackendKernel, replaceTfjsKernel } from './kernel-registry.js';
import { kernelModule, type KernelModule } from './wasm-module.js';

/** The parts of tfjs-backend-wasm's backend class a kernel uses (as tfjs's own wasm kernels do). */
interface WasmBackendLike {
  incRef(dataId: tf.DataId): void;
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  typedArrayFromHeap(info: tf.TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** tfjs-backend-wasm's kernels that maejs replaces. */
const REPLACED = ['BatchMatMul', 'GatherV2', 'Identity', 'Slice'];

/**
 * Installs maejs's wasm kernels: replaces tfjs-backend-wasm's BatchMatMul, GatherV2, Identity and
 * Slice with maejs's (the registrations they replace are kept, see `useMaejsKernels(false)`) and
 * registers MaejsGelu / MaejsGeluGrad / MaejsAdamWUpdate (see the module comment). Needs `@tensorflow/tfjs-backend-wasm`
 * imported (its kernels registered). `initBackend('wasm')` calls this unless given
 * `{ maejsKernels: false }`; call it yourself when you start wasm with `tf.setBackend`.
 * Idempotent. Installs nothing while maejs's kernels are switched off (`useMaejsKernels(false)`,
 * `MAEJS_KERNELS=off`). Results equal the original kernels' up to float rounding (the sums run
 * over k in ascending order, as in a plain loop).
 */
export async function installWasmKernels(): Promise<void> {
  for (const name of REPLACED) {
    if (!tf.getKernel(name, 'wasm')) throw new Error(`installWasmKernels: no ${name} kernel is registered for wasm: import @tensorflow/tfjs-backend-wasm first`);
  }
  if (!maejsKernelsEnabled()) return;
  const module = await kernelModule();
  replaceTfjsKernel('BatchMatMul', 'wasm', (original) => (args) => batchMatMul(args, module, original));
  replaceTfjsKernel('GatherV2', 'wasm', (original) => (args) => gatherV2(args, original));
  replaceTfjsKernel('Identity', 'wasm', (original) => (args) => identity(args, original));
  replaceTfjsKernel('Slice', 'wasm', (original) => (args) => slice(args, original));
  registerBackendKernel(GELU_KERNELS.forward, 'wasm', (args) => geluForwardKernel(args, module));
  registerBackendKernel(GELU_KERNELS.backward, 'wasm', (args) => geluBackwardKernel(args, module));
  registerBackendKernel(ADAMW_KERNEL, 'wasm', (args) => adamwKernel(args, module));
}

const product = (dims: number[]) => dims.reduce((x, y) => x * y, 1);
const sameDims = (a: number[], b: number[]) => a.length === b.length && a.every((d, i) => d === b[i]);

/** BatchMatMul on float32 through the SIMD kernel; other cases go to `fallback`. */
function batchMatMul(args: Parameters<tf.KernelFunc>[0], module: KernelModule, fallback: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const { a, b } = args.inputs as { a: tf.TensorInfo; b: tf.TensorInfo };
  const { transposeA, transposeB } = args.attrs as { transposeA: boolean; transposeB: boolean };
  if (a.dtype !== 'float32' || b.dtype !== 'float32' || a.shape.length < 2 || b.shape.length < 2) return fallback(args);
  const [a1, a2] = a.shape.slice(-2);
  const [b1, b2] = b.shape.slice(-2);
  const [m, k] = transposeA ? [a2, a1] : [a1, a2];
  const [kB, n] = transposeB ? [b2, b1] : [b1, b2];
  const batchA = a.shape.slice(0, -2);
  const batchB = b.shape.slice(0, -2);
  const [countA, countB] = [product(batchA), product(batchB)];
  const oneSided = countA === 1 || countB === 1;
  if (k !== kB || (!sameDims(batchA, batchB) && !oneSided)) return fallback(args); // the original reports or broadcasts
  const outBatch = sameDims(batchA, batchB) ? batchA : tf.backend_util.assertAndGetBroadcastShape(batchA, batchB);
  const batch = product(outBatch);
  const backend = args.backend as unknown as WasmBackendLike;
  const out = backend.makeOutput([...outBatch, m, n], 'float32');
  if (batch * m * n === 0) return out;
  if (k === 0) {
    backend.typedArrayFromHeap(out).fill(0);
    return out;
  }
  const sizes = [countA * m * k, countB * k * n, batch * m * n, module.workFloats(m, k, n)];
  const offsets = reserve(module, sizes);
  const floats = new Float32Array(module.memory.buffer);
  floats.set(backend.typedArrayFromHeap(a) as Float32Array, offsets[0] / 4);
  floats.set(backend.typedArrayFromHeap(b) as Float32Array, offsets[1] / 4);
  module.batchMatmul(offsets[0], offsets[1], offsets[2], offsets[3], batch, m, k, n, transposeA ? 1 : 0, transposeB ? 1 : 0, countA === 1 ? 0 : 1, countB === 1 ? 0 : 1);
  backend.typedArrayFromHeap(out).set(new Float32Array(module.memory.buffer, offsets[2], sizes[2]));
  return out;
}

/**
 * Identity (what tf.clone runs, and what tfjs's tape runs on every tensor a gradient keeps)
 * shares the input's memory, as tfjs-backend-wasm's Reshape and tfjs-backend-cpu's Identity do:
 * tensors are immutable, so a second reference is enough. tfjs-backend-wasm's Identity copies
 * the values, so every tensor a training step keeps for its backward pass was stored twice
 * during the forward pass. Strings go to the original kernel.
 */
function identity(args: Parameters<tf.KernelFunc>[0], fallback: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string') return fallback(args);
  (args.backend as unknown as WasmBackendLike).incRef(x.dataId);
  return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
}

/**
 * Slice of a numeric tensor: copies the slice's rows (runs along the last axis) straight from
 * the input's memory. tfjs-backend-wasm's kernel first copies the whole input out of the wasm
 * heap (`readSync`): the q column block [768, 768] of a ViT-B qkv weight [768, 2304] takes
 * 5.2 ms that way and 0.5 ms this way. Strings go to the original kernel.
 */
function slice(args: Parameters<tf.KernelFunc>[0], fallback: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const { x } = args.inputs as { x: tf.TensorInfo };
  if (x.dtype === 'string' || x.dtype === 'complex64') return fallback(args);
  const { begin, size } = args.attrs as { begin: number | number[]; size: number | number[] };
  const [start, extent] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  const backend = args.backend as unknown as WasmBackendLike;
  const out = backend.makeOutput(extent, x.dtype);
  if (product(extent) === 0) return out;
  const source = backend.typedArrayFromHeap(x);
  const target = backend.typedArrayFromHeap(out);
  const rank = x.shape.length;
  if (rank === 0) {
    target.set(source);
    return out;
  }
  const strides = [...tf.util.computeStrides(x.shape), 1];
  const run = extent[rank - 1];
  const index = new Array(rank - 1).fill(0); // position among the slice's rows, odometer over axes 0..rank-2
  for (let written = 0; written < target.length; written += run) {
    let from = start[rank - 1];
    for (let axis = 0; axis < rank - 1; axis++) from += (start[axis] + index[axis]) * strides[axis];
    target.set(source.subarray(from, from + run), written);
    for (let axis = rank - 2; axis >= 0 && ++index[axis] === extent[axis]; axis--) index[axis] = 0;
  }
  return out;
}

/**
 * GatherV2 without batch dimensions, for any dtype and axis: x viewed as [outer, N, inner], out
 * [outer, indices, inner], each gathered slice copied as one block. tfjs-backend-wasm's kernel
 * walks elements one by one (~25 ms for 6272 rows of 128 floats, the token shuffle of a
 * mae_tiny_28 batch of 128); this copies rows (about 1 ms). Out-of-range indices are refused.
 */
function gatherV2(args: Parameters<tf.KernelFunc>[0], fallback: tf.KernelFunc): tf.TensorInfo | tf.TensorInfo[] {
  const { x, indices } = args.inputs as { x: tf.TensorInfo; indices: tf.TensorInfo };
  const { axis, batchDims } = args.attrs as { axis: number; batchDims: number };
  if (batchDims !== 0 || indices.dtype !== 'int32' || x.dtype === 'string' || x.dtype === 'complex64') return fallback(args);
  const ax = axis < 0 ? axis + x.shape.length : axis;
  const outer = product(x.shape.slice(0, ax));
  const count = x.shape[ax];
  const inner = product(x.shape.slice(ax + 1));
  const backend = args.backend as unknown as WasmBackendLike;
  const out = backend.makeOutput([...x.shape.slice(0, ax), ...indices.shape, ...x.shape.slice(ax + 1)], x.dtype);
  const ids = backend.typedArrayFromHeap(indices);
  const source = backend.typedArrayFromHeap(x);
  const target = backend.typedArrayFromHeap(out);
  for (let i = 0; i < ids.length; i++) {
    if (!(ids[i] >= 0 && ids[i] < count)) throw new Error(`GatherV2: index ${ids[i]} at position ${i} is not in [0, ${count - 1}]`);
  }
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < ids.length; i++) {
      const from = (o * count + ids[i]) * inner;
      target.set(source.subarray(from, from + inner), (o * ids.length + i) * inner);
    }
  }
  return out;
}

/** Runs a kernel of the module on float32 arrays copied in; returns the output arrays' offsets. */
function runOnCopies(module: KernelModule, inputs: ArrayLike<number>[], outputCount: number, run: (offsets: number[]) => void): Float32Array[] {
  const n = inputs[0].length;
  const offsets = reserve(module, new Array(inputs.length + outputCount).fill(n));
  inputs.forEach((values, i) => new Float32Array(module.memory.buffer, offsets[i], n).set(values));
  run(offsets);
  return offsets.slice(inputs.length).map((offset) => new Float32Array(module.memory.buffer, offset, n));
}

/** MaejsGelu on wasm: x -> [y, cdf] (see gelu.ts and kernels/gelu.c). */
function geluForwardKernel(args: Parameters<tf.KernelFunc>[0], module: KernelModule): tf.TensorInfo[] {
  const { x } = args.inputs as { x: tf.TensorInfo };
  const backend = args.backend as unknown as WasmBackendLike;
  const [y, cdf] = [backend.makeOutput(x.shape, 'float32'), backend.makeOutput(x.shape, 'float32')];
  const n = tf.util.sizeFromShape(x.shape);
  if (n === 0) return [y, cdf];
  const [yValues, cdfValues] = runOnCopies(module, [backend.typedArrayFromHeap(x)], 2, ([xAt, yAt, cdfAt]) => module.geluForward(xAt, yAt, cdfAt, n));
  backend.typedArrayFromHeap(y).set(yValues);
  backend.typedArrayFromHeap(cdf).set(cdfValues);
  return [y, cdf];
}

/** MaejsGeluGrad on wasm: (x, cdf, dy) -> dx. */
function geluBackwardKernel(args: Parameters<tf.KernelFunc>[0], module: KernelModule): tf.TensorInfo {
  const { x, cdf, dy } = args.inputs as Record<'x' | 'cdf' | 'dy', tf.TensorInfo>;
  const backend = args.backend as unknown as WasmBackendLike;
  const dx = backend.makeOutput(x.shape, 'float32');
  const n = tf.util.sizeFromShape(x.shape);
  if (n === 0) return dx;
  const [dxValues] = runOnCopies(module, [x, cdf, dy].map((t) => backend.typedArrayFromHeap(t)), 1, ([xAt, cdfAt, dyAt, dxAt]) => module.geluBackward(xAt, cdfAt, dyAt, dxAt, n));
  backend.typedArrayFromHeap(dx).set(dxValues);
  return dx;
}

/** MaejsAdamWUpdate on wasm: (p, g, m, v) -> [p1, m1, v1] (kernels/adamw.c; the bits of the op-by-op form). */
function adamwKernel(args: Parameters<tf.KernelFunc>[0], module: KernelModule): tf.TensorInfo[] {
  const { p, g, m, v } = args.inputs as Record<'p' | 'g' | 'm' | 'v', tf.TensorInfo>;
  const backend = args.backend as unknown as WasmBackendLike;
  const outputs = [0, 1, 2].map(() => backend.makeOutput(p.shape, 'float32'));
  const n = tf.util.sizeFromShape(p.shape);
  if (n === 0) return outputs;
  const s = adamwKernelScalars(args.attrs as unknown as AdamWScalars);
  const results = runOnCopies(module, [p, g, m, v].map((t) => backend.typedArrayFromHeap(t)), 3, ([pAt, gAt, mAt, vAt, p1At, m1At, v1At]) =>
    module.adamwUpdate(pAt, gAt, mAt, vAt, p1At, m1At, v1At, n, s.decay, s.b1, s.c1, s.b2, s.c2, s.bc2, s.eps, s.step),
  );
  outputs.forEach((out, i) => backend.typedArrayFromHeap(out).set(results[i]));
  return outputs;
}

/** Byte offsets of consecutive 16-byte-aligned float arrays after the module's static data, growing memory if needed. */
function reserve(module: KernelModule, floatCounts: number[]): number[] {
  let end = Math.ceil(module.heapBase / 16) * 16;
  const offsets = floatCounts.map((count) => {
    const offset = end;
    end += Math.ceil((count * 4) / 16) * 16;
    return offset;
  });
  const missing = end - module.memory.buffer.byteLength;
  if (missing > 0) {
    try {
      module.memory.grow(Math.ceil(missing / 65536));
    } catch {
      throw new Error(`maejs wasm kernels: cannot grow their memory to ${(end / 2 ** 20).toFixed(0)} MiB for operands of ${floatCounts.slice(0, 3).join(', ')} floats (the wasm limit is 4 GiB): use smaller batches`);
    }
  }
  return offsets;
}
