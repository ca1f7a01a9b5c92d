import { join } from 'node:path';
import { importGraph } from '../../../testing/import-graph.js';

describe('@maejs/random', () => {
  it('imports nothing outside its own sources (no dependencies, browser-safe)', () => {
    const modules = importGraph(join(__dirname, 'index.ts'));
    expect([...modules.values()].flat()).toEqual([]);
    expect([...modules.keys()].map((f) => f.slice(__dirname.length + 1)).sort()).toEqual(['index.ts', 'rng.ts', 'seeds.ts']);
  });
});
