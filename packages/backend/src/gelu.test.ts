import * as tf from '@tensorflow/tfjs-core';
import { countDeviceWork, gelu, GELU_KERNELS, geluGrad, initBackend, registeredMaejsKernels } from '@maejs/backend';
import { Rng } from '@maejs/random';

const values = (n: number, seed: number, scale: number) => {
  return new Rng(seed).fillUniform(new Float32Array(n), -scale, scale);
};

/** GELU and its gradient on the cpu backend, which runs them as op-level kernels (tfjs ops). */
async function reference(x: Float32Array, dy: Float32Array): Promise<Float32Array[]> {
  await initBackend('cpu');
  const y = gelu(tf.tensor(x));
  const dx = geluGrad(tf.tensor(x), tf.tensor(dy));
  const out = [await y.data(), await dx.data()] as Float32Array[];
  await initBackend('wasm');
  return out;
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let worst = 0;
  for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
  return worst;
};

describe('GELU kernels on wasm', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('are installed by initBackend as backend kernels of wasm only', () => {
    expect(registeredMaejsKernels('wasm')).toEqual(expect.arrayContaining([GELU_KERNELS.forward, GELU_KERNELS.backward]));
    expect(registeredMaejsKernels('cpu')).not.toContain(GELU_KERNELS.forward);
  });

  it.each([
    [100003, 6],
    [7, 1],
    [1, 3],
  ])('agree with the op-level kernels within 5e-7 (%i values in +-%i, odd lengths included)', async (n, scale) => {
    const [x, dy] = [values(n, n, scale), values(n, n + 1, 1)];
    x[0] = 0;
    if (n > 4) [x[1], x[2], x[3]] = [-40, 40, 1e-20];
    const y = gelu(tf.tensor(x));
    const dx = geluGrad(tf.tensor(x), tf.tensor(dy));
    const [yRef, dxRef] = await reference(x, dy);
    expect(maxAbsDiff(await y.data(), yRef)).toBeLessThan(5e-7 * scale);
    expect(maxAbsDiff(await dx.data(), dxRef)).toBeLessThan(5e-7 * scale);
    if (n > 4) expect(Array.from((await y.data()).slice(0, 3))).toEqual([0, -0, 40]);
    tf.dispose([y, dx]);
  });

  it('the registered gradient runs MaejsGeluGrad: tf.grad gives geluGrad(x, dy), one kernel each way', async () => {
    const x = tf.tensor(values(1001, 5, 4));
    const dy = tf.tensor(values(1001, 6, 1));
    const { result: dx, counts } = await countDeviceWork(() => tf.grad((a: tf.Tensor) => gelu(a))(x, dy));
    const direct = geluGrad(x, dy);
    expect(Array.from(await dx.data())).toEqual(Array.from(await direct.data()));
    expect(counts.kernels).toBe(2 + 1); // MaejsGelu, MaejsGeluGrad and the Identity tfjs runs to keep x for the backward pass
    tf.dispose([x, dy, dx, direct]);
  });

  it('handles empty tensors and keeps the tensor count flat through forward and gradient', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      expect(gelu(tf.zeros([0, 3])).shape).toEqual([0, 3]);
      geluGrad(tf.ones([5]), tf.ones([5]));
      tf.grad((a: tf.Tensor) => tf.sum(gelu(a)))(tf.ones([4]));
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a non-float input or a dy of another shape', () => {
    expect(() => gelu(tf.tensor1d([1, 2], 'int32'))).toThrow('gelu: x must be float32, got int32');
    expect(() => geluGrad(tf.tensor1d([1, 2], 'int32'), tf.ones([2]))).toThrow('geluGrad: x must be float32, got int32');
    expect(() => geluGrad(tf.ones([2, 3]), tf.ones([3, 2]))).toThrow("geluGrad: dy must be float32 with x's shape [2,3], got float32 [3,2]");
    expect(() => geluGrad(tf.ones([2]), tf.ones([2], 'int32'))).toThrow("geluGrad: dy must be float32 with x's shape [2], got int32 [2]");
  });
});

describe('GELU as op-level kernels (cpu)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('matches the erf formula and its chain-rule gradient, with 5 kernels forward and 11 for the gradient', async () => {
    const x = tf.linspace(-6, 6, 121);
    const formula = (a: tf.Tensor) => tf.mul(tf.mul(a, 0.5), tf.add(tf.erf(tf.mul(a, Math.SQRT1_2)), 1));
    const { result: y, counts: forward } = await countDeviceWork(() => gelu(x));
    const { result: dx, counts: backward } = await countDeviceWork(() => geluGrad(x, tf.onesLike(x)));
    expect(maxAbsDiff(await y.data(), await formula(x).data())).toBeLessThan(1e-6);
    expect(maxAbsDiff(await dx.data(), await tf.grad(formula)(x).data())).toBeLessThan(1e-5);
    expect(Array.from(await tf.grad((a: tf.Tensor) => gelu(a))(x).data())).toEqual(Array.from(await dx.data()));
    expect([forward.kernels, backward.kernels]).toEqual([5, 11 + 1]); // + the Fill of onesLike
    expect(registeredMaejsKernels('cpu')).not.toContain(GELU_KERNELS.forward);
  });
});
