import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { DataFormatError } from './errors.js';
import { decodeImage, imageKind } from './image-decode.js';
import { loadImageFolder } from './image-folder.js';
import { makeTempDir, removeDir } from './test-utils/files.js';

type Pixel = (x: number, y: number) => [number, number, number];

/** RGBA bytes of a width x height image from a pixel function (alpha 255). */
function rgba(width: number, height: number, pixel: Pixel): Uint8Array {
  const out = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) out.set([...pixel(x, y), 255], (y * width + x) * 4);
  }
  return out;
}

function writePng(path: string, width: number, height: number, pixel: Pixel): void {
  const png = new pngjs.PNG({ width, height });
  png.data = Buffer.from(rgba(width, height, pixel));
  writeFileSync(path, pngjs.PNG.sync.write(png));
}

function writeJpeg(path: string, width: number, height: number, pixel: Pixel): void {
  writeFileSync(path, jpeg.encode({ width, height, data: rgba(width, height, pixel) }, 95).data);
}

const gradient: Pixel = (x, y) => [x * 20, y * 20, 100];
const red: Pixel = () => [200, 30, 60];

describe('loadImageFolder', () => {
  let dir: string;
  beforeEach(() => {
    dir = makeTempDir();
  });
  afterEach(() => removeDir(dir));

  it('reads PNG and JPEG files, sorted by name, as NHWC float32 in [0, 1]', async () => {
    writePng(join(dir, 'b.png'), 8, 6, gradient);
    writePng(join(dir, 'a.png'), 8, 6, red);
    writeJpeg(join(dir, 'c.jpg'), 8, 6, gradient);
    writeJpeg(join(dir, 'd.jpeg'), 8, 6, red);
    const folder = await loadImageFolder(dir);
    expect(folder.shape).toEqual([4, 6, 8, 3]);
    expect(folder.files).toEqual(['a.png', 'b.png', 'c.jpg', 'd.jpeg'].map((f) => join(dir, f)));
    expect(Array.from(folder.labels)).toEqual([-1, -1, -1, -1]);
    const size = 6 * 8 * 3;
    const at = (image: number, x: number, y: number, c: number): number => folder.images[image * size + (y * 8 + x) * 3 + c];
    // PNG is lossless: exact values / 255
    expect(at(0, 3, 2, 0)).toBeCloseTo(200 / 255, 6);
    expect([at(1, 5, 4, 0), at(1, 5, 4, 1), at(1, 5, 4, 2)].map((v) => Math.round(v * 255))).toEqual([100, 80, 100]);
    // JPEG (quality 95): within a few grey levels of the PNG values
    let worst = 0;
    for (let i = 0; i < size; i++) {
      worst = Math.max(worst, Math.abs(folder.images[2 * size + i] - folder.images[size + i]), Math.abs(folder.images[3 * size + i] - folder.images[i]));
    }
    expect(worst).toBeLessThan(12 / 255);
    expect(Math.min(...folder.images)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...folder.images)).toBeLessThanOrEqual(1);
  });

  it('gray = luminance 0.299 R + 0.587 G + 0.114 B', async () => {
    writePng(join(dir, 'red.png'), 3, 2, red);
    const folder = await loadImageFolder(dir, { channels: 1 });
    expect(folder.shape).toEqual([1, 2, 3, 1]);
    for (const v of folder.images) expect(v).toBeCloseTo((0.299 * 200 + 0.587 * 30 + 0.114 * 60) / 255, 6);
  });

  it('a non-image file is an error naming it, or skipped with skipInvalid', async () => {
    writePng(join(dir, 'a.png'), 4, 4, red);
    writeFileSync(join(dir, 'notes.txt'), 'hello');
    writeFileSync(join(dir, '.hidden'), 'ignored');
    await expect(loadImageFolder(dir)).rejects.toThrow(`${join(dir, 'notes.txt')}: is not a PNG or JPEG image (unrecognised magic bytes)`);
    const folder = await loadImageFolder(dir, { skipInvalid: true });
    expect(folder.shape[0]).toBe(1);
    expect(folder.skipped).toEqual([{ file: join(dir, 'notes.txt'), reason: 'is not a PNG or JPEG image (unrecognised magic bytes)' }]);
  });

  it('a corrupt PNG is named; a PNG declaring a huge size is refused before decoding', async () => {
    writePng(join(dir, 'a.png'), 4, 4, red);
    const bytes = pngjs.PNG.sync.write(Object.assign(new pngjs.PNG({ width: 4, height: 4 }), { data: Buffer.from(rgba(4, 4, red)) }));
    writeFileSync(join(dir, 'b.png'), bytes.subarray(0, 40));
    await expect(loadImageFolder(dir)).rejects.toThrow(new RegExp(`^${join(dir, 'b.png')}: cannot decode this PNG image: `));
    const huge = Buffer.from(bytes);
    huge.writeUInt32BE(100000, 16);
    huge.writeUInt32BE(100000, 20);
    expect(() => decodeImage(huge, 'huge.png')).toThrow(/huge\.png: image declares 100000x100000 pixels, above the limit of 67108864 pixels \(maxPixels\)/);
    const noIhdr = Buffer.from(bytes);
    noIhdr.write('IDAT', 12, 'latin1');
    expect(() => decodeImage(noIhdr, 'x.png')).toThrow(/x\.png: PNG does not start with an IHDR chunk \(corrupt file\)/);
    expect(() => decodeImage(Buffer.from([0xff, 0xd8, 0xff, 0, 1]), 'bad.jpg')).toThrow(/^bad\.jpg: cannot decode this JPEG image/);
    expect([imageKind(bytes), imageKind(Buffer.from([0xff, 0xd8, 0xff])), imageKind(Buffer.from('GIF89a'))]).toEqual(['png', 'jpeg', undefined]);
  });

  it('mixed sizes are an error naming the file and both sizes, unless resize is given', async () => {
    writePng(join(dir, 'a.png'), 8, 8, red);
    writeJpeg(join(dir, 'b.jpg'), 10, 6, red);
    const error = await loadImageFolder(dir).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DataFormatError);
    expect((error as Error).message).toBe(
      `${join(dir, 'b.jpg')}: image is 10x6 (width x height) but the first image, ${join(dir, 'a.png')}, is 8x8; all images must have one size — pass resize: <size> to resize every image to size x size`,
    );
    const resized = await loadImageFolder(dir, { resize: 5 });
    expect(resized.shape).toEqual([2, 5, 5, 3]);
    for (let i = 0; i < resized.images.length; i += 3) {
      expect(Math.abs(resized.images[i] - 200 / 255)).toBeLessThan(4 / 255); // a flat colour stays flat
    }
    await expect(loadImageFolder(dir, { resize: 0 })).rejects.toThrow(/resize must be a positive integer, got 0/);
  });

  it('classFolders: subfolders are classes, sorted by name', async () => {
    for (const [cls, count] of [['dog', 2], ['cat', 1]] as const) {
      mkdirSync(join(dir, cls));
      for (let i = 0; i < count; i++) writePng(join(dir, cls, `${i}.png`), 4, 4, red);
    }
    const folder = await loadImageFolder(dir, { classFolders: true, channels: 1 });
    expect(folder.classNames).toEqual(['cat', 'dog']);
    expect(Array.from(folder.labels)).toEqual([0, 1, 1]);
    expect(folder.files).toEqual([join(dir, 'cat', '0.png'), join(dir, 'dog', '0.png'), join(dir, 'dog', '1.png')]);
    await expect(loadImageFolder(join(dir, 'cat'), { classFolders: true })).rejects.toThrow(/classFolders is set but the folder has no subfolders/);
    mkdirSync(join(dir, 'empty'));
    await expect(loadImageFolder(join(dir, 'empty'))).rejects.toThrow(/empty: no PNG or JPEG images found/);
  });
});
