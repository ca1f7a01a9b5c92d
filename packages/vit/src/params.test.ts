import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@maejs/backend';
import { Rng, seedFor } from '@maejs/random';
import { Linear, ParamRegistry, tokenInit, ViTEncoder, xavierUniform, type ViTEncoderOptions } from './index.js';

const OPTIONS: ViTEncoderOptions = { imgSize: 8, patchSize: 4, inChans: 2, embedDim: 8, depth: 2, numHeads: 2, mlpRatio: 4, layerNormEps: 1e-6 };

/** Every parameter's values, by name. */
function valuesOf(params: ParamRegistry): Map<string, Float32Array> {
  return new Map(params.entries().map(([name, p]) => [name, p.variable.dataSync() as Float32Array]));
}

function meanAndVariance(x: Float32Array): { mean: number; variance: number } {
  const mean = x.reduce((s, v) => s + v, 0) / x.length;
  return { mean, variance: x.reduce((s, v) => s + (v - mean) ** 2, 0) / x.length };
}

describe('initialisation', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it('xavierUniform draws U(-a, a), a = sqrt(6 / (fanIn + fanOut)), from Rng(seed)', () => {
    const w = xavierUniform([256, 128], 11);
    const values = w.dataSync() as Float32Array;
    const a = Math.sqrt(6 / (256 + 128));
    expect(w.shape).toEqual([256, 128]);
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(a);
    const { mean, variance } = meanAndVariance(values);
    // 32768 draws: the mean's standard error is a / sqrt(3 * 32768) ~ 4e-4, the variance's ~0.5%.
    expect(Math.abs(mean)).toBeLessThan(0.002);
    expect(Math.abs(variance / (a * a / 3) - 1)).toBeLessThan(0.03);
    expect(values).toEqual(new Rng(11).fillUniform(new Float32Array(256 * 128), -a, a));
    w.dispose();
  });

  it('tokenInit draws N(0, 0.02^2) from Rng(seed)', () => {
    const t = tokenInit([1, 1, 8192], 5);
    const values = t.dataSync() as Float32Array;
    expect(t.shape).toEqual([1, 1, 8192]);
    const { mean, variance } = meanAndVariance(values);
    expect(Math.abs(mean)).toBeLessThan(0.001); // standard error 0.02 / sqrt(8192) ~ 2.2e-4
    expect(Math.abs(Math.sqrt(variance) / 0.02 - 1)).toBeLessThan(0.03);
    expect(values).toEqual(new Rng(5).fillNormal(new Float32Array(8192), 0, 0.02));
    t.dispose();
  });

  it('seeds each Linear weight from (model seed, name); biases start at zero', () => {
    const params = new ParamRegistry(3);
    expect(params.initSeed('blocks.0.attn.qkv.weight')).toBe(seedFor(3, 'blocks.0.attn.qkv.weight'));
    const fc = new Linear(params, 'head', 4, 6);
    const expected = xavierUniform([4, 6], seedFor(3, 'head.weight'));
    expect(fc.weight.dataSync()).toEqual(expected.dataSync());
    expect(Array.from(fc.bias.dataSync())).toEqual([0, 0, 0, 0, 0, 0]);
    expected.dispose();
    params.dispose();
  });

  it("gives a parameter the same values whatever else the model holds, and another seed's block never equals a shifted block", () => {
    const deep = new ParamRegistry(0);
    new ViTEncoder(deep, { ...OPTIONS, depth: 3 });
    const shallow = new ParamRegistry(0);
    new ViTEncoder(shallow, OPTIONS);
    const deepValues = valuesOf(deep);
    for (const [name, values] of valuesOf(shallow)) expect([name, deepValues.get(name)]).toEqual([name, values]);

    // A per-parameter counter (seed + k, 4 random weights a block) made seed 4's block 0 equal seed 0's block 1.
    const shifted = new ParamRegistry(4);
    new ViTEncoder(shifted, OPTIONS);
    const shiftedValues = valuesOf(shifted);
    for (const layer of ['attn.qkv', 'attn.proj', 'mlp.fc1', 'mlp.fc2']) {
      expect(shiftedValues.get(`blocks.0.${layer}.weight`)).not.toEqual(deepValues.get(`blocks.1.${layer}.weight`));
    }
    expect(shiftedValues.get('cls_token')).not.toEqual(deepValues.get('cls_token'));
    for (const p of [deep, shallow, shifted]) p.dispose();
  });

  it('refuses a model seed that is not a safe integer', () => {
    expect(() => new ParamRegistry(1.5)).toThrow('ParamRegistry: seed is 1.5: expected a safe integer');
    expect(() => new ParamRegistry(NaN)).toThrow('ParamRegistry: seed is NaN: expected a safe integer');
  });
});

afterAll(() => {
  expect(tf.memory().numTensors).toBe(0);
});
