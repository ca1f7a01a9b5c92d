import * as tf from '@tensorflow/tfjs-core';
import { describeEachBackend, expectClose } from '../../../testing/backends.js';
import { fixedMatrix, layerNormF64, type Matrix } from '../../../testing/reference-f64.js';
import { ParamRegistry, PatchEmbed, sincosPosEmbed2d, ViTEncoder, type ViTEncoderOptions } from './index.js';

const options: ViTEncoderOptions = { imgSize: 8, patchSize: 4, inChans: 2, embedDim: 8, depth: 1, numHeads: 2, mlpRatio: 4, layerNormEps: 1e-6 };

/** Random-looking NHWC images [n, s, s, c] as nested arrays. */
function images(n: number, s: number, c: number, seed: number): number[][][][] {
  return Array.from({ length: n }, (_, i) => fixedMatrix(s, s * c, seed + i).map((row) => Array.from({ length: s }, (_, x) => row.slice(x * c, (x + 1) * c))));
}

/**
 * The official Conv2d(C, D, kernel p, stride p) in float64: conv [D][C][p][p] (PyTorch layout),
 * tokens in row-major patch order. Returns [n][L][D].
 */
function patchConvF64(imgs: number[][][][], conv: number[][][][], bias: number[], p: number): Matrix[] {
  const grid = imgs[0].length / p;
  return imgs.map((img) => {
    const tokens: Matrix = [];
    for (let r = 0; r < grid; r++) {
      for (let col = 0; col < grid; col++) {
        tokens.push(conv.map((kernel, d) => {
          let s = bias[d];
          kernel.forEach((plane, c) => plane.forEach((krow, py) => krow.forEach((k, px) => { s += k * img[r * p + py][col * p + px][c]; })));
          return s;
        }));
      }
    }
    return tokens;
  });
}

describeEachBackend('ViTEncoder', () => {
  let params: ParamRegistry;
  beforeEach(() => {
    params = new ParamRegistry(3);
  });
  afterEach(() => params.dispose());

  it('gives tokens of the documented shapes', () => {
    const encoder = new ViTEncoder(params, options);
    expect(encoder.numPatches).toBe(4);
    expect(encoder.posEmbed.shape).toEqual([1, 5, 8]);
    const x = tf.tensor4d(images(3, 8, 2, 1));
    expect(encoder.embed(x).shape).toEqual([3, 4, 8]);
    expect(encoder.apply(x).shape).toEqual([3, 5, 8]);
    expect(encoder.encodeTokens(tf.zeros([3, 1, 8]) as tf.Tensor3D).shape).toEqual([3, 2, 8]); // one visible token plus cls
  });

  it('PatchEmbed equals the official stride-p convolution (conv weight [D, C, p, p] in the (p, q, c) layout)', () => {
    const p = 2;
    const c = 3;
    const d = 5;
    const embed = new PatchEmbed(params, p, c, d);
    const conv = Array.from({ length: d }, (_, o) => Array.from({ length: c }, (_, ch) => fixedMatrix(p, p, 100 + o * c + ch)));
    const bias = fixedMatrix(1, d, 99)[0];
    // maejs row (py * p + px) * C + c holds conv[d][c][py][px].
    const weight: Matrix = Array.from({ length: p * p * c }, (_, row) => {
      const ch = row % c;
      const px = Math.floor(row / c) % p;
      const py = Math.floor(row / (c * p));
      return conv.map((kernel) => kernel[ch][py][px]);
    });
    embed.weight.assign(tf.tensor2d(weight));
    embed.bias.assign(tf.tensor1d(bias));
    const imgs = images(2, 4, c, 20);
    const y = embed.apply(tf.tensor4d(imgs));
    expect(y.shape).toEqual([2, 4, d]);
    expectClose('patch embed', y.dataSync(), patchConvF64(imgs, conv, bias, p).flat(2), 1e-5, 1e-4);
  });

  it('with no blocks is LayerNorm(concat(cls + pos[0], patch tokens + pos[1:])) (float64 reference)', () => {
    const encoder = new ViTEncoder(params, { ...options, depth: 0 });
    const imgs = images(2, 8, 2, 40);
    const y = encoder.apply(tf.tensor4d(imgs));
    const w = encoder.patchEmbed.weight.arraySync() as Matrix;
    const conv = Array.from({ length: 8 }, (_, o) => Array.from({ length: 2 }, (_, ch) => Array.from({ length: 4 }, (_, py) => Array.from({ length: 4 }, (_, px) => w[(py * 4 + px) * 2 + ch][o]))));
    const pos = sincosPosEmbed2d(8, 2, true);
    const cls = Array.from(encoder.clsToken.dataSync());
    const expected = patchConvF64(imgs, conv, new Array(8).fill(0), 4).map((tokens) => {
      const seq = [cls, ...tokens].map((row, t) => row.map((v, k) => v + pos[t * 8 + k]));
      return layerNormF64(seq, new Array(8).fill(1), new Array(8).fill(0), 1e-6);
    });
    expectClose('encoder', y.dataSync(), expected.flat(2), 1e-5, 1e-4);
  });

  it('forwardBlocks with no blocks is concat(cls + pos[0], tokens), without the final norm', () => {
    const encoder = new ViTEncoder(params, { ...options, depth: 0 });
    encoder.norm.weight.assign(tf.fill([8], 3)); // a norm that forwardBlocks must not apply
    const tokens = fixedMatrix(2, 8, 50); // T = 2 visible tokens of one image
    const y = encoder.forwardBlocks(tf.tensor3d([tokens]));
    const pos0 = sincosPosEmbed2d(8, 2, true).slice(0, 8);
    const cls = Array.from(encoder.clsToken.dataSync()).map((v, k) => v + pos0[k]);
    expect(y.shape).toEqual([1, 3, 8]);
    expectClose('forwardBlocks', y.dataSync(), [cls, ...tokens].flat(), 1e-6, 1e-6);
  });

  it('rejects sizes and images that do not fit, naming the value and what was expected', () => {
    expect(() => new ViTEncoder(params, { ...options, imgSize: 10 })).toThrow('ViTEncoder: imgSize is 10: expected a multiple of patchSize 4 (a whole grid of patches)');
    expect(() => new ViTEncoder(new ParamRegistry(), { ...options, patchSize: 0 })).toThrow('ViTEncoder: patchSize is 0: expected an integer >= 1');
    expect(() => new ViTEncoder(new ParamRegistry(), { ...options, depth: -1 })).toThrow('ViTEncoder: depth is -1: expected an integer >= 0');
    expect(() => new ViTEncoder(new ParamRegistry(), { ...options, embedDim: 6, numHeads: 3 })).toThrow('sincosPosEmbed2d: embedDim is 6: expected a multiple of 4 (2-D sin-cos position embedding)');
    expect(() => new ViTEncoder(new ParamRegistry(), { ...options, numHeads: 3 })).toThrow("Attention 'blocks.0.attn': dim is 8: expected a multiple of numHeads 3");
    const encoder = new ViTEncoder(new ParamRegistry(), options);
    expect(() => encoder.apply(tf.zeros([2, 8, 8]) as unknown as tf.Tensor4D)).toThrow('images must be NHWC [N, 8, 8, 2], got rank 3 shape [2,8,8]');
    expect(() => encoder.apply(tf.zeros([2, 12, 12, 2]) as tf.Tensor4D)).toThrow('images are 12x12, but the model expects 8x8 (imgSize)');
    expect(() => encoder.apply(tf.zeros([2, 8, 8, 3]) as tf.Tensor4D)).toThrow('images have 3 channels, but the model expects 2 (inChans); images are NHWC');
    expect(() => encoder.apply(tf.zeros([2, 8, 8, 2], 'int32') as tf.Tensor4D)).toThrow('images must be float32, got int32');
    expect(() => encoder.apply(tf.zeros([0, 8, 8, 2]) as tf.Tensor4D)).toThrow('images: the batch is empty');
    expect(() => encoder.encodeTokens(tf.zeros([2, 3, 16]) as tf.Tensor3D)).toThrow('ViTEncoder.encodeTokens: tokens have shape [2,3,16], expected [N, T, 8]');
    expect(() => encoder.forwardBlocks(tf.zeros([2, 3, 16]) as tf.Tensor3D)).toThrow('ViTEncoder.forwardBlocks: tokens have shape [2,3,16], expected [N, T, 8]');
  });
});
