/** Input checks shared by the probes. Every error names the bad value and what was expected. */

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

/** Throws unless `value` is an integer >= min. */
export function checkInteger(what: string, value: unknown, min: number): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`${what} is ${String(value)}, expected an integer >= ${min}`);
  }
}

/** Throws unless `value` is a finite number > 0. */
export function checkPositive(what: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${what} is ${String(value)}, expected a finite number > 0`);
  }
}

/** Throws unless `value` is a finite number >= 0. */
export function checkNonNegative(what: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${what} is ${String(value)}, expected a finite number >= 0`);
  }
}

/** Throws unless `value` is a number in [0, 1). */
export function checkUnitInterval(what: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !(value >= 0 && value < 1)) {
    throw new RangeError(`${what} is ${String(value)}, expected a number in [0, 1)`);
  }
}

/**
 * Checks labels against the class count: every label must be an integer in [0, numClasses).
 * Returns them as int32 (the dtype tf.oneHot and tf.gather need).
 */
export function checkLabels(what: string, labels: ArrayLike<number>, numClasses: number): Int32Array {
  if (labels === null || typeof labels !== 'object' || typeof labels.length !== 'number') {
    throw new TypeError(`${what}.labels is ${String(labels)}, expected an array of class indices`);
  }
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i];
    if (!Number.isInteger(label) || label < 0 || label >= numClasses) {
      throw new RangeError(`${what}.labels[${i}] is ${String(label)}, expected an integer in [0, numClasses) = [0, ${numClasses}); is numClasses too small?`);
    }
    out[i] = label;
  }
  return out;
}

/** Throws at the first NaN or infinity in `values`, naming its index. */
export function checkFinite(what: string, values: Float32Array): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new RangeError(`${what}[${i}] is ${values[i]}, expected finite values`);
  }
}

/** Throws unless `set` has at least one sample (N = labels.length > 0). */
function checkNotEmpty(what: string, labels: ArrayLike<number>): void {
  if (labels.length === 0) throw new RangeError(`${what} is empty (0 labels), expected at least 1 sample`);
}

/**
 * Validates a feature set: non-empty, features [N, dim] float32 and finite, labels [N] in
 * [0, numClasses). Returns N and the labels as int32.
 */
export function checkFeatureSet(what: string, set: FeatureSet, numClasses: number): { n: number; labels: Int32Array } {
  if (!set || typeof set !== 'object') throw new TypeError(`${what} is ${String(set)}, expected { features: Float32Array, labels, dim }`);
  if (!(set.features instanceof Float32Array)) throw new TypeError(`${what}.features must be a Float32Array [N, dim], got ${Object.prototype.toString.call(set.features)}`);
  checkInteger(`${what}.dim`, set.dim, 1);
  checkNotEmpty(what, set.labels ?? []);
  const n = set.labels.length;
  if (set.features.length !== n * set.dim) {
    throw new RangeError(`${what}.features has ${set.features.length} values, expected labels.length x dim = ${n} x ${set.dim} = ${n * set.dim}`);
  }
  checkFinite(`${what}.features`, set.features);
  return { n, labels: checkLabels(what, set.labels, numClasses) };
}

/** Validates that two feature sets have the same feature length. */
export function checkSameDim(train: FeatureSet, test: FeatureSet): void {
  if (train.dim !== test.dim) throw new RangeError(`test.dim is ${test.dim}, expected train.dim = ${train.dim} (both sets must have the same feature length)`);
}

/**
 * Validates an image set against an image shape [H, W, C]: non-empty, images [N, H, W, C]
 * float32 and finite, labels [N] in [0, numClasses). Returns N and the labels as int32.
 */
export function checkImageSet(what: string, set: ImageSet, imageShape: readonly [number, number, number], numClasses: number): { n: number; labels: Int32Array } {
  if (!set || typeof set !== 'object') throw new TypeError(`${what} is ${String(set)}, expected { images: Float32Array, labels }`);
  if (!(set.images instanceof Float32Array)) throw new TypeError(`${what}.images must be a Float32Array [N, H, W, C], got ${Object.prototype.toString.call(set.images)}`);
  checkNotEmpty(what, set.labels ?? []);
  const n = set.labels.length;
  const [h, w, c] = imageShape;
  if (set.images.length !== n * h * w * c) {
    throw new RangeError(`${what}.images has ${set.images.length} values, expected labels.length x H x W x C = ${n} x ${h} x ${w} x ${c} = ${n * h * w * c} (NHWC)`);
  }
  checkFinite(`${what}.images`, set.images);
  return { n, labels: checkLabels(what, set.labels, numClasses) };
}
