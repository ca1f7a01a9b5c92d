/**
 * Linear probing as the official `main_linprobe.py`: frozen features, a BatchNorm without
 * affine parameters, then one Linear layer trained with cross-entropy.
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkInRange, checkInteger, checkNonNegative, checkPositive, failArgument, linear } from '@maejs/backend';
import { absoluteLr, epochFraction, lrAt, type LrSchedule } from '@maejs/trainer';
import { crossEntropy, headInit, LossAccumulator, type EpochRecord } from './classify.js';
import { accuracyOf } from './knn.js';
import { Rng, seedFor } from '@maejs/random';
import { checkFeatureSet, checkSameDim, type FeatureSet } from './labelled-sets.js';

/** BatchNorm1d epsilon of the official probe head. */
export const PROBE_BN_EPS = 1e-6;
/** BatchNorm1d momentum (torch default): running = (1 - m) * running + m * batch statistic. */
export const PROBE_BN_MOMENTUM = 0.1;

/** Options of {@link linearProbe}. Defaults follow main_linprobe where they carry over. */
export interface LinearProbeOptions {
  /** Number of classes K; every label must be in [0, K). */
  numClasses: number;
  /** Training epochs; default 90 (official). */
  epochs?: number;
  /** Batch size; default 256. The last incomplete batch of an epoch is dropped (official drop_last). */
  batchSize?: number;
  /** Peak (absolute) learning rate of SGD; default blr 0.1 x batchSize / 256 (the official blr rule). */
  lr?: number;
  /** Learning rate at the end of the cosine; default 0 (official). */
  minLr?: number;
  /** Linear warmup epochs; default epochs / 9 (official 10 of 90). */
  warmupEpochs?: number;
  /** SGD momentum; default 0.9 (as LARS in the official probe). */
  momentum?: number;
  /** Weight decay of the Linear weight (not of the bias, as LARS excludes 1-D params); default 0 (official). */
  weightDecay?: number;
  /** Seed of the weight init and the shuffling; default 0. */
  seed?: number;
  /** Called after every epoch (e.g. to log, or to check tf.memory()). */
  onEpochEnd?: (record: EpochRecord) => void;
}

/** A trained probe head as plain arrays: BatchNorm running statistics and the Linear layer. */
export interface ProbeHead {
  dim: number;
  numClasses: number;
  /** BatchNorm epsilon (1e-6). */
  eps: number;
  /** [D] BatchNorm running mean. */
  runningMean: Float32Array;
  /** [D] BatchNorm running variance (unbiased batch variances, as torch). */
  runningVar: Float32Array;
  /** [D, K] Linear weight (the transpose of PyTorch's [K, D]). */
  weight: Float32Array;
  /** [K] Linear bias. */
  bias: Float32Array;
}

/** What {@link linearProbe} returns. */
export interface LinearProbeResult {
  /** Accuracy on `test` in eval mode (BatchNorm with running statistics). */
  testAccuracy: number;
  /** Accuracy on `train` in eval mode. */
  trainAccuracy: number;
  /** [Ntest] predicted classes. */
  testPredictions: Int32Array;
  /** One record per epoch. */
  history: EpochRecord[];
  head: ProbeHead;
}

/**
 * Trains a linear probe on frozen features and evaluates it, as main_linprobe:
 * head = BatchNorm1d(D, affine=False, eps=1e-6) then Linear(D, K) with weight ~ trunc_normal
 * (std 0.01) and bias 0; cross-entropy; per-step linear warmup and half-cosine lr
 * (`lrAt` of @maejs/trainer). In training the BatchNorm normalises with the batch statistics
 * and updates running statistics with momentum 0.1 (the running variance takes the unbiased
 * batch variance, as torch); evaluation normalises with the running statistics.
 *
 * Optimizer: the official probe uses LARS at batch 16384 (blr 0.1, 90 epochs). At the small
 * batches used here, this uses plain SGD with momentum 0.9 (torch.optim.SGD semantics, LARS
 * without its per-layer trust ratio), weight decay only on the Linear weight.
 *
 * With `features` = flattened normalised pixels ([N, H*W*C]) this is the raw-pixel baseline.
 *
 * @param train features [Ntrain, D], labels [Ntrain]; at least 2 samples (BatchNorm batches).
 * @param test features [Ntest, D], labels [Ntest].
 */
export async function linearProbe(train: FeatureSet, test: FeatureSet, options: LinearProbeOptions): Promise<LinearProbeResult> {
  const o = resolveProbeOptions(options);
  const tr = checkFeatureSet('linearProbe: train', train, o.numClasses);
  const te = checkFeatureSet('linearProbe: test', test, o.numClasses);
  checkSameDim(train, test);
  if (tr.n < 2) failArgument('linearProbe: train.labels.length', tr.n, 'at least 2 (BatchNorm in train mode needs batches of 2 or more)');
  const batch = Math.min(o.batchSize, tr.n);
  const itersPerEpoch = Math.floor(tr.n / batch); // drop_last

  const state = new ProbeState(train.dim, o.numClasses, o.seed);
  const x = tf.tensor2d(train.features, [tr.n, train.dim]); // [N, D]
  const y = tf.tensor1d(tr.labels, 'int32'); // [N]
  const rng = new Rng(seedFor(o.seed, 'batch-order'));
  const losses = new LossAccumulator();
  const history: EpochRecord[] = [];
  let head: ProbeHead;
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const order = rng.permutation(tr.n);
      let lr = 0;
      for (let iter = 0; iter < itersPerEpoch; iter++) {
        lr = lrAt(epochFraction(epoch, iter, itersPerEpoch), o.schedule);
        const idx = tf.tensor1d(order.subarray(iter * batch, (iter + 1) * batch), 'int32'); // [B]
        losses.add(state.trainStep(x, y, idx, { lr, momentum: o.momentum, weightDecay: o.weightDecay }));
        idx.dispose();
      }
      const record = { epoch, loss: await losses.mean(), lr };
      history.push(record);
      o.onEpochEnd?.(record);
    }
    head = await state.read();
  } finally {
    tf.dispose([x, y]);
    losses.dispose();
    state.dispose();
  }
  const testPredictions = await probePredict(head, test);
  const trainPredictions = await probePredict(head, train);
  return { testAccuracy: accuracyOf(testPredictions, te.labels), trainAccuracy: accuracyOf(trainPredictions, tr.labels), testPredictions, history, head };
}

/**
 * Classes predicted by a trained probe head in eval mode: ((x - runningMean) / sqrt(runningVar + eps)) W + b, argmax.
 * features: [N, D] -> int32 [N]
 */
export async function probePredict(head: ProbeHead, set: Pick<FeatureSet, 'features' | 'dim'>, chunkSize = 1024): Promise<Int32Array> {
  if (set.dim !== head.dim) failArgument('probePredict: features.dim', set.dim, `the head's dim ${head.dim}`);
  if (set.features.length % head.dim !== 0) failArgument('probePredict: features.length', set.features.length, `a multiple of dim ${head.dim}`);
  const n = set.features.length / head.dim;
  const d = head.dim;
  const mean = tf.tensor1d(head.runningMean); // [D]
  const invStd = tf.tidy(() => tf.rsqrt(tf.add(tf.tensor1d(head.runningVar), head.eps))); // [D]
  const w = tf.tensor2d(head.weight, [d, head.numClasses]); // [D, K]
  const b = tf.tensor1d(head.bias); // [K]
  const out = new Int32Array(n);
  try {
    for (let start = 0; start < n; start += chunkSize) {
      const end = Math.min(n, start + chunkSize);
      const pred = tf.tidy(() => {
        const xhat = tf.mul(tf.sub(tf.tensor2d(set.features.subarray(start * d, end * d), [end - start, d]), mean), invStd) as tf.Tensor2D; // [C, D]
        return tf.cast(tf.argMax(tf.add(tf.matMul(xhat, w), b), 1), 'int32'); // [C]
      });
      out.set((await pred.data()) as Int32Array, start);
      pred.dispose();
    }
  } finally {
    tf.dispose([mean, invStd, w, b]);
  }
  return out;
}

/** Resolved probe options with the lr schedule. */
interface ResolvedProbeOptions {
  numClasses: number;
  epochs: number;
  batchSize: number;
  momentum: number;
  weightDecay: number;
  seed: number;
  schedule: LrSchedule;
  onEpochEnd?: (record: EpochRecord) => void;
}

/** Defaults and validation of the probe options. */
function resolveProbeOptions(options: LinearProbeOptions): ResolvedProbeOptions {
  if (!options || typeof options !== 'object') throw new TypeError('linearProbe: options { numClasses, epochs?, batchSize?, lr?, ... } are required');
  const epochs = options.epochs ?? 90;
  const batchSize = options.batchSize ?? 256;
  checkInteger('linearProbe: numClasses', options.numClasses, 1);
  checkInteger('linearProbe: epochs', epochs, 1);
  checkInteger('linearProbe: batchSize', batchSize, 2);
  const lr = options.lr ?? absoluteLr(0.1, batchSize);
  const schedule = { lr, minLr: options.minLr ?? 0, warmupEpochs: options.warmupEpochs ?? epochs / 9, epochs };
  checkPositive('linearProbe: lr', lr);
  checkNonNegative('linearProbe: minLr', schedule.minLr);
  checkNonNegative('linearProbe: warmupEpochs', schedule.warmupEpochs);
  if (schedule.warmupEpochs >= epochs) failArgument('linearProbe: warmupEpochs', schedule.warmupEpochs, `less than epochs (${epochs})`);
  const momentum = options.momentum ?? 0.9;
  checkInRange('linearProbe: momentum', momentum, 0, 1, '[)');
  const weightDecay = options.weightDecay ?? 0;
  checkNonNegative('linearProbe: weightDecay', weightDecay);
  const seed = options.seed ?? 0;
  checkInteger('linearProbe: seed', seed, 0);
  return { numClasses: options.numClasses, epochs, batchSize, momentum, weightDecay, seed, schedule, onEpochEnd: options.onEpochEnd };
}

/** The probe's tensors: BatchNorm running statistics, Linear weight and bias, SGD momentum buffers. */
class ProbeState {
  readonly runningMean: tf.Variable; // [D]
  readonly runningVar: tf.Variable; // [D]
  readonly weight: tf.Variable; // [D, K]
  readonly bias: tf.Variable; // [K]
  private readonly weightBuf: tf.Variable; // [D, K]
  private readonly biasBuf: tf.Variable; // [K]

  constructor(
    readonly dim: number,
    readonly numClasses: number,
    seed: number,
  ) {
    this.runningMean = variableOf(() => tf.zeros([dim]), false);
    this.runningVar = variableOf(() => tf.ones([dim]), false);
    this.weight = variableOf(() => headInit([dim, numClasses], 0.01, seedFor(seed, 'head.weight')), true);
    this.bias = variableOf(() => tf.zeros([numClasses]), true);
    this.weightBuf = variableOf(() => tf.zeros([dim, numClasses]), false);
    this.biasBuf = variableOf(() => tf.zeros([numClasses]), false);
  }

  /**
   * One SGD step on the rows `idx` of (x, y); BatchNorm in train mode. Returns the batch loss.
   * x: [N, D], y: int32 [N], idx: int32 [B]
   */
  trainStep(x: tf.Tensor2D, y: tf.Tensor1D, idx: tf.Tensor1D, o: { lr: number; momentum: number; weightDecay: number }): tf.Scalar {
    return tf.tidy(() => {
      const xb = tf.gather(x, idx) as tf.Tensor2D; // [B, D]
      const yb = tf.gather(y, idx) as tf.Tensor1D; // [B]
      const xhat = this.batchNormTrain(xb); // [B, D]; no parameters before it, so no gradient through it
      const { value, grads } = tf.variableGrads(() => crossEntropy(linear(xhat, this.weight as tf.Tensor2D, this.bias as tf.Tensor1D), yb), [this.weight, this.bias]);
      sgdUpdate(this.weight, this.weightBuf, grads[this.weight.name], { ...o });
      sgdUpdate(this.bias, this.biasBuf, grads[this.bias.name], { ...o, weightDecay: 0 });
      return value;
    });
  }

  /** Normalises with the batch statistics and updates the running ones. xb: [B, D] -> [B, D] */
  private batchNormTrain(xb: tf.Tensor2D): tf.Tensor2D {
    const b = xb.shape[0];
    const mean = tf.mean(xb, 0); // [D]
    const centered = tf.sub(xb, mean); // [B, D]
    const variance = tf.mean(tf.square(centered), 0); // [D], biased (used to normalise)
    const m = PROBE_BN_MOMENTUM;
    this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(mean, m)));
    this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(variance, (m * b) / (b - 1)))); // unbiased
    return tf.mul(centered, tf.rsqrt(tf.add(variance, PROBE_BN_EPS))) as tf.Tensor2D;
  }

  /** The head as plain arrays. */
  async read(): Promise<ProbeHead> {
    const copy = async (v: tf.Variable) => new Float32Array((await v.data()) as Float32Array);
    return {
      dim: this.dim,
      numClasses: this.numClasses,
      eps: PROBE_BN_EPS,
      runningMean: await copy(this.runningMean),
      runningVar: await copy(this.runningVar),
      weight: await copy(this.weight),
      bias: await copy(this.bias),
    };
  }

  dispose(): void {
    tf.dispose([this.runningMean, this.runningVar, this.weight, this.bias, this.weightBuf, this.biasBuf]);
  }
}

/** A variable initialised by `init`; the initial tensor is freed (tf.variable keeps its own reference). */
function variableOf(init: () => tf.Tensor, trainable: boolean): tf.Variable {
  return tf.tidy(() => tf.variable(init(), trainable));
}

/**
 * torch.optim.SGD step (dampening 0, no Nesterov): d = g + wd * p; buf = momentum * buf + d
 * (buf starts at 0, so the first step sets buf = d as torch); p -= lr * buf. Call inside tf.tidy.
 */
function sgdUpdate(p: tf.Variable, buf: tf.Variable, g: tf.Tensor, o: { lr: number; momentum: number; weightDecay: number }): void {
  const d = o.weightDecay === 0 ? g : tf.add(g, tf.mul(p, o.weightDecay));
  const nextBuf = tf.add(tf.mul(buf, o.momentum), d);
  buf.assign(nextBuf);
  p.assign(tf.sub(p, tf.mul(nextBuf, o.lr)));
}
