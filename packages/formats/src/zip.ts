/**
 * A small reader and writer of STORED (uncompressed) zip archives, as `torch.save` writes them.
 *
 * Every offset and size is checked against the buffer before it is used; entry data is returned
 * as subarrays of the input (no copies). ZIP64 end records and extra fields are understood.
 */
import { concatBytes, readU64, requireRange, utf8, viewOf } from './bytes.js';
import { WeightsFormatError } from './tensor-record.js';
import { crc32 } from './crc32.js';

/** One file of the archive. */
export interface ZipEntry {
  name: string;
  /** The stored bytes (a subarray of the archive). */
  data: Uint8Array;
  /** CRC-32 recorded in the central directory. */
  crc32: number;
}

/** Options of {@link readStoredZip}. */
export interface ZipReadOptions {
  /** Check each entry's CRC-32 (default true). */
  verifyChecksums?: boolean;
}

const EOCD_SIGNATURE = 0x06054b50;
const EOCD_SIZE = 22;
/** The EOCD record plus the longest possible comment. */
const EOCD_SEARCH_WINDOW = EOCD_SIZE + 0xffff;
const ZIP64_LOCATOR_SIGNATURE = 0x07064b50;
const ZIP64_LOCATOR_SIZE = 20;
const ZIP64_EOCD_SIGNATURE = 0x06064b50;
const ZIP64_EOCD_SIZE = 56;
const CENTRAL_SIGNATURE = 0x02014b50;
const CENTRAL_SIZE = 46;
const LOCAL_SIGNATURE = 0x04034b50;
const LOCAL_SIZE = 30;
const ZIP64_EXTRA_ID = 0x0001;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

const FLAG_ENCRYPTED = 0x0001;
const FLAG_DATA_DESCRIPTOR = 0x0008;
const FLAG_STRONG_ENCRYPTION = 0x0040;

const METHOD_NAMES: Readonly<Record<number, string>> = { 8: 'deflate', 9: 'deflate64', 12: 'bzip2', 14: 'lzma', 93: 'zstd', 95: 'xz' };

/** Where the central directory is. */
interface Directory {
  offset: number;
  size: number;
  count: number;
  /** First byte after the central directory that belongs to the end records. */
  limit: number;
}

/** Fields of one central directory record. */
interface CentralRecord {
  name: string;
  nameBytes: Uint8Array;
  flags: number;
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  localOffset: number;
  /** Position of the next record. */
  next: number;
}

/**
 * Reads the entries of a zip archive whose entries are all STORED (method 0).
 * Returns entries by name in central-directory order. Throws {@link WeightsFormatError} naming the
 * problem (and the entry) for a missing or corrupt end record, compressed or encrypted entries,
 * multi-disk archives, local headers that disagree with the central directory, sizes or offsets
 * outside the buffer, duplicate names and (by default) CRC-32 mismatches.
 */
export function readStoredZip(bytes: Uint8Array, source = 'bytes', options: ZipReadOptions = {}): Map<string, ZipEntry> {
  const view = viewOf(bytes);
  const directory = readDirectoryLocation(bytes, view, source);
  const entries = new Map<string, ZipEntry>();
  let pos = directory.offset;
  for (let i = 0; i < directory.count; i++) {
    const record = readCentralRecord(bytes, view, pos, directory, source);
    if (entries.has(record.name)) throw new WeightsFormatError(source, `zip has two entries named '${record.name}'`);
    const data = locateData(bytes, view, record, directory.offset, source);
    if ((options.verifyChecksums ?? true) && crc32(data) !== record.crc32) {
      throw new WeightsFormatError(source, `zip entry '${record.name}' fails its CRC-32 check (the file is corrupt)`);
    }
    entries.set(record.name, { name: record.name, data, crc32: record.crc32 });
    pos = record.next;
  }
  if (pos !== directory.offset + directory.size) {
    throw new WeightsFormatError(source, `zip central directory declares ${directory.size} bytes but its ${directory.count} records use ${pos - directory.offset}`);
  }
  return entries;
}

/** Finds the end-of-central-directory record (searching only the last 65557 bytes). */
function findEndRecord(bytes: Uint8Array, view: DataView, source: string): number {
  if (bytes.length < EOCD_SIZE) {
    throw new WeightsFormatError(source, `${bytes.length} bytes is too short for a zip archive (the end record alone has ${EOCD_SIZE})${legacyHint(bytes)}`);
  }
  const lowest = Math.max(0, bytes.length - EOCD_SEARCH_WINDOW);
  for (let pos = bytes.length - EOCD_SIZE; pos >= lowest; pos--) {
    if (view.getUint32(pos, true) === EOCD_SIGNATURE && pos + EOCD_SIZE + view.getUint16(pos + 20, true) === bytes.length) return pos;
  }
  throw new WeightsFormatError(source, `no zip end-of-central-directory record in the last ${EOCD_SEARCH_WINDOW} bytes: not a zip archive, or truncated${legacyHint(bytes)}`);
}

/** A pickle PROTO opcode at the start means the pre-zip torch.save format. */
function legacyHint(bytes: Uint8Array): string {
  return bytes[0] === 0x80 ? ' (this looks like the legacy pre-1.6 torch.save format, which is not supported)' : '';
}

function readDirectoryLocation(bytes: Uint8Array, view: DataView, source: string): Directory {
  const eocd = findEndRecord(bytes, view, source);
  const disk = view.getUint16(eocd + 4, true);
  const directoryDisk = view.getUint16(eocd + 6, true);
  const countOnDisk = view.getUint16(eocd + 8, true);
  const count = view.getUint16(eocd + 10, true);
  const size = view.getUint32(eocd + 12, true);
  const offset = view.getUint32(eocd + 16, true);
  const saturated = count === U16_MAX || countOnDisk === U16_MAX || size === U32_MAX || offset === U32_MAX;
  if (saturated) return readZip64Location(bytes, view, eocd, source);
  if (disk !== 0 || directoryDisk !== 0 || countOnDisk !== count) {
    throw new WeightsFormatError(source, 'zip archive spans several disks; expected a single-file archive');
  }
  return checkDirectory({ offset, size, count, limit: eocd }, source);
}

/** Reads the ZIP64 locator (just before the EOCD) and the ZIP64 end record it points to. */
function readZip64Location(bytes: Uint8Array, view: DataView, eocd: number, source: string): Directory {
  const locator = eocd - ZIP64_LOCATOR_SIZE;
  if (locator < 0 || view.getUint32(locator, true) !== ZIP64_LOCATOR_SIGNATURE) {
    throw new WeightsFormatError(source, 'zip end record has ZIP64 markers (0xFFFF/0xFFFFFFFF) but no ZIP64 locator precedes it');
  }
  const record = readU64(view, locator + 8);
  if (view.getUint32(locator + 4, true) !== 0 || view.getUint32(locator + 16, true) > 1) {
    throw new WeightsFormatError(source, 'zip archive spans several disks; expected a single-file archive');
  }
  if (record > locator - ZIP64_EOCD_SIZE || view.getUint32(record, true) !== ZIP64_EOCD_SIGNATURE) {
    throw new WeightsFormatError(source, `ZIP64 locator points to byte ${record}, where there is no ZIP64 end record`);
  }
  if (view.getUint32(record + 16, true) !== 0 || view.getUint32(record + 20, true) !== 0) {
    throw new WeightsFormatError(source, 'zip archive spans several disks; expected a single-file archive');
  }
  const countOnDisk = readU64(view, record + 24);
  const count = readU64(view, record + 32);
  if (countOnDisk !== count) throw new WeightsFormatError(source, 'zip archive spans several disks; expected a single-file archive');
  return checkDirectory({ count, size: readU64(view, record + 40), offset: readU64(view, record + 48), limit: record }, source);
}

/** The central directory must lie before the end records and be able to hold `count` records. */
function checkDirectory(directory: Directory, source: string): Directory {
  const { offset, size, count, limit } = directory;
  if (offset + size > limit) {
    throw new WeightsFormatError(source, `zip central directory (offset ${offset}, ${size} bytes) runs past the end records at byte ${limit}`);
  }
  if (count * CENTRAL_SIZE > size) {
    throw new WeightsFormatError(source, `zip central directory of ${size} bytes cannot hold the ${count} entries it declares`);
  }
  return directory;
}

function readCentralRecord(bytes: Uint8Array, view: DataView, pos: number, directory: Directory, source: string): CentralRecord {
  const end = directory.offset + directory.size;
  requireRange(end, pos, CENTRAL_SIZE, source, 'zip central directory record');
  if (view.getUint32(pos, true) !== CENTRAL_SIGNATURE) {
    throw new WeightsFormatError(source, `zip central directory record at byte ${pos} has a bad signature`);
  }
  const nameLength = view.getUint16(pos + 28, true);
  const extraLength = view.getUint16(pos + 30, true);
  const commentLength = view.getUint16(pos + 32, true);
  requireRange(end, pos + CENTRAL_SIZE, nameLength + extraLength + commentLength, source, 'zip central directory record');
  const nameBytes = bytes.subarray(pos + CENTRAL_SIZE, pos + CENTRAL_SIZE + nameLength);
  const name = utf8(nameBytes, source, `zip entry name at byte ${pos}`);
  const extra = bytes.subarray(pos + CENTRAL_SIZE + nameLength, pos + CENTRAL_SIZE + nameLength + extraLength);
  const fields = {
    compressedSize: view.getUint32(pos + 20, true),
    size: view.getUint32(pos + 24, true),
    localOffset: view.getUint32(pos + 42, true),
  };
  applyZip64Extra(fields, extra, name, source);
  const record: CentralRecord = {
    name,
    nameBytes,
    flags: view.getUint16(pos + 8, true),
    method: view.getUint16(pos + 10, true),
    crc32: view.getUint32(pos + 16, true),
    ...fields,
    next: pos + CENTRAL_SIZE + nameLength + extraLength + commentLength,
  };
  checkStored(record, source);
  return record;
}

/**
 * Replaces saturated (0xFFFFFFFF) sizes/offset by the values of the ZIP64 extra field, which lists
 * them in the order size, compressed size, local header offset (only the saturated ones).
 */
function applyZip64Extra(
  fields: { compressedSize: number; size: number; localOffset: number },
  extra: Uint8Array,
  name: string,
  source: string,
): void {
  const needed = (['size', 'compressedSize', 'localOffset'] as const).filter((k) => fields[k] === U32_MAX);
  if (needed.length === 0) return;
  const body = findExtraField(extra, ZIP64_EXTRA_ID);
  if (body === null || body.length < 8 * needed.length) {
    throw new WeightsFormatError(source, `zip entry '${name}' has ZIP64 markers but no complete ZIP64 extra field`);
  }
  const view = viewOf(body);
  needed.forEach((key, i) => {
    fields[key] = readU64(view, 8 * i);
  });
}

/** Body of the extra field with id `id`, or null. Malformed extra data yields null. */
function findExtraField(extra: Uint8Array, id: number): Uint8Array | null {
  const view = viewOf(extra);
  for (let pos = 0; pos + 4 <= extra.length; ) {
    const fieldId = view.getUint16(pos, true);
    const length = view.getUint16(pos + 2, true);
    if (pos + 4 + length > extra.length) return null;
    if (fieldId === id) return extra.subarray(pos + 4, pos + 4 + length);
    pos += 4 + length;
  }
  return null;
}

function checkStored(record: CentralRecord, source: string): void {
  const { name, method, flags } = record;
  if (flags & (FLAG_ENCRYPTED | FLAG_STRONG_ENCRYPTION)) throw new WeightsFormatError(source, `zip entry '${name}' is encrypted; encryption is not supported`);
  if (method !== 0) {
    const methodName = METHOD_NAMES[method] ?? 'unknown';
    throw new WeightsFormatError(
      source,
      `zip entry '${name}' uses compression method ${method} (${methodName}); only STORED (0) entries are supported, as written by torch.save`,
    );
  }
  if (record.compressedSize !== record.size) {
    throw new WeightsFormatError(source, `zip entry '${name}' is STORED but its compressed size ${record.compressedSize} differs from its size ${record.size}`);
  }
}

/** Checks the local header against the central record and returns the entry's data (a subarray). */
function locateData(bytes: Uint8Array, view: DataView, record: CentralRecord, directoryOffset: number, source: string): Uint8Array {
  const { name, localOffset } = record;
  requireRange(directoryOffset, localOffset, LOCAL_SIZE, source, `zip local header of '${name}'`);
  if (view.getUint32(localOffset, true) !== LOCAL_SIGNATURE) {
    throw new WeightsFormatError(source, `zip local header of '${name}' at byte ${localOffset} has a bad signature`);
  }
  const method = view.getUint16(localOffset + 8, true);
  const nameLength = view.getUint16(localOffset + 26, true);
  const extraLength = view.getUint16(localOffset + 28, true);
  const dataStart = localOffset + LOCAL_SIZE + nameLength + extraLength;
  if (dataStart + record.size > directoryOffset) {
    throw new WeightsFormatError(
      source,
      `zip entry '${name}' declares ${record.size} bytes at offset ${dataStart} but only ${Math.max(0, directoryOffset - dataStart)} lie before the central directory`,
    );
  }
  const localName = bytes.subarray(localOffset + LOCAL_SIZE, localOffset + LOCAL_SIZE + nameLength);
  if (method !== record.method || !sameBytes(localName, record.nameBytes)) {
    throw new WeightsFormatError(source, `zip local header of '${name}' disagrees with the central directory (name or method)`);
  }
  if (!(view.getUint16(localOffset + 6, true) & FLAG_DATA_DESCRIPTOR)) checkLocalSizes(view, localOffset, record, source);
  return bytes.subarray(dataStart, dataStart + record.size);
}

/** Without a data descriptor the local header repeats CRC and sizes (or ZIP64 markers). */
function checkLocalSizes(view: DataView, localOffset: number, record: CentralRecord, source: string): void {
  const crc = view.getUint32(localOffset + 14, true);
  const compressedSize = view.getUint32(localOffset + 18, true);
  const size = view.getUint32(localOffset + 22, true);
  const sizesMatch = (compressedSize === U32_MAX && size === U32_MAX) || (compressedSize === record.compressedSize && size === record.size);
  if (crc !== record.crc32 || !sizesMatch) {
    throw new WeightsFormatError(source, `zip local header of '${record.name}' disagrees with the central directory (CRC-32 or sizes)`);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}


/** One entry of {@link writeZip}: a file name inside the archive and its bytes. */
export interface ZipWriteEntry {
  name: string;
  data: Uint8Array;
}

/** Options of {@link writeZip}. */
export interface ZipWriteOptions {
  /** Pad each local header (extra field 'FB', as torch.save) so entry data starts at a multiple of this many bytes. */
  align?: number;
}

const PADDING_EXTRA_ID = 0x4246; // 'FB', the padding field torch.save writes

/**
 * Writes a STORED zip archive (no ZIP64: the archive must stay under 4 GiB). Throws naming the
 * size when it would not.
 */
export function writeZip(entries: readonly ZipWriteEntry[], options: ZipWriteOptions = {}): Uint8Array {
  const encoder = new TextEncoder();
  const align = options.align ?? 0;
  const locals: Uint8Array[] = [];
  const offsets: number[] = [];
  let offset = 0;
  for (const e of entries) {
    const name = encoder.encode(e.name);
    const headerEnd = offset + LOCAL_SIZE + name.length;
    const extra = align > 1 ? 4 + ((align - ((headerEnd + 4) % align)) % align) : 0;
    const head = new Uint8Array(LOCAL_SIZE + name.length + extra);
    const v = new DataView(head.buffer);
    v.setUint32(0, LOCAL_SIGNATURE, true);
    v.setUint16(4, 20, true);
    v.setUint32(14, crc32(e.data), true);
    v.setUint32(18, e.data.length, true);
    v.setUint32(22, e.data.length, true);
    v.setUint16(26, name.length, true);
    v.setUint16(28, extra, true);
    head.set(name, LOCAL_SIZE);
    if (extra) {
      v.setUint16(LOCAL_SIZE + name.length, PADDING_EXTRA_ID, true);
      v.setUint16(LOCAL_SIZE + name.length + 2, extra - 4, true);
    }
    offsets.push(offset);
    locals.push(head, e.data);
    offset += head.length + e.data.length;
  }
  const central = entries.map((e, i) => centralRecordBytes(e, offsets[i], encoder));
  const dirSize = central.reduce((n, c) => n + c.length, 0);
  if (offset + dirSize + EOCD_SIZE > U32_MAX || entries.length > U16_MAX) {
    throw new RangeError(`writeZip: ${entries.length} entries, ${offset + dirSize + EOCD_SIZE} bytes: expected at most ${U16_MAX} entries and ${U32_MAX} bytes (ZIP64 is not written)`);
  }
  const end = new Uint8Array(EOCD_SIZE);
  const ev = new DataView(end.buffer);
  ev.setUint32(0, EOCD_SIGNATURE, true);
  ev.setUint16(8, entries.length, true);
  ev.setUint16(10, entries.length, true);
  ev.setUint32(12, dirSize, true);
  ev.setUint32(16, offset, true);
  return concatBytes([...locals, ...central, end]);
}

function centralRecordBytes(e: ZipWriteEntry, localOffset: number, encoder: TextEncoder): Uint8Array {
  const name = encoder.encode(e.name);
  const rec = new Uint8Array(CENTRAL_SIZE + name.length);
  const v = new DataView(rec.buffer);
  v.setUint32(0, CENTRAL_SIGNATURE, true);
  v.setUint16(4, 20, true);
  v.setUint16(6, 20, true);
  v.setUint32(16, crc32(e.data), true);
  v.setUint32(20, e.data.length, true);
  v.setUint32(24, e.data.length, true);
  v.setUint16(28, name.length, true);
  v.setUint32(42, localOffset, true);
  rec.set(name, CENTRAL_SIZE);
  return rec;
}
