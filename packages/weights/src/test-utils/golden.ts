/**
 * Test helper: the golden-case files of testing/golden.ts, read as bytes.
 *
 * testing/golden.ts lies outside this package's `rootDir` (src), so a static import would make
 * `tsc -p packages/weights/tsconfig.json` fail with TS6059; it is loaded at run time instead
 * (jest compiles tests to CommonJS, where `require` exists).
 */
import { readFileSync } from 'node:fs';

const golden = require('../../../../testing/golden') as { goldenFile(caseName: string, file: string): string };

/** Path of one file of one golden case. Throws when the golden folder is missing (never skips). */
export const goldenFile: (caseName: string, file: string) => string = golden.goldenFile;

/** Bytes of a tiny-gray golden file. */
export function readGolden(file: string): Uint8Array {
  return new Uint8Array(readFileSync(goldenFile('tiny-gray', file)));
}
