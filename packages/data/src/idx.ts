/**
 * IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed.
 *
 * Layout: magic `00 00 <type> <ndim>`, then `ndim` big-endian u32 dimensions, then the
 * row-major data, big-endian, exactly prod(dims) items. Type codes: 0x08 uint8, 0x09 int8,
 * 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64.
 */
import { bytesText, DataFormatError, shapeText } from './errors.js';
import { DEFAULT_MAX_BYTES, gunzip, isGzip } from './gzip.js';

/** Element type of an IDX file. */
export type IdxDtype = 'uint8' | 'int8' | 'int16' | 'int32' | 'float32' | 'float64';

/**
 * One array read from an IDX file. `data` is row-major with prod(shape) items: Uint8Array for
 * uint8, Int32Array for int8/int16/int32, Float32Array for float32/float64 (float64 is cast).
 */
export interface IdxArray {
  dtype: IdxDtype;
  shape: number[];
  data: Uint8Array | Int32Array | Float32Array;
}

/** The parsed header of an IDX file. */
export interface IdxHeader {
  dtype: IdxDtype;
  shape: number[];
  /** Bytes per item. */
  itemSize: number;
  /** 4 + 4 * ndim. */
  headerBytes: number;
  /** prod(shape) * itemSize. */
  dataBytes: number;
}

/** Options of {@link parseIdx}. */
export interface ParseIdxOptions {
  /** Refuse files (after decompression) larger than this. Default 512 MiB. */
  maxBytes?: number;
}

const TYPE_CODES: Readonly<Record<number, { dtype: IdxDtype; itemSize: number }>> = {
  0x08: { dtype: 'uint8', itemSize: 1 },
  0x09: { dtype: 'int8', itemSize: 1 },
  0x0b: { dtype: 'int16', itemSize: 2 },
  0x0c: { dtype: 'int32', itemSize: 4 },
  0x0d: { dtype: 'float32', itemSize: 4 },
  0x0e: { dtype: 'float64', itemSize: 8 },
};
const CODE_OF_DTYPE: Readonly<Record<IdxDtype, number>> = { uint8: 0x08, int8: 0x09, int16: 0x0b, int32: 0x0c, float32: 0x0d, float64: 0x0e };
/** Most dimensions accepted (MNIST uses 1 and 3). */
export const MAX_IDX_DIMS = 16;

/**
 * Parses an IDX file; gzip input (magic 1f 8b) is decompressed first with the bounds of
 * {@link gunzip}: output is refused past `maxBytes` or past the size the IDX header declares.
 * The dimensions are checked against the bytes actually present before anything is allocated.
 * Throws {@link DataFormatError} naming `source`.
 */
export function parseIdx(bytes: Uint8Array, source = 'bytes', options: ParseIdxOptions = {}): IdxArray {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const compressed = isGzip(bytes);
  const raw = compressed ? gunzip(bytes, source, { maxBytes, declaredSize: (head) => declaredIdxSize(head, source) }) : bytes;
  if (!compressed && raw.length > maxBytes) throw new DataFormatError(source, `IDX file of ${bytesText(raw.length)} is above the limit of ${bytesText(maxBytes)}`);
  const header = readIdxHeader(raw, source);
  if (header === undefined) throw new DataFormatError(source, truncatedHeaderProblem(raw));
  const available = raw.length - header.headerBytes;
  if (available !== header.dataBytes) throw new DataFormatError(source, sizeMismatchProblem(header, available, compressed));
  return { dtype: header.dtype, shape: header.shape, data: decodeData(raw, header, compressed) };
}

/**
 * Reads the header from the first bytes of an IDX file. Returns `undefined` when `head` is too
 * short to hold the whole header; throws on a wrong magic, unknown type code, bad dimension
 * count, or dimensions whose product cannot be addressed.
 */
export function readIdxHeader(head: Uint8Array, source = 'bytes'): IdxHeader | undefined {
  if (head.length >= 1 && head[0] !== 0) throw badMagic(head, source);
  if (head.length >= 2 && head[1] !== 0) throw badMagic(head, source);
  if (head.length < 4) return undefined;
  const type = TYPE_CODES[head[2]];
  if (!type) {
    throw new DataFormatError(source, `unknown IDX type code 0x${hex2(head[2])}; expected 0x08 (uint8), 0x09 (int8), 0x0B (int16), 0x0C (int32), 0x0D (float32) or 0x0E (float64)`);
  }
  const ndim = head[3];
  if (ndim < 1 || ndim > MAX_IDX_DIMS) throw new DataFormatError(source, `IDX header declares ${ndim} dimensions; expected 1 to ${MAX_IDX_DIMS}`);
  const headerBytes = 4 + 4 * ndim;
  if (head.length < headerBytes) return undefined;
  const view = new DataView(head.buffer, head.byteOffset, headerBytes);
  const shape = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const dataBytes = checkedDataBytes(shape, type.itemSize, type.dtype, source);
  return { dtype: type.dtype, shape, itemSize: type.itemSize, headerBytes, dataBytes };
}

/** Total file size an IDX header declares, for {@link gunzip}'s `declaredSize`. */
function declaredIdxSize(head: Uint8Array, source: string): number | undefined {
  const header = readIdxHeader(head, source);
  return header && header.headerBytes + header.dataBytes;
}

/** prod(shape) * itemSize, refusing products beyond exact double precision (2^53). */
function checkedDataBytes(shape: number[], itemSize: number, dtype: IdxDtype, source: string): number {
  let bytes = itemSize;
  for (const d of shape) {
    bytes *= d;
    if (bytes > Number.MAX_SAFE_INTEGER) {
      throw new DataFormatError(source, `IDX dimensions ${shapeText(shape)} of ${dtype} overflow: their product is above 2^53 bytes, far more than any file holds`);
    }
  }
  return bytes;
}

function badMagic(head: Uint8Array, source: string): DataFormatError {
  const seen = Array.from(head.subarray(0, 4), hex2).join(' ');
  return new DataFormatError(source, `not an IDX file: expected the magic 00 00 <type> <ndim>, found ${seen}`);
}

function truncatedHeaderProblem(raw: Uint8Array): string {
  if (raw.length < 4) return `IDX file of ${raw.length} bytes is too short for the 4-byte magic (truncated?)`;
  return `IDX header declares ${raw[3]} dimensions (${4 + 4 * raw[3]} header bytes) but the file has only ${raw.length} bytes (truncated?)`;
}

function sizeMismatchProblem(header: IdxHeader, available: number, compressed: boolean): string {
  const what = `IDX header declares shape ${shapeText(header.shape)} of ${header.dtype} (${header.dataBytes} data bytes)`;
  const after = compressed ? ' after gzip decompression' : '';
  if (available < header.dataBytes) return `${what} but only ${available} bytes follow the ${header.headerBytes}-byte header${after} (truncated file?)`;
  return `${what} but ${available} bytes follow the ${header.headerBytes}-byte header${after} (${available - header.dataBytes} extra bytes)`;
}

/** Decodes the big-endian data section. uint8 is a view when `owned`, else a copy. */
function decodeData(raw: Uint8Array, header: IdxHeader, owned: boolean): Uint8Array | Int32Array | Float32Array {
  const start = header.headerBytes;
  const n = header.dataBytes / header.itemSize;
  if (header.dtype === 'uint8') return owned ? raw.subarray(start) : raw.slice(start);
  const view = new DataView(raw.buffer, raw.byteOffset + start, header.dataBytes);
  switch (header.dtype) {
    case 'int8':
      return fill(new Int32Array(n), (i) => view.getInt8(i));
    case 'int16':
      return fill(new Int32Array(n), (i) => view.getInt16(2 * i, false));
    case 'int32':
      return fill(new Int32Array(n), (i) => view.getInt32(4 * i, false));
    case 'float32':
      return fill(new Float32Array(n), (i) => view.getFloat32(4 * i, false));
    case 'float64':
      return fill(new Float32Array(n), (i) => view.getFloat64(8 * i, false));
  }
}

function fill<T extends Int32Array | Float32Array>(out: T, at: (i: number) => number): T {
  for (let i = 0; i < out.length; i++) out[i] = at(i);
  return out;
}

/**
 * Encodes an array as an (uncompressed) IDX file. `data` must hold prod(shape) values of the
 * given dtype's range (uint8 0..255 etc.).
 */
export function encodeIdx(array: { dtype: IdxDtype; shape: readonly number[]; data: ArrayLike<number> }): Uint8Array {
  const { dtype, shape, data } = array;
  const itemSize = TYPE_CODES[CODE_OF_DTYPE[dtype]].itemSize;
  const n = shape.reduce((a, b) => a * b, 1);
  if (shape.length < 1 || shape.length > MAX_IDX_DIMS) throw new DataFormatError('encodeIdx', `shape ${shapeText(shape)} has ${shape.length} dimensions; expected 1 to ${MAX_IDX_DIMS}`);
  if (data.length !== n) throw new DataFormatError('encodeIdx', `shape ${shapeText(shape)} needs ${n} values but data has ${data.length}`);
  const out = new Uint8Array(4 + 4 * shape.length + n * itemSize);
  const view = new DataView(out.buffer);
  out.set([0, 0, CODE_OF_DTYPE[dtype], shape.length]);
  shape.forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const start = 4 + 4 * shape.length;
  const write: Record<IdxDtype, (i: number, v: number) => void> = {
    uint8: (i, v) => view.setUint8(start + i, v),
    int8: (i, v) => view.setInt8(start + i, v),
    int16: (i, v) => view.setInt16(start + 2 * i, v, false),
    int32: (i, v) => view.setInt32(start + 4 * i, v, false),
    float32: (i, v) => view.setFloat32(start + 4 * i, v, false),
    float64: (i, v) => view.setFloat64(start + 8 * i, v, false),
  };
  for (let i = 0; i < n; i++) write[dtype](i, data[i]);
  return out;
}

function hex2(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}
