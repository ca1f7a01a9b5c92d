/**
 * A small seedable generator whose whole state is four numbers, so a run can save it in a
 * checkpoint and resume with exactly the same random stream.
 *
 * Generator: xoshiro128** 1.1 (Blackman & Vigna), 128-bit state, period 2^128 - 1. A seed is
 * expanded into the state by the 32-bit SplitMix construction (a Weyl sequence with step
 * 0x9e3779b9 through {@link mix32}), so nearby seeds give unrelated streams.
 */
import { mix32 } from './seeds.js';

/** The complete generator state: four unsigned 32-bit integers (JSON-serialisable). */
export type RngState = [number, number, number, number];

const TWO_32 = 2 ** 32;
/** 2^-24: one 32-bit draw gives a float32 in [0, 1) on a grid of 2^24 steps. */
const FLOAT32_STEP = 2 ** -24;

/** Seedable, saveable random number generator (xoshiro128**). */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** Seeds the generator; `seed` is any safe integer (both 32-bit halves are used). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new RangeError(`Rng: seed must be a safe integer, got ${seed}`);
    let x = (seed >>> 0) ^ Math.imul(Math.floor(seed / TWO_32) >>> 0, 0x9e3779b9);
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      return mix32(x);
    };
    this.setState([next(), next(), next(), next()]);
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A generator continuing from a saved {@link RngState}. */
  static fromState(state: RngState): Rng {
    const rng = new Rng(0);
    rng.setState(state);
    return rng;
  }

  /** The current state; restoring it with {@link Rng.fromState} replays the same stream. */
  state(): RngState {
    return [this.s0 >>> 0, this.s1 >>> 0, this.s2 >>> 0, this.s3 >>> 0];
  }

  /** Replaces the state (validated: four uint32, not all zero). */
  setState(state: RngState): void {
    if (!Array.isArray(state) || state.length !== 4 || state.some((v) => !Number.isInteger(v) || v < 0 || v > 0xffffffff)) {
      throw new RangeError(`Rng: state must be four unsigned 32-bit integers, got ${JSON.stringify(state)}`);
    }
    if (state.every((v) => v === 0)) throw new RangeError('Rng: state must not be all zero (xoshiro128** would only produce zeros)');
    [this.s0, this.s1, this.s2, this.s3] = state.map((v) => v | 0);
  }

  /** An independent copy at the same point of the stream. */
  clone(): Rng {
    return Rng.fromState(this.state());
  }

  /** Next unsigned 32-bit integer (`next()` of the reference xoshiro128starstar.c). */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** Uniform double in [0, 1) with 53 random bits (two 32-bit draws). */
  random(): number {
    const hi = this.nextUint32() >>> 5; // 27 bits
    const lo = this.nextUint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform double in [low, high). */
  uniform(low: number, high: number): number {
    return low + (high - low) * this.random();
  }

  /** Uniform integer in [low, high) (unbiased; high - low must be in 1..2^32). */
  int(low: number, high: number): number {
    const range = high - low;
    if (!Number.isInteger(low) || !Number.isInteger(range) || range < 1 || range > TWO_32) {
      throw new RangeError(`Rng: int(${low}, ${high}) needs integers with 1 <= high - low <= 2^32`);
    }
    const limit = TWO_32 - (TWO_32 % range);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return low + (x % range);
  }

  /**
   * One draw from N(mean, std^2) by the Box–Muller transform (four 32-bit draws). The second
   * normal of the pair is not kept, so the state stays the four numbers of {@link state}.
   */
  normal(mean = 0, std = 1): number {
    const u1 = 1 - this.random(); // (0, 1]: log(u1) is finite
    const u2 = this.random();
    return mean + std * Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
  }

  /**
   * Fills `out` with U(low, high) in stream order, one 32-bit draw a value (a float32 holds 24
   * bits: u = (x >>> 8) * 2^-24, value = low + (high - low) u). Returns `out`.
   */
  fillUniform(out: Float32Array, low: number, high: number): Float32Array {
    if (!Number.isFinite(low) || !Number.isFinite(high) || !(low < high)) {
      throw new RangeError(`Rng: fillUniform(low ${low}, high ${high}) needs finite bounds with low < high`);
    }
    const width = high - low;
    for (let i = 0; i < out.length; i++) out[i] = low + width * ((this.nextUint32() >>> 8) * FLOAT32_STEP);
    return out;
  }

  /** Fills `out` with N(mean, std^2) draws in stream order ({@link normal}). Returns `out`. */
  fillNormal(out: Float32Array, mean: number, std: number): Float32Array {
    if (!Number.isFinite(mean) || !Number.isFinite(std) || std < 0) {
      throw new RangeError(`Rng: fillNormal(mean ${mean}, std ${std}) needs a finite mean and a finite std >= 0`);
    }
    for (let i = 0; i < out.length; i++) out[i] = this.normal(mean, std);
    return out;
  }

  /** A uniformly random permutation of 0..n-1 ({@link shuffledIndices}). */
  permutation(n: number): Int32Array {
    return shuffledIndices(n, this);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A seeded Fisher–Yates permutation of 0..n-1 (n a non-negative integer): `order[i]` is the
 * index at position i.
 */
export function shuffledIndices(n: number, rng: Rng): Int32Array {
  if (!Number.isInteger(n) || n < 0 || n > 0x7fffffff) throw new RangeError(`shuffledIndices: n must be an integer in [0, 2^31), got ${n}`);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.int(0, i + 1);
    const t = order[i];
    order[i] = order[j];
    order[j] = t;
  }
  return order;
}
