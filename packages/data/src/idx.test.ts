import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { channelStats, FASHION_MNIST_MEAN, FASHION_MNIST_STD } from './augment.js';
import { DataFormatError } from './errors.js';
import { gunzip } from './gzip.js';
import { encodeIdx, parseIdx } from './idx.js';
import { pairImagesAndLabels } from './labelled.js';
import { DEBIAN_FASHION_DIR, DEBIAN_SKIP_REASON, gz, HAVE_DEBIAN_FASHION } from './test-utils/files.js';

const debianIt = HAVE_DEBIAN_FASHION ? it : it.skip;
const debianName = (name: string): string => (HAVE_DEBIAN_FASHION ? name : `${name} ${DEBIAN_SKIP_REASON}`);
const SAMPLE_DIR = join(__dirname, '..', 'sample');

function expectFormatError(run: () => unknown, message: RegExp): void {
  expect(run).toThrow(DataFormatError);
  expect(run).toThrow(message);
}

/** A uint8 IDX file of the given shape, values i % 251. */
function uint8Idx(shape: number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  return encodeIdx({ dtype: 'uint8', shape, data: Uint8Array.from({ length: n }, (_, i) => i % 251) });
}

/** A raw IDX header with arbitrary bytes. */
function header(type: number, dims: number[]): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length);
  out.set([0, 0, type, dims.length]);
  dims.forEach((d, i) => new DataView(out.buffer).setUint32(4 + 4 * i, d, false));
  return out;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe('parseIdx on real files', () => {
  debianIt(debianName('reads the Debian Fashion-MNIST train split: 60000 x 28 x 28 images, 60000 labels, 6000 per class, mean/std as FASHION_MNIST_MEAN/STD'), () => {
    const images = parseIdx(readFileSync(join(DEBIAN_FASHION_DIR, 'train-images-idx3-ubyte.gz')), 'train-images-idx3-ubyte.gz');
    const labels = parseIdx(readFileSync(join(DEBIAN_FASHION_DIR, 'train-labels-idx1-ubyte.gz')), 'train-labels-idx1-ubyte.gz');
    expect(images.dtype).toBe('uint8');
    expect(images.shape).toEqual([60000, 28, 28]);
    expect(images.data).toBeInstanceOf(Uint8Array);
    expect(images.data.length).toBe(60000 * 28 * 28);
    let min = 255;
    let max = 0;
    const pixels = images.data;
    for (let i = 0; i < pixels.length; i++) {
      if (pixels[i] < min) min = pixels[i];
      if (pixels[i] > max) max = pixels[i];
    }
    expect([min, max]).toEqual([0, 255]);
    expect(labels.shape).toEqual([60000]);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < labels.data.length; i++) counts[labels.data[i]]++;
    expect(counts).toEqual(new Array(10).fill(6000));
    const stats = channelStats(images.data, 1, 1 / 255);
    expect(Math.abs(stats.mean[0] - FASHION_MNIST_MEAN[0])).toBeLessThan(1e-3);
    expect(Math.abs(stats.std[0] - FASHION_MNIST_STD[0])).toBeLessThan(1e-3);
    const pair = pairImagesAndLabels(images, labels);
    expect([pair.n, pair.height, pair.width]).toEqual([60000, 28, 28]);
  });

  debianIt(debianName('reads the Debian test split and the bundled sample is its first 3000 records'), () => {
    const test = parseIdx(readFileSync(join(DEBIAN_FASHION_DIR, 't10k-images-idx3-ubyte.gz')), 't10k-images');
    const testLabels = parseIdx(readFileSync(join(DEBIAN_FASHION_DIR, 't10k-labels-idx1-ubyte.gz')), 't10k-labels');
    const sample = parseIdx(readFileSync(join(SAMPLE_DIR, 'fashion-mnist-sample-images-idx3-ubyte.gz')), 'sample images');
    const sampleLabels = parseIdx(readFileSync(join(SAMPLE_DIR, 'fashion-mnist-sample-labels-idx1-ubyte.gz')), 'sample labels');
    expect(test.shape).toEqual([10000, 28, 28]);
    expect(sample.shape).toEqual([3000, 28, 28]);
    expect(sampleLabels.shape).toEqual([3000]);
    expect(Buffer.from(sample.data).equals(Buffer.from(test.data.subarray(0, 3000 * 784)))).toBe(true);
    expect(Array.from(sampleLabels.data)).toEqual(Array.from(testLabels.data.subarray(0, 3000)));
  });

  it('reads the bundled sample: 3000 x 28 x 28 uint8, labels 0..9, under 2 MB compressed', () => {
    const bytes = readFileSync(join(SAMPLE_DIR, 'fashion-mnist-sample-images-idx3-ubyte.gz'));
    expect(bytes.length).toBeLessThan(2e6);
    const images = parseIdx(bytes, 'sample');
    const labels = parseIdx(readFileSync(join(SAMPLE_DIR, 'fashion-mnist-sample-labels-idx1-ubyte.gz')), 'sample labels');
    expect(images.shape).toEqual([3000, 28, 28]);
    expect(new Set(labels.data)).toEqual(new Set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]));
  });
});

describe('parseIdx formats', () => {
  it('round-trips every type code, plain and gzip', () => {
    const cases = [
      { dtype: 'uint8', data: [0, 7, 255], expected: new Uint8Array([0, 7, 255]) },
      { dtype: 'int8', data: [-128, 0, 127], expected: new Int32Array([-128, 0, 127]) },
      { dtype: 'int16', data: [-32768, 2, 32767], expected: new Int32Array([-32768, 2, 32767]) },
      { dtype: 'int32', data: [-2147483648, 3, 2147483647], expected: new Int32Array([-2147483648, 3, 2147483647]) },
      { dtype: 'float32', data: [-1.5, 0, 3.25], expected: new Float32Array([-1.5, 0, 3.25]) },
      { dtype: 'float64', data: [-1.5, 1e-3, 3.25], expected: new Float32Array([-1.5, 1e-3, 3.25]) },
    ] as const;
    for (const { dtype, data, expected } of cases) {
      const bytes = encodeIdx({ dtype, shape: [3], data });
      for (const input of [bytes, gz(bytes)]) expect(parseIdx(input, dtype)).toEqual({ dtype, shape: [3], data: expected });
    }
  });

  it('reads the exact big-endian layout (type code at byte 2, dims as u32 BE)', () => {
    const bytes = new Uint8Array([0, 0, 0x0b, 2, 0, 0, 0, 1, 0, 0, 0, 2, 0x01, 0x02, 0xff, 0xfe]);
    expect(parseIdx(bytes)).toEqual({ dtype: 'int16', shape: [1, 2], data: new Int32Array([258, -2]) });
  });

  it('accepts zero-sized dimensions and multi-member gzip', () => {
    expect(parseIdx(uint8Idx([0, 28, 28])).data.length).toBe(0);
    const bytes = uint8Idx([10, 3]);
    const twoMembers = concat(gz(bytes.subarray(0, 7)), gz(bytes.subarray(7)));
    expect(parseIdx(twoMembers, 'two.gz')).toEqual(parseIdx(bytes));
  });

  it('returns data independent of the input buffer', () => {
    const bytes = uint8Idx([2, 2]);
    const parsed = parseIdx(bytes);
    bytes.fill(0);
    expect(Array.from(parsed.data)).toEqual([0, 1, 2, 3]);
  });
});

describe('parseIdx refuses bad files', () => {
  it('wrong magic', () => {
    expectFormatError(() => parseIdx(new Uint8Array([1, 0, 8, 1, 0, 0, 0, 0]), 'x.idx'), /^x\.idx: not an IDX file: expected the magic 00 00 <type> <ndim>, found 01 00 08 01$/);
    expectFormatError(() => parseIdx(new TextEncoder().encode('<html>not found</html>'), 'page.gz'), /page\.gz: not an IDX file.*found 3C 68 74 6D/);
    expectFormatError(() => parseIdx(gz(new Uint8Array([0x50, 0x4b, 3, 4, 0, 0])), 'zip.gz'), /zip\.gz: not an IDX file/);
  });

  it('unknown type code and bad dimension counts', () => {
    expectFormatError(() => parseIdx(header(0x0a, [1]), 'f.idx'), /f\.idx: unknown IDX type code 0x0A; expected 0x08 \(uint8\), 0x09 \(int8\), 0x0B \(int16\), 0x0C \(int32\), 0x0D \(float32\) or 0x0E \(float64\)/);
    expectFormatError(() => parseIdx(new Uint8Array([0, 0, 8, 0]), 'f.idx'), /f\.idx: IDX header declares 0 dimensions; expected 1 to 16/);
    expectFormatError(() => parseIdx(new Uint8Array([0, 0, 8, 200]), 'f.idx'), /declares 200 dimensions; expected 1 to 16/);
  });

  it('files truncated at every kind of cut point', () => {
    const full = uint8Idx([5, 4, 4]); // 16-byte header + 80 data bytes
    const expectations: [number, RegExp][] = [
      [0, /t: IDX file of 0 bytes is too short for the 4-byte magic \(truncated\?\)/],
      [3, /IDX file of 3 bytes is too short for the 4-byte magic/],
      [4, /IDX header declares 3 dimensions \(16 header bytes\) but the file has only 4 bytes \(truncated\?\)/],
      [9, /declares 3 dimensions \(16 header bytes\) but the file has only 9 bytes/],
      [16, /IDX header declares shape \[5, 4, 4\] of uint8 \(80 data bytes\) but only 0 bytes follow the 16-byte header \(truncated file\?\)/],
      [50, /shape \[5, 4, 4\] of uint8 \(80 data bytes\) but only 34 bytes follow the 16-byte header \(truncated file\?\)/],
      [95, /but only 79 bytes follow/],
    ];
    for (const [cut, message] of expectations) expectFormatError(() => parseIdx(full.subarray(0, cut), 't'), message);
    expectFormatError(() => parseIdx(concat(full, new Uint8Array(3)), 't'), /\(80 data bytes\) but 83 bytes follow the 16-byte header \(3 extra bytes\)/);
  });

  it('gzip files truncated or corrupted anywhere', () => {
    const full = gz(uint8Idx([40, 28, 28]));
    for (const cut of [1, 10, 17, 30, Math.floor(full.length / 2), full.length - 8, full.length - 1]) {
      expect(() => parseIdx(full.subarray(0, cut), 'cut.gz')).toThrow(/^cut\.gz: (not an IDX file|not gzip|gzip data of \d+ bytes is truncated|corrupt or truncated gzip data|gzip trailer does not match the data)/);
    }
    const flipped = full.slice();
    flipped[Math.floor(full.length / 2)] ^= 0x10;
    expectFormatError(() => parseIdx(flipped, 'flip.gz'), /^flip\.gz: (corrupt or truncated gzip data|gzip trailer does not match|gzip data decompresses to more|IDX header declares)/);
    const badCrc = full.slice();
    badCrc[full.length - 6] ^= 0xff;
    expectFormatError(() => parseIdx(badCrc, 'crc.gz'), /^crc\.gz: gzip trailer does not match the data \(CRC-32 0x[0-9a-f]{8} vs computed 0x[0-9a-f]{8}, length 31376 vs 31376\): the file is corrupt or truncated$/);
    expectFormatError(() => parseIdx(concat(full, new Uint8Array([0, 0, 0, 0])), 'tail.gz'), /tail\.gz: corrupt or truncated gzip data \(invalid gzip data\)/);
  });

  it('a dims product that overflows, and one that wraps around 2^32', () => {
    expectFormatError(() => parseIdx(header(0x08, [0xffffffff, 0xffffffff, 0xffffffff]), 'big.idx'), /big\.idx: IDX dimensions \[4294967295, 4294967295, 4294967295\] of uint8 overflow: their product is above 2\^53 bytes/);
    expectFormatError(() => parseIdx(header(0x0e, [2 ** 31, 2 ** 31]), 'big.idx'), /overflow/);
    // 65536 * 65536 = 2^32: a uint32 product would wrap to 0 and accept an empty file
    expectFormatError(() => parseIdx(header(0x08, [65536, 65536]), 'wrap.idx'), /IDX header declares shape \[65536, 65536\] of uint8 \(4294967296 data bytes\) but only 0 bytes follow/);
  });

  it('a gzip bomb: output past the size the header declares stops decompression', () => {
    const bomb = gzipSync(concat(header(0x08, [10]), new Uint8Array(32 * 1024 * 1024)), { level: 9 }); // node:zlib, fast
    expect(bomb.length).toBeLessThan(40_000); // ~1000:1
    expectFormatError(() => parseIdx(bomb, 'bomb.gz'), /^bomb\.gz: gzip data decompresses to more than the 18 bytes its header declares; refusing it \(corrupt file or decompression bomb\)$/);
  });

  it('a header declaring more than the limit is refused before decompressing the rest', () => {
    const huge = gzipSync(concat(header(0x08, [100000, 100, 100]), new Uint8Array(64)));
    expectFormatError(() => parseIdx(huge, 'huge.gz'), /^huge\.gz: header declares 1000000016 bytes \(953\.7 MiB\) of data, above the limit of 536870912 bytes \(512 MiB\); raise maxBytes if the file is genuine$/);
    expectFormatError(() => parseIdx(uint8Idx([100, 10]), 'small', { maxBytes: 100 }), /small: IDX file of 1012 bytes is above the limit of 100 bytes/);
  });

  it('gunzip caps output that has no declared size', () => {
    const zeros = gzipSync(new Uint8Array(3 * 1024 * 1024));
    expectFormatError(() => gunzip(zeros, 'z.gz', { maxBytes: 1024 * 1024 }), /^z\.gz: gzip data decompresses to more than the limit of 1048576 bytes \(1 MiB\); refusing it \(decompression bomb\?\)/);
    expect(gunzip(zeros, 'z.gz').length).toBe(3 * 1024 * 1024);
    expectFormatError(() => gunzip(new Uint8Array([1, 2, 3]), 'n'), /^n: not gzip data: expected the magic bytes 1f 8b$/);
  });

  it('label count != image count', () => {
    const images = parseIdx(uint8Idx([10, 4, 4]));
    const labels = parseIdx(uint8Idx([9]));
    expectFormatError(
      () => pairImagesAndLabels(images, labels, { images: 'a-images.gz', labels: 'a-labels.gz' }),
      /^a-labels\.gz: has 9 labels but a-images\.gz has 10 images; the counts must match$/,
    );
    expectFormatError(() => pairImagesAndLabels(labels, labels, { images: 'l.gz', labels: 'l.gz' }), /l\.gz: expected uint8 images of shape \[N, H, W\], found uint8 \[9\]/);
    const floats = parseIdx(encodeIdx({ dtype: 'float32', shape: [10], data: new Float32Array(10) }));
    expectFormatError(() => pairImagesAndLabels(images, floats, { images: 'i', labels: 'f' }), /f: expected uint8 labels of shape \[N\], found float32 \[10\]/);
  });
});
