/**
 * Entry of a `DataParallel` worker thread: builds a replica of the model on the given backend,
 * then for each shard request loads the weights it brings and returns the shard's loss and
 * gradients, or its features.
 */
import { parentPort, workerData } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, registeredMaejsKernels, type BackendName } from '@maejs/backend';
import { MaskedAutoencoder } from '@maejs/mae';
import type { FeaturesReply, FeaturesRequest, ShardReply, ShardRequest, WorkerInit, WorkerReady } from './data-parallel-protocol.js';
import { variableGradsByName } from './variables.js';

const port = parentPort;
if (!port) throw new Error('data-parallel-worker.js runs as a worker thread of DataParallel, not on its own');

async function main(init: WorkerInit): Promise<void> {
  if (init.prodMode) tf.enableProdMode();
  await initBackend(init.backend as BackendName, { maejsKernels: init.maejsKernels });
  const model = new MaskedAutoencoder(init.model);
  const variables = model.trainableVariables();
  const ready: WorkerReady = { parameters: [...variables].map(([name, v]) => `${name}:${v.shape.join('x')}`), kernels: registeredMaejsKernels(init.backend) };
  port!.postMessage(ready);
  port!.on('message', (request: ShardRequest | FeaturesRequest) => {
    if (request.kind === 'features') {
      try {
        const reply = features(model, variables, request);
        port!.postMessage(reply, [reply.features.buffer as ArrayBuffer]);
      } catch (error) {
        port!.postMessage({ features: new Float32Array(0), error: (error as Error).message } satisfies FeaturesReply);
      }
      return;
    }
    shard(model, variables, request).then(
      (reply) => port!.postMessage(reply, [reply.grads.buffer as ArrayBuffer]),
      (error: Error) => port!.postMessage({ loss: NaN, grads: new Float32Array(0), present: [], error: error.message } satisfies ShardReply),
    );
  });
}

/** Assigns the weights, packed in parameter order, to the replica's variables. */
function loadWeights(variables: Map<string, tf.Variable>, weights: Float32Array): void {
  let offset = 0;
  for (const variable of variables.values()) {
    tf.tidy(() => variable.assign(tf.tensor(weights.subarray(offset, offset + variable.size), variable.shape)));
    offset += variable.size;
  }
}

/** Features of the shard's images [n, D], with the weights it brings (if any). */
function features(model: MaskedAutoencoder, variables: Map<string, tf.Variable>, request: FeaturesRequest): FeaturesReply {
  if (request.weights) loadWeights(variables, request.weights);
  const values = tf.tidy(() => model.features(tf.tensor4d(request.images, request.shape), request.pooling).dataSync() as Float32Array); // sync: this thread has nothing else to do
  return { features: values };
}

/** Loads the weights, runs forward + backward on the shard, packs the gradients. */
async function shard(model: MaskedAutoencoder, variables: Map<string, tf.Variable>, request: ShardRequest): Promise<ShardReply> {
  loadWeights(variables, request.weights);
  const [n] = request.shape;
  const x = tf.tensor4d(request.images, request.shape);
  const noise = tf.tensor2d(request.noise, [n, model.numPatches]);
  const { value, grads } = variableGradsByName(() => model.loss(x, { noise }), variables);
  tf.dispose([x, noise]);
  const packed = new Float32Array(request.weights.length);
  const present: string[] = [];
  let offset = 0;
  for (const [name, variable] of variables) {
    const g = grads.get(name);
    if (g) {
      packed.set(g.dataSync() as Float32Array, offset); // sync: this thread has nothing else to do
      present.push(name);
    }
    offset += variable.size;
  }
  const loss = (await value.data())[0];
  tf.dispose([value, ...grads.values()]);
  return { loss, grads: packed, present };
}

main(workerData as WorkerInit).catch((error: Error) => port.postMessage({ parameters: [], kernels: [], error: error.message } satisfies WorkerReady));
