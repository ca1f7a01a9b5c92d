import { join } from 'node:path';
import { importGraph as graph } from '../../../testing/import-graph.js';

describe('browser entry', () => {
  it('src/index.ts reaches no Node built-ins, only fflate, @maejs/formats, @maejs/random and tfjs-core', () => {
    const modules = graph(join(__dirname, 'index.ts'));
    const bare = new Set([...modules.values()].flat());
    expect([...bare].sort()).toEqual(['@maejs/formats', '@maejs/random', '@tensorflow/tfjs-core', 'fflate']);
    expect([...modules.keys()].map((f) => f.slice(__dirname.length + 1)).sort()).not.toContain('datasets.ts');
  });

  it('src/node.ts holds the Node-only parts', () => {
    const bare = new Set([...graph(join(__dirname, 'node.ts')).values()].flat());
    for (const name of ['node:fs/promises', 'node:path', 'node:crypto', 'pngjs', 'jpeg-js']) expect(bare).toContain(name);
  });
});
