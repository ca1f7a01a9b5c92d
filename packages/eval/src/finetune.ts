/**
 * End-to-end fine-tuning of a pre-trained MAE encoder with a new classification head, with
 * the semantics of the official `main_finetune.py` / `models_vit.py` at small scale.
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkInRange, checkInteger, checkNonNegative, checkPositive, failArgument, linear } from '@maejs/backend';
import { poolTokens, type MaskedAutoencoder } from '@maejs/mae';
import { absoluteLr, epochFraction, lrAt, variableGradsByName, type LrSchedule } from '@maejs/trainer';
import { LayerNorm, ParamRegistry, type ViTEncoder } from '@maejs/vit';
import { crossEntropy, headInit, LossAccumulator, type EpochRecord } from './classify.js';
import { accuracyOf } from './knn.js';
import { LayerwiseAdamW, paramGroupsLrd } from './lr-decay.js';
import { Rng, seedFor } from '@maejs/random';
import { checkImageSet, type ImageSet } from './labelled-sets.js';

/** What fine-tuning needs from a model: a `MaskedAutoencoder` (its decoder is left alone). */
export type FinetuneModel = Pick<MaskedAutoencoder, 'config' | 'encoder' | 'params'>;

/**
 * The two heads of the official fine-tuned ViT (models_vit.py): 'mean' (global_pool) the mean of
 * the patch tokens through `fc_norm`, a new LayerNorm trained with the rest; 'cls' the final
 * `norm` and the cls token. The features' 'mean-norm' has no official classifier and is refused.
 */
export type FinetunePooling = 'cls' | 'mean';

/** Options of {@link finetune}. Defaults follow main_finetune where they carry over. */
export interface FinetuneOptions {
  /** Number of classes K; every label must be in [0, K). */
  numClasses: number;
  /** Training epochs; default 50 (main_finetune default). */
  epochs?: number;
  /** Batch size; default 64. The last incomplete batch of an epoch is dropped (official drop_last). */
  batchSize?: number;
  /** Base learning rate; the peak lr is blr x batchSize / 256. Default 1e-3 (main_finetune default). */
  blr?: number;
  /** Absolute peak learning rate; overrides blr when given. */
  lr?: number;
  /** Learning rate at the end of the cosine; default min(1e-6, lr) (official 1e-6). */
  minLr?: number;
  /** Linear warmup epochs; default epochs / 10 (official 5 of 50). */
  warmupEpochs?: number;
  /** Layer-wise lr decay in (0, 1]; default 0.75 (official). */
  layerDecay?: number;
  /** AdamW weight decay of the 'decay' group; default 0.05 (official). */
  weightDecay?: number;
  /** 'mean' (default, official global_pool: mean of patch tokens then fc_norm) or 'cls' (final norm, cls token). */
  pooling?: FinetunePooling;
  /** Std of the head weight init; default 2e-5 (official). */
  headInitStd?: number;
  /** Train the position embedding too (official: pos_embed is an nn.Parameter of the fine-tuned ViT); default true. */
  trainPosEmbed?: boolean;
  /** Use only the first maxTrainSamples training samples. */
  maxTrainSamples?: number;
  /** Images per forward pass when evaluating; default 256. */
  evalBatchSize?: number;
  /** Seed of the head init and the shuffling; default 0. */
  seed?: number;
  /** Called after every epoch (e.g. to log, or to check tf.memory()). */
  onEpochEnd?: (record: EpochRecord) => void;
}

/** The trained head as plain arrays. */
export interface FinetuneHead {
  pooling: FinetunePooling;
  /** [D, K] (the transpose of PyTorch's [K, D]). */
  weight: Float32Array;
  /** [K] */
  bias: Float32Array;
  /** fc_norm LayerNorm weight and bias [D] (pooling 'mean' only). */
  fcNorm?: { weight: Float32Array; bias: Float32Array };
}

/** What {@link finetune} returns. */
export interface FinetuneResult {
  /** Accuracy on `test` after the last epoch. */
  testAccuracy: number;
  /** [Ntest] predicted classes. */
  testPredictions: Int32Array;
  /** One record per epoch; `lr` is the unscaled (last layer) lr. */
  history: EpochRecord[];
  head: FinetuneHead;
}

/**
 * Fine-tunes the encoder of `model` **in place** together with a new head, then evaluates on
 * `test`. As the official main_finetune:
 * - classifier: patch embed + pos embed, cls token, blocks; then either (pooling 'mean',
 *   global_pool) the mean of the patch tokens through a new LayerNorm `fc_norm` (the encoder's
 *   final `norm` is unused, as the official deletes it), or (pooling 'cls') the final `norm` and
 *   the cls token; then a new Linear head (weight ~ trunc_normal std `headInitStd`, bias 0);
 * - AdamW (betas 0.9/0.999) over `param_groups_lrd` groups: lr scale
 *   layerDecay^(depth + 1 - layerId), no weight decay on 1-D params, biases, pos_embed and
 *   cls_token (see {@link paramGroupsLrd}, {@link LayerwiseAdamW});
 * - lr = blr x batch / 256, per-step warmup then half-cosine to minLr; cross-entropy.
 *
 * Not included (say so when comparing with paper numbers): mixup / cutmix, label smoothing,
 * RandAugment / random erasing, drop path, EMA, gradient clipping and accumulation.
 *
 * Snapshot the model first (`model.stateDict()`) if the pre-trained weights are still needed.
 *
 * @param train images [Ntrain, H, W, C] (normalised as in pre-training), labels [Ntrain].
 * @param test images [Ntest, H, W, C], labels [Ntest].
 */
export async function finetune(model: FinetuneModel, train: ImageSet, test: ImageSet, options: FinetuneOptions): Promise<FinetuneResult> {
  const o = resolveFinetuneOptions(model, options);
  const { imgSize, inChans } = model.config;
  const imageShape: [number, number, number] = [imgSize, imgSize, inChans];
  const tr = checkImageSet('finetune: train', train, imageShape, o.numClasses);
  const te = checkImageSet('finetune: test', test, imageShape, o.numClasses);
  const n = Math.min(tr.n, o.maxTrainSamples ?? tr.n);
  const batch = Math.min(o.batchSize, n);
  const itersPerEpoch = Math.floor(n / batch); // drop_last

  const posEmbed = model.encoder.posEmbed;
  const posWasTrainable = posEmbed.trainable;
  posEmbed.trainable = o.trainPosEmbed; // tf.variableGrads skips non-trainable variables
  const classifier = new VitClassifier(model, o.pooling, o.numClasses, o.headInitStd, o.seed);
  const variables = finetuneVariables(model, classifier, o);
  const shapes = new Map([...variables].map(([name, v]) => [name, v.shape]));
  const optimizer = new LayerwiseAdamW(variables, paramGroupsLrd(shapes, { depth: model.config.depth, layerDecay: o.layerDecay }), { weightDecay: o.weightDecay });
  const x = tf.tensor4d(train.images.subarray(0, n * imgSize * imgSize * inChans), [n, imgSize, imgSize, inChans]); // [N, H, W, C]
  const y = tf.tensor1d(tr.labels.subarray(0, n), 'int32'); // [N]
  const losses = new LossAccumulator();
  const rng = new Rng(seedFor(o.seed, 'batch-order'));
  const history: EpochRecord[] = [];
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      const order = rng.permutation(n);
      for (let iter = 0; iter < itersPerEpoch; iter++) {
        optimizer.lr = lrAt(epochFraction(epoch, iter, itersPerEpoch), o.schedule);
        const idx = tf.tensor1d(order.subarray(iter * batch, (iter + 1) * batch), 'int32'); // [B]
        losses.add(trainStep(classifier, optimizer, variables, x, y, idx));
        idx.dispose();
      }
      const record = { epoch, loss: await losses.mean(), lr: optimizer.lr };
      history.push(record);
      o.onEpochEnd?.(record);
    }
    const testPredictions = await classifier.predict(test.images, te.n, o.evalBatchSize);
    return { testAccuracy: accuracyOf(testPredictions, te.labels), testPredictions, history, head: await classifier.readHead() };
  } finally {
    tf.dispose([x, y]);
    losses.dispose();
    optimizer.dispose();
    classifier.dispose();
    posEmbed.trainable = posWasTrainable;
  }
}

/** One AdamW step on the rows `idx`; returns the batch loss. x: [N, H, W, C], y: int32 [N], idx: int32 [B] */
function trainStep(classifier: VitClassifier, optimizer: LayerwiseAdamW, variables: Map<string, tf.Variable>, x: tf.Tensor4D, y: tf.Tensor1D, idx: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const xb = tf.gather(x, idx) as tf.Tensor4D; // [B, H, W, C]
    const yb = tf.gather(y, idx) as tf.Tensor1D; // [B]
    const { value, grads } = variableGradsByName(() => crossEntropy(classifier.logits(xb), yb), variables);
    optimizer.applyGradients(grads);
    return value;
  });
}

/**
 * The parameters fine-tuning updates, by official name: the encoder's (cls_token, pos_embed when
 * trained, patch_embed.*, blocks.*, and norm.* for 'cls' pooling) and the new head's.
 */
function finetuneVariables(model: FinetuneModel, classifier: VitClassifier, o: ResolvedFinetuneOptions): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>();
  for (const [name, param] of model.params.entries()) {
    const isEncoder = name === 'cls_token' || name.startsWith('patch_embed.') || name.startsWith('blocks.') || (o.pooling === 'cls' && name.startsWith('norm.')) || (o.trainPosEmbed && name === 'pos_embed');
    if (isEncoder) out.set(name, param.variable);
  }
  for (const [name, variable] of classifier.headParams.trainable()) out.set(name, variable);
  return out;
}

/** The fine-tuned ViT: the model's encoder (shared, not copied) plus fc_norm and head (owned). */
class VitClassifier {
  readonly headParams: ParamRegistry;
  private readonly encoder: ViTEncoder;
  private readonly fcNorm?: LayerNorm;
  private readonly headWeight: tf.Variable; // [D, K]
  private readonly headBias: tf.Variable; // [K]

  constructor(
    model: FinetuneModel,
    readonly pooling: FinetunePooling,
    numClasses: number,
    headInitStd: number,
    seed: number,
  ) {
    const d = model.config.embedDim;
    this.encoder = model.encoder;
    this.headParams = new ParamRegistry(seed);
    if (pooling === 'mean') this.fcNorm = new LayerNorm(this.headParams, 'fc_norm', d, model.config.layerNormEps);
    this.headWeight = this.headParams.add('head.weight', headInit([d, numClasses], headInitStd, this.headParams.initSeed('head.weight')), 'linear');
    this.headBias = this.headParams.add('head.bias', tf.zeros([numClasses]));
  }

  /** images: [B, H, W, C] -> logits [B, K] (call inside a tidy or a gradient tape). */
  logits(images: tf.Tensor4D): tf.Tensor2D {
    const enc = this.encoder;
    const blocksOut = enc.forwardBlocks(enc.embed(images)); // [B, 1+L, D], before the final norm
    const pooled = poolTokens(blocksOut, enc.norm, this.pooling, this.fcNorm); // [B, D]: fc_norm of the mean, or norm of cls
    return linear(pooled, this.headWeight as tf.Tensor2D, this.headBias as tf.Tensor1D); // [B, K]
  }

  /** Predicted classes of n images, evaluated batchSize at a time. images: [n, H, W, C] -> int32 [n] */
  async predict(images: Float32Array, n: number, batchSize: number): Promise<Int32Array> {
    const perImage = images.length / n;
    const { imgSize, inChans } = this.encoder.options;
    const out = new Int32Array(n);
    for (let start = 0; start < n; start += batchSize) {
      const end = Math.min(n, start + batchSize);
      const pred = tf.tidy(() => {
        const xb = tf.tensor4d(images.subarray(start * perImage, end * perImage), [end - start, imgSize, imgSize, inChans]); // [B, H, W, C]
        return tf.cast(tf.argMax(this.logits(xb), 1), 'int32'); // [B]
      });
      out.set((await pred.data()) as Int32Array, start);
      pred.dispose();
    }
    return out;
  }

  /** The head as plain arrays. */
  async readHead(): Promise<FinetuneHead> {
    const copy = async (v: tf.Variable) => new Float32Array((await v.data()) as Float32Array);
    const head: FinetuneHead = { pooling: this.pooling, weight: await copy(this.headWeight), bias: await copy(this.headBias) };
    if (this.fcNorm) head.fcNorm = { weight: await copy(this.fcNorm.weight), bias: await copy(this.fcNorm.bias) };
    return head;
  }

  /** Frees fc_norm and the head (the encoder belongs to the model). */
  dispose(): void {
    this.headParams.dispose();
  }
}

/** Resolved fine-tuning options with the lr schedule. */
interface ResolvedFinetuneOptions {
  numClasses: number;
  epochs: number;
  batchSize: number;
  layerDecay: number;
  weightDecay: number;
  pooling: FinetunePooling;
  headInitStd: number;
  trainPosEmbed: boolean;
  maxTrainSamples?: number;
  evalBatchSize: number;
  seed: number;
  schedule: LrSchedule;
  onEpochEnd?: (record: EpochRecord) => void;
}

/** Defaults and validation of the fine-tuning options. */
function resolveFinetuneOptions(model: FinetuneModel, options: FinetuneOptions): ResolvedFinetuneOptions {
  if (!model || !model.encoder || !model.params || !model.config) throw new TypeError('finetune: model must be a MaskedAutoencoder (config, encoder, params)');
  if (!options || typeof options !== 'object') throw new TypeError('finetune: options { numClasses, epochs?, batchSize?, blr?, layerDecay?, ... } are required');
  const epochs = options.epochs ?? 50;
  const batchSize = options.batchSize ?? 64;
  checkInteger('finetune: numClasses', options.numClasses, 1);
  checkInteger('finetune: epochs', epochs, 1);
  checkInteger('finetune: batchSize', batchSize, 1);
  const blr = options.blr ?? 1e-3;
  checkPositive('finetune: blr', blr);
  const lr = options.lr ?? absoluteLr(blr, batchSize);
  checkPositive('finetune: lr', lr);
  const schedule = { lr, minLr: options.minLr ?? Math.min(1e-6, lr), warmupEpochs: options.warmupEpochs ?? epochs / 10, epochs };
  checkNonNegative('finetune: minLr', schedule.minLr);
  if (schedule.minLr > lr) failArgument('finetune: minLr', schedule.minLr, `at most the peak lr ${lr}`);
  checkNonNegative('finetune: warmupEpochs', schedule.warmupEpochs);
  if (schedule.warmupEpochs >= epochs) failArgument('finetune: warmupEpochs', schedule.warmupEpochs, `less than epochs (${epochs})`);
  const layerDecay = options.layerDecay ?? 0.75;
  checkInRange('finetune: layerDecay', layerDecay, 0, 1, '(]');
  const weightDecay = options.weightDecay ?? 0.05;
  checkNonNegative('finetune: weightDecay', weightDecay);
  const pooling = options.pooling ?? 'mean';
  if (pooling !== 'cls' && pooling !== 'mean') failArgument('finetune: pooling', pooling, '"mean" (official global_pool: fc_norm of the mean of the patch tokens) or "cls" (final norm, cls token); "mean-norm" is a feature pooling with no official classifier');
  const headInitStd = options.headInitStd ?? 2e-5;
  checkPositive('finetune: headInitStd', headInitStd);
  if (options.maxTrainSamples !== undefined) checkInteger('finetune: maxTrainSamples', options.maxTrainSamples, 1);
  const evalBatchSize = options.evalBatchSize ?? 256;
  checkInteger('finetune: evalBatchSize', evalBatchSize, 1);
  const seed = options.seed ?? 0;
  checkInteger('finetune: seed', seed, 0);
  return {
    numClasses: options.numClasses,
    epochs,
    batchSize,
    layerDecay,
    weightDecay,
    pooling,
    headInitStd,
    trainPosEmbed: options.trainPosEmbed ?? true,
    maxTrainSamples: options.maxTrainSamples,
    evalBatchSize,
    seed,
    schedule,
    onEpochEnd: options.onEpochEnd,
  };
}
