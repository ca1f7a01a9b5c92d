/**
 * A folder of PNG / JPEG images as one NHWC float32 array (Node).
 *
 * Flat layout: every non-hidden regular file directly in the folder is an image (labels -1).
 * With `classFolders`, torchvision ImageFolder layout: each subfolder is a class (sorted by
 * name, label = its index) holding that class's images.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { bytesText, DataFormatError } from './errors.js';
import { decodeImage, DEFAULT_MAX_PIXELS, rgbaToFloat } from './image-decode.js';
import { resizeBilinear } from './resize.js';

/** Options of {@link loadImageFolder}. */
export interface ImageFolderOptions {
  /** 1 = gray (luminance), 3 = RGB. Default 3. */
  channels?: 1 | 3;
  /**
   * Resize every image to `resize` x `resize` (bilinear, aspect ratio not kept; antialiased
   * when shrinking, see `resizeBilinear`). Without it, all images must have the same size.
   */
  resize?: number;
  /** Skip (and report in `skipped`) files that are not decodable PNG/JPEG images instead of failing. */
  skipInvalid?: boolean;
  /** Subfolders are classes (torchvision ImageFolder layout). Default false: images directly in the folder. */
  classFolders?: boolean;
  /** Largest image accepted, in pixels. Default 64 Mi pixels. */
  maxPixels?: number;
  /** Largest total output accepted, in bytes of float32. Default 2 GiB. */
  maxTotalBytes?: number;
}

/** The images of a folder. */
export interface ImageFolder {
  /** [N, H, W, C] values in [0, 1]. */
  images: Float32Array;
  /** [N, H, W, C] */
  shape: [number, number, number, number];
  /** [N] class index per image (-1 without `classFolders`). */
  labels: Int32Array;
  /** Class names (subfolder names) by label; empty without `classFolders`. */
  classNames: string[];
  /** [N] path of each image, in order (sorted by class, then file name). */
  files: string[];
  /** Files skipped because of `skipInvalid`, with the reason. */
  skipped: { file: string; reason: string }[];
}

/** One candidate file and its label. */
interface Entry {
  path: string;
  label: number;
}

/** The first image read, which fixes the size when not resizing. */
interface Reference {
  file: string;
  width: number;
  height: number;
}

const DEFAULT_MAX_TOTAL_BYTES = 2 * 1024 ** 3;

/** Reads every image of `dir` (see the module doc for the layouts). Errors name the file. */
export async function loadImageFolder(dir: string, options: ImageFolderOptions = {}): Promise<ImageFolder> {
  const channels = options.channels ?? 3;
  if (channels !== 1 && channels !== 3) throw new DataFormatError(dir, `channels must be 1 (gray) or 3 (RGB), got ${channels}`);
  if (options.resize !== undefined && !(Number.isInteger(options.resize) && options.resize > 0)) throw new DataFormatError(dir, `resize must be a positive integer, got ${options.resize}`);
  const { entries, classNames } = await listEntries(dir, options.classFolders ?? false);
  const kept: { entry: Entry; pixels: Float32Array }[] = [];
  const skipped: { file: string; reason: string }[] = [];
  let reference: Reference | undefined;
  let total = 0;
  for (const entry of entries) {
    const decoded = await decodeEntry(entry.path, options, skipped);
    if (!decoded) continue;
    reference ??= { file: entry.path, width: decoded.width, height: decoded.height };
    const pixels = fitToSize(decoded, entry.path, reference, channels, options.resize);
    total += pixels.length * 4;
    if (total > (options.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES)) throw new DataFormatError(dir, `images need more than ${bytesText(options.maxTotalBytes ?? DEFAULT_MAX_TOTAL_BYTES)} as float32 (maxTotalBytes); use resize or fewer files`);
    kept.push({ entry, pixels });
  }
  if (kept.length === 0) throw new DataFormatError(dir, `no PNG or JPEG images found${skipped.length ? ` (${skipped.length} files skipped as invalid)` : ''}`);
  const height = options.resize ?? (reference as Reference).height;
  const width = options.resize ?? (reference as Reference).width;
  return { ...concatenate(kept, [kept.length, height, width, channels]), classNames, skipped };
}

/** Candidate files in name order, with labels. */
async function listEntries(dir: string, classFolders: boolean): Promise<{ entries: Entry[]; classNames: string[] }> {
  const items = await readDirSorted(dir);
  if (!classFolders) return { entries: items.filter((d) => d.isFile()).map((d) => ({ path: join(dir, d.name), label: -1 })), classNames: [] };
  const classNames = items.filter((d) => d.isDirectory()).map((d) => d.name);
  if (classNames.length === 0) throw new DataFormatError(dir, 'classFolders is set but the folder has no subfolders (one per class)');
  const entries: Entry[] = [];
  for (const [label, name] of classNames.entries()) {
    const files = (await readDirSorted(join(dir, name))).filter((d) => d.isFile());
    entries.push(...files.map((d) => ({ path: join(dir, name, d.name), label })));
  }
  return { entries, classNames };
}

/** Non-hidden directory entries sorted by name (code-point order, locale independent). */
async function readDirSorted(dir: string): Promise<import('node:fs').Dirent[]> {
  const items = await readdir(dir, { withFileTypes: true });
  return items.filter((d) => !d.name.startsWith('.')).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** Decodes one file, or records it as skipped (`skipInvalid`), or throws. */
async function decodeEntry(path: string, options: ImageFolderOptions, skipped: { file: string; reason: string }[]): Promise<ReturnType<typeof decodeImage> | undefined> {
  try {
    return decodeImage(new Uint8Array(await readFile(path)), path, options.maxPixels ?? DEFAULT_MAX_PIXELS);
  } catch (error) {
    if (!(error instanceof DataFormatError) || !options.skipInvalid) throw error;
    skipped.push({ file: path, reason: error.message.slice(path.length + 2) });
    return undefined;
  }
}

/** Float pixels [H, W, C] at the output size: resized, or checked against the first image. */
function fitToSize(decoded: ReturnType<typeof decodeImage>, file: string, reference: Reference, channels: 1 | 3, resize: number | undefined): Float32Array {
  const pixels = rgbaToFloat(decoded, channels); // [h, w, C]
  const { width, height } = decoded;
  if (resize !== undefined) {
    if (width === resize && height === resize) return pixels;
    return resizeBilinear(pixels, [height, width, channels], { top: 0, left: 0, height, width }, resize, resize);
  }
  if (width !== reference.width || height !== reference.height) {
    throw new DataFormatError(
      file,
      `image is ${width}x${height} (width x height) but the first image, ${reference.file}, is ${reference.width}x${reference.height}; all images must have one size — pass resize: <size> to resize every image to size x size`,
    );
  }
  return pixels;
}

/** Copies the kept images into one [N, H, W, C] array. */
function concatenate(kept: { entry: Entry; pixels: Float32Array }[], shape: [number, number, number, number]): Omit<ImageFolder, 'classNames' | 'skipped'> {
  const size = shape[1] * shape[2] * shape[3];
  const images = new Float32Array(kept.length * size);
  kept.forEach(({ pixels }, i) => images.set(pixels, i * size));
  return { images, shape, labels: Int32Array.from(kept, (k) => k.entry.label), files: kept.map((k) => k.entry.path) };
}
