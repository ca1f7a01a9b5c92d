import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { createAugmentation } from './augment.js';
import { type Batch, batchIterator, type BatchOptions, type BatchPosition, type Dataset, epochOrder, float32ImageDataset, uint8ImageDataset } from './batches.js';
import { DataFormatError } from './errors.js';
import { batchToTensors } from './tensors.js';

/** n images of 6 x 6 x 1 whose pixels encode the index (pixel p of image i = i + p / 100). */
function indexDataset(n: number): Dataset {
  const images = Float32Array.from({ length: n * 36 }, (_, k) => Math.floor(k / 36) + (k % 36) / 100);
  return float32ImageDataset(images, Int32Array.from({ length: n }, (_, i) => i % 10), [n, 6, 6, 1]);
}

/** Wraps a dataset so that `get` resolves after a random delay (and counts calls). */
function slowDataset(inner: Dataset, seed: number): Dataset & { calls: number[] } {
  let state = seed;
  const calls: number[] = [];
  return {
    length: inner.length,
    imageShape: inner.imageShape,
    calls,
    get(index) {
      calls.push(index);
      state = (state * 1103515245 + 12345) % 2147483648;
      const delay = state % 3;
      return new Promise((resolve) => setTimeout(() => resolve(inner.get(index)), delay));
    },
  };
}

async function collect(dataset: Dataset, options: BatchOptions): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const batch of batchIterator(dataset, options)) out.push(batch);
  return out;
}

describe('batchIterator', () => {
  it('visits every index exactly once per epoch, last batch smaller, labels and images aligned', async () => {
    const dataset = indexDataset(103);
    const batches = await collect(dataset, { batchSize: 10, seed: 1 });
    expect(batches.map((b) => b.shape[0])).toEqual([10, 10, 10, 10, 10, 10, 10, 10, 10, 10, 3]);
    expect(batches.map((b) => b.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    const seen = batches.flatMap((b) => Array.from(b.indices)).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: 103 }, (_, i) => i));
    const first = batches[0];
    expect(first.shape).toEqual([10, 6, 6, 1]);
    expect(first.images).toBeInstanceOf(Float32Array);
    expect(first.labels).toBeInstanceOf(Int32Array);
    first.indices.forEach((index, k) => {
      expect(first.images[k * 36]).toBe(index);
      expect(first.labels[k]).toBe(index % 10);
    });
  });

  it('same seed and epoch -> same order; other epochs and seeds -> other orders; shuffle: false keeps order', async () => {
    const dataset = indexDataset(50);
    const order = (options: BatchOptions): Promise<number[]> => collect(dataset, options).then((bs) => bs.flatMap((b) => Array.from(b.indices)));
    const a = await order({ batchSize: 7, seed: 5, epoch: 2 });
    expect(await order({ batchSize: 7, seed: 5, epoch: 2 })).toEqual(a);
    expect(await order({ batchSize: 16, seed: 5, epoch: 2, prefetch: 0 })).toEqual(a); // order is per epoch, not per batch size
    expect(a).toEqual(Array.from(epochOrder(50, 5, 2)));
    expect(await order({ batchSize: 7, seed: 5, epoch: 3 })).not.toEqual(a);
    expect(await order({ batchSize: 7, seed: 6, epoch: 2 })).not.toEqual(a);
    expect(await order({ batchSize: 7, shuffle: false })).toEqual(Array.from({ length: 50 }, (_, i) => i));
    const twoEpochs = await collect(dataset, { batchSize: 25, seed: 5, epoch: 2, endEpoch: 4 });
    expect(twoEpochs.map((b) => [b.epoch, b.index])).toEqual([[2, 0], [2, 1], [3, 0], [3, 1]]);
  });

  it('dropLast drops the incomplete batch of every epoch', async () => {
    const batches = await collect(indexDataset(103), { batchSize: 10, dropLast: true, endEpoch: 2 });
    expect(batches).toHaveLength(20);
    expect(batches.every((b) => b.shape[0] === 10)).toBe(true);
    expect(() => batchIterator(indexDataset(5), { batchSize: 10, dropLast: true })).toThrow(/batchIterator: dataset of 5 samples has no full batch of 10 \(dropLast is set\)/);
  });

  it('a position saved mid-run resumes exactly the same batches, augmentation included', async () => {
    const dataset = indexDataset(45);
    const augment = createAugmentation({ size: 5, mean: [0.5], std: [2] });
    const options: BatchOptions = { batchSize: 8, seed: 17, augment, prefetch: 3, endEpoch: 2 };
    const full = await collect(dataset, options); // 2 epochs x 6 batches
    expect(full).toHaveLength(12);
    expect(full[0].shape).toEqual([8, 5, 5, 1]);
    for (const stopAfter of [1, 4, 6, 9]) {
      const iterator = batchIterator(dataset, options);
      for (let i = 0; i < stopAfter; i++) await iterator.next();
      const saved: BatchPosition = JSON.parse(JSON.stringify(iterator.position()));
      await iterator.return();
      expect([saved.epoch, saved.batch]).toEqual([Math.floor(stopAfter / 6), stopAfter % 6]);
      const rest = await collect(dataset, { ...options, resume: saved });
      expect(rest).toEqual(full.slice(stopAfter));
      // Naming the position's own epoch is no contradiction.
      expect(await collect(dataset, { ...options, epoch: saved.epoch, resume: saved })).toEqual(rest);
    }
  });

  it('the starting position is the epoch start, and a fresh epoch start equals continuing into it', async () => {
    const dataset = indexDataset(20);
    const augment = createAugmentation({ size: 6 });
    const iterator = batchIterator(dataset, { batchSize: 8, seed: 3, epoch: 1, augment });
    expect(iterator.position()).toMatchObject({ epoch: 1, batch: 0, seed: 3, batchSize: 8, datasetLength: 20 });
    const continued = await collect(dataset, { batchSize: 8, seed: 3, augment, endEpoch: 2 });
    const fresh = await collect(dataset, { batchSize: 8, seed: 3, augment, epoch: 1 });
    expect(fresh).toEqual(continued.slice(3));
  });

  it('prefetching (async dataset, random delays) does not reorder batches, and runs ahead of the consumer', async () => {
    const reference = await collect(slowDataset(indexDataset(30), 1), { batchSize: 4, seed: 9, prefetch: 0, augment: createAugmentation({ size: 4 }) });
    const prefetched = await collect(slowDataset(indexDataset(30), 2), { batchSize: 4, seed: 9, prefetch: 4, augment: createAugmentation({ size: 4 }) });
    expect(prefetched).toEqual(reference);

    const dataset = slowDataset(indexDataset(30), 3);
    const iterator = batchIterator(dataset, { batchSize: 4, seed: 9, prefetch: 2 });
    await iterator.next();
    await new Promise((resolve) => setTimeout(resolve, 50)); // the consumer "works"
    expect(dataset.calls).toHaveLength(12); // batches 1 and 2 were prepared meanwhile
    await iterator.return();
  });

  it('errors: dataset failures reach the consumer; bad samples and mismatched resume positions are named', async () => {
    const failing: Dataset = {
      length: 10,
      imageShape: [2, 2, 1],
      get: (i) => {
        if (i === 7) throw new Error('disk on fire');
        return { image: new Float32Array(4), label: 0 };
      },
    };
    await expect(collect(failing, { batchSize: 5, shuffle: false })).rejects.toThrow('disk on fire');
    const wrongSize: Dataset = { length: 3, imageShape: [2, 2, 1], get: () => ({ image: new Float32Array(3), label: 1 }) };
    await expect(collect(wrongSize, { batchSize: 2, shuffle: false })).rejects.toThrow(
      /batchIterator: dataset sample 0: expected a Float32Array image of shape \[2, 2, 1\] \(4 values\), got 3/,
    );
    const nonFinite: Dataset = { length: 3, imageShape: [2, 2, 1], get: (i) => ({ image: Float32Array.of(0, 1, i === 2 ? NaN : 0.5, 0), label: 0 }) };
    await expect(collect(nonFinite, { batchSize: 3, shuffle: false })).rejects.toThrow(/batchIterator: dataset sample 2: image value 2 is NaN; images must be finite/);
    const position = batchIterator(indexDataset(10), { batchSize: 4, seed: 1 }).position();
    expect(() => batchIterator(indexDataset(10), { batchSize: 5, resume: position })).toThrow(/resume position was saved with batchSize 4 but this iterator has batchSize 5/);
    expect(() => batchIterator(indexDataset(11), { batchSize: 4, resume: position })).toThrow(/saved with datasetLength 10 but this iterator has datasetLength 11/);
    expect(() => batchIterator(indexDataset(10), { batchSize: 4, epoch: 3, resume: position })).toThrow(/resume position is in epoch 0 but epoch 3 was requested/);
    expect(() => batchIterator(indexDataset(10), { batchSize: 0 })).toThrow(DataFormatError);
    expect(() => batchIterator(indexDataset(10), { batchSize: 2, prefetch: -1 })).toThrow(/prefetch must be an integer >= 0, got -1/);
  });

  it('break stops the iterator', async () => {
    const iterator = batchIterator(indexDataset(40), { batchSize: 4 });
    let count = 0;
    for await (const batch of iterator) {
      count += batch.shape[0] > 0 ? 1 : 0;
      if (count === 2) break;
    }
    expect(count).toBe(2);
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });
});

describe('datasets and tensors', () => {
  it('uint8ImageDataset scales pixels to [0, 1] and checks its shape', async () => {
    const images = Uint8Array.from([0, 255, 51, 102, 0, 0, 0, 0]);
    const dataset = uint8ImageDataset(images, [3, 4], [2, 2, 2]);
    expect(dataset.imageShape).toEqual([2, 2, 1]);
    const sample = await dataset.get(0);
    expect(sample.image).toEqual(new Float32Array([0, 1, 0.2, 0.4]));
    expect(sample.label).toBe(3);
    expect(() => uint8ImageDataset(images, undefined, [3, 2, 2])).toThrow(/dataset: images hold 8 values but shape \[3, 2, 2\] needs 12/);
    expect(() => uint8ImageDataset(images, [1], [2, 2, 2])).toThrow(/1 labels for 2 images/);
    expect(() => dataset.get(2)).toThrow(/index 2 is outside 0..1/);
    expect((await uint8ImageDataset(images, undefined, [2, 2, 2, 1]).get(1)).label).toBe(-1);
  });

  it('batchToTensors makes [B, H, W, C] float32 and [B] int32 tensors without leaking', async () => {
    await tf.setBackend('cpu');
    const [batch] = await collect(indexDataset(6), { batchSize: 6, shuffle: false });
    const before = tf.memory().numTensors;
    const { images, labels } = batchToTensors(batch);
    expect(images.shape).toEqual([6, 6, 6, 1]);
    expect(images.dtype).toBe('float32');
    expect(labels.dtype).toBe('int32');
    expect(Array.from(await labels.data())).toEqual([0, 1, 2, 3, 4, 5]);
    tf.dispose([images, labels]);
    expect(tf.memory().numTensors).toBe(before);
  });
});
