/**
 * The MAE pre-training loop (official engine_pretrain.train_one_epoch + main_pretrain):
 * AdamW with the official parameter groups, lr = blr * effectiveBatch / 256 set every
 * update by linear warmup + half-cosine, gradient accumulation, optional clipping, typed
 * events, checkpoints with exact resume, and a clean stop on a non-finite loss.
 *
 * A step never waits for the device: the forward, the gradients and the AdamW update are
 * queued on the backend and the loss stays there as a scalar. Losses are read back together,
 * asynchronously, every `logEvery` updates, at epoch ends and before a checkpoint is written,
 * and checked for NaN/Infinity when read.
 */
import * as tf from '@tensorflow/tfjs-core';
import { checkInRange, checkInteger, checkNonNegative, checkPositive, failArgument, rangeError, type ArgumentErrorMaker } from '@maejs/backend';
import { batchIterator, type Augmentation, type BatchPosition, type Dataset } from '@maejs/data';
import { deriveSeed, seedFor } from '@maejs/random';
import type { MaskedAutoencoder } from '@maejs/mae';
import { AdamW } from './adamw.js';
import { CheckpointError, checkpointName, encodeCheckpoint, newestFirst, optimizerMeta, CHECKPOINT_FORMAT, CHECKPOINT_VERSION, type Checkpoint, type CheckpointStore } from './checkpoint.js';
import { clipGradNorm, GradientAccumulator } from './grad-utils.js';
import { absoluteLr, lrAt } from './lr-schedule.js';
import { officialParamGroups } from './param-groups.js';
import { variableGradsByName } from './variables.js';

/** Training settings (official main_pretrain names in camelCase). */
export interface PretrainConfig {
  epochs: number;
  /** Images per micro-batch. */
  batchSize: number;
  /** Micro-batches per optimizer update (effective batch = batchSize * accumIter). */
  accumIter: number;
  /** Base learning rate; lr = blr * effectiveBatch / 256 unless `lr` is given. */
  blr: number;
  /** Absolute learning rate (overrides blr). */
  lr: number | null;
  minLr: number;
  warmupEpochs: number;
  weightDecay: number;
  /** Max global gradient norm, or null for no clipping (the official pre-training clips nothing). */
  clipGrad: number | null;
  /** Seed of shuffling, augmentation and masking. */
  seed: number;
  /** Save a checkpoint every this many updates (0: only at epoch ends and at the end). */
  checkpointEvery: number;
  /** Checkpoints kept in the store (older ones are removed). */
  keepCheckpoints: number;
  /** Stop after this many updates in total (null: run all epochs). */
  maxSteps: number | null;
  /**
   * Read the losses back (one asynchronous read) and emit their `step` events every this many
   * updates; also at each epoch end and before each checkpoint. 1 reads every update; larger
   * values let a GPU run several updates ahead of the CPU.
   */
  logEvery: number;
}

/** The settings {@link resolvePretrainConfig} fills in for those not given. */
export const PRETRAIN_DEFAULTS: PretrainConfig = {
  epochs: 10,
  batchSize: 128,
  accumIter: 1,
  blr: 1e-3, // official main_pretrain default (PRETRAIN.md uses 1.5e-4 at batch 4096)
  lr: null,
  minLr: 0,
  warmupEpochs: 1,
  weightDecay: 0.05,
  clipGrad: null,
  seed: 0,
  checkpointEvery: 0,
  keepCheckpoints: 2,
  maxSteps: null,
  logEvery: 1,
};

/** Settings whose change makes a resumed run differ from an uninterrupted one. */
const RESUME_MUST_MATCH: (keyof PretrainConfig)[] = ['epochs', 'batchSize', 'accumIter', 'blr', 'lr', 'minLr', 'warmupEpochs', 'weightDecay', 'clipGrad', 'seed'];

/** Events of a run, in order: train-start, (step | checkpoint | epoch-end | eval)*, train-end. */
export type TrainEvent =
  | { type: 'train-start'; config: PretrainConfig; lr: number; effectiveBatch: number; stepsPerEpoch: number; totalSteps: number; startStep: number; parameters: number }
  | { type: 'step'; step: number; epoch: number; epochFloat: number; loss: number; lr: number; imagesPerSec: number; elapsedSec: number; etaSec: number }
  | { type: 'epoch-end'; epoch: number; step: number; meanLoss: number }
  | { type: 'checkpoint'; step: number; name: string }
  | { type: 'eval'; epoch: number; step: number; metrics: Record<string, number> }
  | { type: 'train-end'; step: number; lastLoss: number; seconds: number; reason: 'completed' | 'max-steps' };

/**
 * Thrown when a loss read back is NaN or infinite. `step` updates had finite losses before it.
 * Losses are read after their updates are applied (every `logEvery` updates), so the model in
 * memory is not trusted after this error; no checkpoint holds an update whose loss was not
 * read and found finite.
 */
export class TrainingDivergedError extends Error {
  constructor(
    readonly step: number,
    readonly loss: number,
    readonly lastCheckpoint: string | null,
  ) {
    super(`loss is ${loss} at update ${step + 1}: training stopped; ${lastCheckpoint ? `the last good checkpoint is ${lastCheckpoint}` : 'no checkpoint was saved yet'} (try a lower --blr, a longer warmup or --clip-grad)`);
    this.name = 'TrainingDivergedError';
  }
}

/** Loss and gradients of one micro-batch, keyed by parameter name; the caller owns the tensors. */
export interface LossAndGradients {
  /** The micro-batch loss, on the device (not read back). */
  loss: tf.Scalar;
  grads: Map<string, tf.Tensor>;
}

/**
 * Computes the loss and gradients of one micro-batch with the model's current weights, masking
 * with the noise that `maskSeed` gives (as `model.loss(x, { seed: maskSeed })`). The default runs
 * on this thread; `DataParallel` from `@maejs/trainer/node` splits the batch over worker threads.
 */
export interface GradientEngine {
  /** Loss and gradients of the micro-batch `images` ([N, H, W, C] row-major, of `shape`), masked with the noise of `maskSeed`. */
  lossAndGradients(images: Float32Array, shape: [number, number, number, number], maskSeed: number): Promise<LossAndGradients>;
}

/** The engine that runs everything on this thread. */
export function localGradients(model: MaskedAutoencoder): GradientEngine {
  const vars = model.trainableVariables();
  return {
    async lossAndGradients(images, shape, maskSeed) {
      const x = tf.tensor4d(images, shape);
      const { value, grads } = variableGradsByName(() => model.loss(x, { seed: maskSeed }), vars);
      x.dispose();
      return { loss: value, grads };
    },
  };
}

/** Inputs of {@link pretrain}. */
export interface PretrainOptions {
  model: MaskedAutoencoder;
  dataset: Dataset;
  config?: Partial<PretrainConfig>;
  /** Per-sample augmentation (e.g. RandomResizedCrop + flip + normalise from @maejs/data). */
  augment?: Augmentation;
  /** Where checkpoints go; none: no checkpoints. */
  store?: CheckpointStore;
  /** Continue from this checkpoint (model, optimizer, data position, step). */
  resume?: Checkpoint;
  /** Receives every event. May be async (awaited). */
  onEvent?: (event: TrainEvent) => void | Promise<void>;
  /** Called after each epoch; its metrics are emitted as an `eval` event. */
  evaluate?: (epoch: number) => Promise<Record<string, number>>;
  /** Where loss and gradients are computed (default: this thread, {@link localGradients}). */
  engine?: GradientEngine;
}

/** The error of a setting that may also be null (not set): its expectation says so. */
const orNull: ArgumentErrorMaker = (what, value, expected) => rangeError(what, value, `${expected} or null`);

/** Validates and fills a training config; errors name the field, value and what is allowed. */
export function resolvePretrainConfig(partial: Partial<PretrainConfig> = {}): PretrainConfig {
  for (const key of Object.keys(partial)) {
    if (!(key in PRETRAIN_DEFAULTS)) throw new Error(`PretrainConfig.${key} is not a training setting: expected one of ${Object.keys(PRETRAIN_DEFAULTS).join(', ')}`);
  }
  const c = { ...PRETRAIN_DEFAULTS, ...partial };
  const what = (field: keyof PretrainConfig) => `PretrainConfig.${field}`;
  (['epochs', 'batchSize', 'accumIter', 'keepCheckpoints', 'logEvery'] as const).forEach((field) => checkInteger(what(field), c[field], 1));
  (['blr', 'minLr', 'warmupEpochs', 'weightDecay'] as const).forEach((field) => checkNonNegative(what(field), c[field]));
  checkInteger(what('checkpointEvery'), c.checkpointEvery, 0);
  checkInteger(what('seed'), c.seed);
  if (c.lr !== null) checkPositive(what('lr'), c.lr, orNull);
  if (c.clipGrad !== null) checkInRange(what('clipGrad'), c.clipGrad, 0, Infinity, '(]', orNull);
  if (c.maxSteps !== null) checkInteger(what('maxSteps'), c.maxSteps, 1, Infinity, orNull);
  if (c.warmupEpochs >= c.epochs) failArgument(what('warmupEpochs'), c.warmupEpochs, `less than epochs (${c.epochs})`);
  return c;
}

/** Refuses a checkpoint whose model or training settings differ from this run's, listing every difference. */
export function checkResumable(checkpoint: Checkpoint, model: MaskedAutoencoder, config: PretrainConfig, source = 'checkpoint'): void {
  const differences: string[] = [];
  for (const [key, value] of Object.entries(model.config)) {
    const saved = (checkpoint.meta.model as unknown as Record<string, unknown>)[key];
    if (saved !== value) differences.push(`model.${key}: checkpoint ${JSON.stringify(saved)}, this run ${JSON.stringify(value)}`);
  }
  for (const key of RESUME_MUST_MATCH) {
    const saved = checkpoint.meta.training[key];
    if (saved !== config[key]) differences.push(`${key}: checkpoint ${JSON.stringify(saved)}, this run ${JSON.stringify(config[key])}`);
  }
  if (differences.length) throw new CheckpointError(source, `was made with other settings, so resuming would not continue the same run:\n  ${differences.join('\n  ')}`);
}

/** Runs MAE pre-training; resolves with the number of updates done. */
export async function pretrain(options: PretrainOptions): Promise<{ steps: number; lastLoss: number }> {
  const { model, dataset, augment, store } = options;
  const config = resolvePretrainConfig(options.config);
  const emit = async (event: TrainEvent) => {
    await options.onEvent?.(event);
  };
  const effectiveBatch = config.batchSize * config.accumIter;
  const lr = config.lr ?? absoluteLr(config.blr, effectiveBatch);
  const schedule = { lr, minLr: config.minLr, warmupEpochs: config.warmupEpochs, epochs: config.epochs };
  const vars = model.trainableVariables();
  const optimizer = new AdamW(vars, { lr, betas: [0.9, 0.95], eps: 1e-8, weightDecay: config.weightDecay, groups: officialParamGroups(model) });
  const accumulator = config.accumIter > 1 ? new GradientAccumulator(vars, config.accumIter) : null;
  const engine = options.engine ?? localGradients(model);

  let step = 0;
  let lastCheckpoint: string | null = null;
  let lastLoss = NaN;
  let epochLossSum = 0; // losses of the current epoch's updates so far, for its epoch-end mean
  let epochLossCount = 0;
  // A fresh run starts at epoch 0; a resumed one wherever its checkpoint's data position is (any epoch).
  let start: { epoch: number } | { resume: BatchPosition } = { epoch: 0 };
  if (options.resume) {
    const { meta } = options.resume;
    checkResumable(options.resume, model, config);
    model.loadStateDict(options.resume.model);
    optimizer.setState(options.resume.optimizer);
    step = meta.step;
    lastCheckpoint = checkpointName(step);
    start = { resume: meta.dataPosition as BatchPosition };
    if (meta.losses) {
      lastLoss = meta.losses.last ?? NaN;
      epochLossSum = meta.losses.epochSum;
      epochLossCount = meta.losses.epochCount;
    }
  }
  const batches = batchIterator(dataset, { batchSize: config.batchSize, seed: config.seed, endEpoch: config.epochs, augment, dropLast: true, prefetch: 2, ...start });
  const batchesPerEpoch = batches.batchesPerEpoch;
  if (batchesPerEpoch < config.accumIter) throw new Error(`an epoch has ${batchesPerEpoch} batches of ${config.batchSize}, fewer than accumIter ${config.accumIter}`);
  const stepsPerEpoch = Math.floor(batchesPerEpoch / config.accumIter);
  const totalSteps = Math.min(stepsPerEpoch * config.epochs, config.maxSteps ?? Infinity);

  const save = async () => {
    if (!store) return;
    await readLosses(); // a checkpoint never holds an update whose loss was not read and found finite
    const checkpoint: Checkpoint = {
      meta: {
        format: CHECKPOINT_FORMAT,
        version: CHECKPOINT_VERSION,
        model: { ...model.config },
        step,
        microStep: step * config.accumIter,
        dataPosition: batches.position(),
        losses: { last: Number.isNaN(lastLoss) ? null : lastLoss, epochSum: epochLossSum, epochCount: epochLossCount },
        training: { ...config },
        optimizer: optimizerMeta(await optimizer.getState()),
        savedAt: new Date().toISOString(),
      },
      model: await model.stateDict(),
      optimizer: await optimizer.getState(),
    };
    const name = checkpointName(step);
    await store.save(name, encodeCheckpoint(checkpoint));
    lastCheckpoint = name;
    for (const old of newestFirst(await store.list()).slice(config.keepCheckpoints)) await store.remove(old);
    await emit({ type: 'checkpoint', step, name });
  };

  await emit({ type: 'train-start', config, lr, effectiveBatch, stepsPerEpoch, totalSteps, startStep: step, parameters: model.params.count() });
  const started = Date.now();
  const startStep = step;
  const usedPerEpoch = stepsPerEpoch * config.accumIter; // batches of an epoch that feed updates
  const maskingSeed = seedFor(config.seed, 'masking'); // micro-batch k is masked with the noise of deriveSeed(maskingSeed, k)
  const held: { grads: Map<string, tf.Tensor> | null } = { grads: null }; // gradients of the current update (accumIter 1)
  const microLosses: tf.Scalar[] = []; // losses of the current update's micro-batches, on the device
  const pending: PendingStep[] = []; // applied updates whose loss is not read yet
  try {
    for await (const batch of step < totalSteps ? batches : []) {
      // Micro-batches left over at the end of an epoch feed no update (the official loop zeroes
      // gradients at each epoch start).
      if (batch.index >= usedPerEpoch) continue;
      if (microLosses.length === 0) optimizer.lr = lrAt(batch.epoch + batch.index / batchesPerEpoch, schedule);
      await microStep(batch.images, batch.shape, deriveSeed(maskingSeed, step * config.accumIter + microLosses.length));
      if (microLosses.length < config.accumIter) continue;
      applyUpdate();
      step++;
      pending.push({ step, epoch: batch.epoch, epochFloat: batch.epoch + (batch.index + 1) / batchesPerEpoch, lr: optimizer.lr, loss: updateLoss() });
      const epochEnd = batch.index + 1 === usedPerEpoch;
      const checkpointDue = epochEnd || (config.checkpointEvery > 0 && step % config.checkpointEvery === 0);
      if (step % config.logEvery === 0 || checkpointDue || step >= totalSteps) await readLosses();
      if (epochEnd) {
        // Before the epoch's checkpoint: a run stopped after that checkpoint has already reported its epoch end.
        await emit({ type: 'epoch-end', epoch: batch.epoch, step, meanLoss: epochLossSum / epochLossCount });
        epochLossSum = 0;
        epochLossCount = 0;
      }
      if (checkpointDue) await save();
      if (epochEnd && options.evaluate) await emit({ type: 'eval', epoch: batch.epoch, step, metrics: await options.evaluate(batch.epoch) });
      if (step >= totalSteps) break; // before pulling another batch, so the saved data position is exact
    }
    await readLosses();
    if (lastCheckpoint !== checkpointName(step)) await save();
    const reason = totalSteps < stepsPerEpoch * config.epochs ? 'max-steps' : 'completed';
    await emit({ type: 'train-end', step, lastLoss, seconds: (Date.now() - started) / 1000, reason });
    return { steps: step, lastLoss };
  } finally {
    if (held.grads) tf.dispose([...held.grads.values()]);
    tf.dispose([...microLosses, ...pending.map((p) => p.loss)]);
    await batches.return?.();
    accumulator?.dispose();
    optimizer.dispose();
  }

  /** One micro-batch: its loss (kept on the device) and gradients (kept or accumulated for the update). */
  async function microStep(images: Float32Array, shape: [number, number, number, number], maskSeed: number): Promise<void> {
    const { loss, grads } = await engine.lossAndGradients(images, shape, maskSeed);
    microLosses.push(loss);
    if (accumulator) {
      accumulator.add(grads);
      tf.dispose([...grads.values()]);
    } else {
      held.grads = grads;
    }
  }

  /** The update's loss: the mean of its micro-batch losses, a scalar on the device. */
  function updateLoss(): tf.Scalar {
    const losses = microLosses.splice(0);
    if (losses.length === 1) return losses[0];
    const mean = tf.tidy(() => tf.div(tf.addN(losses), losses.length) as tf.Scalar);
    tf.dispose(losses);
    return mean;
  }

  /** Applies the pending (or accumulated mean) gradients, clipped when configured. */
  function applyUpdate(): void {
    const grads = accumulator ? accumulator.mean() : held.grads!;
    held.grads = null;
    if (config.clipGrad !== null) clipGradNorm(grads, config.clipGrad).dispose();
    optimizer.applyGradients(grads);
    tf.dispose([...grads.values()]);
    accumulator?.reset();
  }

  /**
   * Reads every pending loss in one asynchronous read, stops on the first non-finite one
   * (TrainingDivergedError) and emits a `step` event for each, in order.
   */
  async function readLosses(): Promise<void> {
    if (pending.length === 0) return;
    const steps = pending.splice(0);
    const stacked = tf.stack(steps.map((p) => p.loss)); // [steps]
    tf.dispose(steps.map((p) => p.loss));
    const values = await stacked.data();
    stacked.dispose();
    const elapsedSec = (Date.now() - started) / 1000;
    const secPerStep = elapsedSec / (step - startStep);
    for (const [i, p] of steps.entries()) {
      const loss = values[i];
      if (!Number.isFinite(loss)) throw new TrainingDivergedError(p.step - 1, loss, lastCheckpoint);
      lastLoss = loss;
      epochLossSum += loss;
      epochLossCount++;
      await emit({ type: 'step', step: p.step, epoch: p.epoch, epochFloat: p.epochFloat, loss, lr: p.lr, imagesPerSec: effectiveBatch / secPerStep, elapsedSec, etaSec: secPerStep * (totalSteps - p.step) });
    }
  }
}

/** An applied update whose loss is still on the device. */
interface PendingStep {
  step: number;
  epoch: number;
  epochFloat: number;
  lr: number;
  loss: tf.Scalar;
}
