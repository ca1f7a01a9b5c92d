/**
 * Locating the golden cases made with the official PyTorch MAE code.
 *
 * They live in `../shared/golden/` beside the repository (CI lays them there); set
 * MAEJS_GOLDEN to point elsewhere. A missing folder is an error, never a skipped test.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';

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
