/**
 * The import graph of a package's sources, for tests that keep an entry point free of Node
 * built-ins or of other packages (a browser entry must not reach `node:fs`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Module specifiers imported by a source file (static imports and re-exports). */
export function importsOf(file: string): string[] {
  return [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
}

/** Every source file reachable from `entry` through relative imports, with its bare (package) imports. */
export function importGraph(entry: string): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const visit = (file: string): void => {
    if (seen.has(file)) return;
    const specifiers = importsOf(file);
    seen.set(file, specifiers.filter((s) => !s.startsWith('.')));
    for (const s of specifiers.filter((s) => s.startsWith('.'))) visit(join(file, '..', s.replace(/\.js$/, '.ts')));
  };
  visit(entry);
  return seen;
}
