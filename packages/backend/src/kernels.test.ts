import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { adamwUpdate, geluForward, initBackend, installWasmKernels, maejsKernelsEnabled, registeredMaejsKernels, useMaejsKernels } from './index.js';

const ALL_WASM = ['MaejsAdamWUpdate', 'MaejsStableRanks', 'MaejsInversePermutation', 'MaejsGelu', 'MaejsGeluGrad', 'BatchMatMul', 'GatherV2'];

describe('useMaejsKernels', () => {
  // tfjs-backend-wasm's own kernels, before initBackend('wasm') replaces two of them
  const tfjsBatchMatMul = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
  const tfjsGatherV2 = tf.getKernel('GatherV2', 'wasm')!.kernelFunc;

  beforeAll(async () => {
    await initBackend('wasm');
  });
  afterAll(async () => {
    await useMaejsKernels(true);
  });

  it('lists the kernels maejs registered: AdamW and the permutation kernels on cpu; those, GELU and the replaced BatchMatMul and GatherV2 on wasm', () => {
    expect(maejsKernelsEnabled()).toBe(true);
    expect(registeredMaejsKernels('wasm')).toEqual(ALL_WASM);
    expect(registeredMaejsKernels('cpu')).toEqual(['MaejsAdamWUpdate', 'MaejsStableRanks', 'MaejsInversePermutation']);
    expect(registeredMaejsKernels('webgpu')).toEqual([]);
    expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).not.toBe(tfjsBatchMatMul);
  });

  it("off: unregisters maejs's kernels, puts tfjs's BatchMatMul and GatherV2 back, and keeps them off through initBackend", async () => {
    await useMaejsKernels(false);
    expect(maejsKernelsEnabled()).toBe(false);
    expect(registeredMaejsKernels('wasm')).toEqual([]);
    expect(registeredMaejsKernels('cpu')).toEqual([]);
    expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).toBe(tfjsBatchMatMul);
    expect(tf.getKernel('GatherV2', 'wasm')!.kernelFunc).toBe(tfjsGatherV2);
    await initBackend('wasm');
    await installWasmKernels();
    expect(registeredMaejsKernels('wasm')).toEqual([]);
    await useMaejsKernels(false); // twice changes nothing
    expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).toBe(tfjsBatchMatMul);
  });

  it('off: GELU, AdamW, matMul and gather run on their fallbacks and give the same values', async () => {
    const x = tf.tensor1d([-3, -0.5, 0, 0.7, 2.5]);
    const run = () => {
      const [y, cdf] = geluForward(x);
      const [p] = adamwUpdate(tf.ones([2, 2]), tf.fill([2, 2], 0.1), tf.zeros([2, 2]), tf.zeros([2, 2]), { decayFactor: 0.99, stepSize: 0.01, bc2Sqrt: 0.2, b1: 0.9, b2: 0.95, eps: 1e-8 });
      const m = tf.matMul(tf.reshape(tf.range(0, 12), [2, 2, 3]), tf.reshape(tf.range(0, 12), [2, 2, 3]), false, true);
      const g = tf.gather(tf.reshape(tf.range(0, 12), [4, 3]), tf.tensor1d([3, 0], 'int32'));
      return [y, cdf, p, m, g].map((t) => Array.from(t.dataSync()));
    };
    const off = run();
    await useMaejsKernels(true);
    expect(registeredMaejsKernels('wasm')).toEqual(ALL_WASM);
    const on = run();
    off.forEach((values, i) => values.forEach((v, k) => expect(v).toBeCloseTo(on[i][k], 6)));
  });

  it('on again: the replacements are maejs kernels, installed once', async () => {
    await useMaejsKernels(false);
    await useMaejsKernels(true);
    const replaced = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
    expect(replaced).not.toBe(tfjsBatchMatMul);
    await useMaejsKernels(true);
    expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).toBe(replaced);
    expect(registeredMaejsKernels('cpu')).toEqual(['MaejsAdamWUpdate', 'MaejsStableRanks', 'MaejsInversePermutation']);
  });

  it('refuses anything but a boolean', async () => {
    await expect(useMaejsKernels('no' as never)).rejects.toThrow("useMaejsKernels: expected true (maejs's kernels on) or false (tfjs ops and kernels only), got no");
  });
});
