import * as tf from '@tensorflow/tfjs-core';
import { describeEachBackend, expectClose } from '../../../testing/backends.js';
import { linearProbe, PROBE_BN_EPS, probePredict, type ProbeHead } from './linear-probe.js';
import { clusters, columnStats } from './test-utils/synthetic.js';

/** Predictions of a probe head computed on plain numbers, normalising with the given statistics. */
function predictByHand(head: ProbeHead, x: Float32Array, mean: ArrayLike<number>, variance: ArrayLike<number>): number[] {
  const { dim: d, numClasses: k } = head;
  const out: number[] = [];
  for (let i = 0; i < x.length / d; i++) {
    let best = 0;
    let bestLogit = -Infinity;
    for (let c = 0; c < k; c++) {
      let logit = head.bias[c];
      for (let j = 0; j < d; j++) logit += ((x[i * d + j] - mean[j]) / Math.sqrt(variance[j] + PROBE_BN_EPS)) * head.weight[j * k + c];
      if (logit > bestLogit) [best, bestLogit] = [c, logit];
    }
    out.push(best);
  }
  return out;
}

const accuracy = (pred: ArrayLike<number>, labels: ArrayLike<number>) => Array.from(pred).filter((p, i) => p === labels[i]).length / labels.length;

// Four linearly separable classes in 12-D, with means away from 0 and very different scales per dimension (BatchNorm matters).
const scales = [1, 10, 0.1, 3, 1, 1, 5, 0.5, 1, 2, 1, 1];
const means = [0, 1, 2, 3].map((c) => scales.map((s, j) => s * (5 + (j === c ? 3 : 0) + (j === c + 4 ? -3 : 0))));
const stds = scales.map((s) => 0.6 * s);

describeEachBackend('linearProbe', () => {
  it('reaches > 95% on separable features; running stats match the data; loss falls; memory is flat', async () => {
    const train = clusters(means, 100, stds, 1); // 400 samples
    const test = clusters(means, 50, stds, 2);
    const start = tf.memory().numTensors;
    const counts: number[] = [];
    const r = await linearProbe(train, test, { numClasses: 4, epochs: 12, batchSize: 64, lr: 0.1, seed: 3, onEpochEnd: () => counts.push(tf.memory().numTensors) });
    expect(tf.memory().numTensors).toBe(start); // nothing left behind
    expect(r.testAccuracy).toBeGreaterThan(0.95);
    expect(r.trainAccuracy).toBeGreaterThan(0.95);
    expect(r.history).toHaveLength(12);
    expect(r.history[11].loss).toBeLessThan(r.history[0].loss / 2);
    expect(new Set(counts).size).toBe(1);
    // Running statistics: EMA (momentum 0.1) of batch means / unbiased variances -> data mean / variance.
    const stats = columnStats(train.features, train.dim);
    for (let j = 0; j < train.dim; j++) {
      expect(Math.abs(r.head.runningMean[j] - stats.mean[j])).toBeLessThan(0.15 * stds[j]);
      expect(Math.abs(r.head.runningVar[j] / stats.varUnbiased[j] - 1)).toBeLessThan(0.25);
    }
    // The reported predictions are the eval-mode (running-stat) predictions.
    expect(Array.from(r.testPredictions)).toEqual(predictByHand(r.head, test.features, r.head.runningMean, r.head.runningVar));
  });

  it('with one full batch per step the running stats are exactly (1 - 0.9^T) x the data statistics (+ 0.9^T for the variance)', async () => {
    const train = clusters(means, 10, stds, 4); // 40 samples, batch 40: every step sees the whole set
    const steps = 30;
    const r = await linearProbe(train, train, { numClasses: 4, epochs: steps, batchSize: 40, lr: 0.05 });
    const stats = columnStats(train.features, train.dim);
    const keep = 0.9 ** steps; // running = (1 - m)^T x init + (1 - (1 - m)^T) x batch statistic
    const expectedMean = Array.from(stats.mean, (m) => (1 - keep) * m);
    const expectedVar = Array.from(stats.varUnbiased, (v) => (1 - keep) * v + keep * 1);
    expectClose('running mean', r.head.runningMean, expectedMean, 1e-3, 1e-4);
    expectClose('running var', r.head.runningVar, expectedVar, 1e-4, 1e-4);
  });

  it('evaluates with the running statistics, not the test batch statistics', async () => {
    // Two classes apart along dimension 0 only; the test set holds class 1 only.
    const twoMeans = [
      [-2, 1, 1],
      [2, 1, 1],
    ];
    const train = clusters(twoMeans, 60, 0.5, 5);
    const onlyOnes = clusters([twoMeans[1]], 40, 0.5, 6);
    const test = { ...onlyOnes, labels: new Int32Array(40).fill(1) };
    const r = await linearProbe(train, test, { numClasses: 2, epochs: 10, batchSize: 30, lr: 0.1 });
    expect(r.testAccuracy).toBe(1);
    expect(Array.from(await probePredict(r.head, test))).toEqual(Array.from(r.testPredictions));
    // Normalising with the statistics of this one-class test set (train-mode BatchNorm) would centre it on the decision boundary.
    const own = columnStats(test.features, test.dim);
    expect(accuracy(predictByHand(r.head, test.features, own.mean, own.varBiased), test.labels)).toBeLessThan(0.8);
  });

  describe('bad inputs', () => {
    const ok = clusters(means, 2, stds, 7);
    it('labels and features of different lengths', async () => {
      const bad = { features: ok.features, labels: ok.labels.subarray(0, 7), dim: ok.dim };
      await expect(linearProbe(bad, ok, { numClasses: 4, epochs: 1 })).rejects.toThrow('linearProbe: train.features.length is 96: expected labels.length x dim = 7 x 12 = 84');
    });
    it('a label outside [0, numClasses)', async () => {
      await expect(linearProbe(ok, ok, { numClasses: 3, epochs: 1 })).rejects.toThrow('linearProbe: train.labels[3] is 3: expected an integer in [0, numClasses) = [0, 3); is numClasses too small?');
    });
    it('an empty set, and a single training sample', async () => {
      const empty = { features: new Float32Array(0), labels: new Int32Array(0), dim: 12 };
      await expect(linearProbe(empty, ok, { numClasses: 4, epochs: 1 })).rejects.toThrow('linearProbe: train.labels.length is 0: expected at least 1');
      const one = { features: ok.features.subarray(0, 12), labels: ok.labels.subarray(0, 1), dim: 12 };
      await expect(linearProbe(one, ok, { numClasses: 4, epochs: 1 })).rejects.toThrow('linearProbe: train.labels.length is 1: expected at least 2 (BatchNorm in train mode needs batches of 2 or more)');
    });
    it('bad options', async () => {
      await expect(linearProbe(ok, ok, { numClasses: 4, epochs: 0 })).rejects.toThrow('linearProbe: epochs is 0: expected an integer >= 1');
      await expect(linearProbe(ok, ok, { numClasses: 4, epochs: 1, momentum: 1 })).rejects.toThrow('linearProbe: momentum is 1: expected a number in [0, 1)');
      await expect(linearProbe(ok, ok, { numClasses: 4, epochs: 2, warmupEpochs: 2 })).rejects.toThrow('linearProbe: warmupEpochs is 2: expected less than epochs (2)');
    });
  });
});
