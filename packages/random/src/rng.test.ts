import { Rng, shuffledIndices } from '@maejs/random';

describe('Rng', () => {
  it('xoshiro128** from state [1, 2, 3, 4] gives the reference outputs', () => {
    // Produced by the reference xoshiro128starstar.c 1.1 (Blackman & Vigna); quoted from the
    // `reference` test of rand_xoshiro (github.com/rust-random/rngs,
    // rand_xoshiro/src/xoshiro128starstar.rs), seeded with the little-endian words 1, 2, 3, 4.
    const rng = Rng.fromState([1, 2, 3, 4]);
    const expected = [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804];
    expect(Array.from({ length: 10 }, () => rng.nextUint32())).toEqual(expected);
  });

  it('expands a seed into the same state as always (checkpointed data orders depend on it)', () => {
    const rng = new Rng(0);
    expect(Array.from({ length: 4 }, () => rng.nextUint32())).toEqual([3809008728, 1133695204, 53579671, 2891528803]);
    expect(new Rng(42).state()).toEqual([939911724, 3948730756, 321366731, 3317318717]);
  });

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
    const expected = Array.from({ length: 50 }, () => rng.normal());
    const restored = Rng.fromState(saved);
    expect(Array.from({ length: 50 }, () => restored.normal())).toEqual(expected);
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
    for (const count of buckets) expect(Math.abs(count - n / 10)).toBeLessThan((n / 10) * 0.1);
    for (let i = 0; i < 1000; i++) {
      const v = rng.int(-3, 4);
      const u = rng.uniform(2, 5);
      if (!(v >= -3 && v < 4 && Number.isInteger(v) && u >= 2 && u < 5)) throw new Error(`int gave ${v}, uniform gave ${u}`);
    }
  });

  it('normal() has the requested mean and std (Box–Muller)', () => {
    const rng = new Rng(3);
    const n = 40000;
    const xs = Array.from({ length: n }, () => rng.normal(2, 0.5));
    const mean = xs.reduce((s, x) => s + x, 0) / n;
    const std = Math.sqrt(xs.reduce((s, x) => s + (x - mean) ** 2, 0) / n);
    // Standard errors: 0.5 / sqrt(n) = 0.0025 for the mean, about 0.0018 for the std.
    expect(Math.abs(mean - 2)).toBeLessThan(0.01);
    expect(Math.abs(std - 0.5)).toBeLessThan(0.01);
    // Tails of a normal: P(|z| > 2) = 0.0455.
    const outside = xs.filter((x) => Math.abs(x - 2) > 1).length / n;
    expect(Math.abs(outside - 0.0455)).toBeLessThan(0.005);
  });

  it('fillUniform and fillNormal fill float32 arrays in stream order', () => {
    const u = new Rng(4).fillUniform(new Float32Array(20000), -0.25, 0.25);
    expect(Math.min(...u)).toBeGreaterThanOrEqual(-0.25);
    expect(Math.max(...u)).toBeLessThanOrEqual(0.25);
    const meanU = u.reduce((s, x) => s + x, 0) / u.length;
    const varU = u.reduce((s, x) => s + (x - meanU) ** 2, 0) / u.length;
    expect(Math.abs(meanU)).toBeLessThan(0.005);
    expect(Math.abs(varU - 0.5 ** 2 / 12)).toBeLessThan(0.001); // (high - low)^2 / 12
    const first = new Rng(4).nextUint32();
    expect(u[0]).toBe(Math.fround(-0.25 + 0.5 * ((first >>> 8) / 2 ** 24)));

    const rng = new Rng(8);
    const normals = new Rng(8).fillNormal(new Float32Array(5), 0, 0.02);
    expect(Array.from(normals)).toEqual(Array.from({ length: 5 }, () => Math.fround(rng.normal(0, 0.02))));
  });

  it('permutation and shuffledIndices give the same Fisher–Yates permutation', () => {
    const order = shuffledIndices(1000, new Rng(3));
    expect(Array.from(order).sort((a, b) => a - b)).toEqual(Array.from({ length: 1000 }, (_, i) => i));
    expect(Array.from(order.subarray(0, 10))).not.toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(Array.from(shuffledIndices(10, new Rng(3)))).toEqual([2, 7, 0, 1, 9, 6, 4, 5, 8, 3]);
    expect(new Rng(3).permutation(1000)).toEqual(order);
    expect(shuffledIndices(0, new Rng(3))).toEqual(new Int32Array(0));
  });

  it('rejects bad seeds, states and arguments with messages naming the value', () => {
    expect(() => new Rng(1.5)).toThrow(/Rng: seed must be a safe integer, got 1.5/);
    expect(() => new Rng(2 ** 53)).toThrow(/Rng: seed must be a safe integer, got 9007199254740992/);
    expect(() => Rng.fromState([0, 0, 0, 0])).toThrow(/must not be all zero/);
    expect(() => Rng.fromState([1, 2, 3] as never)).toThrow(/Rng: state must be four unsigned 32-bit integers, got \[1,2,3\]/);
    expect(() => Rng.fromState([1, 2, 3, -1])).toThrow(/four unsigned 32-bit integers, got \[1,2,3,-1\]/);
    expect(() => Rng.fromState([1, 2, 3, 2 ** 32])).toThrow(/four unsigned 32-bit integers, got \[1,2,3,4294967296\]/);
    expect(() => new Rng(1).int(3, 3)).toThrow(/int\(3, 3\) needs integers with 1 <= high - low <= 2\^32/);
    expect(() => new Rng(1).fillUniform(new Float32Array(1), 1, 1)).toThrow(/fillUniform\(low 1, high 1\) needs finite bounds with low < high/);
    expect(() => new Rng(1).fillUniform(new Float32Array(1), 0, Infinity)).toThrow(/fillUniform\(low 0, high Infinity\)/);
    expect(() => new Rng(1).fillNormal(new Float32Array(1), 0, -1)).toThrow(/fillNormal\(mean 0, std -1\) needs a finite mean and a finite std >= 0/);
    expect(() => new Rng(1).fillNormal(new Float32Array(1), NaN, 1)).toThrow(/fillNormal\(mean NaN, std 1\)/);
    expect(() => shuffledIndices(-1, new Rng(1))).toThrow(/shuffledIndices: n must be an integer in \[0, 2\^31\), got -1/);
    expect(() => new Rng(1).permutation(2.5)).toThrow(/shuffledIndices: n must be an integer in \[0, 2\^31\), got 2.5/);
  });
});
