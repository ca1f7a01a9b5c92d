import * as tf from '@tensorflow/tfjs-core';
import { MaskedAutoencoder } from '@maejs/mae';
import { describeEachBackend } from '../../../testing/backends.js';
import { finetune } from './finetune.js';
import { halfImages } from './test-utils/synthetic.js';

const tinyConfig = { imgSize: 8, patchSize: 4, inChans: 1, embedDim: 16, depth: 2, numHeads: 2, decoderEmbedDim: 8, decoderDepth: 1, decoderNumHeads: 2 };

/** Values of a named parameter, copied. */
async function valuesOf(model: MaskedAutoencoder, name: string): Promise<Float32Array> {
  return new Float32Array((await model.params.get(name).variable.data()) as Float32Array);
}

const changed = (a: Float32Array, b: Float32Array) => a.some((v, i) => v !== b[i]);

describeEachBackend('finetune', () => {
  const train = halfImages(64, 8, 0.3, 1);
  const test = halfImages(32, 8, 0.3, 2);

  it('lowers the training loss (global pool), keeps the tensor count flat, trains the encoder in place, not the decoder', async () => {
    const model = new MaskedAutoencoder(tinyConfig, { seed: 3 });
    const before = {
      patch: await valuesOf(model, 'patch_embed.proj.weight'),
      pos: await valuesOf(model, 'pos_embed'),
      norm: await valuesOf(model, 'norm.weight'),
      decoder: await valuesOf(model, 'decoder_embed.weight'),
    };
    const start = tf.memory().numTensors;
    const counts: number[] = [];
    const r = await finetune(model, train, test, { numClasses: 2, epochs: 5, batchSize: 16, lr: 1e-2, warmupEpochs: 1, seed: 1, onEpochEnd: () => counts.push(tf.memory().numTensors) });
    expect(r.history).toHaveLength(5);
    expect(r.history[4].loss).toBeLessThan(0.5 * r.history[0].loss);
    expect(r.testAccuracy).toBeGreaterThan(0.9);
    expect(new Set(counts).size).toBe(1);
    expect(tf.memory().numTensors).toBe(start); // head, fc_norm and optimizer moments freed
    expect(changed(await valuesOf(model, 'patch_embed.proj.weight'), before.patch)).toBe(true);
    expect(changed(await valuesOf(model, 'pos_embed'), before.pos)).toBe(true); // trained, as the official ViT's nn.Parameter
    expect(model.encoder.posEmbed.trainable).toBe(false); // flag restored
    expect(changed(await valuesOf(model, 'norm.weight'), before.norm)).toBe(false); // global pool: fc_norm replaces norm
    expect(changed(await valuesOf(model, 'decoder_embed.weight'), before.decoder)).toBe(false);
    expect(r.head.weight).toHaveLength(16 * 2);
    expect(r.head.fcNorm?.weight).toHaveLength(16);
    model.dispose();
  });

  it('cls pooling with maxTrainSamples: trains the final norm, keeps pos_embed fixed when asked', async () => {
    const model = new MaskedAutoencoder(tinyConfig, { seed: 4 });
    const norm = await valuesOf(model, 'norm.weight');
    const pos = await valuesOf(model, 'pos_embed');
    const r = await finetune(model, train, test, { numClasses: 2, epochs: 2, batchSize: 16, lr: 2e-3, pooling: 'cls', maxTrainSamples: 32, trainPosEmbed: false });
    expect(r.history).toHaveLength(2);
    expect(r.head.fcNorm).toBeUndefined();
    expect(r.testPredictions).toHaveLength(32);
    expect(changed(await valuesOf(model, 'norm.weight'), norm)).toBe(true);
    expect(changed(await valuesOf(model, 'pos_embed'), pos)).toBe(false);
    model.dispose();
  });

  describe('bad inputs', () => {
    let model: MaskedAutoencoder;
    beforeAll(() => {
      model = new MaskedAutoencoder(tinyConfig, { seed: 5 });
    });
    afterAll(() => model.dispose());
    it('images and labels of different lengths', async () => {
      const bad = { images: train.images, labels: train.labels.subarray(0, 10) };
      await expect(finetune(model, bad, test, { numClasses: 2, epochs: 1 })).rejects.toThrow('finetune: train.images.length is 4096: expected labels.length x H x W x C = 10 x 8 x 8 x 1 = 640 (NHWC)');
    });
    it('a label outside [0, numClasses)', async () => {
      await expect(finetune(model, train, test, { numClasses: 1, epochs: 1 })).rejects.toThrow('finetune: train.labels[1] is 1: expected an integer in [0, numClasses) = [0, 1); is numClasses too small?');
    });
    it('an empty test set', async () => {
      await expect(finetune(model, train, { images: new Float32Array(0), labels: [] }, { numClasses: 2, epochs: 1 })).rejects.toThrow('finetune: test.labels.length is 0: expected at least 1');
    });
    it('bad options', async () => {
      await expect(finetune(model, train, test, { numClasses: 2, layerDecay: 1.5 })).rejects.toThrow('finetune: layerDecay is 1.5: expected a number in (0, 1]');
      await expect(finetune(model, train, test, { numClasses: 2, minLr: 1 })).rejects.toThrow(/^finetune: minLr is 1: expected at most the peak lr /);
      await expect(finetune(model, train, test, { numClasses: 2, epochs: 2, warmupEpochs: 2 })).rejects.toThrow('finetune: warmupEpochs is 2: expected less than epochs (2)');
      await expect(finetune(model, train, test, { numClasses: 2, maxTrainSamples: 0 })).rejects.toThrow('finetune: maxTrainSamples is 0: expected an integer >= 1');
      await expect(finetune(model, train, test, { numClasses: 2, pooling: 'mean-norm' as never })).rejects.toThrow(
        'finetune: pooling is "mean-norm": expected "mean" (official global_pool: fc_norm of the mean of the patch tokens) or "cls" (final norm, cls token); "mean-norm" is a feature pooling with no official classifier',
      );
    });
  });
});
