/** Pieces shared by the trained heads: the loss, the schedule defaults, epoch records. */
import * as tf from '@tensorflow/tfjs-core';
import { Rng } from '@maejs/random';

/**
 * Mean cross-entropy of logits against integer labels, as torch.nn.CrossEntropyLoss().
 * logits: [B, K], labels: int32 [B] -> scalar
 */
export function crossEntropy(logits: tf.Tensor2D, labels: tf.Tensor1D): tf.Scalar {
  return tf.tidy(() => {
    const numClasses = logits.shape[1];
    const logProbs = tf.logSoftmax(logits); // [B, K]
    const target = oneHotFloat(labels, numClasses); // [B, K]
    return tf.neg(tf.mean(tf.sum(tf.mul(target, logProbs), 1))) as tf.Scalar;
  });
}

/**
 * One-hot rows as float32. labels: int32 [...] -> [..., depth]. tf.oneHot's own float32 dtype
 * is wrong on wasm (tfjs-backend-wasm 4.22 writes int32 bit patterns into the float32 output, so
 * 1 reads as 1.4e-45): build int32 and cast instead.
 */
export function oneHotFloat(labels: tf.Tensor, depth: number): tf.Tensor {
  return tf.tidy(() => tf.cast(tf.oneHot(labels, depth), 'float32'));
}

/** One epoch of training as recorded in a history. */
export interface EpochRecord {
  /** 0-based epoch index. */
  epoch: number;
  /** Mean training loss over the epoch's steps. */
  loss: number;
  /** Learning rate (of the last layer group) at the epoch's last step. */
  lr: number;
}

/**
 * Weights drawn from N(0, std^2), the distribution timm's `trunc_normal_(w, std)` gives for the
 * small std used on heads: timm truncates at the absolute values [-2, 2], i.e. at 200 std for
 * std = 0.01, which never happens in practice. shape -> tensor of that shape. Drawn in
 * JavaScript from `Rng(seed)` of @maejs/random (the callers pass `seedFor(seed, 'head.weight')`),
 * so every backend gets the same values.
 */
export function headInit(shape: [number, number], std: number, seed: number): tf.Tensor2D {
  return tf.tensor2d(new Rng(seed).fillNormal(new Float32Array(shape[0] * shape[1]), 0, std), shape);
}

/** Sum of device scalars, read once (one sync per epoch instead of one per step). */
export class LossAccumulator {
  private total: tf.Scalar = tf.scalar(0);
  private count = 0;

  /** Adds `loss` and disposes it. */
  add(loss: tf.Scalar): void {
    const next = tf.add(this.total, loss) as tf.Scalar;
    tf.dispose([this.total, loss]);
    this.total = next;
    this.count++;
  }

  /** Mean of the losses added since the last call, then reset. */
  async mean(): Promise<number> {
    const sum = (await this.total.data())[0];
    const mean = sum / Math.max(1, this.count);
    this.total.dispose();
    this.total = tf.scalar(0);
    this.count = 0;
    return mean;
  }

  dispose(): void {
    this.total.dispose();
  }
}
