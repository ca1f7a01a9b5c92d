import * as tf from '@tensorflow/tfjs-core';
import { randomMasking } from '@maejs/masking';
import { LayerNorm, ParamRegistry } from '@maejs/vit';
import { describeEachBackend, expectClose } from '../../../testing/backends.js';
import { tinyGray } from '../../../testing/golden.js';
import { fixedMatrix, layerNormF64, type Matrix } from '../../../testing/reference-f64.js';
import { FEATURE_POOLINGS, MaskedAutoencoder, poolTokens } from './index.js';

// Golden README tolerances (float32).
const ATOL = 1e-5;
const RTOL = 1e-4;

/** [N, T, D] float32 tensor -> N matrices [T][D] of float64 numbers. */
function matrices(t: tf.Tensor3D): Matrix[] {
  return t.arraySync();
}

/** Column means of rows [T][D] -> [D], in float64. */
function meanRowsF64(rows: Matrix): number[] {
  return rows[0].map((_, k) => rows.reduce((s, row) => s + row[k], 0) / rows.length);
}

const ones = (d: number) => new Array<number>(d).fill(1);
const zeros = (d: number) => new Array<number>(d).fill(0);

describeEachBackend('feature pooling', () => {
  const { config } = tinyGray.readCase();
  const d = config.embedDim;
  let model: MaskedAutoencoder;
  let images: tf.Tensor4D; // [3, 28, 28, 1]
  let normWeight: number[];
  let normBias: number[];

  beforeAll(() => {
    model = new MaskedAutoencoder(config);
    model.loadStateDict(tinyGray.stateFromSafetensors());
    images = tinyGray.images();
    // A final norm that is not the identity, so that a pooling that wrongly applies it shows.
    normWeight = fixedMatrix(1, d, 11, 0.5)[0].map((v) => 1 + v);
    normBias = fixedMatrix(1, d, 12, 0.3)[0];
  });
  afterAll(() => {
    model.dispose();
    images.dispose();
  });

  it('forwardBlocks is the official encoder before its final norm: norm of it on the masked tokens is the golden latent', () => {
    const noise = tinyGray.noise();
    const blocksOut = tf.tidy(() => model.encoder.forwardBlocks(randomMasking(model.encoder.embed(images), config.maskRatio, noise).kept)); // [3, 13, 64]
    const state = tinyGray.stateFromSafetensors();
    const [g, b] = [state.get('norm.weight')!, state.get('norm.bias')!].map((t) => Array.from(t.data));
    const normed = matrices(blocksOut).map((tokens) => layerNormF64(tokens, g, b, config.layerNormEps));
    const golden = tinyGray.npy('latent.npy');
    expect([normed.length, normed[0].length, d]).toEqual(golden.shape);
    expectClose('norm(forwardBlocks) vs official latent', normed.flat(2), golden.data, ATOL, RTOL);
    tf.dispose([noise, blocksOut]);
  });

  describe('on unmasked images, against float64 references from the last block output', () => {
    let blocks: Matrix[]; // N x [1+L][D], before the final norm
    beforeAll(() => {
      model.encoder.norm.weight.assign(tf.tensor1d(normWeight));
      model.encoder.norm.bias.assign(tf.tensor1d(normBias));
      const out = tf.tidy(() => model.encoder.forwardBlocks(model.encoder.embed(images))); // [3, 50, 64]
      blocks = matrices(out);
      out.dispose();
    });

    /** Official global_pool: fc_norm (weight 1, bias 0, eps 1e-6) of the mean of the patch tokens, no final norm. */
    const meanRef = () => layerNormF64(blocks.map((tokens) => meanRowsF64(tokens.slice(1))), ones(d), zeros(d), 1e-6);
    /** Mean of the patch tokens after the final norm. */
    const meanNormRef = () => blocks.map((tokens) => meanRowsF64(layerNormF64(tokens.slice(1), normWeight, normBias, 1e-6)));
    /** The cls token after the final norm. */
    const clsRef = () => blocks.map((tokens) => layerNormF64([tokens[0]], normWeight, normBias, 1e-6)[0]);

    it.each([
      ['mean', meanRef],
      ['mean-norm', meanNormRef],
      ['cls', clsRef],
    ] as const)("features(images, '%s') equals its float64 reference, and leaves no tensors", (pooling, reference) => {
      const before = tf.memory().numTensors;
      const features = model.features(images, pooling);
      expect(features.shape).toEqual([3, d]);
      expectClose(`${pooling} features`, features.dataSync(), reference().flat(), ATOL, RTOL);
      features.dispose();
      expect(tf.memory().numTensors).toBe(before);
    });

    it("'mean' and 'mean-norm' differ: 'mean' rows are normalised (mean 0, variance 1), the mean of normed tokens is not", () => {
      const mean = model.features(images, 'mean');
      const meanNorm = model.features(images, 'mean-norm');
      const gap = tf.tidy(() => tf.max(tf.abs(tf.sub(mean, meanNorm))).dataSync()[0]);
      expect(gap).toBeGreaterThan(0.5);
      const rowStats = (t: tf.Tensor2D) => (t.arraySync() as Matrix).map((row) => {
        const m = row.reduce((s, v) => s + v, 0) / d;
        return { mean: m, variance: row.reduce((s, v) => s + (v - m) ** 2, 0) / d };
      });
      for (const { mean: m, variance } of rowStats(mean)) {
        expect(Math.abs(m)).toBeLessThan(1e-5);
        expect(Math.abs(variance - 1)).toBeLessThan(1e-3);
      }
      for (const { variance } of rowStats(meanNorm)) expect(Math.abs(variance - 1)).toBeGreaterThan(0.05);
      tf.dispose([mean, meanNorm]);
    });
  });

  it("poolTokens 'mean' applies a given fc_norm's weight and bias (a fine-tuned classifier's)", () => {
    const params = new ParamRegistry(0);
    const fcNorm = new LayerNorm(params, 'fc_norm', 4, 1e-6);
    const [g, b] = [fixedMatrix(1, 4, 21)[0], fixedMatrix(1, 4, 22)[0]];
    fcNorm.weight.assign(tf.tensor1d(g));
    fcNorm.bias.assign(tf.tensor1d(b));
    const tokens = [fixedMatrix(3, 4, 23), fixedMatrix(3, 4, 24)]; // 2 images, cls + 2 patch tokens
    const pooled = tf.tidy(() => poolTokens(tf.tensor3d(tokens), model.encoder.norm, 'mean', fcNorm));
    const expected = layerNormF64(tokens.map((t) => meanRowsF64(t.slice(1))), g, b, 1e-6);
    expectClose('fc_norm of the mean', pooled.dataSync(), expected.flat(), ATOL, RTOL);
    pooled.dispose();
    params.dispose();
  });

  it('refuses an unknown pooling, naming it and the choices', () => {
    expect(FEATURE_POOLINGS).toEqual(['cls', 'mean', 'mean-norm']);
    expect(() => model.features(images, 'max' as never)).toThrow('MaskedAutoencoder.features: pooling is "max": expected one of "cls", "mean", "mean-norm"');
    expect(() => tf.dispose(model.features(images, undefined as never))).not.toThrow(); // the default, 'cls'
  });
});
