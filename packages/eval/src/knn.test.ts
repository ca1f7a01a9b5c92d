import * as tf from '@tensorflow/tfjs-core';
import { describeEachBackend } from '../../../testing/backends.js';
import { knnClassify, l2Normalize } from './knn.js';
import { clusters } from './test-utils/synthetic.js';

/** A 2-D point at `angle` radians with length `scale` (cosine similarity depends only on angles). */
function at(angle: number, scale = 1): number[] {
  return [scale * Math.cos(angle), scale * Math.sin(angle)];
}

// Train points at angles 0.1 (class 0), 0.6 and -0.6 (class 1), pi and 2.0 (class 2); lengths
// differ on purpose (the features are L2-normalised first).
const toyTrain = {
  features: new Float32Array([...at(0.1, 3), ...at(0.6, 0.5), ...at(-0.6, 2), ...at(Math.PI, 1), ...at(2.0, 4)]),
  labels: new Int32Array([0, 1, 1, 2, 2]),
  dim: 2,
};

describeEachBackend('knnClassify', () => {
  it('gives the hand-computed weighted vote: T = 0.07 overturns a 2-to-1 majority, T = 1 does not', async () => {
    // Query at angle 0 (length 7). Similarities: cos 0.1 = 0.99500 (class 0), cos 0.6 = 0.82534 twice (class 1).
    const test = { features: new Float32Array(at(0, 7)), labels: new Int32Array([0]), dim: 2 };
    const vote = (t: number) => ({ class0: Math.exp(Math.cos(0.1) / t), class1: 2 * Math.exp(Math.cos(0.6) / t) });
    // T = 0.07: class 0 gets e^14.214 = 1.49e6, class 1 gets 2 e^11.791 = 2.64e5 -> class 0.
    expect(vote(0.07).class0).toBeGreaterThan(vote(0.07).class1);
    const sharp = await knnClassify(toyTrain, test, { k: 3, temperature: 0.07, numClasses: 3 });
    expect(Array.from(sharp.predictions)).toEqual([0]);
    expect(sharp.accuracy).toBe(1);
    // T = 1: class 0 gets e^0.995 = 2.705, class 1 gets 2 e^0.825 = 4.565 -> class 1 (the majority).
    expect(vote(1).class1).toBeGreaterThan(vote(1).class0);
    const flat = await knnClassify(toyTrain, test, { k: 3, temperature: 1, numClasses: 3 });
    expect(Array.from(flat.predictions)).toEqual([1]);
    expect(flat.accuracy).toBe(0);
  });

  it('decides a 1-to-1 tie for the nearer neighbour (not the lower class index)', async () => {
    // Query at angle 0.55: nearest are 0.6 (class 1, sim cos 0.05 = 0.99875) and 0.1 (class 0, sim cos 0.45 = 0.90045).
    const test = { features: new Float32Array(at(0.55)), labels: new Int32Array([1]), dim: 2 };
    expect(Math.exp(Math.cos(0.05) / 0.07)).toBeGreaterThan(Math.exp(Math.cos(0.45) / 0.07));
    const r = await knnClassify(toyTrain, test, { k: 2, numClasses: 3 });
    expect(Array.from(r.predictions)).toEqual([1]);
  });

  it('classifies well-separated clusters perfectly, with any chunk size', async () => {
    const means = [
      [4, 0, 0, 0, 0, 0, 0, 0],
      [0, 4, 0, 0, 0, 0, 0, 0],
      [0, 0, 4, 0, 0, 0, 0, 0],
    ];
    const train = clusters(means, 30, 0.5, 1);
    const test = clusters(means, 10, 0.5, 2);
    const before = tf.memory().numTensors;
    const big = await knnClassify(train, test, { numClasses: 3 }); // k 20, T 0.07, one chunk
    const small = await knnClassify(train, test, { numClasses: 3, chunkSize: 7 });
    expect(tf.memory().numTensors).toBe(before);
    expect(big.accuracy).toBe(1);
    expect(Array.from(small.predictions)).toEqual(Array.from(big.predictions));
    expect(Array.from(big.predictions)).toEqual(Array.from(test.labels));
  });

  it('l2Normalize gives unit rows and leaves a zero row at zero', async () => {
    const y = l2Normalize(tf.tensor2d([3, 4, 0, 0], [2, 2]));
    expect(Array.from(await y.data())).toEqual([0.6000000238418579, 0.800000011920929, 0, 0]);
    y.dispose();
  });

  describe('bad inputs', () => {
    const test = { features: new Float32Array([1, 0]), labels: new Int32Array([0]), dim: 2 };
    it('labels and features of different lengths', async () => {
      const bad = { features: new Float32Array(9), labels: new Int32Array([0, 1]), dim: 2 };
      await expect(knnClassify(bad, test, { numClasses: 3, k: 1 })).rejects.toThrow('knnClassify: train.features.length is 9: expected labels.length x dim = 2 x 2 = 4');
    });
    it('k larger than the train set', async () => {
      await expect(knnClassify(toyTrain, test, { numClasses: 3, k: 6 })).rejects.toThrow('knnClassify: k is 6: expected at most the 5 train samples');
    });
    it('a label outside [0, numClasses)', async () => {
      await expect(knnClassify(toyTrain, test, { numClasses: 2, k: 1 })).rejects.toThrow('knnClassify: train.labels[3] is 2: expected an integer in [0, numClasses) = [0, 2); is numClasses too small?');
    });
    it('an empty test set', async () => {
      const empty = { features: new Float32Array(0), labels: new Int32Array(0), dim: 2 };
      await expect(knnClassify(toyTrain, empty, { numClasses: 3, k: 1 })).rejects.toThrow('knnClassify: test.labels.length is 0: expected at least 1');
    });
    it('different feature lengths, a bad temperature, NaN features', async () => {
      const wide = { features: new Float32Array(3), labels: new Int32Array([0]), dim: 3 };
      await expect(knnClassify(toyTrain, wide, { numClasses: 3, k: 1 })).rejects.toThrow('test.dim is 3: expected train.dim = 2 (both sets must have the same feature length)');
      await expect(knnClassify(toyTrain, test, { numClasses: 3, temperature: 0 })).rejects.toThrow('knnClassify: temperature is 0: expected a finite number > 0');
      const nan = { features: new Float32Array([1, NaN]), labels: new Int32Array([0]), dim: 2 };
      await expect(knnClassify(toyTrain, nan, { numClasses: 3, k: 1 })).rejects.toThrow('knnClassify: test.features[1] is NaN: expected a finite number');
    });
  });
});
