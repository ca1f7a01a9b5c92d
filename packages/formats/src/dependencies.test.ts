import { join } from 'node:path';
import { importGraph } from '../../../testing/import-graph.js';

describe('@maejs/formats', () => {
  it('imports nothing outside its own sources: no @maejs package, no tfjs, no Node built-ins', () => {
    const modules = importGraph(join(__dirname, 'index.ts'));
    expect([...modules.values()].flat()).toEqual([]);
    const files = [...modules.keys()].map((f) => f.slice(__dirname.length + 1));
    expect(files.filter((f) => f.startsWith('test-utils'))).toEqual([]);
    expect(files.length).toBeGreaterThan(10);
  });
});
