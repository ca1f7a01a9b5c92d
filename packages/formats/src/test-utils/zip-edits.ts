/**
 * Test helper: archives written by the real {@link writeZip}, then edited into what writeZip never
 * writes: another compression method or declared size in an entry's headers, a central record
 * pointing at another entry's local header, ZIP64 end records. For reader tests and the fuzz
 * harness (testing/fuzz-core.ts).
 */
import { viewOf } from '../bytes.js';
import { writeZip, type ZipWriteEntry } from '../zip.js';

/** An entry and the header fields to write instead of the true ones. */
export interface EditedZipEntry extends ZipWriteEntry {
  /** Compression method in both headers (the data stays stored as given). */
  method?: number;
  /** Declared uncompressed size in both headers. */
  size?: number;
  /** The central record points at this entry's local header instead (overlapping entries). */
  sameOffsetAs?: number;
}

const LOCAL_SIZE = 30;
const CENTRAL_SIZE = 46;
const EOCD_SIZE = 22;

/** Offsets of the local headers and central records of an archive written by writeZip. */
function headerOffsets(view: DataView, count: number): { locals: number[]; centrals: number[] } {
  const locals: number[] = [];
  const centrals: number[] = [];
  let local = 0;
  let central = view.getUint32(view.byteLength - EOCD_SIZE + 16, true);
  for (let i = 0; i < count; i++) {
    locals.push(local);
    centrals.push(central);
    local += LOCAL_SIZE + view.getUint16(local + 26, true) + view.getUint16(local + 28, true) + view.getUint32(local + 18, true);
    central += CENTRAL_SIZE + view.getUint16(central + 28, true) + view.getUint16(central + 30, true) + view.getUint16(central + 32, true);
  }
  return { locals, centrals };
}

/** writeZip of the entries, with each entry's `method`, `size` and `sameOffsetAs` written into its headers. */
export function writeEditedZip(entries: readonly EditedZipEntry[]): Uint8Array {
  const zip = writeZip(entries.map(({ name, data }) => ({ name, data })));
  const view = viewOf(zip);
  const { locals, centrals } = headerOffsets(view, entries.length);
  entries.forEach((e, i) => {
    if (e.method !== undefined) {
      view.setUint16(locals[i] + 8, e.method, true);
      view.setUint16(centrals[i] + 10, e.method, true);
    }
    if (e.size !== undefined) {
      view.setUint32(locals[i] + 22, e.size, true);
      view.setUint32(centrals[i] + 24, e.size, true);
    }
    if (e.sameOffsetAs !== undefined) view.setUint32(centrals[i] + 42, locals[e.sameOffsetAs], true);
  });
  return zip;
}

/**
 * The same archive with ZIP64 end records: a ZIP64 end record and locator before an end record
 * whose counts, size and offset are saturated (0xFFFF / 0xFFFFFFFF), as big archives have.
 * `zip` must end in an end record without a comment (writeZip's output does).
 */
export function withZip64End(zip: Uint8Array): Uint8Array {
  const eocd = zip.length - EOCD_SIZE;
  const old = viewOf(zip);
  const [count, size, offset] = [old.getUint16(eocd + 10, true), old.getUint32(eocd + 12, true), old.getUint32(eocd + 16, true)];
  const out = new Uint8Array(eocd + 56 + 20 + EOCD_SIZE);
  out.set(zip.subarray(0, eocd));
  const v = viewOf(out);
  v.setUint32(eocd, 0x06064b50, true); // ZIP64 end record
  v.setBigUint64(eocd + 4, 44n, true); // its size after this field
  v.setUint16(eocd + 12, 45, true);
  v.setUint16(eocd + 14, 45, true);
  v.setBigUint64(eocd + 24, BigInt(count), true);
  v.setBigUint64(eocd + 32, BigInt(count), true);
  v.setBigUint64(eocd + 40, BigInt(size), true);
  v.setBigUint64(eocd + 48, BigInt(offset), true);
  const locator = eocd + 56;
  v.setUint32(locator, 0x07064b50, true);
  v.setBigUint64(locator + 8, BigInt(eocd), true);
  v.setUint32(locator + 16, 1, true); // disks
  const end = locator + 20;
  v.setUint32(end, 0x06054b50, true);
  v.setUint16(end + 8, 0xffff, true);
  v.setUint16(end + 10, 0xffff, true);
  v.setUint32(end + 12, 0xffffffff, true);
  v.setUint32(end + 16, 0xffffffff, true);
  return out;
}
