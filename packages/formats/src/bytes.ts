/**
 * Bounds-checked little-endian reads shared by the parsers. Every read checks that the bytes are
 * there first, so a truncated input ends in a WeightsFormatError, never a RangeError.
 */
import { WeightsFormatError } from './tensor-record.js';

/** A DataView over exactly the bytes of `bytes` (respects byteOffset). */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Throws unless bytes [offset, offset + length) lie inside a buffer of `size` bytes. */
export function requireRange(size: number, offset: number, length: number, source: string, what: string): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > size) {
    throw new WeightsFormatError(source, `${what} needs bytes ${offset}..${offset + length} but only ${size} bytes are available`);
  }
}

/**
 * Reads an unsigned 64-bit little-endian integer as a number. Values above 2^53 come back rounded
 * (still above 2^53), which is enough to reject them against any buffer size; use {@link u64Text}
 * to print them exactly.
 */
export function readU64(view: DataView, offset: number): number {
  const low = view.getUint32(offset, true);
  const high = view.getUint32(offset + 4, true);
  return high * 0x1_0000_0000 + low;
}

/** Exact decimal text of the unsigned 64-bit little-endian integer at `offset` (for messages). */
export function u64Text(view: DataView, offset: number): string {
  return view.getBigUint64(offset, true).toString();
}

/** True when this JS engine stores typed arrays little-endian (all mainstream engines do). */
export const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Decodes ASCII/latin-1 bytes one char per byte (never fails). */
export function latin1(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i += 4096) {
    text += String.fromCharCode(...bytes.subarray(i, i + 4096));
  }
  return text;
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8, throwing a WeightsFormatError naming `what` on invalid sequences. */
export function utf8(bytes: Uint8Array, source: string, what: string): string {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    throw new WeightsFormatError(source, `${what} is not valid UTF-8`);
  }
}

/** The parts one after another in a new array. */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}
