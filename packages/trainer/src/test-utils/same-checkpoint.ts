/**
 * Bit-for-bit comparison of two training checkpoints (model tensors, AdamW moments and
 * counters, and the metadata but for the save time), listing every difference by name.
 */
import type { Checkpoint } from '../checkpoint.js';

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

/** Where `actual` differs from `expected`: names of tensors and fields; empty when identical. */
export function checkpointDifferences(actual: Checkpoint, expected: Checkpoint): string[] {
  const differences: string[] = [];
  const { savedAt: _a, ...metaA } = actual.meta;
  const { savedAt: _b, ...metaB } = expected.meta;
  for (const key of new Set([...Object.keys(metaA), ...Object.keys(metaB)])) {
    const [x, y] = [JSON.stringify((metaA as Record<string, unknown>)[key]), JSON.stringify((metaB as Record<string, unknown>)[key])];
    if (x !== y) differences.push(`meta.${key}: ${x} vs ${y}`);
  }
  const names = new Set([...actual.model.keys(), ...expected.model.keys()]);
  for (const name of names) {
    const [x, y] = [actual.model.get(name), expected.model.get(name)];
    if (!x || !y) differences.push(`model/${name}: only in ${x ? 'actual' : 'expected'}`);
    else if (!sameBits(x.data, y.data)) differences.push(`model/${name}: values differ`);
  }
  const params = new Map(expected.optimizer.params.map((p) => [p.name, p]));
  if (actual.optimizer.params.length !== params.size) differences.push(`optimizer: ${actual.optimizer.params.length} parameters vs ${params.size}`);
  for (const p of actual.optimizer.params) {
    const q = params.get(p.name);
    if (!q) differences.push(`optimizer/${p.name}: only in actual`);
    else {
      if (p.step !== q.step) differences.push(`optimizer/${p.name}: step ${p.step} vs ${q.step}`);
      if (!sameBits(p.m, q.m)) differences.push(`optimizer.m/${p.name}: values differ`);
      if (!sameBits(p.v, q.v)) differences.push(`optimizer.v/${p.name}: values differ`);
    }
  }
  for (const key of ['step', 'lr', 'eps', 'weightDecay'] as const) {
    if (actual.optimizer[key] !== expected.optimizer[key]) differences.push(`optimizer.${key}: ${actual.optimizer[key]} vs ${expected.optimizer[key]}`);
  }
  return differences;
}
