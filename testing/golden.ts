/**
 * The golden cases made with the official PyTorch MAE code, read from the file system (Node
 * tests). The parsing is testing/golden-case.ts, shared with the browser example.
 *
 * They live in `../shared/golden/` beside the repository (CI lays them there); set
 * MAEJS_GOLDEN to point elsewhere. A missing folder is an error, never a skipped test.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { goldenFiles, type GoldenFiles, type SyncGoldenReader } from './golden-case.js';

/** The case the tests use. */
export const CASE = 'tiny-gray';

/** Absolute path of the golden folder, or throws naming where it looked. */
export function goldenDir(): string {
  const dir = process.env.MAEJS_GOLDEN ?? resolve(__dirname, '..', '..', 'shared', 'golden');
  if (!existsSync(dir)) {
    throw new Error(`golden cases not found at ${dir}: set MAEJS_GOLDEN to the folder holding tiny-gray/`);
  }
  return dir;
}

/** Path of one file of one golden case, e.g. goldenFile('tiny-gray', 'pred.npy'). */
export function goldenFile(caseName: string, file: string): string {
  const path = join(goldenDir(), caseName, file);
  if (!existsSync(path)) throw new Error(`golden file missing: ${path}`);
  return path;
}

/** The file-system reader of one golden case (fresh bytes on every call). */
export function fsGoldenReader(caseName = CASE): SyncGoldenReader {
  return (file) => new Uint8Array(readFileSync(goldenFile(caseName, file)));
}

/** Bytes of one file of the tiny-gray golden case. */
export const readGolden: SyncGoldenReader = fsGoldenReader(CASE);

/** The tiny-gray case's parsers, reading from the file system. */
export const tinyGray: GoldenFiles = goldenFiles(readGolden);
