/** Learning-rate rules of the official MAE pre-training (main_pretrain.py, util/lr_sched.py). */
import { checkInRange, checkInteger, checkNonNegative, checkPositive, failArgument, typeError } from '@maejs/backend';

/** The schedule of `adjust_learning_rate`: linear warmup, then half-cosine decay to `minLr`. */
export interface LrSchedule {
  /** Peak (absolute) learning rate, reached at the end of the warmup; see `absoluteLr`. */
  lr: number;
  /** Learning rate at the end of training (official default 0); at most `lr`. */
  minLr: number;
  /** Epochs of linear warmup from 0 (official default 40); less than `epochs`. */
  warmupEpochs: number;
  /** Total training epochs. */
  epochs: number;
}

/**
 * Absolute learning rate from the base one: `blr * effectiveBatch / 256`
 * (main_pretrain: `args.lr = args.blr * eff_batch_size / 256`), where
 * effectiveBatch = batch size x accumulation steps x number of workers.
 */
export function absoluteLr(blr: number, effectiveBatch: number): number {
  checkPositive('absoluteLr: blr', blr);
  checkInteger('absoluteLr: effectiveBatch', effectiveBatch, 1);
  return (blr * effectiveBatch) / 256;
}

/** Validates a schedule; errors name the field and the allowed range. */
export function checkLrSchedule(schedule: LrSchedule): void {
  if (!schedule || typeof schedule !== 'object') failArgument('lr schedule', schedule, 'an object { lr, minLr, warmupEpochs, epochs }', typeError);
  const { lr, minLr, warmupEpochs, epochs } = schedule;
  checkNonNegative('lr schedule: lr', lr);
  checkNonNegative('lr schedule: minLr', minLr);
  if (minLr > lr) failArgument('lr schedule: minLr', minLr, `at most lr (${lr})`);
  checkNonNegative('lr schedule: warmupEpochs', warmupEpochs);
  checkPositive('lr schedule: epochs', epochs);
  if (warmupEpochs >= epochs) failArgument('lr schedule: warmupEpochs', warmupEpochs, `less than epochs (${epochs})`);
}

/**
 * Learning rate at a fractional epoch, as the official `adjust_learning_rate`:
 * `lr * epoch / warmupEpochs` during the warmup, then
 * `minLr + (lr - minLr) * 0.5 * (1 + cos(pi * (epoch - warmupEpochs) / (epochs - warmupEpochs)))`.
 * Set it before every optimizer step with `epoch = epochFraction(epochIndex, iter, itersPerEpoch)`.
 *
 * @param epoch fractional epoch in [0, epochs].
 */
export function lrAt(epoch: number, schedule: LrSchedule): number {
  checkLrSchedule(schedule);
  const { lr, minLr, warmupEpochs, epochs } = schedule;
  checkInRange('lrAt: epoch', epoch, 0, epochs);
  if (epoch < warmupEpochs) return (lr * epoch) / warmupEpochs;
  const progress = (epoch - warmupEpochs) / (epochs - warmupEpochs);
  return minLr + (lr - minLr) * 0.5 * (1 + Math.cos(Math.PI * progress));
}

/**
 * The fractional epoch of one iteration: `epochIndex + iter / itersPerEpoch`, as
 * engine_pretrain passes `data_iter_step / len(data_loader) + epoch` (iter counts micro-batches).
 */
export function epochFraction(epochIndex: number, iter: number, itersPerEpoch: number): number {
  checkInteger('epochFraction: epochIndex', epochIndex, 0);
  checkInteger('epochFraction: itersPerEpoch', itersPerEpoch, 1);
  checkInteger('epochFraction: iter', iter, 0);
  if (iter >= itersPerEpoch) failArgument('epochFraction: iter', iter, `less than itersPerEpoch (${itersPerEpoch})`);
  return epochIndex + iter / itersPerEpoch;
}
