/**
 * Training checkpoints as one .safetensors file: the model in the official layout
 * (`model/<name>`), the AdamW moments in the maejs layout (`optimizer.m/<name>`,
 * `optimizer.v/<name>`), and everything else (config, step, data position, hyper-parameters)
 * as JSON in the header metadata under `maejs`. Readable by any safetensors reader.
 */
import type { MaeConfig, StateTensor } from '@maejs/mae';
import { encodeSafetensors, parseSafetensors, type EncodableTensor } from '@maejs/formats';
import type { AdamWState, ParamGroup } from './adamw.js';

/** The `format` field of a checkpoint's metadata: marks a maejs pre-training checkpoint. */
export const CHECKPOINT_FORMAT = 'maejs-pretrain-checkpoint';
/** The checkpoint layout version this package writes and reads. */
export const CHECKPOINT_VERSION = 1;

/** Everything a checkpoint holds besides tensors. JSON-serialisable. */
export interface CheckpointMeta {
  format: typeof CHECKPOINT_FORMAT;
  version: number;
  /** Model config the weights belong to. */
  model: MaeConfig;
  /** Optimizer updates done. */
  step: number;
  /** Micro-batches consumed (= step * accumIter at an update boundary). */
  microStep: number;
  /** Where the data stream continues (opaque to the trainer; @maejs/data's BatchPosition). */
  dataPosition: unknown;
  /**
   * Losses a resumed run continues from, so that its events equal an uninterrupted run's: the
   * last update's loss (null before the first update) and the sum and count of the losses of the
   * current epoch's updates so far (for its `epoch-end` mean). Optional: without it, a resumed
   * run averages the epoch over the updates after the resume.
   */
  losses?: { last: number | null; epochSum: number; epochCount: number };
  /** The training settings the run was started with (checked on resume). */
  training: Record<string, unknown>;
  optimizer: { step: number; lr: number; betas: [number, number]; eps: number; weightDecay: number; params: { name: string; group: ParamGroup; step: number; shape: number[] }[] };
  /** Wall-clock time of the save (ISO 8601). */
  savedAt: string;
}

/** A checkpoint in memory. */
export interface Checkpoint {
  meta: CheckpointMeta;
  model: Map<string, StateTensor>;
  optimizer: AdamWState;
}

/** A checkpoint that cannot be read or resumed; the message starts with where it came from. */
export class CheckpointError extends Error {
  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'CheckpointError';
  }
}

/** Serialises a checkpoint to safetensors bytes. */
export function encodeCheckpoint(checkpoint: Checkpoint): Uint8Array {
  const tensors: [string, EncodableTensor][] = [];
  for (const [name, t] of checkpoint.model) tensors.push([`model/${name}`, { dtype: 'float32', shape: t.shape, data: t.data }]);
  for (const p of checkpoint.optimizer.params) {
    tensors.push([`optimizer.m/${p.name}`, { dtype: 'float32', shape: p.shape, data: p.m }]);
    tensors.push([`optimizer.v/${p.name}`, { dtype: 'float32', shape: p.shape, data: p.v }]);
  }
  return encodeSafetensors(tensors, { maejs: JSON.stringify(checkpoint.meta) });
}

/** Parses checkpoint bytes written by {@link encodeCheckpoint}; errors name `source`. */
export function decodeCheckpoint(bytes: Uint8Array, source = 'checkpoint'): Checkpoint {
  const { tensors, metadata } = parseSafetensors(bytes, source);
  if (!metadata.maejs) throw new CheckpointError(source, 'is a .safetensors file but not a maejs training checkpoint (no "maejs" metadata)');
  let meta: CheckpointMeta;
  try {
    meta = JSON.parse(metadata.maejs) as CheckpointMeta;
  } catch (error) {
    throw new CheckpointError(source, `its "maejs" metadata is not valid JSON: ${(error as Error).message}`);
  }
  if (meta.format !== CHECKPOINT_FORMAT || meta.version !== CHECKPOINT_VERSION) {
    throw new CheckpointError(source, `has format ${String(meta.format)} v${String(meta.version)}, expected ${CHECKPOINT_FORMAT} v${CHECKPOINT_VERSION}`);
  }
  const model = new Map<string, StateTensor>();
  for (const [key, t] of tensors) {
    if (key.startsWith('model/')) model.set(key.slice('model/'.length), { shape: t.shape, data: t.data as Float32Array });
  }
  const take = (key: string) => {
    const t = tensors.get(key);
    if (!t) throw new CheckpointError(source, `lacks tensor '${key}'`);
    return t.data as Float32Array;
  };
  const o = meta.optimizer;
  const params = o.params.map((p) => ({ ...p, m: take(`optimizer.m/${p.name}`), v: take(`optimizer.v/${p.name}`) }));
  return { meta, model, optimizer: { step: o.step, lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weightDecay, params } };
}

/** Splits an optimizer snapshot into its JSON part and its tensors (for the metadata). */
export function optimizerMeta(state: AdamWState): CheckpointMeta['optimizer'] {
  return { step: state.step, lr: state.lr, betas: state.betas, eps: state.eps, weightDecay: state.weightDecay, params: state.params.map(({ name, group, step, shape }) => ({ name, group, step, shape })) };
}

/**
 * Where checkpoints live: a folder on disk in Node (see `@maejs/trainer/node`), IndexedDB in a
 * browser, a Map in tests. `save` must be atomic: a reader never sees a half-written entry.
 */
export interface CheckpointStore {
  /** Stores `bytes` under `name`, replacing an entry of that name atomically. */
  save(name: string, bytes: Uint8Array): Promise<void>;
  /** The bytes saved under `name`. */
  load(name: string): Promise<Uint8Array>;
  /** Names of the saved checkpoints, any order. */
  list(): Promise<string[]>;
  /** Deletes the entry `name` (no error when there is none). */
  remove(name: string): Promise<void>;
}

/** A CheckpointStore in memory. */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly entries = new Map<string, Uint8Array>();
  /** Keeps a copy of `bytes` under `name`. */
  async save(name: string, bytes: Uint8Array): Promise<void> {
    this.entries.set(name, bytes.slice());
  }
  /** The bytes saved under `name`; throws when there is none. */
  async load(name: string): Promise<Uint8Array> {
    const bytes = this.entries.get(name);
    if (!bytes) throw new CheckpointError(name, 'no such checkpoint');
    return bytes;
  }
  /** Names of the saved checkpoints, in insertion order. */
  async list(): Promise<string[]> {
    return [...this.entries.keys()];
  }
  /** Deletes the entry `name`. */
  async remove(name: string): Promise<void> {
    this.entries.delete(name);
  }
}

/** File name of the checkpoint after `step` updates; sorts by step. */
export function checkpointName(step: number): string {
  return `checkpoint-${String(step).padStart(8, '0')}.safetensors`;
}

/** Checkpoint names in `names`, newest first. */
export function newestFirst(names: string[]): string[] {
  return names.filter((n) => /^checkpoint-\d{8}\.safetensors$/.test(n)).sort().reverse();
}
