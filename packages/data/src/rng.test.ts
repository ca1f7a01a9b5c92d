import { DataFormatError } from './errors.js';
import { deriveSeed, Rng, shuffledIndices } from './rng.js';

describe('Rng', () => {
  it('is deterministic per seed and differs between seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const draws = (r: Rng): number[] => Array.from({ length: 8 }, () => r.nextUint32());
    const first = draws(a);
    expect(draws(b)).toEqual(first);
    expect(draws(c)).not.toEqual(first);
    expect(new Rng(2 ** 40).nextUint32()).not.toBe(new Rng(0).nextUint32());
  });

  it('saves and restores its state exactly (JSON round trip)', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 100; i++) rng.random();
    const saved = JSON.parse(JSON.stringify(rng.state()));
    const expected = Array.from({ length: 50 }, () => rng.random());
    const restored = Rng.fromState(saved);
    expect(Array.from({ length: 50 }, () => restored.random())).toEqual(expected);
    const clone = restored.clone();
    expect(clone.nextUint32()).toBe(restored.nextUint32());
  });

  it('produces uniform values in range', () => {
    const rng = new Rng(1);
    const n = 20000;
    let sum = 0;
    const buckets = new Array(10).fill(0);
    for (let i = 0; i < n; i++) {
      const x = rng.random();
      if (!(x >= 0 && x < 1)) throw new Error(`random() gave ${x}`);
      sum += x;
      buckets[rng.int(0, 10)]++;
    }
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
    for (const count of buckets) expect(Math.abs(count - n / 10)).toBeLessThan(n / 10 * 0.1);
    for (let i = 0; i < 1000; i++) {
      const v = rng.int(-3, 4);
      const u = rng.uniform(2, 5);
      if (!(v >= -3 && v < 4 && Number.isInteger(v) && u >= 2 && u < 5)) throw new Error(`int gave ${v}, uniform gave ${u}`);
    }
  });

  it('rejects bad seeds and states', () => {
    expect(() => new Rng(1.5)).toThrow(/Rng: seed must be a safe integer, got 1.5/);
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(/must not be all zero/);
    expect(() => Rng.fromState([1, 2, 3] as never)).toThrow(DataFormatError);
    expect(() => Rng.fromState([1, 2, 3, -1])).toThrow(/four unsigned 32-bit integers, got \[1,2,3,-1\]/);
    expect(() => new Rng(1).int(3, 3)).toThrow(/int\(3, 3\) needs integers with 1 <= high - low <= 2\^32/);
  });

  it('deriveSeed separates streams; shuffledIndices is a permutation', () => {
    expect(deriveSeed(1, 0, 5)).not.toBe(deriveSeed(1, 1, 5));
    expect(deriveSeed(1, 0, 5)).not.toBe(deriveSeed(0, 1, 5));
    expect(deriveSeed(3, 4)).toBe(deriveSeed(3, 4));
    const order = shuffledIndices(1000, new Rng(3));
    expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(order.subarray(0, 10))).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  });
});
