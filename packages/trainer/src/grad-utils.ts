/** Gradient clipping and accumulation over micro-batches. */
import * as tf from '@tensorflow/tfjs-core';
import { checkInRange, checkInteger, checkOneOf, failArgument, typeError } from '@maejs/backend';
import type { AdamW } from './adamw.js';
import { checkGradients, resolveVariables, type VariableSource } from './variables.js';

/**
 * Global-norm gradient clipping, as `torch.nn.utils.clip_grad_norm_`: the total norm is the
 * norm of the per-tensor norms; every gradient is multiplied by
 * `min(maxNorm / (totalNorm + 1e-6), 1)`.
 *
 * Works in place on the map: each gradient is replaced by its clipped version and the original
 * is disposed. Nothing is read back from the device.
 *
 * @param normType 2 (Euclidean, default) or Infinity (max abs).
 * @returns the total norm before clipping, a scalar the caller owns (`await norm.data()` to log it).
 */
export function clipGradNorm(grads: Map<string, tf.Tensor>, maxNorm: number, normType = 2): tf.Scalar {
  if (!(grads instanceof Map)) failArgument('clipGradNorm: grads', grads, 'a Map<string, tf.Tensor>', typeError);
  checkInRange('clipGradNorm: maxNorm', maxNorm, 0, Infinity, '(]');
  checkOneOf('clipGradNorm: normType', normType, [2, Infinity]);
  if (grads.size === 0) return tf.scalar(0);
  const total = totalNorm([...grads.values()], normType);
  if (maxNorm === Infinity) return total; // coefficient is 1: nothing to scale
  for (const [name, g] of [...grads]) {
    grads.set(name, scaleByClipCoef(g, total, maxNorm));
    g.dispose();
  }
  return total;
}

/** Norm of the per-tensor norms. [] -> scalar */
function totalNorm(grads: tf.Tensor[], normType: number): tf.Scalar {
  return tf.tidy(() => {
    const ord = normType === 2 ? 'euclidean' : Infinity;
    const norms = grads.map((g) => tf.norm(g, ord)); // each a scalar
    return tf.norm(tf.stack(norms), ord) as tf.Scalar; // stack: [numTensors]
  });
}

/** g * min(maxNorm / (total + 1e-6), 1), same shape as g. */
function scaleByClipCoef(g: tf.Tensor, total: tf.Scalar, maxNorm: number): tf.Tensor {
  return tf.tidy(() => {
    const coef = tf.minimum(tf.div(maxNorm, tf.add(total, 1e-6)), 1); // scalar
    return tf.mul(g, coef);
  });
}

/**
 * Sums gradients over `steps` micro-batches and yields their mean (sum x 1/steps), as the
 * official `accum_iter`: with micro-batches of equal size this equals the gradient of one
 * batch `steps` times larger. Holds one zero-initialised buffer per parameter and updates
 * it in place, so the tensor count stays flat. Call dispose() when done.
 */
export class GradientAccumulator {
  /** Micro-batches per optimizer step. */
  readonly steps: number;
  private readonly buffers = new Map<string, tf.Variable>();
  private added = 0;

  /**
   * @param source the parameters whose gradients are accumulated (a Map or a model).
   * @param steps micro-batches per optimizer step, an integer >= 1.
   */
  constructor(source: VariableSource, steps: number) {
    checkInteger('GradientAccumulator: steps', steps, 1);
    this.steps = steps;
    for (const [name, variable] of resolveVariables(source)) {
      this.buffers.set(name, tf.tidy(() => tf.variable(tf.zerosLike(variable), false)));
    }
  }

  /** Micro-batches added since the last reset. */
  get count(): number {
    return this.added;
  }

  /** True once `steps` micro-batches have been added. */
  get ready(): boolean {
    return this.added === this.steps;
  }

  /**
   * Adds the gradients of one micro-batch (names as the parameters; a missing name adds zero).
   * The gradients stay owned by the caller.
   */
  add(grads: ReadonlyMap<string, tf.Tensor>): void {
    if (this.added >= this.steps) throw new Error(`GradientAccumulator.add: already holds ${this.steps} of ${this.steps} micro-batches; call step(optimizer), mean() + reset() first`);
    checkGradients('GradientAccumulator.add', this.buffers, grads);
    for (const [name, g] of grads) {
      const buffer = this.buffers.get(name)!;
      tf.tidy(() => buffer.assign(tf.add(buffer, g)));
    }
    this.added++;
  }

  /** The mean gradient (sum / steps) per parameter, as new tensors the caller owns. */
  mean(): Map<string, tf.Tensor> {
    if (!this.ready) throw new Error(`GradientAccumulator.mean: holds ${this.added} of ${this.steps} micro-batches; add ${this.steps - this.added} more first`);
    const scale = 1 / this.steps;
    return new Map([...this.buffers].map(([name, buffer]) => [name, tf.tidy(() => tf.mul(buffer, scale))]));
  }

  /** Zeroes the sums (optimizer.zero_grad()). */
  reset(): void {
    for (const buffer of this.buffers.values()) tf.tidy(() => buffer.assign(tf.zerosLike(buffer)));
    this.added = 0;
  }

  /** Applies the mean gradient with `optimizer`, then resets. Requires `ready`. */
  step(optimizer: Pick<AdamW, 'applyGradients'>): void {
    const mean = this.mean();
    try {
      optimizer.applyGradients(mean);
    } finally {
      tf.dispose([...mean.values()]);
    }
    this.reset();
  }

  /** Frees the sum buffers. */
  dispose(): void {
    tf.dispose([...this.buffers.values()]);
    this.buffers.clear();
    this.added = 0;
  }
}
