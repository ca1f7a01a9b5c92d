import * as tf from '@tensorflow/tfjs-core';
import { describeEachBackend, expectClose } from '../../../testing/backends.js';
import { attentionF64, fixedMatrix, layerNormF64, linearF64, type Matrix } from '../../../testing/reference-f64.js';
import { Attention, Block, LayerNorm, Linear, Mlp, ParamRegistry } from './index.js';

const set = (v: tf.Variable, values: number[] | Matrix) => v.assign(tf.tensor(values, v.shape));

describeEachBackend('vit layers', () => {
  let params: ParamRegistry;
  beforeEach(() => {
    params = new ParamRegistry(7);
  });
  afterEach(() => params.dispose());

  it('Linear maps [..., in] to [..., out] as x W + b', () => {
    const fc = new Linear(params, 'fc', 4, 3);
    const w = fixedMatrix(4, 3, 1);
    const b = [0.5, -1, 2];
    set(fc.weight, w);
    set(fc.bias, b);
    const x = fixedMatrix(6, 4, 2, 3);
    const y = fc.apply(tf.tensor3d([x.slice(0, 3), x.slice(3)]));
    expect(y.shape).toEqual([2, 3, 3]);
    expectClose('linear', y.dataSync(), linearF64(x, w, b).flat(), 1e-6, 1e-5);
  });

  it('LayerNorm uses the biased variance and applies weight and bias (hand-computed)', () => {
    const ln = new LayerNorm(params, 'ln', 4, 1e-6);
    set(ln.weight, [1, 2, 1, 0.5]);
    set(ln.bias, [0, 0, 1, 0]);
    // [1, 2, 3, 6]: mean 3, biased variance (4 + 1 + 0 + 9) / 4 = 3.5
    const s = Math.sqrt(3.5 + 1e-6);
    const y = ln.apply(tf.tensor2d([[1, 2, 3, 6]]));
    expectClose('layer norm', y.dataSync(), [-2 / s, (2 * -1) / s, 0 + 1, (0.5 * 3) / s], 1e-6, 1e-5);
  });

  it('Mlp is fc2(GELU(fc1(x))) with the exact (erf) GELU (hand-computed)', () => {
    const mlp = new Mlp(params, 'mlp', 1, 3);
    set(mlp.fc1.weight, [[1, -1, 2]]);
    set(mlp.fc1.bias, [0, 0, 0]);
    set(mlp.fc2.weight, [[1], [1], [1]]);
    set(mlp.fc2.bias, [0.25]);
    // GELU(z) = z * Phi(z): Phi(1) = 0.8413447460685429, Phi(-1) = 0.15865525393145707, Phi(2) = 0.9772498680518208
    const expected = 0.8413447460685429 - 0.15865525393145707 + 2 * 0.9772498680518208 + 0.25;
    expectClose('mlp', mlp.apply(tf.tensor2d([[1]])).dataSync(), [expected], 1e-6, 1e-5);
  });

  it('Attention matches a float64 multi-head attention ([q | k | v] columns, contiguous heads)', () => {
    const attn = new Attention(params, 'attn', 4, 2);
    const wQkv = fixedMatrix(4, 12, 3);
    const bQkv = fixedMatrix(1, 12, 4, 0.5)[0];
    const wProj = fixedMatrix(4, 4, 5);
    const bProj = fixedMatrix(1, 4, 6, 0.5)[0];
    set(attn.qkv.weight, wQkv);
    set(attn.qkv.bias, bQkv);
    set(attn.proj.weight, wProj);
    set(attn.proj.bias, bProj);
    const seqs = [fixedMatrix(3, 4, 8, 2), fixedMatrix(3, 4, 9, 2)];
    const y = attn.apply(tf.tensor3d(seqs));
    expect(y.shape).toEqual([2, 3, 4]);
    expectClose('attention', y.dataSync(), seqs.flatMap((x) => attentionF64(x, wQkv, bQkv, wProj, bProj, 2).flat()), 1e-5, 1e-4);
  });

  it('Block is x + attn(norm1(x)), then h + mlp(norm2(h))', () => {
    const block = new Block(params, 'b', { dim: 4, numHeads: 2, mlpRatio: 2, layerNormEps: 1e-6 });
    expect(block.mlp.fc1.weight.shape).toEqual([4, 8]); // hidden = trunc(4 * 2)
    const names = ['qkv', 'proj'] as const;
    const w = { qkv: fixedMatrix(4, 12, 10), proj: fixedMatrix(4, 4, 11) };
    const b = { qkv: fixedMatrix(1, 12, 12, 0.5)[0], proj: fixedMatrix(1, 4, 13, 0.5)[0] };
    for (const n of names) {
      set(block.attn[n].weight, w[n]);
      set(block.attn[n].bias, b[n]);
    }
    // The MLP adds only fc2's bias: fc2's weight is zero.
    set(block.mlp.fc2.weight, fixedMatrix(8, 4, 0, 0));
    set(block.mlp.fc2.bias, [1, -1, 0.5, 0]);
    const x = fixedMatrix(3, 4, 14, 2);
    const y = block.apply(tf.tensor3d([x]));
    const normed = layerNormF64(x, [1, 1, 1, 1], [0, 0, 0, 0], 1e-6);
    const h = attentionF64(normed, w.qkv, b.qkv, w.proj, b.proj, 2).map((r, i) => r.map((v, j) => v + x[i][j]));
    expectClose('block', y.dataSync(), h.flatMap((r) => r.map((v, j) => v + [1, -1, 0.5, 0][j])), 1e-5, 1e-4);
  });

  it('rejects inputs and sizes that do not fit, naming the layer and what was expected', () => {
    const fc = new Linear(params, 'head', 4, 3);
    expect(() => fc.apply(tf.zeros([2, 5]))).toThrow("Linear 'head': input has shape [2,5], expected [..., 4] (last axis = features)");
    const ln = new LayerNorm(params, 'norm', 4, 1e-6);
    expect(() => ln.apply(tf.zeros([2, 3]))).toThrow("LayerNorm 'norm': input has shape [2,3], expected [..., 4] (last axis = features)");
    const attn = new Attention(params, 'attn', 4, 2);
    expect(() => attn.apply(tf.zeros([3, 4]))).toThrow("Attention 'attn': input has shape [3,4], expected [B, T, 4]");
    expect(() => new Attention(params, 'a6', 6, 4)).toThrow("Attention 'a6': dim is 6: expected a multiple of numHeads 4 (dim = numHeads * headDim)");
    expect(() => new Attention(params, 'a0', 4, 0)).toThrow("Attention 'a0': numHeads is 0: expected an integer >= 1");
    expect(() => new Linear(params, 'half', 2.5, 3)).toThrow("Linear 'half': inDim is 2.5: expected an integer >= 1");
    expect(() => new LayerNorm(params, 'ln0', 4, 0)).toThrow("LayerNorm 'ln0': eps is 0: expected a finite number > 0");
    expect(() => new LayerNorm(params, 'lnd', 0, 1e-6)).toThrow("LayerNorm 'lnd': dim is 0: expected an integer >= 1");
  });
});
