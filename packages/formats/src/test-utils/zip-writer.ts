/**
 * Test helper: builds STORED zip archives by hand (optionally with ZIP64 end records or a
 * different method number), so tests can make valid and broken .pth files.
 */
import { crc32 } from '../crc32.js';

/** One file to put in the archive. */
export interface ZipInput {
  name: string;
  data: Uint8Array;
  /** Method number written in the headers (default 0 = STORED); the data is never compressed. */
  method?: number;
}

/** Options of {@link buildZip}. */
export interface ZipBuildOptions {
  /** Saturate the EOCD fields and write ZIP64 end records instead. */
  zip64?: boolean;
}

class ByteSink {
  private readonly parts: number[] = [];

  get length(): number {
    return this.parts.length;
  }

  u16(v: number): this {
    this.parts.push(v & 0xff, (v >>> 8) & 0xff);
    return this;
  }

  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }

  u64(v: number): this {
    return this.u32(v % 0x1_0000_0000).u32(Math.floor(v / 0x1_0000_0000));
  }

  bytes(b: Uint8Array): this {
    for (const x of b) this.parts.push(x);
    return this;
  }

  finish(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

/** A zip with the given entries, STORED, no data descriptors, CRCs filled in. */
export function buildZip(files: readonly ZipInput[], options: ZipBuildOptions = {}): Uint8Array {
  const out = new ByteSink();
  const central = new ByteSink();
  for (const file of files) {
    const name = new TextEncoder().encode(file.name);
    const crc = crc32(file.data);
    const method = file.method ?? 0;
    const offset = out.length;
    out.u32(0x04034b50).u16(20).u16(0x0800).u16(method).u16(0).u16(0).u32(crc).u32(file.data.length).u32(file.data.length);
    out.u16(name.length).u16(0).bytes(name).bytes(file.data);
    central.u32(0x02014b50).u16(20).u16(20).u16(0x0800).u16(method).u16(0).u16(0).u32(crc);
    central.u32(file.data.length).u32(file.data.length).u16(name.length).u16(0).u16(0).u16(0).u16(0).u32(0).u32(offset).bytes(name);
  }
  const directoryOffset = out.length;
  const directory = central.finish();
  out.bytes(directory);
  if (options.zip64) {
    const record = out.length;
    out.u32(0x06064b50).u64(44).u16(45).u16(45).u32(0).u32(0).u64(files.length).u64(files.length).u64(directory.length).u64(directoryOffset);
    out.u32(0x07064b50).u32(0).u64(record).u32(1);
    out.u32(0x06054b50).u16(0).u16(0).u16(0xffff).u16(0xffff).u32(0xffffffff).u32(0xffffffff).u16(0);
  } else {
    out.u32(0x06054b50).u16(0).u16(0).u16(files.length).u16(files.length).u32(directory.length).u32(directoryOffset).u16(0);
  }
  return out.finish();
}
