/**
 * Element sizes, checked element counts and decoding of little-endian element bytes into the two
 * output array types (Float32Array for floating types, Int32Array for integer and bool types).
 */
import { LITTLE_ENDIAN_HOST, viewOf } from './bytes.js';
import { type SourceDtype, WeightsFormatError } from './tensor-record.js';

/** Bytes per element of each source dtype. */
export const ITEM_SIZE: Readonly<Record<SourceDtype, number>> = {
  float32: 4,
  float16: 2,
  bfloat16: 2,
  float64: 8,
  int32: 4,
  int64: 8,
  int16: 2,
  int8: 1,
  uint8: 1,
  bool: 1,
};

/** True for dtypes that decode to Float32Array. */
export function isFloatDtype(dtype: SourceDtype): boolean {
  return dtype === 'float32' || dtype === 'float16' || dtype === 'bfloat16' || dtype === 'float64';
}

/** Most dimensions accepted in any shape (PyTorch allows 64 at most). */
export const MAX_RANK = 64;

/**
 * Validates a shape read from a file and returns its element count.
 * Every entry must be a non-negative safe integer, the rank at most {@link MAX_RANK}, and the
 * product must stay a safe integer (so [2^31, 2^31] is refused, not rounded).
 */
export function checkedNumel(shape: readonly unknown[], source: string, what: string): number {
  if (shape.length > MAX_RANK) {
    throw new WeightsFormatError(source, `${what} has ${shape.length} dimensions; at most ${MAX_RANK} are supported`);
  }
  let numel = 1;
  for (const dim of shape) {
    if (typeof dim !== 'number' || !Number.isSafeInteger(dim) || dim < 0) {
      throw new WeightsFormatError(source, `${what} has shape entry ${String(dim)}; expected non-negative integers`);
    }
    if (dim !== 0 && numel > Number.MAX_SAFE_INTEGER / dim) {
      throw new WeightsFormatError(source, `${what} has shape [${shape.join(', ')}] whose element count overflows 2^53`);
    }
    numel *= dim;
  }
  return numel;
}

/** Shape text for messages, e.g. `[3, 1, 28, 28]`. */
export function shapeText(shape: readonly unknown[]): string {
  return `[${shape.map(String).join(', ')}]`;
}

/**
 * Decodes little-endian elements. `bytes` holds exactly count * ITEM_SIZE[dtype] bytes (the caller
 * checked this); it may start at any byte offset. Returns a new array that owns its memory.
 * int64 values must fit in int32 and bool bytes must be 0 or 1, else a WeightsFormatError naming `what`.
 */
export function decodeElements(bytes: Uint8Array, dtype: SourceDtype, source: string, what: string): Float32Array | Int32Array {
  const count = bytes.length / ITEM_SIZE[dtype];
  switch (dtype) {
    case 'float32':
      return LITTLE_ENDIAN_HOST ? new Float32Array(copyOf(bytes).buffer) : readFloat32(bytes, count);
    case 'int32':
      return LITTLE_ENDIAN_HOST ? new Int32Array(copyOf(bytes).buffer) : readInt32(bytes, count);
    case 'float16':
      return decodeFloat16(bytes, count);
    case 'bfloat16':
      return decodeBfloat16(bytes, count);
    case 'float64':
      return decodeFloat64(bytes, count);
    case 'int64':
      return decodeInt64(bytes, count, source, what);
    case 'int16':
      return Int32Array.from(new Int16Array(copyAligned(bytes, 2)));
    case 'int8':
      return Int32Array.from(new Int8Array(copyOf(bytes).buffer));
    case 'uint8':
      return Int32Array.from(bytes);
    case 'bool':
      return decodeBool(bytes, source, what);
  }
}

/**
 * A copy of `bytes` in a fresh, exactly sized ArrayBuffer. (Node's Buffer#slice returns a view,
 * not a copy, so `buffer.slice().buffer` could be the whole shared pool; the Uint8Array
 * constructor always copies into a new plain Uint8Array.)
 */
export function copyOf(bytes: Uint8Array): Uint8Array<ArrayBuffer> {
  return new Uint8Array(bytes);
}

/** Copy of bytes in a fresh buffer, byte-swapped per `itemSize` group on big-endian hosts. */
function copyAligned(bytes: Uint8Array, itemSize: number): ArrayBuffer {
  const copy = copyOf(bytes);
  if (!LITTLE_ENDIAN_HOST) {
    for (let i = 0; i < copy.length; i += itemSize) copy.subarray(i, i + itemSize).reverse();
  }
  return copy.buffer;
}

function readFloat32(bytes: Uint8Array, count: number): Float32Array {
  const view = viewOf(bytes);
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getFloat32(4 * i, true);
  return out;
}

function readInt32(bytes: Uint8Array, count: number): Int32Array {
  const view = viewOf(bytes);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) out[i] = view.getInt32(4 * i, true);
  return out;
}

function decodeFloat64(bytes: Uint8Array, count: number): Float32Array {
  return Float32Array.from(new Float64Array(copyAligned(bytes, 8), 0, count));
}

function decodeBfloat16(bytes: Uint8Array, count: number): Float32Array {
  const halves = new Uint16Array(copyAligned(bytes, 2));
  const bits = new Uint32Array(count);
  for (let i = 0; i < count; i++) bits[i] = halves[i] << 16;
  return new Float32Array(bits.buffer);
}

let float16Table: Uint32Array | null = null;

/** float32 bit pattern of every float16 bit pattern (exact, incl. subnormals, inf, NaN payloads). */
function float16ToFloat32Bits(): Uint32Array {
  if (float16Table) return float16Table;
  const table = new Uint32Array(65536);
  for (let h = 0; h < 65536; h++) table[h] = halfBitsToSingleBits(h);
  float16Table = table;
  return table;
}

/** Converts one IEEE half bit pattern to the single-precision bit pattern of the same value. */
export function halfBitsToSingleBits(h: number): number {
  const sign = (h & 0x8000) << 16;
  const exponent = (h >> 10) & 0x1f;
  let fraction = h & 0x3ff;
  if (exponent === 0x1f) return (sign | 0x7f800000 | (fraction << 13)) >>> 0;
  if (exponent !== 0) return (sign | ((exponent - 15 + 127) << 23) | (fraction << 13)) >>> 0;
  if (fraction === 0) return sign >>> 0;
  let e = -14; // subnormal: value = fraction * 2^-24; normalise the leading bit into the implicit one
  while ((fraction & 0x400) === 0) {
    fraction <<= 1;
    e--;
  }
  return (sign | ((e + 127) << 23) | ((fraction & 0x3ff) << 13)) >>> 0;
}

function decodeFloat16(bytes: Uint8Array, count: number): Float32Array {
  const table = float16ToFloat32Bits();
  const halves = new Uint16Array(copyAligned(bytes, 2));
  const bits = new Uint32Array(count);
  for (let i = 0; i < count; i++) bits[i] = table[halves[i]];
  return new Float32Array(bits.buffer);
}

function decodeInt64(bytes: Uint8Array, count: number, source: string, what: string): Int32Array {
  const view = viewOf(bytes);
  const out = new Int32Array(count);
  for (let i = 0; i < count; i++) {
    const low = view.getInt32(8 * i, true);
    const high = view.getInt32(8 * i + 4, true);
    if (high !== low >> 31) {
      const value = view.getBigInt64(8 * i, true);
      throw new WeightsFormatError(source, `${what}: int64 value ${value} at element ${i} does not fit in int32 (the output type)`);
    }
    out[i] = low;
  }
  return out;
}

function decodeBool(bytes: Uint8Array, source: string, what: string): Int32Array {
  const out = new Int32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i];
    if (b > 1) throw new WeightsFormatError(source, `${what}: bool element ${i} has byte value ${b}; expected 0 or 1`);
    out[i] = b;
  }
  return out;
}

/** The little-endian bytes of a float32/int32 array (a view on little-endian hosts, else a copy). */
export function littleEndianBytes(data: Float32Array | Int32Array): Uint8Array {
  const raw = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (LITTLE_ENDIAN_HOST) return raw;
  const copy = raw.slice();
  for (let i = 0; i < copy.length; i += 4) copy.subarray(i, i + 4).reverse();
  return copy;
}
