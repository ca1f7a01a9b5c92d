/**
 * Test helpers: temp directories, small IDX datasets on disk, the Debian Fashion-MNIST location.
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'fflate';
import { encodeIdx } from '../idx.js';

/** Where Debian's dataset-fashion-mnist installs the files. */
export const DEBIAN_FASHION_DIR = '/usr/share/datasets/fashion-mnist';
/** Whether the Debian files are installed (tests that need them are skipped, with this reason, otherwise). */
export const HAVE_DEBIAN_FASHION = existsSync(join(DEBIAN_FASHION_DIR, 'train-images-idx3-ubyte.gz'));
export const DEBIAN_SKIP_REASON = `(skipped: ${DEBIAN_FASHION_DIR} missing — apt-get install dataset-fashion-mnist)`;

/** A fresh temporary directory; remove it with {@link removeDir}. */
export function makeTempDir(prefix = 'maejs-data-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

/** Gzip-compressed bytes. */
export function gz(bytes: Uint8Array): Uint8Array {
  return gzipSync(bytes);
}

/**
 * Writes an MNIST-style split of `n` images (`size` x `size`, pixel value = image index) into
 * `dir` with the canonical names (gzip unless `plain`).
 */
export function writeIdxSplit(dir: string, n: number, options: { split?: 'train' | 'test'; size?: number; plain?: boolean; labels?: number } = {}): void {
  const size = options.size ?? 4;
  const prefix = (options.split ?? 'train') === 'train' ? 'train' : 't10k';
  const images = encodeIdx({ dtype: 'uint8', shape: [n, size, size], data: Uint8Array.from({ length: n * size * size }, (_, i) => Math.floor(i / (size * size)) % 256) });
  const labelCount = options.labels ?? n;
  const labels = encodeIdx({ dtype: 'uint8', shape: [labelCount], data: Uint8Array.from({ length: labelCount }, (_, i) => i % 10) });
  mkdirSync(dir, { recursive: true });
  const ext = options.plain ? '' : '.gz';
  writeFileSync(join(dir, `${prefix}-images-idx3-ubyte${ext}`), options.plain ? images : gz(images));
  writeFileSync(join(dir, `${prefix}-labels-idx1-ubyte${ext}`), options.plain ? labels : gz(labels));
}
