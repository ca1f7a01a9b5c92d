// Runs the built worker (dist/data-parallel-worker.js): `npm test` builds before jest.
import * as tf from '@tensorflow/tfjs-core';
import { MaskedAutoencoder } from '@maejs/mae';
import { initBackend, registeredMaejsKernels, useMaejsKernels } from '@maejs/backend';
import { DataParallel, localGradients, pretrain, shardSizes } from '@maejs/trainer/node';
import { uint8ImageDataset, type Dataset } from '@maejs/data';
import { Rng } from '@maejs/random';

const CONFIG = { imgSize: 8, patchSize: 2, inChans: 1, embedDim: 16, depth: 1, numHeads: 2, decoderEmbedDim: 8, decoderDepth: 1, decoderNumHeads: 2, mlpRatio: 2, normPixLoss: true };

function randomImages(n: number, seed: number): Float32Array {
  return new Rng(seed).fillUniform(new Float32Array(n * 8 * 8), -1, 1);
}

async function maxAbsDiff(a: tf.Tensor, b: tf.Tensor): Promise<number> {
  const d = tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))));
  const value = (await d.data())[0];
  d.dispose();
  return value;
}

describe('shardSizes', () => {
  it('splits rows evenly, larger shards first, never an empty shard', () => {
    expect(shardSizes(128, 2)).toEqual([64, 64]);
    expect(shardSizes(10, 3)).toEqual([4, 3, 3]);
    expect(shardSizes(3, 4)).toEqual([1, 1, 1]);
    expect(shardSizes(5, 1)).toEqual([5]);
  });
});

describe.each(['wasm', 'cpu'])('DataParallel on %s', (backend) => {
  let model: MaskedAutoencoder;
  let parallel: DataParallel;
  beforeAll(async () => {
    await initBackend(backend as 'wasm' | 'cpu');
    model = new MaskedAutoencoder(CONFIG, { seed: 3 });
    parallel = await DataParallel.start(model, { threads: 3 });
  });
  afterAll(async () => {
    await parallel.close();
    model.dispose();
  });

  it('gives the loss and gradients of the undivided batch (same masks, float rounding only)', async () => {
    const images = randomImages(7, 11);
    const shape: [number, number, number, number] = [7, 8, 8, 1];
    const single = await localGradients(model).lossAndGradients(images, shape, 5);
    const split = await parallel.lossAndGradients(images, shape, 5);
    expect(parallel.threads).toBe(3);
    const [splitLoss, singleLoss] = [(await split.loss.data())[0], (await single.loss.data())[0]];
    expect(Math.abs(splitLoss - singleLoss) / singleLoss).toBeLessThan(1e-6);
    expect([...split.grads.keys()]).toEqual([...single.grads.keys()]);
    for (const [name, g] of single.grads) {
      const scale = (await tf.max(tf.abs(g)).data())[0];
      expect((await maxAbsDiff(split.grads.get(name)!, g)) / Math.max(scale, 1e-12)).toBeLessThan(1e-5);
    }
    tf.dispose([single.loss, split.loss, ...single.grads.values(), ...split.grads.values()]);
  });

  it('features: equal to the single-thread features, for every pooling', async () => {
    const images = randomImages(7, 21);
    const shape: [number, number, number, number] = [7, 8, 8, 1];
    for (const pooling of ['cls', 'mean', 'mean-norm'] as const) {
      const split = await parallel.features(images, shape, pooling);
      const single = tf.tidy(() => model.features(tf.tensor4d(images, shape), pooling).dataSync());
      expect(split.length).toBe(7 * CONFIG.embedDim);
      const worst = split.reduce((m, v, i) => Math.max(m, Math.abs(v - single[i])), 0);
      expect(worst).toBeLessThan(1e-5);
    }
  });

  it('features: the workers compute with the new weights after a variable is assigned', async () => {
    const images = randomImages(5, 22);
    const shape: [number, number, number, number] = [5, 8, 8, 1];
    const before = await parallel.features(images, shape, 'cls');
    const norm = model.trainableVariables().get('norm.bias')!;
    const old = norm.clone();
    norm.assign(tf.fill(norm.shape, 0.5));
    try {
      const after = await parallel.features(images, shape, 'cls');
      const single = tf.tidy(() => model.features(tf.tensor4d(images, shape), 'cls').dataSync());
      // the rows computed by the workers (rows 2..4 of 3 shards [2, 2, 1]) moved with the new bias
      for (let i = 2 * CONFIG.embedDim; i < after.length; i++) {
        expect(Math.abs(after[i] - single[i])).toBeLessThan(1e-5);
        expect(Math.abs(after[i] - before[i])).toBeGreaterThan(0.1);
      }
    } finally {
      norm.assign(old);
      old.dispose();
    }
  });

  it('features: refuses images that do not fit the model, naming the method', async () => {
    await expect(parallel.features(randomImages(2, 1), [2, 8, 8, 2], 'cls')).rejects.toThrow('DataParallel.features: images has 128 values, expected 256 for shape [2,8,8,2]');
    await expect(parallel.features(new Float32Array(2 * 9 * 9), [2, 9, 9, 1], 'cls')).rejects.toThrow('DataParallel.features: images are 9x9x1, the model takes 8x8x1');
  });

  it('a different seed gives different masks, so a different loss', async () => {
    const images = randomImages(4, 12);
    const a = await parallel.lossAndGradients(images, [4, 8, 8, 1], 1);
    const b = await parallel.lossAndGradients(images, [4, 8, 8, 1], 2);
    expect((await a.loss.data())[0]).not.toBe((await b.loss.data())[0]);
    tf.dispose([a.loss, b.loss, ...a.grads.values(), ...b.grads.values()]);
  });

  it('keeps the tensor count flat over steps', async () => {
    const images = randomImages(6, 13);
    const step = async () => {
      const { loss, grads } = await parallel.lossAndGradients(images, [6, 8, 8, 1], 9);
      tf.dispose([loss, ...grads.values()]);
    };
    await step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) await step();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('DataParallel in pretrain', () => {
  it('trains with the same losses as a single thread, step by step', async () => {
    await initBackend('wasm');
    const rng = new Rng(21);
    const pixels = Uint8Array.from({ length: 32 * 8 * 8 }, () => rng.int(0, 256));
    const dataset: Dataset = uint8ImageDataset(pixels, undefined, [32, 8, 8, 1]);
    const run = async (threads: number) => {
      const model = new MaskedAutoencoder(CONFIG, { seed: 4 });
      const engine = threads > 1 ? await DataParallel.start(model, { threads }) : undefined;
      const losses: number[] = [];
      await pretrain({ model, dataset, engine, config: { epochs: 2, batchSize: 8, warmupEpochs: 1, blr: 1e-2, seed: 7 }, onEvent: (e) => void (e.type === 'step' && losses.push(e.loss)) });
      await engine?.close();
      model.dispose();
      return losses;
    };
    const single = await run(1);
    const parallel = await run(2);
    expect(parallel).toHaveLength(8);
    parallel.forEach((loss, i) => expect(Math.abs(loss - single[i]) / single[i]).toBeLessThan(1e-4));
  });
});

describe('DataParallel errors', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('refuses a thread count that is not a positive integer', async () => {
    const model = new MaskedAutoencoder(CONFIG);
    await expect(DataParallel.start(model, { threads: 0 })).rejects.toThrow('DataParallel: threads is 0: expected "auto" or an integer >= 1');
    await expect(DataParallel.start(model, { threads: 1.5 })).rejects.toThrow('threads is 1.5');
    model.dispose();
  });

  it('refuses worker threads on a GPU backend, and auto there starts none', async () => {
    const model = new MaskedAutoencoder(CONFIG);
    await expect(DataParallel.start(model, { threads: 2, backend: 'webgpu' })).rejects.toThrow(
      "DataParallel: threads 2 is not allowed on the 'webgpu' backend: it runs on a GPU, and every data-parallel worker thread would start its own GPU device; use 1 (or 'auto', which is 1 on tensorflow, webgl, webgpu)",
    );
    await expect(DataParallel.start(model, { threads: 8, backend: 'tensorflow' })).rejects.toThrow(/threads 8 is not allowed on the 'tensorflow' backend: .*CUDA context/);
    const single = await DataParallel.start(model, { backend: 'webgl' }); // 'auto'
    expect(single.threads).toBe(1);
    await single.close();
    model.dispose();
  });

  it("starts its workers with this thread's kernel switch, and refuses workers that run other kernels than this thread", async () => {
    const model = new MaskedAutoencoder(CONFIG);
    await useMaejsKernels(false);
    try {
      const off = await DataParallel.start(model, { threads: 2 }); // the workers would otherwise replace tfjs's wasm kernels
      await off.close();
    } finally {
      await useMaejsKernels(true);
    }
    const gelu = tf.getKernel('MaejsGelu', 'wasm')!;
    tf.unregisterKernel('MaejsGelu', 'wasm'); // this thread now lacks one of the kernels initBackend('wasm') installs
    try {
      await expect(DataParallel.start(model, { threads: 2 })).rejects.toThrow(
        "data-parallel worker runs maejs kernels [MaejsAdamWUpdate, MaejsStableRanks, MaejsInversePermutation, MaejsGelu, MaejsGeluGrad, BatchMatMul, GatherV2, Identity, Slice] on wasm, this thread [MaejsAdamWUpdate, MaejsStableRanks, MaejsInversePermutation, MaejsGeluGrad, BatchMatMul, GatherV2, Identity, Slice]: start this thread's backend with initBackend('wasm') (it installs maejs's kernels unless they are switched off) so that both threads compute the same way",
      );
    } finally {
      tf.registerKernel(gelu);
    }
    expect(registeredMaejsKernels('wasm')).toContain('MaejsGelu');
    model.dispose();
  });

  it('reports a worker that cannot start its backend', async () => {
    const model = new MaskedAutoencoder(CONFIG);
    await expect(DataParallel.start(model, { threads: 2, backend: 'no-such-backend' })).rejects.toThrow(/data-parallel worker could not start: .*no-such-backend/);
    model.dispose();
  });

  it('refuses images that do not fit the shape or the model', async () => {
    await initBackend('wasm');
    const model = new MaskedAutoencoder(CONFIG);
    const parallel = await DataParallel.start(model, { threads: 2 });
    try {
      await expect(parallel.lossAndGradients(randomImages(2, 1), [3, 8, 8, 1], 0)).rejects.toThrow('DataParallel.lossAndGradients: images has 128 values, expected 192 for shape [3,8,8,1]');
      await expect(parallel.lossAndGradients(new Float32Array(2 * 16 * 16), [2, 16, 16, 1], 0)).rejects.toThrow('DataParallel.lossAndGradients: images are 16x16x1, the model takes 8x8x1');
      const ok = await parallel.lossAndGradients(randomImages(2, 1), [2, 8, 8, 1], 0); // still usable
      expect(Number.isFinite((await ok.loss.data())[0])).toBe(true);
      tf.dispose([ok.loss, ...ok.grads.values()]);
    } finally {
      await parallel.close();
      model.dispose();
    }
  });

  it('refuses use after close', async () => {
    await initBackend('wasm');
    const model = new MaskedAutoencoder(CONFIG);
    const parallel = await DataParallel.start(model, { threads: 2 });
    await parallel.close();
    await expect(parallel.lossAndGradients(randomImages(2, 1), [2, 8, 8, 1], 0)).rejects.toThrow('DataParallel: used after close()');
    model.dispose();
  });
});
