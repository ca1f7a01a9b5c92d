import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** Module specifiers imported by a source file (static imports and re-exports). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)].map((m) => m[1]);
}

/** Every source file reachable from `entry` through relative imports, with its bare imports. */
function graph(entry: string): Map<string, string[]> {
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

describe('browser entry', () => {
  it('src/index.ts reaches no Node built-ins, only fflate, @maejs/weights and tfjs-core', () => {
    const modules = graph(join(__dirname, 'index.ts'));
    const bare = new Set([...modules.values()].flat());
    expect([...bare].sort()).toEqual(['@maejs/weights', '@tensorflow/tfjs-core', 'fflate']);
    expect([...modules.keys()].map((f) => f.slice(__dirname.length + 1)).sort()).not.toContain('datasets.ts');
  });

  it('src/node.ts holds the Node-only parts', () => {
    const bare = new Set([...graph(join(__dirname, 'node.ts')).values()].flat());
    for (const name of ['node:fs/promises', 'node:path', 'node:crypto', 'pngjs', 'jpeg-js']) expect(bare).toContain(name);
  });
});
