/**
 * Bounded gzip decompression (fflate's streaming Gunzip) for untrusted files.
 *
 * A gzip file can expand about 1000x, and its trailer's size field (ISIZE) is only a hint that a
 * hostile file can set to anything, so nothing is allocated from it. Instead the input is fed in
 * slices and the output is counted as it appears: decompression stops with an error as soon as
 * the output passes `maxBytes`, or passes the size that the content's own header declares (for
 * IDX files, the header's dimensions; see `declaredSize`). Slices are 1 KiB until that header has
 * been read (so a bomb behind a small header is caught after at most ~1 MiB of output), then
 * 64 KiB (deflate expands at most ~1032:1, so the overshoot past a limit is at most ~64 MiB). Each member's CRC-32 and length
 * are checked against its trailer, which catches truncated and bit-flipped files that a deflate
 * decoder alone can let through.
 */
import { Gunzip } from 'fflate';
import { crc32Update } from '@maejs/formats';
import { bytesText, DataFormatError } from './errors.js';

/** Default cap on decompressed output: 512 MiB. */
export const DEFAULT_MAX_BYTES = 512 * 1024 * 1024;

/** Input slice fed to the decompressor per step once the content's header is known. */
const INPUT_SLICE = 64 * 1024;
/** Input slice while the content's header is still unknown. */
const HEADER_SLICE = 1024;
/** Prefix of the output kept for `declaredSize`. */
const HEAD_BYTES = 4096;
/** 10-byte member header + 8-byte trailer: the smallest possible gzip file. */
const MIN_GZIP_BYTES = 18;

/** Options of {@link gunzip}. */
export interface GunzipOptions {
  /** Refuse output larger than this many bytes. Default {@link DEFAULT_MAX_BYTES} (512 MiB). */
  maxBytes?: number;
  /**
   * Reads the content's own size from the first bytes of output. Called after each decompressed
   * chunk with the output so far (at most its first 4096 bytes) until it returns a number: the
   * exact total size the content declares. Return `undefined` when more bytes are needed; throw
   * to reject the content. Output beyond the declared size is refused at once.
   */
  declaredSize?: (head: Uint8Array) => number | undefined;
}

/** True when `bytes` starts with the gzip magic 1f 8b. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Decompresses a gzip file (one or more members) with the limits described in the module doc.
 * Throws {@link DataFormatError} naming `source` on corrupt, truncated or oversized data.
 */
export function gunzip(bytes: Uint8Array, source = 'bytes', options: GunzipOptions = {}): Uint8Array {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  if (!isGzip(bytes)) throw new DataFormatError(source, 'not gzip data: expected the magic bytes 1f 8b');
  if (bytes.length < MIN_GZIP_BYTES) throw new DataFormatError(source, `gzip data of ${bytes.length} bytes is truncated (a gzip file has at least ${MIN_GZIP_BYTES})`);
  const sink = new BoundedSink(bytes, source, maxBytes, options.declaredSize);
  const stream = new Gunzip((chunk) => sink.add(chunk));
  stream.onmember = (offset) => sink.endMember(offset);
  try {
    for (let start = 0; start < bytes.length; ) {
      const end = Math.min(bytes.length, start + (sink.headerPending() ? HEADER_SLICE : INPUT_SLICE));
      stream.push(bytes.subarray(start, end), end === bytes.length);
      start = end;
    }
  } catch (error) {
    if (error instanceof DataFormatError) throw error;
    throw new DataFormatError(source, `corrupt or truncated gzip data (${(error as Error).message})`);
  }
  sink.endMember(bytes.length);
  return sink.result();
}

/** Collects decompressed chunks, enforcing the limits and checking member trailers. */
class BoundedSink {
  private readonly chunks: Uint8Array[] = [];
  private total = 0;
  private declared: number | undefined;
  private head = new Uint8Array(0);
  private memberCrc = 0;
  private memberLength = 0;

  constructor(
    private readonly input: Uint8Array,
    private readonly source: string,
    private readonly maxBytes: number,
    private readonly declaredSize: ((head: Uint8Array) => number | undefined) | undefined,
  ) {}

  /** True while `declaredSize` is given but has not yet returned the size. */
  headerPending(): boolean {
    return this.declaredSize !== undefined && this.declared === undefined;
  }

  /** One decompressed chunk (fflate hands over a fresh copy, so it can be kept). */
  add(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    this.total += chunk.length;
    this.checkLimits();
    this.chunks.push(chunk);
    this.memberCrc = crc32Update(this.memberCrc, chunk);
    this.memberLength += chunk.length;
    if (this.declared === undefined && this.declaredSize) this.readDeclaredSize(chunk);
  }

  private checkLimits(): void {
    if (this.declared !== undefined && this.total > this.declared) {
      throw new DataFormatError(
        this.source,
        `gzip data decompresses to more than the ${bytesText(this.declared)} its header declares; refusing it (corrupt file or decompression bomb)`,
      );
    }
    if (this.total > this.maxBytes) {
      throw new DataFormatError(this.source, `gzip data decompresses to more than the limit of ${bytesText(this.maxBytes)}; refusing it (decompression bomb?) — raise maxBytes if the file is genuine`);
    }
  }

  private readDeclaredSize(chunk: Uint8Array): void {
    if (this.head.length < HEAD_BYTES) {
      const grown = new Uint8Array(Math.min(HEAD_BYTES, this.head.length + chunk.length));
      grown.set(this.head);
      grown.set(chunk.subarray(0, grown.length - this.head.length), this.head.length);
      this.head = grown;
    }
    const declared = this.declaredSize?.(this.head);
    if (declared === undefined) return;
    if (declared > this.maxBytes) {
      throw new DataFormatError(this.source, `header declares ${bytesText(declared)} of data, above the limit of ${bytesText(this.maxBytes)}; raise maxBytes if the file is genuine`);
    }
    this.declared = declared;
    this.checkLimits();
  }

  /**
   * A member ended and the next starts at input offset `next` (or the input ended, `next` =
   * input length): the 8 bytes before `next` are the member's trailer, CRC-32 and ISIZE
   * (length mod 2^32), both little-endian.
   */
  endMember(next: number): void {
    const at = next - 8;
    const view = new DataView(this.input.buffer, this.input.byteOffset, this.input.byteLength);
    const crc = at >= 0 ? view.getUint32(at, true) : -1;
    const size = at >= 0 ? view.getUint32(at + 4, true) : -1;
    if (crc !== this.memberCrc || size !== this.memberLength % 2 ** 32) {
      throw new DataFormatError(
        this.source,
        `gzip trailer does not match the data (CRC-32 ${hex(crc)} vs computed ${hex(this.memberCrc)}, length ${size} vs ${this.memberLength}): the file is corrupt or truncated`,
      );
    }
    this.memberCrc = 0;
    this.memberLength = 0;
  }

  /** The whole output, concatenated (allocated from the bytes actually produced). */
  result(): Uint8Array {
    if (this.chunks.length === 1) return this.chunks[0];
    const out = new Uint8Array(this.total);
    let offset = 0;
    for (const chunk of this.chunks) {
      out.set(chunk, offset);
      offset += chunk.length;
    }
    return out;
  }
}

function hex(n: number): string {
  return n < 0 ? 'missing' : `0x${n.toString(16).padStart(8, '0')}`;
}
