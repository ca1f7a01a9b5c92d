import * as tf from '@tensorflow/tfjs-core';
import { MaskedAutoencoder, StateDictMismatchError } from './index.js';
import { describeEachBackend } from '../../../testing/backends.js';

const tiny = { imgSize: 8, patchSize: 4, inChans: 2, embedDim: 16, depth: 1, numHeads: 2, decoderEmbedDim: 8, decoderDepth: 1, decoderNumHeads: 2 };

describeEachBackend('MaskedAutoencoder', () => {
  let model: MaskedAutoencoder;
  beforeAll(() => {
    model = new MaskedAutoencoder(tiny, { seed: 1 });
  });
  afterAll(() => model.dispose());

  it('returns outputs of the documented shapes', () => {
    const images = tf.randomNormal([3, 8, 8, 2], 0, 1, 'float32', 3) as tf.Tensor4D;
    const out = model.forward(images, { seed: 5 });
    expect(out.pred.shape).toEqual([3, 4, 32]);
    expect(out.mask.shape).toEqual([3, 4]);
    expect(out.latent.shape).toEqual([3, 2, 16]); // lenKeep = floor(4 * 0.25) = 1, plus cls
    expect(out.idsKeep.shape).toEqual([3, 1]);
    expect(Number.isFinite(out.loss.dataSync()[0])).toBe(true);
    tf.dispose([images, ...Object.values(out)]);
  });

  it('counts its parameters as the official MaskedAutoencoderViT of the same sizes', () => {
    // Counted by hand from the official module list (D = 16, MLP 64, L = 4, patch values 32; D' = 8, MLP 32).
    const block = (d: number, hidden: number) => 2 * d + (d * 3 * d + 3 * d) + (d * d + d) + 2 * d + (d * hidden + hidden) + (hidden * d + d);
    const encoder = 16 /* cls_token */ + 5 * 16 /* pos_embed */ + (32 * 16 + 16) /* patch_embed */ + block(16, 64) + 2 * 16 /* norm */;
    const decoder = 8 /* mask_token */ + 5 * 8 /* decoder_pos_embed */ + (16 * 8 + 8) /* decoder_embed */ + block(8, 32) + 2 * 8 /* decoder_norm */ + (8 * 32 + 32) /* decoder_pred */;
    expect(encoder + decoder).toBe(5296);
    expect(model.params.count()).toBe(5296);
  });

  it('is deterministic for a seed', () => {
    const again = new MaskedAutoencoder(tiny, { seed: 1 });
    const a = model.params.get('blocks.0.attn.qkv.weight').variable.dataSync();
    expect(again.params.get('blocks.0.attn.qkv.weight').variable.dataSync()).toEqual(a);
    again.dispose();
  });

  it.each([
    [[2, 8, 8], /images must be NHWC \[N, 8, 8, 2\], got rank 3 shape \[2,8,8\]/],
    [[2, 12, 12, 2], /images are 12x12, but the model expects 8x8 \(imgSize\)/],
    [[2, 8, 8, 3], /images have 3 channels, but the model expects 2 \(inChans\)/],
  ])('rejects images of shape %j', (shape, message) => {
    const images = tf.zeros(shape as number[]);
    expect(() => model.forward(images as tf.Tensor4D)).toThrow(message);
    images.dispose();
  });

  it('rejects int images and empty batches', () => {
    const ints = tf.zeros([1, 8, 8, 2], 'int32') as tf.Tensor4D;
    expect(() => model.forward(ints)).toThrow(/images must be float32, got int32/);
    const empty = tf.zeros([0, 8, 8, 2]) as tf.Tensor4D;
    expect(() => model.forward(empty)).toThrow(/the batch is empty/);
    tf.dispose([ints, empty]);
  });

  it('rejects a mask ratio outside [0, 1) and noise of the wrong shape', () => {
    const images = tf.zeros([2, 8, 8, 2]) as tf.Tensor4D;
    expect(() => model.forward(images, { maskRatio: 1 })).toThrow('MaskedAutoencoder.forward: maskRatio is 1: expected a number in [0, 1)');
    expect(() => model.forward(images, { maskRatio: NaN })).toThrow('MaskedAutoencoder.forward: maskRatio is NaN: expected a number in [0, 1)');
    const noise = tf.zeros([2, 5]) as tf.Tensor2D;
    expect(() => model.forward(images, { noise })).toThrow(/noise must be \[N, L\] = \[2, 4\], got \[2,5\]/);
    tf.dispose([images, noise]);
  });

  it('leaves no tensors behind after a rejected input', () => {
    const images = tf.zeros([2, 8, 8, 2]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    expect(() => model.forward(images, { noise: tf.zeros([1, 4]) as tf.Tensor2D })).toThrow();
    expect(tf.memory().numTensors).toBe(before + 1); // only the noise tensor made for the call
    images.dispose();
  });

  it('masks nothing at maskRatio 0 and computes features', () => {
    const images = tf.randomNormal([2, 8, 8, 2], 0, 1, 'float32', 4) as tf.Tensor4D;
    const out = model.forward(images, { maskRatio: 0 });
    expect(out.mask.dataSync().every((v) => v === 0)).toBe(true);
    expect(model.features(images, 'cls').shape).toEqual([2, 16]);
    expect(model.features(images, 'mean').shape).toEqual([2, 16]);
    expect(model.features(images, 'mean-norm').shape).toEqual([2, 16]);
    tf.dispose([images, ...Object.values(out)]);
  });

  it('reports every missing, unexpected and misshapen key in one error', async () => {
    const state = await model.stateDict();
    state.delete('norm.weight');
    state.delete('decoder_pred.bias');
    state.set('head.weight', { shape: [10, 16], data: new Float32Array(160) });
    state.set('blocks.0.attn.qkv.weight', { shape: [16, 48], data: new Float32Array(768) });
    let error: unknown;
    try {
      model.loadStateDict(state);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(StateDictMismatchError);
    const message = (error as Error).message;
    expect(message).toMatch(/2 missing, 1 unexpected, 1 wrongly shaped/);
    expect(message).toMatch(/missing key: norm\.weight/);
    expect(message).toMatch(/missing key: decoder_pred\.bias/);
    expect(message).toMatch(/unexpected key: head\.weight/);
    expect(message).toMatch(/wrong shape for blocks\.0\.attn\.qkv\.weight: expected \[48,16\], got \[16,48\]/);
  });
});
