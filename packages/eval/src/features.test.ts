import * as tf from '@tensorflow/tfjs-core';
import { FEATURE_POOLINGS, MaskedAutoencoder } from '@maejs/mae';
import { describeEachBackend, expectClose } from '../../../testing/backends.js';
import { extractFeatures } from './features.js';
import { halfImages } from './test-utils/synthetic.js';

const tinyConfig = { imgSize: 8, patchSize: 4, inChans: 1, embedDim: 16, depth: 2, numHeads: 2, decoderEmbedDim: 8, decoderDepth: 1, decoderNumHeads: 2 };

describeEachBackend('extractFeatures', () => {
  let model: MaskedAutoencoder;
  const { images } = halfImages(7, 8, 0.5, 1);
  beforeAll(() => {
    model = new MaskedAutoencoder(tinyConfig, { seed: 2 });
  });
  afterAll(() => model.dispose());

  it.each(FEATURE_POOLINGS)('pooling %s: batches of 3 give model.features of the whole set; progress and tensor count', async (pooling) => {
    const all = tf.tidy(() => model.features(tf.tensor4d(images, [7, 8, 8, 1]), pooling));
    const expected = (await all.data()) as Float32Array;
    all.dispose();
    const before = tf.memory().numTensors;
    const progress: [number, number][] = [];
    const feats = await extractFeatures(model, images, [7, 8, 8, 1], { pooling, batchSize: 3, onProgress: (done, total) => progress.push([done, total]) });
    expect(tf.memory().numTensors).toBe(before);
    expect(feats).toHaveLength(7 * 16);
    expectClose(`${pooling} features`, feats, expected, 1e-5, 1e-4);
    expect(progress).toEqual([
      [3, 7],
      [6, 7],
      [7, 7],
    ]);
  });

  it('rejects a shape that does not fit the model or the data, a bad batch size and an unknown pooling', async () => {
    await expect(extractFeatures(model, images, [7, 8, 8, 3])).rejects.toThrow('extractFeatures: shape is [7, 8, 8, 3]: expected [N, 8, 8, 1] (the model\'s imgSize and inChans; NHWC)');
    await expect(extractFeatures(model, images, [6, 8, 8, 1])).rejects.toThrow('extractFeatures: images.length is 448: expected N x H x W x C = 384 for shape [6, 8, 8, 1]');
    await expect(extractFeatures(model, images, [7, 8, 8] as never)).rejects.toThrow('extractFeatures: shape is [7, 8, 8]: expected [N, 8, 8, 1] (NHWC)');
    await expect(extractFeatures(model, Array.from(images) as never, [7, 8, 8, 1])).rejects.toThrow(/^extractFeatures: images is \[.*, \.\.\. \(448 items\)\]: expected a Float32Array \[N, H, W, C\]$/);
    await expect(extractFeatures(model, images, [7, 8, 8, 1], { batchSize: 0 })).rejects.toThrow('extractFeatures: batchSize is 0: expected an integer >= 1');
    await expect(extractFeatures(model, images, [7, 8, 8, 1], { pooling: 'avg' as never })).rejects.toThrow('extractFeatures: pooling is "avg": expected one of "cls", "mean", "mean-norm"');
  });
});
