/**
 * Finds this package's root directory from the running module file, independent of
 * `process.cwd()`, in both module systems it runs in:
 * - ESM (`dist/*.js`): `import.meta.url`;
 * - CommonJS as produced by jest's swc transform of `src/*.ts`: swc rewrites `import.meta.url` to
 *   the file URL of `__filename`; a transform that leaves it undefined falls back to `__dirname`.
 * `import.meta.url` is preferred because an ESM module can see a stray global `__dirname`
 * (e.g. `node -e` defines one as '.').
 */
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Directory of this module file (`<package>/src` under jest, `<package>/dist` when built). */
export function moduleDirectory(): string {
  const url: unknown = import.meta.url;
  if (typeof url === 'string' && url.startsWith('file:')) return dirname(fileURLToPath(url));
  if (typeof __dirname === 'string') return __dirname;
  throw new Error('@maejs/data: cannot locate its own module file (neither import.meta.url nor __dirname is available)');
}

/** The package root, one level above `src/` or `dist/`. */
export function packageRoot(): string {
  return resolve(moduleDirectory(), '..');
}
