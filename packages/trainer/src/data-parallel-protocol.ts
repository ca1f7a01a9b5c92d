/** Messages between `DataParallel` and its worker threads (see data-parallel.ts). */
import type { FeaturePooling, MaeConfig } from '@maejs/mae';

/** workerData of a new worker: the backend and the model to replicate. */
export interface WorkerInit {
  backend: string;
  /** tfjs production mode, as on the starting thread (also quiets tfjs's Node banner). */
  prodMode: boolean;
  /** maejs's kernels switched on or off, as on the starting thread (`maejsKernelsEnabled()`). */
  maejsKernels: boolean;
  model: MaeConfig;
}

/** The worker's first message: its parameters as `name:shape`, in order, and the maejs kernels it runs (`registeredMaejsKernels`), or why it failed. */
export interface WorkerReady {
  parameters: string[];
  kernels: string[];
  error?: string;
}

/** One shard of a training step: the current weights (packed in parameter order), images [n, h, w, c], noise [n, L]. */
export interface ShardRequest {
  kind: 'gradients';
  weights: Float32Array;
  images: Float32Array;
  shape: [number, number, number, number];
  noise: Float32Array;
}

/** The shard's mean loss and gradients (packed in parameter order; names without a gradient are absent from `present`). */
export interface ShardReply {
  loss: number;
  grads: Float32Array;
  present: string[];
  error?: string;
}

/** One shard of a features call: images [n, h, w, c]; the weights (packed in parameter order) when they changed since the worker last got them, else null. */
export interface FeaturesRequest {
  kind: 'features';
  weights: Float32Array | null;
  images: Float32Array;
  shape: [number, number, number, number];
  pooling: FeaturePooling;
}

/** The shard's features [n, D], row-major. */
export interface FeaturesReply {
  features: Float32Array;
  error?: string;
}
