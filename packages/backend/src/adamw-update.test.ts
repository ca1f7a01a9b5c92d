import * as tf from '@tensorflow/tfjs-core';
import { adamwUpdate, initBackend, installWasmKernels } from '@maejs/backend';
import { Rng } from '@maejs/random';
import { registerAdamWKernel } from './adamw-update.js';

const random = (n: number, seed: number, scale = 1) => {
  return tf.tensor(new Rng(seed).fillUniform(new Float32Array(n), -scale, scale), [n]);
};

describe.each(['cpu', 'wasm'])('adamwUpdate on %s', (backend) => {
  beforeAll(async () => {
    await initBackend(backend as 'cpu' | 'wasm');
  });

  it.each([
    ['with weight decay, step 1', 4096, { decayFactor: 1 - 1e-3 * 0.05, stepSize: 1e-3 / (1 - 0.9), bc2Sqrt: Math.sqrt(1 - 0.95), b1: 0.9, b2: 0.95, eps: 1e-8 }],
    ['no decay, step 7', 4096, { decayFactor: 1, stepSize: 3e-4 / (1 - 0.9 ** 7), bc2Sqrt: Math.sqrt(1 - 0.95 ** 7), b1: 0.9, b2: 0.95, eps: 1e-8 }],
    ['step 3, 1023 values: a length that is not a multiple of 4', 1023, { decayFactor: 1 - 1e-3 * 0.05, stepSize: 1e-3 / (1 - 0.9 ** 3), bc2Sqrt: Math.sqrt(1 - 0.95 ** 3), b1: 0.9, b2: 0.95, eps: 1e-8 }],
  ] as const)('the fused kernel gives the bits of the op-by-op form (%s)', async (_, n, scalars) => {
    const [p, g, m, v] = [random(n, 1), random(n, 2, 0.01), random(n, 3, 0.001), tf.abs(random(n, 4, 1e-5))];
    const fused = adamwUpdate(p, g, m, v, scalars);
    tf.unregisterKernel('MaejsAdamWUpdate', backend);
    let ops: tf.Tensor[];
    try {
      ops = adamwUpdate(p, g, m, v, scalars);
    } finally {
      registerAdamWKernel();
      if (backend === 'wasm') await installWasmKernels();
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
