/**
 * PyTorch checkpoint reader and writer (`torch.save` zip format, PyTorch >= 1.6):
 * `<archive>/data.pkl` (protocol 2 pickle), `<archive>/data/<key>` (raw little-endian storages),
 * optionally `<archive>/byteorder` and `<archive>/version`.
 */
import { latin1 } from './bytes.js';
import { littleEndianBytes } from './dtypes.js';
import { PickleWriter } from './pickle-writer.js';
import { checkEncodableTensor, type EncodableTensor } from './safetensors.js';
import { isPickledTensor, type PickleValue } from './pickle-value.js';
import { type TensorRecord, WeightsFormatError } from './tensor-record.js';
import { TorchPickleHooks } from './torch-pickle.js';
import { describe, unpickle } from './unpickle.js';
import { readStoredZip, writeZip, type ZipEntry, type ZipWriteEntry } from './zip.js';

/** Everything read from a .pth file. */
export interface PthContents {
  /** The whole unpickled object. */
  root: PickleValue;
  /** The archive folder name inside the zip (e.g. 'archive' or the file stem). */
  archiveName: string;
}

/** Options of {@link parsePth}. */
export interface PthOptions {
  /** Verify the CRC-32 of every zip entry (default true). */
  verifyChecksums?: boolean;
}

/** A state dict selected from a checkpoint. */
export interface PthStateDict {
  /** The tensors in pickle order. */
  tensors: Map<string, TensorRecord>;
  /** Keys of the chosen dict whose values are not tensors (or whose keys are not strings). */
  skipped: string[];
  /** null when the root is the state dict, else the key it was found under ('model' or 'state_dict'). */
  wrapper: string | null;
}

/**
 * Parses a `torch.save` zip checkpoint without running any code: a STORED zip reader, then a
 * restricted unpickler that only accepts the globals needed to rebuild tensors and OrderedDicts.
 * Throws {@link WeightsFormatError} (message starting with `source`) for anything else.
 */
export function parsePth(bytes: Uint8Array, source = 'bytes', options: PthOptions = {}): PthContents {
  const entries = readStoredZip(bytes, source, options);
  const prefix = findArchivePrefix(entries, source);
  checkByteOrder(entries.get(`${prefix}/byteorder`), source);
  checkVersion(entries.get(`${prefix}/version`) ?? entries.get(`${prefix}/.data/version`), source);
  const pickle = (entries.get(`${prefix}/data.pkl`) as ZipEntry).data;
  const root = unpickle(pickle, source, new TorchPickleHooks(source, { entries, prefix, fileBytes: bytes.length }));
  return { root, archiveName: prefix };
}

/** The `<archive>` of the single `<archive>/data.pkl` entry. */
function findArchivePrefix(entries: Map<string, ZipEntry>, source: string): string {
  const prefixes = [...entries.keys()].map((name) => /^([^/]+)\/data\.pkl$/.exec(name)?.[1]).filter((p): p is string => p !== undefined);
  if (prefixes.length === 1) return prefixes[0];
  if (prefixes.length > 1) throw new WeightsFormatError(source, `zip holds ${prefixes.length} '<archive>/data.pkl' entries; expected one`);
  const names = [...entries.keys()].slice(0, 8).map((n) => `'${n}'`);
  throw new WeightsFormatError(source, `zip has no '<archive>/data.pkl' entry, so it is not a torch.save checkpoint (entries: ${names.join(', ') || 'none'})`);
}

function checkByteOrder(entry: ZipEntry | undefined, source: string): void {
  if (!entry) return; // written since PyTorch 2.1; older files are little-endian
  const order = latin1(entry.data).trim();
  if (order !== 'little') {
    throw new WeightsFormatError(source, `archive byteorder is '${order.slice(0, 20)}'; only 'little' (little-endian storages) is supported`);
  }
}

function checkVersion(entry: ZipEntry | undefined, source: string): void {
  if (!entry) return;
  const text = latin1(entry.data.subarray(0, 32)).trim();
  if (!/^\d{1,4}$/.test(text) || entry.data.length > 32) {
    throw new WeightsFormatError(source, `archive version record is ${JSON.stringify(text)}; expected a small decimal number`);
  }
}

/**
 * The state dict inside a checkpoint: the root if it is a dict of tensors, else root['model'] /
 * root['state_dict'] if that is. A dict whose values are all tensors is preferred; otherwise the
 * first of those dicts holding any tensor is used and its non-tensor entries are reported in
 * `skipped`. Throws naming the keys found when none qualifies.
 */
export function stateDictFromPth(bytes: Uint8Array, source = 'bytes'): PthStateDict {
  return selectStateDict(parsePth(bytes, source).root, source);
}

const WRAPPER_KEYS = ['model', 'state_dict'] as const;

/** {@link stateDictFromPth} on an already unpickled root. */
export function selectStateDict(root: PickleValue, source = 'bytes'): PthStateDict {
  const candidates: Array<[Map<PickleValue, PickleValue>, string | null]> = [];
  if (root instanceof Map) {
    candidates.push([root, null]);
    for (const key of WRAPPER_KEYS) {
      const inner = root.get(key);
      if (inner instanceof Map) candidates.push([inner, key]);
    }
  }
  const chosen =
    candidates.find(([dict]) => dict.size > 0 && [...dict.values()].every(isPickledTensor)) ??
    candidates.find(([dict]) => [...dict.values()].some(isPickledTensor));
  if (!chosen) throw new WeightsFormatError(source, `no state dict found: ${describeRoot(root)}; expected a dict of tensors at the root or under 'model' or 'state_dict'`);
  return collectTensors(chosen[0], chosen[1]);
}

function collectTensors(dict: Map<PickleValue, PickleValue>, wrapper: string | null): PthStateDict {
  const tensors = new Map<string, TensorRecord>();
  const skipped: string[] = [];
  for (const [key, value] of dict) {
    if (typeof key === 'string' && isPickledTensor(value)) tensors.set(key, value);
    else skipped.push(typeof key === 'string' ? key : String(key));
  }
  return { tensors, skipped, wrapper };
}

function describeRoot(root: PickleValue): string {
  if (!(root instanceof Map)) return `the root is ${describe(root)}`;
  const keys = [...root.keys()].slice(0, 20).map((k) => (typeof k === 'string' ? `'${k}'` : String(k)));
  return `the root is a dict with keys [${keys.join(', ')}${root.size > 20 ? ', ...' : ''}]`;
}

/** Options of {@link encodePth}. */
export interface PthWriteOptions {
  /** Top folder of the archive's entries (torch.save uses the file name without extension); default 'archive'. */
  archiveName?: string;
}

const STORAGE_OF_DTYPE: Readonly<Record<EncodableTensor['dtype'], string>> = { float32: 'FloatStorage', int32: 'IntStorage' };

/**
 * A state dict as `torch.save(state_dict)` writes it (zip format, PyTorch >= 1.6), so that
 * `torch.load(f, weights_only=True)` reads it back as an OrderedDict of contiguous CPU tensors:
 * `<archive>/data.pkl` (a protocol-2 pickle of `collections.OrderedDict` whose values are
 * `torch._utils._rebuild_tensor_v2(storage, 0, size, stride, False, OrderedDict())`, each storage a
 * persistent id `('storage', torch.FloatStorage, '<n>', 'cpu', numel)`), `<archive>/data/<n>` (the
 * little-endian values, 64-byte aligned), `<archive>/byteorder` and `<archive>/version` (3).
 * Tensors are float32 or int32; the archive must stay under 4 GiB.
 */
export function encodePth(tensors: Iterable<[string, EncodableTensor]>, options: PthWriteOptions = {}): Uint8Array {
  const source = 'encodePth';
  const archive = options.archiveName ?? 'archive';
  if (!/^[A-Za-z0-9_.-]+$/.test(archive)) throw new WeightsFormatError(source, `archiveName '${archive}' is not a plain folder name: expected letters, digits, '_', '.' or '-'`);
  const names = new Set<string>();
  const storages: ZipWriteEntry[] = [];
  const p = new PickleWriter().proto(2).global('collections', 'OrderedDict').emptyTuple().reduce(); // OrderedDict()
  p.mark(); // of SETITEMS
  for (const [name, tensor] of tensors) {
    checkEncodableTensor(source, name, tensor, names);
    const key = String(storages.length);
    storages.push({ name: `${archive}/data/${key}`, data: littleEndianBytes(tensor.data) });
    const stride = tensor.shape.map((_, i) => tensor.shape.slice(i + 1).reduce((a, b) => a * b, 1)); // contiguous
    p.str(name).global('torch._utils', '_rebuild_tensor_v2').mark(); // of the argument tuple
    p.mark().str('storage').global('torch', STORAGE_OF_DTYPE[tensor.dtype]).str(key).str('cpu').int(tensor.data.length).tuple().binpersid(); // persistent id
    p.int(0).intTuple(tensor.shape).intTuple(stride).bool(false); // storage offset, size, stride, requires_grad
    p.global('collections', 'OrderedDict').emptyTuple().reduce(); // backward hooks: OrderedDict()
    p.tuple().reduce();
  }
  p.setitems().stop();
  const text = (s: string) => new TextEncoder().encode(s);
  const entries: ZipWriteEntry[] = [{ name: `${archive}/data.pkl`, data: p.bytes() }, { name: `${archive}/byteorder`, data: text('little') }, ...storages, { name: `${archive}/version`, data: text('3\n') }];
  try {
    return writeZip(entries, { align: 64 });
  } catch (error) {
    throw new WeightsFormatError(source, (error as Error).message);
  }
}
