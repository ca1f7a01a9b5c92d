import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { countDeviceWork, initBackend } from '@maejs/backend';
import { Rng } from '@maejs/random';
import { createAugmentation, float32ImageDataset, type Dataset } from '@maejs/data';
import { MaskedAutoencoder } from '@maejs/mae';
import { describeEachBackend } from '../../../testing/backends.js';
import { checkpointName, decodeCheckpoint, lrAt, MemoryCheckpointStore, pretrain, resolvePretrainConfig, TrainingDivergedError, type PretrainConfig, type TrainEvent } from './index.js';
import { FileCheckpointStore, readCheckpoint } from './node.js';
import { checkpointDifferences } from './test-utils/same-checkpoint.js';

const MODEL = { imgSize: 8, patchSize: 4, inChans: 1, embedDim: 16, depth: 1, numHeads: 2, decoderEmbedDim: 8, decoderDepth: 1, decoderNumHeads: 2 };
const TRAIN: Partial<PretrainConfig> = { epochs: 2, batchSize: 4, blr: 0.05, warmupEpochs: 1, seed: 3 };

/** [n, 8, 8, 1] values in [-1, 1), made in JS: no read from the backend (webgpu in Node has no synchronous read). */
function images(n: number, seed: number): Float32Array {
  return new Rng(seed).fillUniform(new Float32Array(n * 8 * 8), -1, 1);
}
const dataset = (): Dataset => float32ImageDataset(images(26, 1), undefined, [26, 8, 8, 1]); // 6 full batches of 4
const augment = () => createAugmentation({ size: 8, mean: [0], std: [1] });

async function run(config: Partial<PretrainConfig>, extra: { store?: MemoryCheckpointStore; resumeFrom?: Uint8Array; modelSeed?: number; data?: Dataset; onEvent?: (e: TrainEvent) => void } = {}) {
  const model = new MaskedAutoencoder(MODEL, { seed: extra.modelSeed ?? 0 });
  const losses: number[] = [];
  const events: TrainEvent[] = [];
  try {
    await pretrain({
      model,
      dataset: extra.data ?? dataset(),
      augment: augment(),
      config: { ...TRAIN, ...config },
      store: extra.store,
      resume: extra.resumeFrom ? decodeCheckpoint(extra.resumeFrom) : undefined,
      onEvent: (e) => {
        events.push(e);
        if (e.type === 'step') losses.push(e.loss);
        extra.onEvent?.(e);
      },
    });
  } finally {
    model.dispose();
  }
  return { losses, events };
}

describeEachBackend('pretrain', () => {
  it('resumes exactly: 12 updates equal 5 + resume + 7, loss by loss', async () => {
    const whole = await run({});
    expect(whole.losses).toHaveLength(12);
    const store = new MemoryCheckpointStore();
    const first = await run({ maxSteps: 5 }, { store });
    expect(first.losses).toEqual(whole.losses.slice(0, 5));
    const latest = await store.load(checkpointName(5));
    const second = await run({}, { resumeFrom: latest, modelSeed: 99 }); // weights come from the checkpoint
    expect(second.losses).toEqual(whole.losses.slice(5));
  });

  it('resumes exactly in a later epoch and at an epoch boundary: losses, epoch means, model and optimizer', async () => {
    const wholeStore = new MemoryCheckpointStore();
    const whole = await run({ checkpointEvery: 3 }, { store: wholeStore });
    const final = decodeCheckpoint(await wholeStore.load(checkpointName(12)));
    const epochEnds = (events: TrainEvent[]) => events.filter((e) => e.type === 'epoch-end');
    // Update 6 ends epoch 0 (data position: epoch 1, batch 0); update 9 is inside epoch 1.
    for (const stop of [6, 9]) {
      const store = new MemoryCheckpointStore();
      await run({ checkpointEvery: 3, maxSteps: stop }, { store });
      const saved = decodeCheckpoint(await store.load(checkpointName(stop)));
      expect(saved.meta.dataPosition).toMatchObject({ epoch: 1, batch: stop - 6 });
      expect(checkpointDifferences(saved, final).length).toBeGreaterThan(0); // the comparison sees a difference
      const resumedStore = new MemoryCheckpointStore();
      const resumed = await run({ checkpointEvery: 3 }, { store: resumedStore, resumeFrom: await store.load(checkpointName(stop)), modelSeed: 99 });
      expect(resumed.events[0]).toMatchObject({ type: 'train-start', startStep: stop });
      expect(resumed.losses).toEqual(whole.losses.slice(stop));
      expect(epochEnds(resumed.events)).toEqual(epochEnds(whole.events).filter((e) => e.step > stop)); // epoch 1's mean is over all its updates
      expect(resumed.events.at(-1)).toMatchObject({ type: 'train-end', step: 12, lastLoss: whole.losses[11] });
      expect(checkpointDifferences(decodeCheckpoint(await resumedStore.load(checkpointName(12))), final)).toEqual([]);
    }
  });

  it('resumes exactly with gradient accumulation', async () => {
    const whole = await run({ accumIter: 2 });
    expect(whole.losses).toHaveLength(6); // 3 updates per epoch
    const store = new MemoryCheckpointStore();
    await run({ accumIter: 2, maxSteps: 2 }, { store });
    const second = await run({ accumIter: 2 }, { resumeFrom: await store.load(checkpointName(2)) });
    expect(second.losses).toEqual(whole.losses.slice(2));
  });

  it('emits typed events with the scheduled lr, and keeps memory flat', async () => {
    const counts: number[] = [];
    const { events } = await run({ checkpointEvery: 4 }, { store: new MemoryCheckpointStore(), onEvent: (e) => e.type === 'step' && counts.push(tf.memory().numTensors) });
    expect(events[0].type).toBe('train-start');
    expect(events.at(-1)).toMatchObject({ type: 'train-end', step: 12, reason: 'completed' });
    const start = events[0] as Extract<TrainEvent, { type: 'train-start' }>;
    expect(start.lr).toBeCloseTo((0.05 * 4) / 256, 12);
    expect(start).toMatchObject({ stepsPerEpoch: 6, totalSteps: 12, effectiveBatch: 4 });
    const steps = events.filter((e): e is Extract<TrainEvent, { type: 'step' }> => e.type === 'step');
    steps.forEach((e, i) => {
      const epoch = Math.floor(i / 6) + (i % 6) / 6;
      expect(e.lr).toBeCloseTo(lrAt(epoch, { lr: start.lr, minLr: 0, warmupEpochs: 1, epochs: 2 }), 12);
    });
    expect(events.filter((e) => e.type === 'epoch-end').map((e) => (e as { epoch: number }).epoch)).toEqual([0, 1]);
    expect(events.filter((e) => e.type === 'checkpoint').map((e) => (e as { step: number }).step)).toEqual([4, 6, 8, 12]);
    expect(new Set(counts.slice(1)).size).toBe(1);
  });

  it('stops on a non-finite loss, naming the last good checkpoint', async () => {
    const clean = dataset();
    let poisoned = false;
    const data: Dataset = {
      length: clean.length,
      imageShape: clean.imageShape,
      get: (i) => {
        const s = clean.get(i) as { image: Float32Array; label: number };
        return poisoned ? { image: new Float32Array(s.image.length).fill(3e38), label: s.label } : s; // finite pixels whose sums overflow
      },
    };
    const store = new MemoryCheckpointStore();
    const error = await run({ checkpointEvery: 1 }, { store, data, onEvent: (e) => e.type === 'step' && e.step === 2 && (poisoned = true) }).catch((e) => e);
    expect(error).toBeInstanceOf(TrainingDivergedError);
    const step = (error as TrainingDivergedError).step;
    expect(error.message).toMatch(new RegExp(`loss is NaN at update ${step + 1}: training stopped; the last good checkpoint is ${checkpointName(step)}`));
    const saved = decodeCheckpoint(await store.load(checkpointName(step)));
    expect(saved.meta.step).toBe(step);
    expect([...saved.model.values()].every((t) => t.data.every(Number.isFinite))).toBe(true);
  });

  it('reads the same losses whatever logEvery is', async () => {
    const every = await run({ logEvery: 1 });
    const batched = await run({ logEvery: 5 });
    expect(batched.losses).toEqual(every.losses);
    const steps = batched.events.filter((e) => e.type === 'step').map((e) => (e as { step: number }).step);
    expect(steps).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  });
  it('refuses to resume from a checkpoint of another model or run', async () => {
    const store = new MemoryCheckpointStore();
    await run({ maxSteps: 1 }, { store });
    const bytes = await store.load(checkpointName(1));
    await expect(run({ batchSize: 2 }, { resumeFrom: bytes })).rejects.toThrow(/was made with other settings[\s\S]*batchSize: checkpoint 4, this run 2/);
    const other = new MaskedAutoencoder({ ...MODEL, embedDim: 32 });
    const { pretrain: train } = await import('./pretrain.js');
    await expect(train({ model: other, dataset: dataset(), config: TRAIN, resume: decodeCheckpoint(bytes) })).rejects.toThrow(/model\.embedDim: checkpoint 16, this run 32/);
    other.dispose();
  });
});

describe('checkpoint files', () => {
  let dir: string;
  beforeAll(async () => {
    await initBackend('cpu');
    dir = mkdtempSync(join(tmpdir(), 'maejs-ckpt-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('an interrupted write leaves the previous checkpoint loadable', async () => {
    const store = new FileCheckpointStore(dir);
    const memory = new MemoryCheckpointStore();
    await run({ maxSteps: 2, checkpointEvery: 1 }, { store: memory });
    await store.save(checkpointName(1), await memory.load(checkpointName(1)));
    // The node:fs module object itself (a namespace import is a copy under jest's CommonJS transform).
    const spy = jest.spyOn(require('node:fs') as typeof fs, 'writeSync').mockImplementationOnce(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    });
    await expect(store.save(checkpointName(2), await memory.load(checkpointName(2)))).rejects.toThrow(/ENOSPC/);
    spy.mockRestore();
    writeFileSync(join(dir, `.${checkpointName(3)}.tmp-1`), 'half a file'); // a crash between write and rename
    const { checkpoint, path } = readCheckpoint(dir);
    expect(path).toBe(join(dir, checkpointName(1)));
    expect(checkpoint.meta.step).toBe(1);
    expect(readdirSync(dir).filter((n) => !n.startsWith('.'))).toEqual([checkpointName(1)]);
  });

  it('names what is wrong with a bad checkpoint path or file', () => {
    expect(() => readCheckpoint(join(dir, 'nope'))).toThrow(/nope: does not exist/);
    const empty = mkdtempSync(join(tmpdir(), 'maejs-empty-'));
    expect(() => readCheckpoint(empty)).toThrow(/holds no checkpoint-\*\.safetensors files/);
    writeFileSync(join(empty, 'x.safetensors'), new Uint8Array([8, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d, 32, 32, 32, 32, 32, 32]));
    expect(() => readCheckpoint(join(empty, 'x.safetensors'))).toThrow(/not a maejs training checkpoint/);
    rmSync(empty, { recursive: true });
  });
});

describe('resolvePretrainConfig', () => {
  it.each([
    [{ epochs: 0 }, /PretrainConfig\.epochs is 0: expected an integer >= 1/],
    [{ batchSize: 2.5 }, /PretrainConfig\.batchSize is 2\.5: expected an integer >= 1/],
    [{ seed: '1' }, /PretrainConfig\.seed is "1": expected an integer/],
    [{ checkpointEvery: -1 }, /PretrainConfig\.checkpointEvery is -1: expected an integer >= 0/],
    [{ maxSteps: 0 }, /PretrainConfig\.maxSteps is 0: expected an integer >= 1 or null/],
    [{ weightDecay: NaN }, /PretrainConfig\.weightDecay is NaN: expected a finite number >= 0/],
    [{ blr: -1 }, /PretrainConfig\.blr is -1: expected a finite number >= 0/],
    [{ lr: 0 }, /PretrainConfig\.lr is 0: expected a finite number > 0 or null/],
    [{ warmupEpochs: 10, epochs: 10 }, /PretrainConfig\.warmupEpochs is 10: expected less than epochs \(10\)/],
    [{ clipGrad: -2 }, /PretrainConfig\.clipGrad is -2: expected a number in \(0, Infinity\] or null/],
    [{ bathSize: 4 }, /PretrainConfig\.bathSize is not a training setting/],
    [{ logEvery: 0 }, /PretrainConfig\.logEvery is 0: expected an integer >= 1/],
  ])('rejects %j', (partial, message) => {
    expect(() => resolvePretrainConfig(partial as Partial<PretrainConfig>)).toThrow(message);
  });
});

describeEachBackend('pretrain reads', (backend) => {
  // cpu and wasm keep tensors in CPU memory; maejs's fused AdamW kernel reads its inputs there
  // with readSync (a view, not a transfer). Every other backend must never read synchronously.
  const cpuMemory = backend === 'cpu' || backend === 'wasm';

  it.each([
    [1, 12],
    [4, 4], // updates 4, 6 (epoch end), 8, 12 (epoch end and last)
  ])('logEvery %i: one asynchronous read per logged step (%i in 12 updates), no synchronous read', async (logEvery, reads) => {
    const { result, counts } = await countDeviceWork(() => run({ logEvery }));
    expect(result.losses).toHaveLength(12);
    expect(result.losses.every(Number.isFinite)).toBe(true);
    expect(counts.asyncReads).toBe(reads);
    if (!cpuMemory) expect(counts.syncReads).toBe(0);
  });

}, { gpu: true });
