/**
 * Test helper: torch-style checkpoints (.pth zip archives) with tensor views that encodePth never
 * writes: any storage class, storage offset, size and stride (non-contiguous, shared or
 * out-of-range views), dicts nested in training-checkpoint wrappers, ints beside tensors. Written
 * with the real PickleWriter and writeZip.
 */
import { PickleWriter } from '../pickle-writer.js';
import { writeZip } from '../zip.js';

/** One tensor view for {@link writeStateDictPickle}. */
export interface TensorSpec {
  key: string;
  /** e.g. 'FloatStorage', 'HalfStorage'. */
  storageClass: string;
  storageKey: string;
  /** Elements declared for the storage in the persistent id. */
  storageNumel: number;
  offset: number;
  size: number[];
  stride: number[];
}

/** A value of a dict written by {@link writeDictBody}: a tensor view, an int, or a nested dict. */
export type DictItem = TensorSpec | number | { dict: Array<[string, DictItem]>; ordered?: boolean };

function isTensorSpec(item: DictItem): item is TensorSpec {
  return typeof item === 'object' && 'storageKey' in item;
}

/** Writes `_rebuild_tensor_v2(persistent storage, offset, size, stride, False, OrderedDict())`. */
function writeTensor(w: PickleWriter, t: TensorSpec): void {
  w.global('torch._utils', '_rebuild_tensor_v2');
  w.mark();
  w.mark().str('storage').global('torch', t.storageClass).str(t.storageKey).str('cpu').int(t.storageNumel).tuple().binpersid();
  w.int(t.offset).intTuple(t.size).intTuple(t.stride).bool(false);
  w.global('collections', 'OrderedDict').emptyTuple().reduce();
  w.tuple().reduce();
}

/** Writes a dict (an OrderedDict when `ordered`) with SETITEMS, and BUILD of `_metadata`-like state for OrderedDicts. */
export function writeDictBody(w: PickleWriter, items: Array<[string, DictItem]>, ordered: boolean): void {
  if (ordered) w.global('collections', 'OrderedDict').emptyTuple().reduce();
  else w.emptyDict();
  w.mark();
  for (const [key, item] of items) {
    w.str(key);
    if (typeof item === 'number') w.int(item);
    else if (isTensorSpec(item)) writeTensor(w, item);
    else writeDictBody(w, item.dict, item.ordered ?? false);
  }
  w.setitems();
  if (ordered) w.emptyDict().str('_metadata').global('collections', 'OrderedDict').emptyTuple().reduce().setitem().build();
}

/** A whole data.pkl for an OrderedDict of tensors, optionally wrapped as {wrapper: sd, ...extra}. */
export function writeStateDictPickle(tensors: TensorSpec[], wrap?: { key: string; extra: Array<[string, DictItem]> }): Uint8Array {
  const w = new PickleWriter().proto(2);
  const stateDict: DictItem = { dict: tensors.map((t) => [t.key, t]), ordered: true };
  if (wrap) writeDictBody(w, [[wrap.key, stateDict], ...wrap.extra], false);
  else writeDictBody(w, stateDict.dict, true);
  return w.stop().bytes();
}

/** A torch-style .pth: `archive/data.pkl`, `archive/data/<key>` storages, `archive/version`. */
export function buildPth(pickle: Uint8Array, storages: Record<string, Uint8Array>): Uint8Array {
  const files = [{ name: 'archive/data.pkl', data: pickle }];
  for (const [key, data] of Object.entries(storages)) files.push({ name: `archive/data/${key}`, data });
  files.push({ name: 'archive/version', data: new TextEncoder().encode('3\n') });
  return writeZip(files);
}

/** Little-endian bytes of a float32 array. */
export function float32Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
