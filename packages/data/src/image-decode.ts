/**
 * PNG (pngjs) and JPEG (jpeg-js) decoding to float pixels (Node: pngjs needs Node's zlib).
 */
import jpeg from 'jpeg-js';
import pngjs from 'pngjs';
import { DataFormatError } from './errors.js';

/** Decoded 8-bit RGBA pixels, row-major. */
export interface RgbaImage {
  width: number;
  height: number;
  /** [H, W, 4] */
  rgba: Uint8Array;
}

/** Image formats recognised by their magic bytes. */
export type ImageKind = 'png' | 'jpeg';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
/** Default largest image accepted: 64 megapixels (a 256 MiB RGBA buffer). */
export const DEFAULT_MAX_PIXELS = 64 * 1024 * 1024;

/** 'png' or 'jpeg' from the file's first bytes, or undefined. */
export function imageKind(bytes: Uint8Array): ImageKind | undefined {
  if (PNG_MAGIC.every((b, i) => bytes[i] === b)) return 'png';
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return undefined;
}

/**
 * Decodes a PNG or JPEG to 8-bit RGBA (16-bit PNGs are scaled to 8 bits; gray and palette
 * images are expanded). Images over `maxPixels` are refused before their pixels are allocated.
 */
export function decodeImage(bytes: Uint8Array, source: string, maxPixels = DEFAULT_MAX_PIXELS): RgbaImage {
  const kind = imageKind(bytes);
  if (kind === undefined) throw new DataFormatError(source, 'is not a PNG or JPEG image (unrecognised magic bytes)');
  try {
    return kind === 'png' ? decodePng(bytes, source, maxPixels) : decodeJpeg(bytes, maxPixels);
  } catch (error) {
    if (error instanceof DataFormatError) throw error;
    throw new DataFormatError(source, `cannot decode this ${kind.toUpperCase()} image: ${(error as Error).message}`);
  }
}

function decodePng(bytes: Uint8Array, source: string, maxPixels: number): RgbaImage {
  // IHDR is the first chunk: length (4), 'IHDR' (4), width (4, BE), height (4, BE) from byte 8.
  if (bytes.length < 24) throw new DataFormatError(source, `PNG of ${bytes.length} bytes is truncated before its IHDR header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  if (view.getUint32(12, false) !== 0x49484452) throw new DataFormatError(source, 'PNG does not start with an IHDR chunk (corrupt file)');
  checkPixels(view.getUint32(16, false), view.getUint32(20, false), maxPixels, source);
  const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length));
  return { width: png.width, height: png.height, rgba: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.length) };
}

function decodeJpeg(bytes: Uint8Array, maxPixels: number): RgbaImage {
  const decoded = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true, maxResolutionInMP: maxPixels / 1e6, maxMemoryUsageInMB: Math.ceil((maxPixels * 8) / 2 ** 20) });
  return { width: decoded.width, height: decoded.height, rgba: decoded.data };
}

function checkPixels(width: number, height: number, maxPixels: number, source: string): void {
  if (width === 0 || height === 0) throw new DataFormatError(source, `image declares an empty size ${width}x${height}`);
  if (width * height > maxPixels) throw new DataFormatError(source, `image declares ${width}x${height} pixels, above the limit of ${maxPixels} pixels (maxPixels)`);
}

/**
 * RGBA bytes to HWC float32 in [0, 1] with 1 channel (luminance, ITU-R 601-2:
 * 0.299 R + 0.587 G + 0.114 B, as PIL's `convert('L')`) or 3 channels (RGB). Alpha is dropped,
 * as PIL's `convert('RGB')` does.
 */
export function rgbaToFloat(image: RgbaImage, channels: 1 | 3): Float32Array {
  const { rgba } = image;
  const n = image.width * image.height;
  const out = new Float32Array(n * channels); // [H, W, C]
  for (let p = 0; p < n; p++) {
    const r = rgba[4 * p];
    const g = rgba[4 * p + 1];
    const b = rgba[4 * p + 2];
    if (channels === 1) {
      out[p] = (0.299 * r + 0.587 * g + 0.114 * b) / 255;
    } else {
      out[3 * p] = r / 255;
      out[3 * p + 1] = g / 255;
      out[3 * p + 2] = b / 255;
    }
  }
  return out;
}
