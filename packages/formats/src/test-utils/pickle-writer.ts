/**
 * Test helper: writes pickles opcode by opcode (protocol 2 style, as torch.save does), plus a
 * builder of whole torch-style checkpoints (.pth zip archives) from storages and tensor views.
 */
import { buildZip, type ZipInput } from './zip-writer.js';

/** Emits pickle opcodes into a byte array. Method names follow the opcode names. */
export class PickleWriter {
  private readonly out: number[] = [];

  /** Raw bytes (for hand-made broken pickles). */
  raw(...bytes: number[]): this {
    this.out.push(...bytes);
    return this;
  }

  proto(version = 2): this {
    return this.raw(0x80, version);
  }

  mark(): this {
    return this.raw(0x28);
  }

  stop(): this {
    return this.raw(0x2e);
  }

  emptyDict(): this {
    return this.raw(0x7d);
  }

  emptyList(): this {
    return this.raw(0x5d);
  }

  emptyTuple(): this {
    return this.raw(0x29);
  }

  tuple(): this {
    return this.raw(0x74);
  }

  tupleN(n: 1 | 2 | 3): this {
    return this.raw(0x84 + n);
  }

  append(): this {
    return this.raw(0x61);
  }

  appends(): this {
    return this.raw(0x65);
  }

  setitem(): this {
    return this.raw(0x73);
  }

  setitems(): this {
    return this.raw(0x75);
  }

  reduce(): this {
    return this.raw(0x52);
  }

  build(): this {
    return this.raw(0x62);
  }

  binpersid(): this {
    return this.raw(0x51);
  }

  none(): this {
    return this.raw(0x4e);
  }

  bool(value: boolean): this {
    return this.raw(value ? 0x88 : 0x89);
  }

  /** Smallest of BININT1 / BININT2 / BININT, or LONG1 beyond 32 bits. */
  int(value: number): this {
    if (value >= 0 && value < 256) return this.raw(0x4b, value);
    if (value >= 0 && value < 65536) return this.raw(0x4d, value & 0xff, value >> 8);
    if (value >= -(2 ** 31) && value < 2 ** 31) return this.raw(0x4a, value & 0xff, (value >> 8) & 0xff, (value >> 16) & 0xff, (value >>> 24) & 0xff);
    return this.long1(BigInt(value));
  }

  long1(value: bigint): this {
    const bytes: number[] = [];
    let v = value;
    do {
      bytes.push(Number(v & 0xffn));
      v >>= 8n;
    } while (!(v === 0n && (bytes[bytes.length - 1] & 0x80) === 0) && !(v === -1n && (bytes[bytes.length - 1] & 0x80) !== 0));
    return this.raw(0x8a, bytes.length, ...bytes);
  }

  float(value: number): this {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, value, false);
    return this.raw(0x47, ...new Uint8Array(view.buffer));
  }

  /** BINUNICODE. */
  str(text: string): this {
    const bytes = new TextEncoder().encode(text);
    const n = bytes.length;
    return this.raw(0x58, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24, ...bytes);
  }

  /** GLOBAL 'module\nname\n'. */
  global(module: string, name: string): this {
    return this.raw(0x63, ...new TextEncoder().encode(`${module}\n${name}\n`));
  }

  binput(index: number): this {
    return this.raw(0x71, index);
  }

  binget(index: number): this {
    return this.raw(0x68, index);
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}

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
  w.int(t.offset);
  w.mark();
  t.size.forEach((s) => w.int(s));
  w.tuple();
  w.mark();
  t.stride.forEach((s) => w.int(s));
  w.tuple();
  w.bool(false);
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
  return w.stop().finish();
}

/** A torch-style .pth: `<archive>/data.pkl`, `<archive>/data/<key>` storages, `<archive>/version`. */
export function buildPth(pickle: Uint8Array, storages: Record<string, Uint8Array>, options: { archive?: string; extra?: ZipInput[]; zip64?: boolean } = {}): Uint8Array {
  const archive = options.archive ?? 'archive';
  const files: ZipInput[] = [{ name: `${archive}/data.pkl`, data: pickle }];
  for (const [key, data] of Object.entries(storages)) files.push({ name: `${archive}/data/${key}`, data });
  files.push({ name: `${archive}/version`, data: new TextEncoder().encode('3\n') });
  files.push(...(options.extra ?? []));
  return buildZip(files, { zip64: options.zip64 });
}

/** Little-endian bytes of a float32 array. */
export function float32Bytes(values: ArrayLike<number>): Uint8Array {
  return new Uint8Array(Float32Array.from(values).buffer);
}
