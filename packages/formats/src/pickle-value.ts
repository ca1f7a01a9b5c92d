/**
 * Values produced by the restricted unpickler: plain JS values plus three tagged classes.
 */
import type { SourceDtype, TensorRecord } from './tensor-record.js';

/**
 * An unpickled value. Python dicts (and OrderedDicts) are Maps in insertion order; lists and
 * tuples are arrays; ints are numbers (bigint beyond 2^53); floats are numbers; str is string;
 * bytes is Uint8Array; None is null. Tensors are {@link PickledTensor}; the remaining classes stand
 * for objects that have no JS equivalent (allow-listed globals and torch storages).
 */
export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | Map<PickleValue, PickleValue>
  | PickledTensor
  | PickleGlobal
  | PickleStorage;

/** A tensor rebuilt from a pickle (torch `_rebuild_tensor_v2`), with contiguous row-major data. */
export class PickledTensor implements TensorRecord {
  constructor(
    readonly dtype: SourceDtype,
    readonly shape: number[],
    readonly data: Float32Array | Int32Array,
    /** The tensor's requires_grad flag as saved. */
    readonly requiresGrad: boolean,
  ) {}
}

/** A reference to an allow-listed Python global, e.g. `collections.OrderedDict`. Never callable by itself. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  /** `module.name`. */
  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** A typed torch storage resolved from a persistent id: `numel` elements at the start of `bytes`. */
export class PickleStorage {
  constructor(
    readonly dtype: SourceDtype,
    /** The storage key (zip entry `data/<key>`). */
    readonly key: string,
    readonly numel: number,
    /** The zip entry's bytes (a subarray of the file). */
    readonly bytes: Uint8Array,
  ) {}
}

/** True for tensors in an unpickled value. */
export function isPickledTensor(value: PickleValue | undefined): value is PickledTensor {
  return value instanceof PickledTensor;
}
