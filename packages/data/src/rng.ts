/**
 * A small seedable PRNG whose whole state is four numbers, so a run can save it in a
 * checkpoint and resume with exactly the same random stream.
 *
 * Generator: xoshiro128** (Blackman & Vigna), 128-bit state, period 2^128 - 1; seeded through
 * splitmix32 so that nearby seeds give unrelated streams.
 */
import { DataFormatError } from './errors.js';

/** The complete generator state: four unsigned 32-bit integers (JSON-serialisable). */
export type RngState = [number, number, number, number];

/** Seedable, saveable random number generator. */
export class Rng {
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /** Seeds the generator; `seed` is any safe integer (both 32-bit halves are used). */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed)) throw new DataFormatError('Rng', `seed must be a safe integer, got ${seed}`);
    let x = (seed >>> 0) ^ Math.imul(Math.floor(seed / 2 ** 32) >>> 0, 0x9e3779b9);
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      return splitmix32Mix(x);
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
      throw new DataFormatError('Rng', `state must be four unsigned 32-bit integers, got ${JSON.stringify(state)}`);
    }
    if (state.every((v) => v === 0)) throw new DataFormatError('Rng', 'state must not be all zero (xoshiro128** would only produce zeros)');
    [this.s0, this.s1, this.s2, this.s3] = state.map((v) => v | 0);
  }

  /** An independent copy at the same point of the stream. */
  clone(): Rng {
    return Rng.fromState(this.state());
  }

  /** Next unsigned 32-bit integer. */
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

  /** Uniform double in [0, 1) with 53 random bits. */
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
    if (!Number.isInteger(low) || !Number.isInteger(range) || range < 1 || range > 2 ** 32) {
      throw new DataFormatError('Rng', `int(${low}, ${high}) needs integers with 1 <= high - low <= 2^32`);
    }
    const limit = 2 ** 32 - (2 ** 32 % range);
    let x = this.nextUint32();
    while (x >= limit) x = this.nextUint32();
    return low + (x % range);
  }
}

/**
 * A 32-bit seed derived from several integers (e.g. `deriveSeed(seed, epoch, STREAM)`), so that
 * independent streams come from one user seed.
 */
export function deriveSeed(...parts: number[]): number {
  let h = 0x6a09e667;
  for (const part of parts) {
    if (!Number.isSafeInteger(part)) throw new DataFormatError('deriveSeed', `parts must be safe integers, got ${part}`);
    h = splitmix32Mix((h ^ (part >>> 0)) + 0x9e3779b9);
    h = splitmix32Mix((h ^ (Math.floor(part / 2 ** 32) >>> 0)) + 0x7f4a7c15);
  }
  return h >>> 0;
}

/** Finaliser of splitmix32 (a bijective 32-bit mixer). */
function splitmix32Mix(z: number): number {
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A seeded Fisher–Yates permutation of 0..n-1: `order[i]` is the dataset index at position i.
 */
export function shuffledIndices(n: number, rng: Rng): Int32Array {
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
