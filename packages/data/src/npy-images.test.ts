import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { encodeNpy } from '@maejs/formats';
import { DataFormatError } from './errors.js';
import { loadNpyImages } from './npy-files.js';
import { imagesFromNpy, labelsFromNpy } from './npy-images.js';
import { makeTempDir, removeDir } from './test-utils/files.js';

/** A version-1.0 .npy file with the given descr, shape text and raw data. */
function npy(descr: string, shape: string, data: Uint8Array): Uint8Array {
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shape}, }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const out = new Uint8Array(10 + header.length + data.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, header.length & 0xff, header.length >> 8]);
  out.set(new TextEncoder().encode(header), 10);
  out.set(data, 10 + header.length);
  return out;
}

const f32 = (shape: number[], data: number[]): Uint8Array => encodeNpy({ dtype: 'float32', shape, data: Float32Array.from(data) });

describe('imagesFromNpy', () => {
  it('reads NHWC as is and transposes NCHW to NHWC', () => {
    const values = Array.from({ length: 12 }, (_, i) => i); // [1, 2, 2, 3] NHWC or [1, 3, 2, 2] NCHW
    expect(imagesFromNpy(f32([1, 2, 2, 3], values), 'x.npy', { layout: 'NHWC' })).toEqual({ images: Float32Array.from(values), shape: [1, 2, 2, 3] });
    const nchw = imagesFromNpy(f32([1, 3, 2, 2], values), 'x.npy', { layout: 'NCHW' });
    expect(nchw.shape).toEqual([1, 2, 2, 3]);
    expect(Array.from(nchw.images)).toEqual([0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]);
  });

  it('treats [N, H, W] as one channel and scales uint8 by 1/255', () => {
    const bytes = npy('|u1', '(2, 1, 2)', new Uint8Array([0, 255, 51, 102]));
    const { images, shape } = imagesFromNpy(bytes, 'u8.npy', { layout: 'NCHW' });
    expect(shape).toEqual([2, 1, 2, 1]);
    expect(images).toEqual(new Float32Array([0, 1, 0.2, 0.4]));
    expect(imagesFromNpy(bytes, 'u8.npy', { layout: 'NHWC', scale: 1 }).images).toEqual(new Float32Array([0, 255, 51, 102]));
  });

  it('refuses a missing layout, implausible channel counts, other ranks and malformed files, naming the file', () => {
    const bytes = f32([2, 28, 28, 1], new Array(2 * 28 * 28).fill(0));
    expect(() => imagesFromNpy(bytes, 'a.npy', {} as never)).toThrow(/a\.npy: layout must be 'NHWC' or 'NCHW', got undefined/);
    expect(() => imagesFromNpy(bytes, 'a.npy', { layout: 'NCHW' })).toThrow(/a\.npy: shape \[2, 28, 28, 1\] read as NCHW has 28 channels; expected 1 to 4 — is the array NHWC\?/);
    expect(() => imagesFromNpy(f32([4], [1, 2, 3, 4]), 'v.npy', { layout: 'NHWC' })).toThrow(/v\.npy: expected an image array \[N, H, W\] or \[N, H, W, C\] \/ \[N, C, H, W\], found shape \[4\]/);
    const truncated = bytes.subarray(0, bytes.length - 4);
    expect(() => imagesFromNpy(truncated, 't.npy', { layout: 'NHWC' })).toThrow(DataFormatError);
    expect(() => imagesFromNpy(truncated, 't.npy', { layout: 'NHWC' })).toThrow(/^t\.npy: shape \[2, 28, 28, 1\] of float32 needs 6272 data bytes after the header but the file has 6268$/);
  });

  it('labels must be integer [N]', () => {
    expect(labelsFromNpy(encodeNpy({ dtype: 'int32', shape: [3], data: Int32Array.from([2, 0, 1]) }), 'l.npy')).toEqual(Int32Array.from([2, 0, 1]));
    expect(() => labelsFromNpy(f32([2], [0, 1]), 'l.npy')).toThrow(/l\.npy: expected integer labels of shape \[N\], found float32 \[2\]/);
  });
});

describe('loadNpyImages', () => {
  it('reads images and labels from disk and checks the counts', async () => {
    const dir = makeTempDir();
    try {
      writeFileSync(join(dir, 'x.npy'), f32([3, 2, 2, 1], new Array(12).fill(0.5)));
      writeFileSync(join(dir, 'y.npy'), encodeNpy({ dtype: 'int32', shape: [3], data: Int32Array.from([1, 2, 3]) }));
      writeFileSync(join(dir, 'y2.npy'), encodeNpy({ dtype: 'int32', shape: [2], data: Int32Array.from([1, 2]) }));
      const data = await loadNpyImages(join(dir, 'x.npy'), { layout: 'NHWC', labels: join(dir, 'y.npy') });
      expect(data.shape).toEqual([3, 2, 2, 1]);
      expect(Array.from(data.labels ?? [])).toEqual([1, 2, 3]);
      await expect(loadNpyImages(join(dir, 'x.npy'), { layout: 'NHWC', labels: join(dir, 'y2.npy') })).rejects.toThrow(
        `${join(dir, 'y2.npy')}: has 2 labels but ${join(dir, 'x.npy')} has 3 images; the counts must match`,
      );
      await expect(loadNpyImages(join(dir, 'x.npy'), { layout: 'NHWC', maxBytes: 10 })).rejects.toThrow(/x\.npy: file of \d+ bytes is above the limit of 10 bytes/);
    } finally {
      removeDir(dir);
    }
  });
});
