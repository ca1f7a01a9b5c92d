/** Frozen encoder features of a whole image set, computed batch by batch. */
import * as tf from '@tensorflow/tfjs-core';
import { checkFeaturePooling, type FeaturePooling } from '@maejs/mae';
import { checkInteger, failArgument, showShape, typeError } from '@maejs/backend';
import { checkFiniteValues } from './labelled-sets.js';

/**
 * How one image becomes one vector (`FeaturePooling` of @maejs/mae): 'cls' the cls token after the
 * final norm (official global_pool=False); 'mean' the official global_pool features (LayerNorm at
 * weight 1, bias 0 of the mean of the patch tokens before the final norm); 'mean-norm' the mean
 * of the patch tokens after the final norm.
 */
export type Pooling = FeaturePooling;

/** What feature extraction needs from a model (a `MaskedAutoencoder` fits). */
export interface FeatureModel {
  readonly config: { readonly imgSize: number; readonly inChans: number; readonly embedDim: number };
  /** images [N, H, W, C] -> [N, D]; the caller owns the result. */
  features(images: tf.Tensor4D, pooling: Pooling): tf.Tensor2D;
}

/**
 * Computes a batch's features somewhere else than on this thread's model, e.g. `DataParallel`
 * of `@maejs/trainer/node` over worker threads: images [B, H, W, C] row-major -> [B, D] row-major.
 */
export interface FeatureEngine {
  /** Features of one batch with `pooling`: images [B, H, W, C] row-major -> [B, D] row-major. */
  features(images: Float32Array, shape: [number, number, number, number], pooling: Pooling): Promise<Float32Array>;
}

/** Options of {@link extractFeatures}. */
export interface ExtractFeaturesOptions {
  /** 'cls' (default; main_linprobe's default), 'mean' (main_linprobe --global_pool) or 'mean-norm'. */
  pooling?: Pooling;
  /** Images per forward pass; default 256. */
  batchSize?: number;
  /** Computes each batch instead of `model.features` (same values up to float rounding). */
  engine?: FeatureEngine;
  /** Called after every batch with the number of images done and the total. */
  onProgress?: (done: number, total: number) => void;
}

/**
 * Encoder features of every image, without masking, computed `batchSize` images at a time
 * (the tensor count stays flat: each batch's tensors are freed before the next).
 *
 * @param model a model with `features(images, pooling)`, e.g. a `MaskedAutoencoder`.
 * @param images [N, H, W, C] row-major float32, normalised as in pre-training.
 * @param shape [N, H, W, C]; H = W = model.config.imgSize, C = model.config.inChans.
 * @returns [N, D] row-major, D = model.config.embedDim.
 */
export async function extractFeatures(model: FeatureModel, images: Float32Array, shape: readonly [number, number, number, number], options: ExtractFeaturesOptions = {}): Promise<Float32Array> {
  const pooling = options.pooling ?? 'cls';
  const batchSize = options.batchSize ?? 256;
  checkExtractArgs(model, images, shape, pooling, batchSize);
  const [n, h, w, c] = shape;
  const d = model.config.embedDim;
  const perImage = h * w * c;
  const out = new Float32Array(n * d); // [N, D]
  for (let start = 0; start < n; start += batchSize) {
    const end = Math.min(n, start + batchSize);
    const shapeOfBatch: [number, number, number, number] = [end - start, h, w, c];
    out.set(await batchFeatures(model, options.engine, images.subarray(start * perImage, end * perImage), shapeOfBatch, pooling), start * d);
    options.onProgress?.(end, n);
  }
  return out;
}

/** One batch's features [B, D] from the engine, or from the model on this thread. */
async function batchFeatures(model: FeatureModel, engine: FeatureEngine | undefined, images: Float32Array, shape: [number, number, number, number], pooling: Pooling): Promise<Float32Array> {
  if (engine) return engine.features(images, shape, pooling);
  const batch = tf.tensor4d(images, shape); // [B, H, W, C]
  try {
    const feats = model.features(batch, pooling); // [B, D]
    const values = (await feats.data()) as Float32Array;
    feats.dispose();
    return values;
  } finally {
    batch.dispose();
  }
}

/** Validates the arguments of extractFeatures against the model's config. */
function checkExtractArgs(model: FeatureModel, images: Float32Array, shape: readonly number[], pooling: Pooling, batchSize: number): void {
  if (!model || typeof model.features !== 'function' || !model.config) throw new TypeError('extractFeatures: model must have config and features(images, pooling) (e.g. a MaskedAutoencoder)');
  checkFeaturePooling('extractFeatures', pooling);
  checkInteger('extractFeatures: batchSize', batchSize, 1);
  if (!(images instanceof Float32Array)) failArgument('extractFeatures: images', images, 'a Float32Array [N, H, W, C]', typeError);
  const { imgSize, inChans } = model.config;
  const expected = `[N, ${imgSize}, ${imgSize}, ${inChans}]`;
  if (!Array.isArray(shape) || shape.length !== 4) failArgument('extractFeatures: shape', shape, `${expected} (NHWC)`);
  const [n, h, w, c] = shape;
  checkInteger('extractFeatures: shape[0] (N)', n, 1);
  if (h !== imgSize || w !== imgSize || c !== inChans) failArgument('extractFeatures: shape', shape, `${expected} (the model's imgSize and inChans; NHWC)`);
  if (images.length !== n * h * w * c) failArgument('extractFeatures: images.length', images.length, `N x H x W x C = ${n * h * w * c} for shape ${showShape(shape)}`);
  checkFiniteValues('extractFeatures: images', images);
}
