import { WeightsFormatError } from './tensor-record.js';
import { readGolden } from '../../../testing/golden.js';
import { PickleWriter } from './pickle-writer.js';
import { buildPth } from './test-utils/pth-builder.js';
import { withZip64End, writeEditedZip } from './test-utils/zip-edits.js';
import { parsePth } from './pth.js';
import { crc32 } from './crc32.js';
import { readStoredZip, writeZip } from './zip.js';

function expectFormatError(run: () => unknown, message: RegExp): void {
  expect(run).toThrow(WeightsFormatError);
  expect(run).toThrow(message);
}

const text = (s: string): Uint8Array => new TextEncoder().encode(s);
const files = [
  { name: 'a/one', data: text('hello') },
  { name: 'a/two', data: new Uint8Array(0) },
  { name: 'a/three', data: Uint8Array.from({ length: 300 }, (_, i) => i % 251) },
];

/** Offset of the EOCD record of an archive without a comment. */
const eocdOf = (zip: Uint8Array): number => zip.length - 22;
/** Offset of the first central directory record. */
const centralOf = (zip: Uint8Array): number => new DataView(zip.buffer).getUint32(eocdOf(zip) + 16, true);

/** A copy of `zip` with `edit` applied through a DataView. */
function edited(zip: Uint8Array, edit: (view: DataView, bytes: Uint8Array) => void): Uint8Array {
  const copy = zip.slice();
  edit(new DataView(copy.buffer), copy);
  return copy;
}

describe('crc32', () => {
  it('matches the standard check value', () => {
    expect(crc32(text('123456789'))).toBe(0xcbf43926);
    expect(crc32(new Uint8Array(0))).toBe(0);
  });
});

describe('readStoredZip', () => {
  it('reads STORED entries as subarrays of the input, in order', () => {
    const zip = writeZip(files);
    const entries = readStoredZip(zip, 'z.zip');
    expect([...entries.keys()]).toEqual(['a/one', 'a/two', 'a/three']);
    expect(new TextDecoder().decode(entries.get('a/one')!.data)).toBe('hello');
    expect(entries.get('a/two')!.data.length).toBe(0);
    expect(entries.get('a/three')!.data).toEqual(files[2].data);
    expect(entries.get('a/three')!.data.buffer).toBe(zip.buffer); // no copy
  });

  it('reads ZIP64 end records (saturated EOCD fields)', () => {
    const entries = readStoredZip(withZip64End(writeZip(files)), 'z64.zip');
    expect([...entries.keys()]).toEqual(['a/one', 'a/two', 'a/three']);
    const pth = withZip64End(buildPth(new PickleWriter().proto(2).none().stop().bytes(), {}));
    expect(parsePth(pth).root).toBeNull();
  });

  it('reads the golden torch.save archive (data descriptors, ZIP64 records, padding extra fields)', () => {
    const entries = readStoredZip(readGolden('state_dict.pth'), 'state_dict.pth');
    expect(entries.has('state_dict/data.pkl')).toBe(true);
    expect(entries.get('state_dict/data/0')!.data.length).toBe(256);
  });

  it('finds the end record behind a comment, searching only the last 65557 bytes', () => {
    const zip = writeZip(files);
    const withComment = new Uint8Array(zip.length + 65535);
    withComment.set(zip);
    new DataView(withComment.buffer).setUint16(zip.length - 2, 65535, true);
    expect(readStoredZip(withComment, 'c.zip').size).toBe(3);
    const trailing = new Uint8Array(zip.length + 65536);
    trailing.set(zip);
    expectFormatError(() => readStoredZip(trailing, 'far.zip'), /^far\.zip: no zip end-of-central-directory record in the last 65557 bytes: not a zip archive, or truncated/);
  });

  it('refuses compressed entries, naming the entry and method', () => {
    const deflated = writeEditedZip([{ name: 'archive/data.pkl', data: text('x'), method: 8 }]);
    expectFormatError(() => readStoredZip(deflated, 'deflate.pth'), /^deflate\.pth: zip entry 'archive\/data\.pkl' uses compression method 8 \(deflate\); only STORED \(0\) entries are supported/);
    expectFormatError(() => parsePth(deflated, 'deflate.pth'), /uses compression method 8 \(deflate\)/);
    expectFormatError(() => readStoredZip(writeEditedZip([{ name: 'x', data: text('x'), method: 77 }])), /compression method 77 \(unknown\)/);
  });

  it('refuses a corrupted end of central directory', () => {
    const zip = writeZip(files);
    const eocd = eocdOf(zip);
    expectFormatError(() => readStoredZip(edited(zip, (v) => v.setUint32(eocd, 0x06054b51, true)), 'e.zip'), /^e\.zip: no zip end-of-central-directory record/);
    expectFormatError(() => readStoredZip(edited(zip, (v) => v.setUint32(eocd + 16, 0x7fffffff, true))), /zip central directory \(offset 2147483647, \d+ bytes\) runs past the end records/);
    expectFormatError(() => readStoredZip(edited(zip, (v) => v.setUint32(eocd + 12, 1, true))), /zip central directory of 1 bytes cannot hold the 3 entries it declares/);
    expectFormatError(() => readStoredZip(edited(zip, (v) => (v.setUint16(eocd + 8, 200, true), v.setUint16(eocd + 10, 200, true)))), /cannot hold the 200 entries/);
    expectFormatError(() => readStoredZip(edited(zip, (v) => (v.setUint16(eocd + 8, 2, true), v.setUint16(eocd + 10, 2, true)))), /central directory declares \d+ bytes but its 2 records use \d+/);
    expectFormatError(() => readStoredZip(edited(zip, (v) => v.setUint16(eocd + 4, 1, true))), /spans several disks/);
    expectFormatError(() => readStoredZip(edited(zip, (v) => v.setUint16(eocd + 20, 5, true))), /no zip end-of-central-directory record/);
    expectFormatError(() => readStoredZip(edited(zip, (v) => v.setUint32(eocd + 16, v.getUint32(eocd + 16, true) - 1, true))), /central directory record at byte \d+ has a bad signature/);
    expectFormatError(() => readStoredZip(edited(zip, (v) => v.setUint16(eocd + 10, 0xffff, true))), /ZIP64 markers \(0xFFFF\/0xFFFFFFFF\) but no ZIP64 locator/);
    expectFormatError(() => readStoredZip(new Uint8Array(21), 'tiny.zip'), /^tiny\.zip: 21 bytes is too short for a zip archive/);
  });

  it('refuses a corrupted ZIP64 locator or record', () => {
    const zip = withZip64End(writeZip(files));
    const locator = zip.length - 22 - 20;
    expectFormatError(() => readStoredZip(edited(zip, (v) => v.setUint32(locator + 8, 3, true))), /ZIP64 locator points to byte 3, where there is no ZIP64 end record/);
    expectFormatError(() => readStoredZip(edited(zip, (v) => v.setUint32(locator + 12, 1, true))), /ZIP64 locator points to byte 4294967\d+, where there is no ZIP64 end record/);
    const record = new DataView(zip.buffer).getUint32(locator + 8, true);
    expectFormatError(() => readStoredZip(edited(zip, (v) => v.setUint32(record + 52, 1, true))), /zip central directory \(offset 42949\d+, \d+ bytes\) runs past/);
  });

  it('checks central records and local headers against each other and the buffer', () => {
    const zip = writeZip(files);
    const central = centralOf(zip);
    expectFormatError(() => readStoredZip(edited(zip, (v) => v.setUint32(central + 42, 1, true))), /zip local header of 'a\/one' at byte 1 has a bad signature/);
    expectFormatError(() => readStoredZip(edited(zip, (v) => v.setUint32(central + 42, central - 10, true))), /zip local header of 'a\/one' needs bytes \d+\.\.\d+ but only \d+ bytes are available/);
    expectFormatError(() => readStoredZip(edited(zip, (v) => (v.setUint32(central + 20, 5000, true), v.setUint32(central + 24, 5000, true)))), /zip entry 'a\/one' declares 5000 bytes at offset 35 but only \d+ lie before the central directory/);
    expectFormatError(() => readStoredZip(edited(zip, (v) => v.setUint32(central + 20, 4, true))), /zip entry 'a\/one' is STORED but its compressed size 4 differs from its size 5/);
    expectFormatError(() => readStoredZip(edited(zip, (v) => v.setUint16(central + 8, 0x0801, true))), /zip entry 'a\/one' is encrypted/);
    expectFormatError(() => readStoredZip(edited(zip, (_, b) => (b[30] = 0x41))), /zip local header of 'a\/one' disagrees with the central directory \(name or method\)/);
    expectFormatError(() => readStoredZip(edited(zip, (v) => v.setUint32(22, 4, true))), /zip local header of 'a\/one' disagrees with the central directory \(CRC-32 or sizes\)/);
    expectFormatError(() => readStoredZip(edited(zip, (_, b) => (b[35] ^= 1)), 'crc.zip'), /^crc\.zip: zip entry 'a\/one' fails its CRC-32 check/);
    expect(readStoredZip(edited(zip, (_, b) => (b[35] ^= 1)), 'crc.zip', { verifyChecksums: false }).size).toBe(3);
    expectFormatError(() => readStoredZip(edited(zip, (v) => v.setUint16(central + 28, 4000, true))), /zip central directory record needs bytes/);
    expectFormatError(() => readStoredZip(edited(zip, (_, b) => (b[central + 46] = 0xff))), /zip entry name at byte \d+ is not valid UTF-8/);
    expectFormatError(() => readStoredZip(writeZip([files[0], files[0]]), 'dup.zip'), /^dup\.zip: zip has two entries named 'a\/one'/);
  });

  it('uses ZIP64 extra fields for saturated sizes and refuses them when missing', () => {
    const zip = writeZip(files);
    const central = centralOf(zip);
    expectFormatError(() => readStoredZip(edited(zip, (v) => v.setUint32(central + 42, 0xffffffff, true))), /zip entry 'a\/one' has ZIP64 markers but no complete ZIP64 extra field/);
  });
});
