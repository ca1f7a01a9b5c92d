/**
 * Weighted k-nearest-neighbour classification on frozen features, the protocol of
 * InstDisc (Wu et al., 2018) and DINO's `eval_knn.py`: cosine similarity, top k, votes
 * weighted by exp(similarity / T).
 */
import * as tf from '@tensorflow/tfjs-core';
import { oneHotFloat } from './classify.js';
import { checkInteger, checkPositive, failArgument } from '@maejs/backend';
import { checkFeatureSet, checkSameDim, type FeatureSet } from './labelled-sets.js';

/** Options of {@link knnClassify}. */
export interface KnnOptions {
  /** Number of classes K; every label must be in [0, K). */
  numClasses: number;
  /** Neighbours that vote; default 20 (DINO). At most the number of train samples. */
  k?: number;
  /** Temperature T of the vote weights exp(sim / T); default 0.07 (DINO, InstDisc). */
  temperature?: number;
  /** Test samples compared per matMul; default 256. */
  chunkSize?: number;
}

/** What {@link knnClassify} returns. */
export interface KnnResult {
  /** Fraction of test samples whose predicted class equals the label. */
  accuracy: number;
  /** [Ntest] predicted class of each test sample. */
  predictions: Int32Array;
}

/**
 * Weighted kNN classifier (DINO `knn_classifier`):
 * 1. L2-normalise every train and test feature (F.normalize, eps 1e-12);
 * 2. cosine similarity of each test feature to all train features, `test [C, D] @ trainT [D, Ntrain]`
 *    per chunk of C test samples (train features transposed once, so the product is a plain matMul);
 * 3. the k most similar train samples vote for their labels with weight exp(sim / T);
 * 4. prediction = argmax of the summed votes (on an exact tie, the lower class index).
 *
 * Works on any features, including raw normalised pixels (the pixel baseline).
 *
 * @param train features [Ntrain, D] with labels [Ntrain].
 * @param test features [Ntest, D] with labels [Ntest] (used only for the accuracy).
 */
export async function knnClassify(train: FeatureSet, test: FeatureSet, options: KnnOptions): Promise<KnnResult> {
  const { k, temperature, chunkSize, numClasses } = resolveKnnOptions(options);
  const tr = checkFeatureSet('knnClassify: train', train, numClasses);
  const te = checkFeatureSet('knnClassify: test', test, numClasses);
  checkSameDim(train, test);
  if (k > tr.n) failArgument('knnClassify: k', k, `at most the ${tr.n} train samples`);

  const d = train.dim;
  const trainT = tf.tidy(() => tf.transpose(l2Normalize(tf.tensor2d(train.features, [tr.n, d])))); // [D, Ntrain]
  const trainLabels = tf.tensor1d(tr.labels, 'int32'); // [Ntrain]
  const predictions = new Int32Array(te.n);
  try {
    for (let start = 0; start < te.n; start += chunkSize) {
      const end = Math.min(te.n, start + chunkSize);
      const chunk = test.features.subarray(start * d, end * d); // [C, D]
      const pred = tf.tidy(() => voteChunk(tf.tensor2d(chunk, [end - start, d]), trainT, trainLabels, { k, temperature, numClasses }));
      predictions.set((await pred.data()) as Int32Array, start);
      pred.dispose();
    }
  } finally {
    tf.dispose([trainT, trainLabels]);
  }
  return { accuracy: accuracyOf(predictions, te.labels), predictions };
}

/** Defaults and validation of the kNN options. */
function resolveKnnOptions(options: KnnOptions): Required<KnnOptions> {
  if (!options || typeof options !== 'object') throw new TypeError('knnClassify: options { numClasses, k?, temperature?, chunkSize? } are required');
  const resolved = { k: options.k ?? 20, temperature: options.temperature ?? 0.07, chunkSize: options.chunkSize ?? 256, numClasses: options.numClasses };
  checkInteger('knnClassify: numClasses', resolved.numClasses, 1);
  checkInteger('knnClassify: k', resolved.k, 1);
  checkPositive('knnClassify: temperature', resolved.temperature);
  checkInteger('knnClassify: chunkSize', resolved.chunkSize, 1);
  return resolved;
}

/** Rows scaled to unit L2 norm, as torch F.normalize(x, dim=1) (eps 1e-12). x: [N, D] -> [N, D] */
export function l2Normalize(x: tf.Tensor2D): tf.Tensor2D {
  return tf.tidy(() => {
    const norm = tf.sqrt(tf.sum(tf.square(x), 1, true)); // [N, 1]
    return tf.div(x, tf.maximum(norm, 1e-12)) as tf.Tensor2D;
  });
}

/**
 * Predicted classes of one chunk of test features (call inside tf.tidy).
 * test: [C, D] (raw), trainT: [D, Ntrain] (normalised), trainLabels: int32 [Ntrain] -> int32 [C]
 */
function voteChunk(test: tf.Tensor2D, trainT: tf.Tensor2D, trainLabels: tf.Tensor1D, o: { k: number; temperature: number; numClasses: number }): tf.Tensor1D {
  const c = test.shape[0];
  const sim = tf.matMul(l2Normalize(test), trainT); // [C, Ntrain] cosine similarities
  const { values, indices } = tf.topk(sim, o.k); // [C, k], [C, k]
  const neighbourLabels = tf.reshape(tf.gather(trainLabels, tf.reshape(indices, [-1])), [c, o.k]); // [C, k]
  const weights = tf.exp(tf.div(values, o.temperature)); // [C, k]
  const oneHot = oneHotFloat(neighbourLabels, o.numClasses); // [C, k, K]
  const votes = tf.sum(tf.mul(oneHot, tf.reshape(weights, [c, o.k, 1])), 1); // [C, K]
  return tf.cast(tf.argMax(votes, 1), 'int32') as tf.Tensor1D; // [C]
}

/** Fraction of equal entries. */
export function accuracyOf(predictions: Int32Array, labels: Int32Array): number {
  let correct = 0;
  for (let i = 0; i < labels.length; i++) if (predictions[i] === labels[i]) correct++;
  return correct / labels.length;
}
