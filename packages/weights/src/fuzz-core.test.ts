/**
 * A short run of the loader fuzzer (scripts/fuzz-loaders.mjs runs the same core for longer):
 * every mutated or hostile input ends in a clean error naming the file or in a correct parse.
 */
import { derivedSeeds, runFuzz, type FuzzSeed } from '../../../testing/fuzz-core.js';
import { readGolden } from '../../../testing/golden.js';

function goldenSeeds(): FuzzSeed[] {
  return [
    { name: 'state_dict.pth', kind: 'pth', bytes: readGolden('state_dict.pth') },
    { name: 'state_dict.safetensors', kind: 'safetensors', bytes: readGolden('state_dict.safetensors') },
    { name: 'inputs.npy', kind: 'npy', bytes: readGolden('inputs.npy') },
    { name: 'ids_restore.npy', kind: 'npy', bytes: readGolden('ids_restore.npy') },
    ...derivedSeeds(readGolden('state_dict.safetensors'), { numHeads: 4, decoderNumHeads: 4 }),
  ];
}

describe('loader fuzzing (fixed seed)', () => {
  it('600 attempts over .pth, .safetensors, .npy, tfjs and HF inputs: no crash, no other error', () => {
    const report = runFuzz(goldenSeeds(), { count: 600, seed: 20260126, maxMs: 3000 });
    console.log(`fuzz: ${report.attempts} attempts, ${report.cleanErrors} clean errors, ${report.correctLoads} correct loads, ${report.otherErrors} other errors; slowest ${report.maxMs} ms, ${report.elapsedMs} ms in all`);
    expect(report.failures).toEqual([]);
    expect(report.otherErrors).toBe(0);
    expect(report.attempts).toBe(600);
    expect(report.cleanErrors).toBeGreaterThan(300);
    expect(report.correctLoads).toBeGreaterThan(0);
    const kinds = new Set(Object.keys(report.byMutator).map((k) => k.split(':')[0]));
    expect([...kinds].sort()).toEqual(['hf', 'npy', 'pth', 'safetensors', 'tfjs']);
  });

  it('is deterministic for a seed', () => {
    const seeds = goldenSeeds();
    const a = runFuzz(seeds, { count: 60, seed: 5 });
    const b = runFuzz(seeds, { count: 60, seed: 5 });
    expect(b.byMutator).toEqual(a.byMutator);
  });
});
