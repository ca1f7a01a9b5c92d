/**
 * Datasets and shuffled, augmented, prefetched batches with exact resume.
 *
 * Determinism: epoch e visits the dataset in a Fisher–Yates order seeded by (seed, e); the
 * augmentation draws from one {@link Rng} stream per epoch, seeded by (seed, e) at the start of
 * the epoch and advanced sample by sample in batch order. A {@link BatchPosition} (epoch, batch
 * index, RNG state) taken after any batch therefore resumes the exact same subsequent batches,
 * whatever the prefetch depth and however long `get` takes.
 */
import type { Augmentation } from './augment.js';
import { DataFormatError, shapeText } from './errors.js';
import type { ImageShape } from './resize.js';
import { deriveSeed, Rng, type RngState, shuffledIndices } from '@maejs/random';

/** One item of a {@link Dataset}. */
export interface Sample {
  /** [H, W, C] values, row-major (HWC), of the dataset's `imageShape`. */
  image: Float32Array;
  /** Class index, or -1 for unlabelled data. */
  label: number;
}

/** Random-access image dataset. */
export interface Dataset {
  /** Number of samples. */
  readonly length: number;
  /** [H, W, C] of every image `get` returns. */
  readonly imageShape: ImageShape;
  /** Sample `index` (0 <= index < length); may be async (files, network). */
  get(index: number): Sample | Promise<Sample>;
}

/** One batch. */
export interface Batch {
  /** [B, H, W, C] */
  images: Float32Array;
  /** [B] class indices (-1 = unlabelled). */
  labels: Int32Array;
  /** [B] dataset index of each sample. */
  indices: Int32Array;
  /** [B, H, W, C] */
  shape: [number, number, number, number];
  /** Epoch this batch belongs to. */
  epoch: number;
  /** Batch number within the epoch, from 0. */
  index: number;
}

/**
 * Where a batch stream stands: the next batch it will yield. JSON-serialisable; save it with a
 * checkpoint and pass it as `resume` to continue with identical batches.
 */
export interface BatchPosition {
  /** Epoch of the next batch. */
  epoch: number;
  /** Index within that epoch of the next batch. */
  batch: number;
  /** Augmentation RNG state before the next batch. */
  rngState: RngState;
  /** The settings the position is only valid with (checked on resume). */
  seed: number;
  batchSize: number;
  datasetLength: number;
  shuffle: boolean;
  dropLast: boolean;
}

/** Options of {@link batchIterator}. */
export interface BatchOptions {
  /** Samples per batch (the last batch of an epoch may be smaller unless `dropLast`). */
  batchSize: number;
  /** Seed of the shuffles and the augmentation. Default 0 (or the `resume` position's seed). */
  seed?: number;
  /** Shuffle each epoch (default true); false visits 0..n-1 in order. */
  shuffle?: boolean;
  /**
   * First epoch (default 0). Each epoch's order depends on (seed, epoch) only. With `resume`,
   * leave it out (the position names its epoch) or give the position's epoch; another is refused.
   */
  epoch?: number;
  /** Stop before this epoch. Default: one epoch, i.e. first epoch + 1. `Infinity` never stops. */
  endEpoch?: number;
  /** Augmentation applied per sample (e.g. {@link createAugmentation}); none by default. */
  augment?: Augmentation;
  /** Drop the last incomplete batch of each epoch (default false). */
  dropLast?: boolean;
  /** Batches prepared ahead of the consumer (default 2; 0 = on demand). */
  prefetch?: number;
  /**
   * Continue from a saved {@link BatchPosition}, in whatever epoch it is, instead of starting at
   * `epoch`: the first batch is the one the position names.
   */
  resume?: BatchPosition;
}

/** Salt of the per-epoch shuffle stream. */
const SHUFFLE_STREAM = 0x5348;
/** Salt of the per-epoch augmentation stream. */
const AUGMENT_STREAM = 0x4155;

/** Dataset order of epoch `epoch`: a seeded permutation, or 0..n-1 when not shuffling. */
export function epochOrder(length: number, seed: number, epoch: number, shuffle = true): Int32Array {
  if (!shuffle) return Int32Array.from({ length }, (_, i) => i);
  return shuffledIndices(length, new Rng(deriveSeed(seed, epoch, SHUFFLE_STREAM)));
}

/**
 * Batches of `dataset` as an async iterator (use `for await`). Yields
 * `{ images [B,H,W,C], labels [B], indices [B], shape, epoch, index }`; call `position()` at any
 * time for the position after the last batch yielded.
 */
export function batchIterator(dataset: Dataset, options: BatchOptions): BatchIterator {
  return new BatchIterator(dataset, options);
}

/** Result of one production step. */
interface Produced {
  batch: Batch;
  after: BatchPosition;
}

/** The iterator returned by {@link batchIterator}. */
export class BatchIterator implements AsyncIterableIterator<Batch> {
  /** Batches per epoch. */
  readonly batchesPerEpoch: number;
  /** [H, W, C] of the images in each batch. */
  readonly imageShape: ImageShape;
  private readonly settings: Omit<BatchPosition, 'epoch' | 'batch' | 'rngState'>;
  private readonly endEpoch: number;
  private readonly prefetch: number;
  private readonly augment: Augmentation | undefined;
  /** The next batch to produce. */
  private cursor: { epoch: number; batch: number; rng: Rng };
  /** The position after the last batch handed to the consumer. */
  private consumed: BatchPosition;
  private order: { epoch: number; indices: Int32Array } | undefined;
  private readonly queue: Promise<Produced | undefined>[] = [];
  private chain: Promise<unknown> = Promise.resolve();
  private finished = false;
  private failed = false;

  constructor(
    private readonly dataset: Dataset,
    options: BatchOptions,
  ) {
    this.settings = resolveSettings(dataset, options);
    const { batchSize, datasetLength, dropLast } = this.settings;
    this.batchesPerEpoch = dropLast ? Math.floor(datasetLength / batchSize) : Math.ceil(datasetLength / batchSize);
    if (this.batchesPerEpoch === 0) throw new DataFormatError('batchIterator', `dataset of ${datasetLength} samples has no full batch of ${batchSize} (dropLast is set)`);
    this.augment = options.augment;
    this.imageShape = options.augment ? options.augment.outputShape(dataset.imageShape) : dataset.imageShape;
    this.prefetch = checkCount(options.prefetch ?? 2, 'prefetch', 0);
    const start = options.resume ? this.resumeCursor(options.resume) : this.epochStart(checkCount(options.epoch ?? 0, 'epoch', 0));
    this.cursor = start;
    this.endEpoch = options.endEpoch ?? start.epoch + 1;
    if (!(this.endEpoch === Infinity || Number.isInteger(this.endEpoch))) throw new DataFormatError('batchIterator', `endEpoch must be an integer or Infinity, got ${options.endEpoch}`);
    this.consumed = this.snapshot();
  }

  /** The iterator itself (use it in `for await`). */
  [Symbol.asyncIterator](): BatchIterator {
    return this;
  }

  /** The position after the last batch yielded (the start position before the first). */
  position(): BatchPosition {
    return { ...this.consumed, rngState: [...this.consumed.rngState] as RngState };
  }

  /** The next batch, or `done` after the last batch of `endEpoch - 1`. */
  async next(): Promise<IteratorResult<Batch, undefined>> {
    if (this.finished) return { done: true, value: undefined };
    while (this.queue.length < 1 + this.prefetch) this.schedule();
    const head = this.queue.shift() as Promise<Produced | undefined>;
    let produced: Produced | undefined;
    try {
      produced = await head;
    } catch (error) {
      this.stop();
      throw error;
    }
    if (!produced) {
      this.stop();
      return { done: true, value: undefined };
    }
    this.consumed = produced.after;
    return { done: false, value: produced.batch };
  }

  /** Stops the iterator (called by `break` in `for await`); prefetched batches are discarded. */
  async return(): Promise<IteratorResult<Batch, undefined>> {
    this.stop();
    return { done: true, value: undefined };
  }

  private stop(): void {
    this.finished = true;
    this.queue.length = 0;
  }

  /** Queues production of the next batch behind the ones already queued. */
  private schedule(): void {
    const produced = this.chain.then(() => this.produceNext());
    this.chain = produced.catch(() => undefined);
    this.queue.push(produced);
  }

  private async produceNext(): Promise<Produced | undefined> {
    if (this.finished || this.failed || this.cursor.epoch >= this.endEpoch) return undefined;
    await yieldToEventLoop(); // let the consumer run its step before the next batch is built
    try {
      return await this.produceBatch();
    } catch (error) {
      this.failed = true; // batches queued behind this one end the stream instead of retrying
      throw error;
    }
  }

  private async produceBatch(): Promise<Produced> {
    const { epoch, batch, rng } = this.cursor;
    const { batchSize, datasetLength } = this.settings;
    const start = batch * batchSize;
    const indices = this.orderOf(epoch).slice(start, Math.min(datasetLength, start + batchSize));
    const samples = await loadSamples(this.dataset, indices);
    const built = this.assemble(samples, indices, rng, epoch, batch);
    this.cursor = batch + 1 < this.batchesPerEpoch ? { epoch, batch: batch + 1, rng } : this.epochStart(epoch + 1);
    return { batch: built, after: this.snapshot() };
  }

  /** Copies (or augments) the samples, in order, into one [B, H, W, C] batch. */
  private assemble(samples: Sample[], indices: Int32Array, rng: Rng, epoch: number, index: number): Batch {
    const [h, w, c] = this.imageShape;
    const size = h * w * c;
    const images = new Float32Array(samples.length * size); // [B, H, W, C]
    const labels = new Int32Array(samples.length);
    samples.forEach((sample, k) => {
      checkSample(sample, indices[k], this.dataset.imageShape);
      const slot = images.subarray(k * size, (k + 1) * size);
      if (this.augment) this.augment.apply(sample.image, this.dataset.imageShape, rng, slot);
      else slot.set(sample.image);
      labels[k] = sample.label;
    });
    return { images, labels, indices, shape: [samples.length, h, w, c], epoch, index };
  }

  private orderOf(epoch: number): Int32Array {
    if (this.order?.epoch !== epoch) {
      const { datasetLength, seed, shuffle } = this.settings;
      this.order = { epoch, indices: epochOrder(datasetLength, seed, epoch, shuffle) };
    }
    return this.order.indices;
  }

  private epochStart(epoch: number): { epoch: number; batch: number; rng: Rng } {
    return { epoch, batch: 0, rng: new Rng(deriveSeed(this.settings.seed, epoch, AUGMENT_STREAM)) };
  }

  private resumeCursor(position: BatchPosition): { epoch: number; batch: number; rng: Rng } {
    checkCount(position.epoch, 'resume.epoch', 0);
    checkCount(position.batch, 'resume.batch', 0);
    if (position.batch >= this.batchesPerEpoch) {
      throw new DataFormatError('batchIterator', `resume position batch ${position.batch} is past the ${this.batchesPerEpoch} batches of an epoch`);
    }
    return { epoch: position.epoch, batch: position.batch, rng: Rng.fromState(position.rngState) };
  }

  private snapshot(): BatchPosition {
    return { epoch: this.cursor.epoch, batch: this.cursor.batch, rngState: this.cursor.rng.state(), ...this.settings };
  }
}

/** Validates options (and a resume position against them); fills defaults. */
function resolveSettings(dataset: Dataset, options: BatchOptions): Omit<BatchPosition, 'epoch' | 'batch' | 'rngState'> {
  const resume = options.resume;
  const settings = {
    seed: options.seed ?? resume?.seed ?? 0,
    batchSize: checkCount(options.batchSize, 'batchSize', 1),
    datasetLength: checkCount(dataset.length, 'dataset.length', 1),
    shuffle: options.shuffle ?? resume?.shuffle ?? true,
    dropLast: options.dropLast ?? resume?.dropLast ?? false,
  };
  if (!Number.isSafeInteger(settings.seed)) throw new DataFormatError('batchIterator', `seed must be a safe integer, got ${settings.seed}`);
  if (resume && options.epoch !== undefined && options.epoch !== resume.epoch) {
    throw new DataFormatError('batchIterator', `resume position is in epoch ${resume.epoch} but epoch ${options.epoch} was requested; pass one or the other`);
  }
  if (resume) {
    for (const key of Object.keys(settings) as (keyof typeof settings)[]) {
      if (resume[key] !== settings[key]) {
        throw new DataFormatError('batchIterator', `resume position was saved with ${key} ${resume[key]} but this iterator has ${key} ${settings[key]}`);
      }
    }
  }
  return settings;
}

/** Loads the samples of one batch; async `get`s run concurrently, results stay in order. */
async function loadSamples(dataset: Dataset, indices: Int32Array): Promise<Sample[]> {
  const results = Array.from(indices, (i) => dataset.get(i));
  return results.some(isThenable) ? Promise.all(results) : (results as Sample[]);
}

function isThenable(value: unknown): boolean {
  return typeof (value as PromiseLike<unknown> | undefined)?.then === 'function';
}

function checkSample(sample: Sample, index: number, shape: ImageShape): void {
  const size = shape[0] * shape[1] * shape[2];
  if (!(sample?.image instanceof Float32Array) || sample.image.length !== size) {
    throw new DataFormatError('batchIterator', `dataset sample ${index}: expected a Float32Array image of shape ${shapeText(shape)} (${size} values), got ${sample?.image?.length ?? 'no image'}`);
  }
  if (!Number.isInteger(sample.label)) throw new DataFormatError('batchIterator', `dataset sample ${index}: label must be an integer, got ${sample.label}`);
  const bad = sample.image.findIndex((v) => !Number.isFinite(v));
  if (bad >= 0) throw new DataFormatError('batchIterator', `dataset sample ${index}: image value ${bad} is ${sample.image[bad]}; images must be finite`);
}

function checkCount(value: number, name: string, min: number): number {
  if (!Number.isInteger(value) || value < min) throw new DataFormatError('batchIterator', `${name} must be an integer >= ${min}, got ${value}`);
  return value;
}

/** Resolves on the next macrotask (setImmediate in Node, setTimeout(0) in browsers). */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => (typeof setImmediate === 'function' ? setImmediate(resolve) : setTimeout(resolve, 0)));
}

/**
 * A dataset over uint8 pixels ([N, H, W] or [N, H, W, C], e.g. MNIST); `get` returns
 * HWC float32 pixels / 255. `labels` (length N) default to -1 (unlabelled).
 */
export function uint8ImageDataset(images: Uint8Array, labels: ArrayLike<number> | undefined, shape: readonly number[]): Dataset {
  return imageDataset(images.length, labels, shape, (offset, size) => {
    const image = new Float32Array(size);
    for (let i = 0; i < size; i++) image[i] = images[offset + i] / 255;
    return image;
  });
}

/** A dataset over float32 images [N, H, W, C] (or [N, H, W]); `get` returns views, not copies. */
export function float32ImageDataset(images: Float32Array, labels: ArrayLike<number> | undefined, shape: readonly number[]): Dataset {
  return imageDataset(images.length, labels, shape, (offset, size) => images.subarray(offset, offset + size));
}

/** The common part of the in-memory datasets: shape checks, indexing, labels; `pixels` reads one image. */
function imageDataset(length: number, labels: ArrayLike<number> | undefined, shape: readonly number[], pixels: (offset: number, size: number) => Float32Array): Dataset {
  const [n, h, w, c] = datasetShape(length, labels, shape);
  const size = h * w * c;
  return {
    length: n,
    imageShape: [h, w, c],
    get(index) {
      checkIndex(index, n);
      return { image: pixels(index * size, size), label: labels ? labels[index] : -1 };
    },
  };
}

function datasetShape(length: number, labels: ArrayLike<number> | undefined, shape: readonly number[]): [number, number, number, number] {
  const full = shape.length === 3 ? [...shape, 1] : [...shape];
  if (full.length !== 4 || !full.every((d) => Number.isInteger(d) && d >= 0)) throw new DataFormatError('dataset', `shape must be [N, H, W] or [N, H, W, C], got ${shapeText(shape)}`);
  const [n, h, w, c] = full;
  if (n * h * w * c !== length) throw new DataFormatError('dataset', `images hold ${length} values but shape ${shapeText(shape)} needs ${n * h * w * c}`);
  if (labels && labels.length !== n) throw new DataFormatError('dataset', `${labels.length} labels for ${n} images`);
  return [n, h, w, c];
}

function checkIndex(index: number, n: number): void {
  if (!Number.isInteger(index) || index < 0 || index >= n) throw new DataFormatError('dataset', `index ${index} is outside 0..${n - 1}`);
}
