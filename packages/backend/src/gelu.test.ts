import * as tf from '@tensorflow/tfjs-core';
import { countDeviceWork, GELU_KERNELS, geluBackward, geluForward, initBackend, registeredMaejsKernels } from '@maejs/backend';
import { Rng } from '@maejs/random';

const values = (n: number, seed: number, scale: number) => {
  return new Rng(seed).fillUniform(new Float32Array(n), -scale, scale);
};

/** GELU by tfjs ops (the path of backends without the kernels), on the cpu backend. */
async function reference(x: Float32Array, dy: Float32Array): Promise<Float32Array[]> {
  await initBackend('cpu');
  const [y, cdf] = geluForward(tf.tensor(x));
  const dx = geluBackward(tf.tensor(x), cdf, tf.tensor(dy));
  const out = [await y.data(), await cdf.data(), await dx.data()] as Float32Array[];
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

  it('are installed by initBackend', () => {
    expect(tf.getKernel(GELU_KERNELS.forward, 'wasm')).toBeDefined();
    expect(tf.getKernel(GELU_KERNELS.backward, 'wasm')).toBeDefined();
  });

  it.each([
    [100003, 6],
    [7, 1],
    [1, 3],
  ])('agree with the tfjs-op form within 5e-7 (%i values in +-%i, odd lengths included)', async (n, scale) => {
    const [x, dy] = [values(n, n, scale), values(n, n + 1, 1)];
    x[0] = 0;
    if (n > 4) [x[1], x[2], x[3]] = [-40, 40, 1e-20];
    const [y, cdf] = geluForward(tf.tensor(x));
    const dx = geluBackward(tf.tensor(x), cdf, tf.tensor(dy));
    const [yRef, cdfRef, dxRef] = await reference(x, dy);
    expect(maxAbsDiff(await y.data(), yRef)).toBeLessThan(5e-7 * scale);
    expect(maxAbsDiff(await cdf.data(), cdfRef)).toBeLessThan(5e-7);
    expect(maxAbsDiff(await dx.data(), dxRef)).toBeLessThan(5e-7 * scale);
    if (n > 4) expect(Array.from((await y.data()).slice(0, 3))).toEqual([0, -0, 40]);
    tf.dispose([y, cdf, dx]);
  });

  it('handles empty tensors and keeps the tensor count flat', () => {
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const [y] = geluForward(tf.zeros([0, 3]));
      expect(y.shape).toEqual([0, 3]);
      geluBackward(tf.ones([5]), tf.ones([5]), tf.ones([5]));
    });
    expect(tf.memory().numTensors).toBe(before);
  });

  it('refuses a non-float input or a cdf/dy of another shape', () => {
    expect(() => geluForward(tf.tensor1d([1, 2], 'int32'))).toThrow('geluForward: x must be float32, got int32');
    expect(() => geluBackward(tf.ones([2, 3]), tf.ones([3, 2]), tf.ones([2, 3]))).toThrow("geluBackward: cdf must be float32 with x's shape [2,3], got float32 [3,2]");
    expect(() => geluBackward(tf.ones([2]), tf.ones([2]), tf.ones([2], 'int32'))).toThrow("geluBackward: dy must be float32 with x's shape [2], got int32 [2]");
  });
});

describe('GELU kernels elsewhere (cpu)', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('run as op-level kernels: 5 tfjs kernels forward, 7 backward', async () => {
    const x = tf.linspace(-6, 6, 121);
    const { result: [y, cdf], counts: forward } = await countDeviceWork(() => geluForward(x));
    const { result: dx, counts: backward } = await countDeviceWork(() => geluBackward(x, cdf, y));
    expect([forward.kernels, backward.kernels]).toEqual([5, 7]);
    expect(registeredMaejsKernels('cpu')).not.toContain(GELU_KERNELS.forward);
    tf.dispose([x, y, cdf, dx]);
  });
});
