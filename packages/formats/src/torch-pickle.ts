/**
 * What a torch state dict pickle may do, and nothing more: the allow-listed globals, the
 * REDUCE calls that rebuild tensors and OrderedDicts, and storages resolved from the zip archive.
 */
import { checkedNumel, decodeElements, ITEM_SIZE, shapeText } from './dtypes.js';
import { PickledTensor, PickleGlobal, PickleStorage, type PickleValue } from './pickle-value.js';
import { gatherStridedBytes, isRowMajor, maxViewIndex } from './strided.js';
import { type SourceDtype, WeightsFormatError } from './tensor-record.js';
import { describe, type PickleHooks } from './unpickle.js';
import type { ZipEntry } from './zip.js';

/** Storage classes that may appear in persistent ids, and their element types. */
const STORAGE_DTYPES: Readonly<Record<string, SourceDtype>> = {
  'torch.FloatStorage': 'float32',
  'torch.HalfStorage': 'float16',
  'torch.BFloat16Storage': 'bfloat16',
  'torch.DoubleStorage': 'float64',
  'torch.IntStorage': 'int32',
  'torch.LongStorage': 'int64',
  'torch.ShortStorage': 'int16',
  'torch.CharStorage': 'int8',
  'torch.ByteStorage': 'uint8',
  'torch.BoolStorage': 'bool',
};

const REBUILD_TENSOR = 'torch._utils._rebuild_tensor_v2';
const REBUILD_PARAMETER = 'torch._utils._rebuild_parameter';
const REBUILD_PARAMETER_WITH_STATE = 'torch._utils._rebuild_parameter_with_state';
const ORDERED_DICT = 'collections.OrderedDict';

/** The argparse.Namespace official training checkpoints store under 'args' (plain settings). */
const NAMESPACE = 'argparse.Namespace';

/** Every global a torch pickle may name; any other is refused. */
export const ALLOWED_TORCH_GLOBALS: readonly string[] = [
  REBUILD_TENSOR,
  REBUILD_PARAMETER,
  REBUILD_PARAMETER_WITH_STATE,
  ORDERED_DICT,
  NAMESPACE,
  ...Object.keys(STORAGE_DTYPES),
];

/** Storage keys are short names (torch uses decimal numbers); nothing path-like. */
const STORAGE_KEY_PATTERN = /^[A-Za-z0-9_]{1,64}$/;
/** Decoded elements always allowed, on top of 4 per byte of the file (bounds broadcast-view blow-up). */
const ELEMENT_BUDGET_FLOOR = 1 << 22;

/** The archive a pickle belongs to: its entries and the `<archive>` folder name. */
export interface TorchArchive {
  entries: Map<string, ZipEntry>;
  prefix: string;
  /** Size of the whole file (sets the decoded-element budget). */
  fileBytes: number;
}

/** Hooks for {@link unpickle} that accept exactly what `torch.save(state_dict)` writes. */
export class TorchPickleHooks implements PickleHooks {
  private readonly storages = new Map<string, PickleStorage>();
  private elementsLeft: number;

  constructor(
    private readonly source: string,
    private readonly archive: TorchArchive,
  ) {
    this.elementsLeft = ELEMENT_BUDGET_FLOOR + 4 * archive.fileBytes;
  }

  private fail(problem: string): never {
    throw new WeightsFormatError(this.source, problem);
  }

  resolveGlobal(module: string, name: string): PickleValue {
    const qualified = `${module}.${name}`;
    if (!ALLOWED_TORCH_GLOBALS.includes(qualified)) {
      this.fail(`pickle refers to global '${qualified}', which is not allowed (allowed: ${ALLOWED_TORCH_GLOBALS.join(', ')})`);
    }
    return new PickleGlobal(module, name);
  }

  reduce(callable: PickleValue, args: PickleValue[], nearbyKey: string | null): PickleValue {
    const name = callable instanceof PickleGlobal ? callable.qualifiedName : null;
    switch (name) {
      case ORDERED_DICT:
        if (args.length !== 0) this.fail(`pickle calls ${ORDERED_DICT} with ${args.length} arguments; expected none`);
        return new Map();
      case REBUILD_TENSOR:
        return this.rebuildTensor(args, nearbyKey);
      case REBUILD_PARAMETER:
      case REBUILD_PARAMETER_WITH_STATE:
        return this.rebuildParameter(args, name);
      default:
        return this.fail(`pickle calls ${name === null ? describe(callable) : `'${name}'`}, which cannot be called`);
    }
  }

  /** Only argparse.Namespace() (no arguments) is created: as an empty dict, filled by BUILD. */
  newObject(cls: PickleValue, args: PickleValue[]): PickleValue {
    const name = cls instanceof PickleGlobal ? cls.qualifiedName : describe(cls);
    if (name !== NAMESPACE) this.fail(`pickle creates an object of ${name === NAMESPACE ? name : `'${name}'`} (NEWOBJ), which is only allowed for ${NAMESPACE}`);
    if (args.length !== 0) this.fail(`pickle creates ${NAMESPACE} with ${args.length} arguments; expected none`);
    return new Map();
  }

  build(target: PickleValue, state: PickleValue): void {
    // torch pickles an OrderedDict's attributes (`_metadata`: module versions) this way; they are not needed.
    if (target instanceof Map && (state === null || state instanceof Map)) return;
    this.fail(`pickle sets the state of ${describe(target)} (BUILD), which is only supported for dicts`);
  }

  /** `('storage', storage_type, key, location, numel)` -> the storage in `<archive>/data/<key>`. */
  persistentLoad(pid: PickleValue, nearbyKey: string | null): PickleValue {
    if (!Array.isArray(pid) || pid.length !== 5 || pid[0] !== 'storage') {
      this.fail(`pickle has persistent id ${describe(pid)}; expected ('storage', storage_type, key, location, numel)`);
    }
    const [, type, key, location, numel] = pid;
    const typeName = type instanceof PickleGlobal ? type.qualifiedName : '';
    if (!Object.hasOwn(STORAGE_DTYPES, typeName)) this.fail(`persistent id has storage type ${describe(type)}; expected a torch storage class`);
    if (typeof key !== 'string' || !STORAGE_KEY_PATTERN.test(key)) this.fail(`persistent id has storage key ${describe(key)}; expected a short name such as '0'`);
    if (typeof location !== 'string') this.fail(`storage '${key}' has location ${describe(location)}; expected a string such as 'cpu'`);
    if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0) {
      this.fail(`storage '${key}' has element count ${describe(numel)}; expected a non-negative integer`);
    }
    return this.storage(key, STORAGE_DTYPES[typeName], numel, typeName, nearbyKey);
  }

  private storage(key: string, dtype: SourceDtype, numel: number, typeName: string, nearbyKey: string | null): PickleStorage {
    const known = this.storages.get(key);
    if (known) {
      if (known.dtype !== dtype || known.numel !== numel) this.fail(`storage '${key}' is declared twice with different types or sizes`);
      return known;
    }
    const entryName = `${this.archive.prefix}/data/${key}`;
    const entry = this.archive.entries.get(entryName);
    const user = nearbyKey === null ? '' : ` (used by tensor '${nearbyKey}')`;
    if (!entry) this.fail(`pickle refers to storage '${key}'${user} but the archive has no entry '${entryName}'`);
    const needed = numel * ITEM_SIZE[dtype];
    if (needed > entry.data.length) {
      this.fail(`storage '${key}' (${typeName})${user} declares ${numel} elements (${needed} bytes) but zip entry '${entryName}' holds ${entry.data.length} bytes`);
    }
    const storage = new PickleStorage(dtype, key, numel, entry.data);
    this.storages.set(key, storage);
    return storage;
  }

  /** `_rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])`. */
  private rebuildTensor(args: PickleValue[], nearbyKey: string | null): PickledTensor {
    if (args.length !== 6 && args.length !== 7) this.fail(`${REBUILD_TENSOR} gets ${args.length} arguments; expected 6 or 7`);
    const [storage, offset, size, stride, requiresGrad, hooks] = args;
    if (!(storage instanceof PickleStorage)) this.fail(`${REBUILD_TENSOR} gets ${describe(storage)} as storage; expected a storage persistent id`);
    const what = nearbyKey === null ? `tensor on storage '${storage.key}'` : `tensor '${nearbyKey}' (storage '${storage.key}')`;
    if (typeof offset !== 'number' || !Number.isSafeInteger(offset) || offset < 0) this.fail(`${what} has storage offset ${describe(offset)}; expected a non-negative integer`);
    if (!Array.isArray(size)) this.fail(`${what} has size ${describe(size)}; expected a tuple of integers`);
    const numel = checkedNumel(size, this.source, what);
    const shape = size as number[];
    const strides = this.checkStrides(stride, shape, what);
    if (typeof requiresGrad !== 'boolean') this.fail(`${what} has requires_grad ${describe(requiresGrad)}; expected True or False`);
    if (!(hooks instanceof Map) && hooks !== null) this.fail(`${what} has backward hooks ${describe(hooks)}; expected an OrderedDict`);
    const data = this.gather(storage, offset, shape, strides, numel, what);
    return new PickledTensor(storage.dtype, [...shape], data, requiresGrad);
  }

  private checkStrides(stride: PickleValue, shape: number[], what: string): number[] {
    const ok = Array.isArray(stride) && stride.length === shape.length && stride.every((s) => typeof s === 'number' && Number.isSafeInteger(s) && s >= 0);
    if (!ok) this.fail(`${what} has stride ${describe(stride)}; expected ${shape.length} non-negative integers`);
    return stride as number[];
  }

  /** Checks the view fits in the storage and the element budget, then decodes it row-major. */
  private gather(storage: PickleStorage, offset: number, shape: number[], strides: number[], numel: number, what: string): Float32Array | Int32Array {
    const last = maxViewIndex(offset, shape, strides);
    if (last >= storage.numel) {
      this.fail(
        `${what}: view with offset ${offset}, size ${shapeText(shape)}, stride ${shapeText(strides)} reaches element ${last} but the storage holds ${storage.numel} elements`,
      );
    }
    if (numel > this.elementsLeft) this.fail(`tensors decode to more elements than the file size allows (broadcast views?); ${what} has ${numel}`);
    this.elementsLeft -= numel;
    const itemSize = ITEM_SIZE[storage.dtype];
    if (last < 0) return decodeElements(storage.bytes.subarray(0, 0), storage.dtype, this.source, what);
    if (isRowMajor(shape, strides)) {
      return decodeElements(storage.bytes.subarray(offset * itemSize, (offset + numel) * itemSize), storage.dtype, this.source, what);
    }
    const gathered = gatherStridedBytes(storage.bytes, itemSize, shape, strides, offset);
    return decodeElements(gathered, storage.dtype, this.source, what);
  }

  /** `_rebuild_parameter(data, requires_grad, backward_hooks[, state])`: the tensor itself. */
  private rebuildParameter(args: PickleValue[], name: string): PickledTensor {
    const [data, requiresGrad] = args;
    const expected = name === REBUILD_PARAMETER ? 3 : 4;
    if (args.length !== expected || !(data instanceof PickledTensor) || typeof requiresGrad !== 'boolean') {
      this.fail(`'${name}' gets ${args.length} arguments (${args.map(describe).join(', ')}); expected (tensor, requires_grad, hooks${expected === 4 ? ', state' : ''})`);
    }
    return new PickledTensor(data.dtype, data.shape, data.data, requiresGrad);
  }
}
