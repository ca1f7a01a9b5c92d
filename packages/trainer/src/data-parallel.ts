/**
 * Data-parallel training steps and feature extraction over worker threads (Node). tfjs runs its wasm and cpu kernels on
 * one thread in Node, so a second core is used by a second tfjs: each worker thread holds a
 * replica of the model, gets the current weights and a shard of the batch, and returns its loss
 * and gradients; this thread computes the first shard itself and combines them, weighted by
 * shard size. The masking noise of the whole batch is drawn here from the step's seed and split
 * by rows, so every image gets the mask it gets in a single-thread step: the results equal the
 * single-thread ones up to float rounding of the sums. {@link DataParallel.features} splits an
 * inference batch the same way; the weights go to the workers only when a variable has been
 * assigned since they last got them. Workers start their backend with
 * `initBackend` and this thread's `useMaejsKernels` setting, and must then run the maejs kernels
 * this thread runs (`registeredMaejsKernels`), or `DataParallel.start` refuses them.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { maejsKernelsEnabled, registeredMaejsKernels, resolveThreads } from '@maejs/backend';
import type { FeaturePooling, MaskedAutoencoder } from '@maejs/mae';
import { maskingNoise } from '@maejs/masking';
import type { GradientEngine, LossAndGradients } from './pretrain.js';
import { variableGradsByName } from './variables.js';
import type { FeaturesReply, FeaturesRequest, ShardReply, ShardRequest, WorkerInit, WorkerReady } from './data-parallel-protocol.js';

/** Options of {@link DataParallel.start}. */
export interface DataParallelOptions {
  /**
   * Threads that compute, this one included. 1 = no workers. `'auto'` (the default): one per core
   * on cpu and wasm, 1 on the GPU backends (tensorflow, webgl, webgpu), which refuse more
   * (see `resolveThreads` in `@maejs/backend`).
   */
  threads?: number | 'auto';
  /** Backend for the workers (default: the active tfjs backend). */
  backend?: string;
}

/** Row counts of `threads` shards of `n` images, larger first: 10 over 3 -> [4, 3, 3]. */
export function shardSizes(n: number, threads: number): number[] {
  const used = Math.min(n, threads);
  return Array.from({ length: used }, (_, i) => Math.floor(n / used) + (i < n % used ? 1 : 0));
}

/** First row of each shard: [4, 3, 3] -> [0, 4, 7]. */
function shardStarts(sizes: number[]): number[] {
  return sizes.map((_, i) => sizes.slice(0, i).reduce((a, b) => a + b, 0));
}

/** A {@link GradientEngine} that splits every micro-batch over this thread and worker threads. */
export class DataParallel implements GradientEngine {
  private closed = false;
  private failure: Error | null = null;
  private readonly pending = new Map<Worker, { resolve: (reply: ShardReply | FeaturesReply) => void; reject: (error: Error) => void }>();
  /** The variables' data ids when the workers last got the weights (tf.Variable.assign gives a variable a new one). */
  private sentWeights: object[] | null = null;

  private constructor(
    private readonly model: MaskedAutoencoder,
    private readonly workers: Worker[],
  ) {
    for (const worker of workers) {
      worker.on('message', (reply: ShardReply | FeaturesReply) => this.settle(worker, reply));
      worker.on('error', (error) => this.fail(new Error(`a data-parallel worker thread failed: ${error.message}`)));
      worker.on('exit', (code) => {
        if (!this.closed) this.fail(new Error(`a data-parallel worker thread exited (code ${code}) while training`));
      });
    }
  }

  /**
   * Starts `threads - 1` workers with replicas of `model` (weights are sent with every step).
   * Throws for more than one thread on a GPU backend: each worker would hold a device of its own.
   */
  static async start(model: MaskedAutoencoder, options: DataParallelOptions = {}): Promise<DataParallel> {
    const backend = options.backend ?? tf.getBackend();
    const threads = resolveThreads(backend, options.threads ?? 'auto', availableParallelism(), 'DataParallel: threads');
    const init: WorkerInit = { backend, prodMode: tf.env().getBool('PROD'), maejsKernels: maejsKernelsEnabled(), model: { ...model.config } };
    const workerFile = new URL('../dist/data-parallel-worker.js', import.meta.url);
    const workers = Array.from({ length: threads - 1 }, () => new Worker(workerFile, { workerData: init }));
    try {
      await Promise.all(workers.map((worker) => workerReady(worker, model, backend)));
    } catch (error) {
      await Promise.all(workers.map((worker) => worker.terminate()));
      throw error;
    }
    return new DataParallel(model, workers);
  }

  /** Threads that compute, this one included. */
  get threads(): number {
    return this.workers.length + 1;
  }

  /** Loss and gradients of the batch, split over the threads (masks drawn once for the whole batch); see {@link GradientEngine}. */
  async lossAndGradients(images: Float32Array, shape: [number, number, number, number], maskSeed: number): Promise<LossAndGradients> {
    this.checkCall('lossAndGradients', images, shape);
    const [n, h, w, c] = shape;
    const sizes = shardSizes(n, this.threads);
    const perImage = h * w * c;
    const numTokens = this.model.numPatches;
    const noise = tf.tidy(() => maskingNoise(n, numTokens, maskSeed).dataSync() as Float32Array); // [N, L]
    const weights = await this.packWeights();
    this.sentWeights = this.weightIds();
    const starts = shardStarts(sizes);
    // Shards 1.. go to the workers first, so they run while this thread computes shard 0.
    const replies = sizes.slice(1).map((rows, i) => {
      const start = starts[i + 1];
      const request: ShardRequest = {
        kind: 'gradients',
        weights,
        images: images.slice(start * perImage, (start + rows) * perImage),
        shape: [rows, h, w, c],
        noise: noise.slice(start * numTokens, (start + rows) * numTokens),
      };
      return this.send(this.workers[i], request) as Promise<ShardReply>;
    });
    let local: { loss: tf.Scalar; grads: Map<string, tf.Tensor> };
    try {
      local = this.localShard(images.subarray(0, sizes[0] * perImage), [sizes[0], h, w, c], noise.subarray(0, sizes[0] * numTokens));
    } catch (error) {
      await Promise.allSettled(replies); // no reply may stay pending: the next step would take it for its own
      throw error;
    }
    let shards: ShardReply[];
    try {
      shards = await Promise.all(replies);
    } catch (error) {
      tf.dispose([...local.grads.values()]);
      throw error;
    }
    return this.combine(local, shards, sizes, n);
  }

  /**
   * Features of a batch of images, `model.features(images, pooling)` split over the threads:
   * images [N, H, W, C] row-major -> [N, D] row-major. The workers get the weights with the
   * first call and again only after a variable has been assigned (as AdamW and weight loading
   * do), so a frozen model's weights cross threads once.
   */
  async features(images: Float32Array, shape: [number, number, number, number], pooling: FeaturePooling): Promise<Float32Array> {
    this.checkCall('features', images, shape);
    const [n, h, w, c] = shape;
    const d = this.model.config.embedDim;
    const sizes = shardSizes(n, this.threads);
    const perImage = h * w * c;
    const ids = this.weightIds();
    const changed = this.sentWeights === null || ids.some((id, i) => id !== this.sentWeights![i]);
    const weights = changed && sizes.length > 1 ? await this.packWeights() : null;
    if (weights) this.sentWeights = ids;
    const starts = shardStarts(sizes);
    const replies = sizes.slice(1).map((rows, i) => {
      const start = starts[i + 1];
      const request: FeaturesRequest = { kind: 'features', weights, images: images.slice(start * perImage, (start + rows) * perImage), shape: [rows, h, w, c], pooling };
      return this.send(this.workers[i], request) as Promise<FeaturesReply>;
    });
    const out = new Float32Array(n * d); // [N, D]
    let localError: unknown = null;
    try {
      const local = tf.tidy(() => this.model.features(tf.tensor4d(images.subarray(0, sizes[0] * perImage), [sizes[0], h, w, c]), pooling));
      out.set((await local.data()) as Float32Array, 0);
      local.dispose();
    } catch (error) {
      localError = error;
    }
    const shards = await Promise.allSettled(replies); // no reply may stay pending: the next call would take it for its own
    if (localError) throw localError;
    shards.forEach((shard, i) => {
      if (shard.status === 'rejected') throw shard.reason;
      out.set(shard.value.features, starts[i + 1] * d);
    });
    return out;
  }

  /** Stops the workers. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((worker) => worker.terminate()));
  }

  private localShard(images: Float32Array, shape: [number, number, number, number], noise: Float32Array): { loss: tf.Scalar; grads: Map<string, tf.Tensor> } {
    const x = tf.tensor4d(images, shape);
    const noiseTensor = tf.tensor2d(noise, [shape[0], this.model.numPatches]);
    const { value, grads } = variableGradsByName(() => this.model.loss(x, { noise: noiseTensor }), this.model.trainableVariables());
    tf.dispose([x, noiseTensor]);
    return { loss: value, grads };
  }

  /** Mean over images: each shard's loss and gradients weighted by its share of the batch. */
  private async combine(local: { loss: tf.Scalar; grads: Map<string, tf.Tensor> }, shards: ShardReply[], sizes: number[], n: number): Promise<LossAndGradients> {
    const localLoss = (await local.loss.data())[0];
    local.loss.dispose();
    let loss = (localLoss * sizes[0]) / n;
    shards.forEach((shard, i) => (loss += (shard.loss * sizes[i + 1]) / n));
    const grads = new Map<string, tf.Tensor>();
    let offset = 0;
    for (const [name, variable] of this.model.trainableVariables()) {
      const own = local.grads.get(name);
      const theirs = shards.flatMap((shard, i) => (shard.present.includes(name) ? [{ values: shard.grads.subarray(offset, offset + variable.size), rows: sizes[i + 1] }] : []));
      if (own || theirs.length) {
        const start = () => (own ? tf.mul(own, sizes[0] / n) : tf.zeros(variable.shape));
        grads.set(name, tf.tidy(() => theirs.reduce((sum, t) => tf.add(sum, tf.mul(tf.tensor(t.values, variable.shape), t.rows / n)), start())));
      }
      own?.dispose();
      offset += variable.size;
    }
    return { loss: tf.scalar(loss), grads };
  }

  /** Refuses a call after close() or a failure, and images that do not fit the model. */
  private checkCall(method: string, images: Float32Array, shape: [number, number, number, number]): void {
    if (this.failure) throw this.failure;
    if (this.closed) throw new Error('DataParallel: used after close()');
    const [n, h, w, c] = shape;
    if (images.length !== n * h * w * c) throw new Error(`DataParallel.${method}: images has ${images.length} values, expected ${n * h * w * c} for shape [${shape}]`);
    const expected = [this.model.config.imgSize, this.model.config.imgSize, this.model.config.inChans];
    if (h !== expected[0] || w !== expected[1] || c !== expected[2]) throw new Error(`DataParallel.${method}: images are ${h}x${w}x${c}, the model takes ${expected.join('x')}`);
  }

  /** The data id of every trainable variable, in the model's order. */
  private weightIds(): object[] {
    return [...this.model.trainableVariables().values()].map((v) => v.dataId);
  }

  /** All trainable weights, in the model's order, as one array. */
  private async packWeights(): Promise<Float32Array> {
    const variables = [...this.model.trainableVariables().values()];
    const packed = new Float32Array(variables.reduce((a, v) => a + v.size, 0));
    let offset = 0;
    for (const variable of variables) {
      packed.set((await variable.data()) as Float32Array, offset);
      offset += variable.size;
    }
    return packed;
  }

  private send(worker: Worker, request: ShardRequest | FeaturesRequest): Promise<ShardReply | FeaturesReply> {
    return new Promise((resolve, reject) => {
      this.pending.set(worker, { resolve, reject });
      const transfer = request.kind === 'gradients' ? [request.images.buffer, request.noise.buffer] : [request.images.buffer];
      worker.postMessage(request, transfer as ArrayBuffer[]);
    });
  }

  private settle(worker: Worker, reply: ShardReply | FeaturesReply): void {
    const waiting = this.pending.get(worker);
    this.pending.delete(worker);
    if (!waiting) return;
    if (reply.error !== undefined) waiting.reject(new Error(`data-parallel worker: ${reply.error}`));
    else waiting.resolve(reply);
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const { reject } of this.pending.values()) reject(error);
    this.pending.clear();
  }
}

/** Waits for a worker's replica and checks it has the same parameters as `model` and runs the maejs kernels this thread runs on `backend`. */
function workerReady(worker: Worker, model: MaskedAutoencoder, backend: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const onExit = (code: number) => reject(new Error(`a data-parallel worker thread exited (code ${code}) before it was ready`));
    worker.once('error', reject);
    worker.once('exit', onExit);
    worker.once('message', (ready: WorkerReady) => {
      worker.off('error', reject);
      worker.off('exit', onExit);
      if (ready.error !== undefined) return reject(new Error(`data-parallel worker could not start: ${ready.error}`));
      const expected = [...model.trainableVariables()].map(([name, v]) => `${name}:${v.shape.join('x')}`);
      if (ready.parameters.join(',') !== expected.join(',')) return reject(new Error('data-parallel worker built a model with other parameters than this thread\'s'));
      const own = registeredMaejsKernels(backend);
      if (ready.kernels.join(',') !== own.join(',')) return reject(new Error(kernelMismatch(backend, ready.kernels, own)));
      resolve();
    });
  });
}

/** Why a worker's kernels differ from this thread's, and what makes them equal. */
function kernelMismatch(backend: string, worker: string[], own: string[]): string {
  return `data-parallel worker runs maejs kernels [${worker.join(', ')}] on ${backend}, this thread [${own.join(', ')}]: start this thread's backend with initBackend('${backend}') (it installs maejs's kernels unless they are switched off) so that both threads compute the same way`;
}
