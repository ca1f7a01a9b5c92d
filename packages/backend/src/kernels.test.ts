import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-wasm';
import { adamwUpdate, countDeviceWork, geluForward, initBackend, installWasmKernels, maejsKernelsEnabled, registeredMaejsKernels, replacedTfjsKernels, useMaejsKernels } from './index.js';
import { kernelsSwitchFrom } from './kernel-registry.js';

const ALL_WASM = ['MaejsAdamWUpdate', 'MaejsStableRanks', 'MaejsInversePermutation', 'MaejsGelu', 'MaejsGeluGrad', 'BatchMatMul', 'GatherV2', 'Identity', 'Slice'];

describe('useMaejsKernels', () => {
  // tfjs-backend-wasm's own registrations, before initBackend('wasm') replaces two of them
  const tfjsBatchMatMulConfig = tf.getKernel('BatchMatMul', 'wasm')!;
  const tfjsGatherV2Config = tf.getKernel('GatherV2', 'wasm')!;
  const tfjsBatchMatMul = tfjsBatchMatMulConfig.kernelFunc;
  const tfjsGatherV2 = tfjsGatherV2Config.kernelFunc;

  beforeAll(async () => {
    await initBackend('wasm');
  });
  afterAll(async () => {
    await useMaejsKernels(true);
  });

  it('lists the kernels maejs registered: AdamW and the permutation kernels on cpu; those, GELU and the replaced BatchMatMul, GatherV2, Identity and Slice on wasm', () => {
    expect(maejsKernelsEnabled()).toBe(true);
    expect(registeredMaejsKernels('wasm')).toEqual(ALL_WASM);
    expect(registeredMaejsKernels('cpu')).toEqual(['MaejsAdamWUpdate', 'MaejsStableRanks', 'MaejsInversePermutation']);
    expect(registeredMaejsKernels('webgpu')).toEqual([]);
    expect(replacedTfjsKernels('wasm')).toEqual(['BatchMatMul', 'GatherV2', 'Identity', 'Slice']);
    expect(replacedTfjsKernels('cpu')).toEqual([]);
    expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).not.toBe(tfjsBatchMatMul);
    // the replacement keeps the rest of tfjs's registration (tfjs-backend-wasm binds its C function in setupFunc)
    expect(tf.getKernel('BatchMatMul', 'wasm')!.setupFunc).toBe(tfjsBatchMatMulConfig.setupFunc);
  });

  it("off: unregisters maejs's kernels, puts tfjs's BatchMatMul, GatherV2, Identity and Slice back, and keeps them off through initBackend", async () => {
    await useMaejsKernels(false);
    expect(maejsKernelsEnabled()).toBe(false);
    expect(registeredMaejsKernels('wasm')).toEqual([]);
    expect(registeredMaejsKernels('cpu')).toEqual([]);
    // the registry holds tfjs's original registrations again, not copies of them
    expect(tf.getKernel('BatchMatMul', 'wasm')).toBe(tfjsBatchMatMulConfig);
    expect(tf.getKernel('GatherV2', 'wasm')).toBe(tfjsGatherV2Config);
    expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).toBe(tfjsBatchMatMul);
    expect(tf.getKernel('GatherV2', 'wasm')!.kernelFunc).toBe(tfjsGatherV2);
    expect(replacedTfjsKernels('wasm')).toEqual([]);
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
    off.forEach((values, i) => values.forEach((v, k) => expect(v).toBeCloseTo(on[i][k] as number, 6)));
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

  it('a maejs kernel switched off runs as its op-level kernel (tfjs ops), and switched on as its backend kernel again', async () => {
    const x = tf.linspace(-3, 3, 64);
    await useMaejsKernels(false);
    const off = await countDeviceWork(() => geluForward(x)[0]);
    await useMaejsKernels(true);
    const on = await countDeviceWork(() => geluForward(x)[0]);
    expect([off.counts.kernels, on.counts.kernels]).toEqual([5, 1]);
    const [a, b] = [await off.result.data(), await on.result.data()];
    expect(Math.max(...Array.from(a, (v, i) => Math.abs(v - b[i])))).toBeLessThan(1e-6);
    expect(registeredMaejsKernels('wasm')).toEqual(ALL_WASM);
    tf.dispose([x, off.result, on.result]);
  });

  it("initBackend's maejsKernels option switches them explicitly: false restores tfjs's registrations, true installs maejs's", async () => {
    await initBackend('wasm', { maejsKernels: false });
    expect(maejsKernelsEnabled()).toBe(false);
    expect(tf.getKernel('BatchMatMul', 'wasm')).toBe(tfjsBatchMatMulConfig);
    expect(registeredMaejsKernels('wasm')).toEqual([]);
    await initBackend('wasm'); // unset: as switched now
    expect(registeredMaejsKernels('wasm')).toEqual([]);
    await initBackend('wasm', { maejsKernels: true });
    expect(maejsKernelsEnabled()).toBe(true);
    expect(registeredMaejsKernels('wasm')).toEqual(ALL_WASM);
    await expect(initBackend('wasm', { maejsKernels: 'off' as never })).rejects.toThrow(`initBackend: options.maejsKernels is "off": expected true (maejs's kernels), false (tfjs's ops and kernels only) or unset (as switched now)`);
  });

  it('refuses anything but a boolean', async () => {
    await expect(useMaejsKernels('no' as never)).rejects.toThrow("useMaejsKernels: expected true (maejs's kernels on) or false (tfjs ops and kernels only), got no");
  });
});

describe('MAEJS_KERNELS', () => {
  it('off starts a process with the kernels switched off; on, empty or unset, with them on', () => {
    expect(kernelsSwitchFrom('off')).toBe(false);
    expect([kernelsSwitchFrom('on'), kernelsSwitchFrom(''), kernelsSwitchFrom(undefined)]).toEqual([true, true, true]);
  });

  it('refuses another value, naming the variable and the choices', () => {
    expect(() => kernelsSwitchFrom('0')).toThrow("MAEJS_KERNELS is '0': expected 'on' (maejs's kernels, the default) or 'off' (tfjs's ops and kernels only)");
  });
});
