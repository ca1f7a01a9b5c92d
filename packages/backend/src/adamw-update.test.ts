import * as tf from '@tensorflow/tfjs-core';
import { adamwUpdate, adamwUpdateMany, countDeviceWork, initBackend, prng } from '@maejs/backend';
import { registerAdamWKernel } from './adamw-update.js';

const random = (n: number, seed: number, scale = 1) => {
  const next = prng(seed);
  return tf.tensor(Float32Array.from({ length: n }, () => (next() * 2 - 1) * scale), [n / 4, 4]);
};

describe.each(['cpu', 'wasm'])('adamwUpdate on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend as 'cpu' | 'wasm');
  });

  it.each([
    ['with weight decay, step 1', { decayFactor: 1 - 1e-3 * 0.05, stepSize: 1e-3 / (1 - 0.9), bc2Sqrt: Math.sqrt(1 - 0.95), b1: 0.9, b2: 0.95, eps: 1e-8 }],
    ['no decay, step 7', { decayFactor: 1, stepSize: 3e-4 / (1 - 0.9 ** 7), bc2Sqrt: Math.sqrt(1 - 0.95 ** 7), b1: 0.9, b2: 0.95, eps: 1e-8 }],
  ])('the fused kernel gives the bits of the op-by-op form (%s)', async (_, scalars) => {
    const [p, g, m, v] = [random(4096, 1), random(4096, 2, 0.01), random(4096, 3, 0.001), tf.abs(random(4096, 4, 1e-5))];
    const fused = adamwUpdate(p, g, m, v, scalars);
    tf.unregisterKernel('MaejsAdamWUpdate', backend);
    let ops: tf.Tensor[];
    try {
      ops = adamwUpdate(p, g, m, v, scalars);
    } finally {
      registerAdamWKernel();
    }
    for (let i = 0; i < 3; i++) expect(Array.from(await fused[i].data())).toEqual(Array.from(await ops[i].data()));
    expect(Array.from(await fused[0].data())).not.toEqual(Array.from(await p.data())); // it did update
    tf.dispose([p, g, m, v, ...fused, ...ops]);
  });

  it('names a moment or gradient of the wrong shape or dtype', () => {
    const s = { decayFactor: 1, stepSize: 1, bc2Sqrt: 1, b1: 0.9, b2: 0.95, eps: 1e-8 };
    const p = tf.zeros([2, 3]);
    expect(() => adamwUpdate(p, tf.zeros([3, 2]), tf.zeros([2, 3]), tf.zeros([2, 3]), s)).toThrow("adamwUpdate: g must be float32 with the parameter's shape [2,3], got float32 [3,2]");
    expect(() => adamwUpdate(p, tf.zeros([2, 3]), tf.zeros([2, 3], 'int32'), tf.zeros([2, 3]), s)).toThrow("adamwUpdate: m must be float32 with the parameter's shape [2,3], got int32 [2,3]");
  });
});

describe('adamwUpdateMany', () => {
  const s = { decayFactor: 1 - 1e-3 * 0.05, stepSize: 1e-3 / (1 - 0.9 ** 3), bc2Sqrt: Math.sqrt(1 - 0.95 ** 3), b1: 0.9, b2: 0.95, eps: 1e-8 };
  const shapes = [[8, 4], [4], [2, 3, 4], [1]];
  const params = () =>
    shapes.map((shape, i) => {
      const n = shape.reduce((a, b) => a * b, 1);
      const make = (seed: number, scale: number) => {
        const next = prng(seed);
        return tf.tensor(Float32Array.from({ length: n }, () => (next() * 2 - 1) * scale), shape);
      };
      return { p: make(10 + i, 1), g: make(20 + i, 0.01), m: make(30 + i, 0.001), v: tf.abs(make(40 + i, 1e-5)) };
    });

  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('without the fused kernel, updates all parameters with one set of ops and gives the fused kernel\'s bits', async () => {
    const inputs = params();
    const fused = adamwUpdateMany(inputs, s); // cpu: the fused kernel, one call per parameter
    tf.unregisterKernel('MaejsAdamWUpdate', 'cpu');
    let flat: Array<[tf.Tensor, tf.Tensor, tf.Tensor]>;
    let kernels: number;
    let perParameter: number;
    try {
      const counted = await countDeviceWork(() => adamwUpdateMany(inputs, s));
      flat = counted.result;
      kernels = counted.counts.kernels;
      perParameter = (await countDeviceWork(() => tf.dispose(inputs.map(({ p, g, m, v }) => adamwUpdate(p, g, m, v, s)).flat()))).counts.kernels;
    } finally {
      registerAdamWKernel();
    }
    // Op form per parameter: 14 kernels each (56); flat: 4 concats, 14 ops, 3 splits (+ reshapes, which dispatch nothing on a GPU).
    expect(perParameter).toBe(56);
    expect(kernels - 7 * inputs.length).toBe(21); // 4 reshapes in and 3 out per parameter
    for (let i = 0; i < inputs.length; i++) {
      for (let k = 0; k < 3; k++) {
        expect(flat[i][k].shape).toEqual(shapes[i]);
        expect(Array.from(await flat[i][k].data())).toEqual(Array.from(await fused[i][k].data()));
      }
    }
    tf.dispose([...inputs.flatMap((t) => Object.values(t)), ...fused.flat(), ...flat.flat()]);
  });

  it('names the parameter whose tensors do not match', () => {
    tf.unregisterKernel('MaejsAdamWUpdate', 'cpu');
    try {
      const good = { p: tf.zeros([2]), g: tf.zeros([2]), m: tf.zeros([2]), v: tf.zeros([2]) };
      expect(() => adamwUpdateMany([good, { ...good, v: tf.zeros([3]) }], s)).toThrow("adamwUpdateMany: parameter 1: v must be float32 with the parameter's shape [2], got float32 [3]");
    } finally {
      registerAdamWKernel();
    }
  });
});
