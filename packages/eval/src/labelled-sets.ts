/**
 * The labelled sets the probes take (feature vectors, images) and their checks. Every error says
 * `<what> is <value>: expected <expectation>` (`@maejs/backend`'s argument message).
 */
import { checkInteger, failArgument, typeError } from '@maejs/backend';

/** Labelled feature vectors: `features` is row-major [N, dim], `labels` is [N] class indices. */
export interface FeatureSet {
  /** [N, dim] row-major. */
  features: Float32Array;
  /** [N] integer class indices in [0, numClasses). */
  labels: ArrayLike<number>;
  /** Length of one feature vector (D). */
  dim: number;
}

/** Labelled NHWC images: `images` is row-major [N, H, W, C] float32 (already normalised). */
export interface ImageSet {
  /** [N, H, W, C] row-major, float32. */
  images: Float32Array;
  /** [N] integer class indices in [0, numClasses). */
  labels: ArrayLike<number>;
}

/**
 * Checks labels against the class count: every label must be an integer in [0, numClasses).
 * Returns them as int32 (the dtype tf.oneHot and tf.gather need).
 */
export function checkLabels(what: string, labels: ArrayLike<number>, numClasses: number): Int32Array {
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
    failArgument(`${what}.labels`, labels, 'an array of class indices', typeError);
  }
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      failArgument(`${what}.labels[${i}]`, label, `an integer in [0, numClasses) = [0, ${numClasses}); is numClasses too small?`);
    }
    out[i] = label;
  }
  return out;
}

/** Throws at the first NaN or infinity in `values`, naming its index. */
export function checkFiniteValues(what: string, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) failArgument(`${what}[${i}]`, values[i], 'a finite number');
  }
}

/** Throws unless `set` has at least one sample (N = labels.length > 0). */
function checkNotEmpty(what: string, labels: ArrayLike<number>): void {
  if (labels.length === 0) failArgument(`${what}.labels.length`, 0, 'at least 1');
}

/**
 * Validates a feature set: non-empty, features [N, dim] float32 and finite, labels [N] in
 * [0, numClasses). Returns N and the labels as int32.
 */
export function checkFeatureSet(what: string, set: FeatureSet, numClasses: number): { n: number; labels: Int32Array } {
  if (!set || typeof set !== 'object') failArgument(what, set, '{ features: Float32Array, labels, dim }', typeError);
  if (!(set.features instanceof Float32Array)) failArgument(`${what}.features`, set.features, 'a Float32Array [N, dim]', typeError);
  checkInteger(`${what}.dim`, set.dim, 1);
  checkNotEmpty(what, set.labels ?? []);
  const n = set.labels.length;
  if (set.features.length !== n * set.dim) {
    failArgument(`${what}.features.length`, set.features.length, `labels.length x dim = ${n} x ${set.dim} = ${n * set.dim}`);
  }
  checkFiniteValues(`${what}.features`, set.features);
  return { n, labels: checkLabels(what, set.labels, numClasses) };
}

/** Validates that two feature sets have the same feature length. */
export function checkSameDim(train: FeatureSet, test: FeatureSet): void {
  if (train.dim !== test.dim) failArgument('test.dim', test.dim, `train.dim = ${train.dim} (both sets must have the same feature length)`);
}

/**
 * Validates an image set against an image shape [H, W, C]: non-empty, images [N, H, W, C]
 * float32 and finite, labels [N] in [0, numClasses). Returns N and the labels as int32.
 */
export function checkImageSet(what: string, set: ImageSet, imageShape: readonly [number, number, number], numClasses: number): { n: number; labels: Int32Array } {
  if (!set || typeof set !== 'object') failArgument(what, set, '{ images: Float32Array, labels }', typeError);
  if (!(set.images instanceof Float32Array)) failArgument(`${what}.images`, set.images, 'a Float32Array [N, H, W, C]', typeError);
  checkNotEmpty(what, set.labels ?? []);
  const n = set.labels.length;
  const [h, w, c] = imageShape;
  if (set.images.length !== n * h * w * c) {
    failArgument(`${what}.images.length`, set.images.length, `labels.length x H x W x C = ${n} x ${h} x ${w} x ${c} = ${n * h * w * c} (NHWC)`);
  }
  checkFiniteValues(`${what}.images`, set.images);
  return { n, labels: checkLabels(what, set.labels, numClasses) };
}
