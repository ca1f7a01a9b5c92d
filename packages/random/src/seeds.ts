/**
 * Seed derivation: every random stream of maejs gets its 32-bit seed from the user's seed and
 * what the stream is for: integers (`deriveSeed(seed, epoch, STREAM)`) or a name
 * (`seedFor(seed, 'blocks.0.attn.qkv.weight')`). A stream therefore depends on (seed, purpose)
 * only, never on how many other streams were made before it.
 */

const UTF8 = new TextEncoder();

/** 2^32, to split a safe integer into its low and high 32-bit words. */
const TWO_32 = 2 ** 32;

/**
 * The 32-bit finaliser of MurmurHash3 (`fmix32`), the mixer of the 32-bit SplitMix
 * construction: a bijection of uint32 in which every input bit flips each output bit with
 * probability close to 1/2. z: any 32-bit integer -> uint32.
 */
export function mix32(z: number): number {
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

/** FNV-1a, 32 bits (Fowler, Noll, Vo): the hash of a byte string, as uint32. */
export function fnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < bytes.length; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h >>> 0;
}

/**
 * A uint32 seed derived from several integers (e.g. `deriveSeed(seed, epoch, STREAM)`), so that
 * independent streams come from one user seed. Each part is a safe integer; both of its 32-bit
 * words are mixed in, so seeds beyond 2^32 stay distinct.
 */
export function deriveSeed(...parts: number[]): number {
  let h = 0x6a09e667;
  for (const part of parts) {
    if (!Number.isSafeInteger(part)) throw new RangeError(`deriveSeed: parts must be safe integers, got ${part}`);
    h = mix32((h ^ (part >>> 0)) + 0x9e3779b9);
    h = mix32((h ^ (Math.floor(part / TWO_32) >>> 0)) + 0x7f4a7c15);
  }
  return h >>> 0;
}

/**
 * The uint32 seed of the stream called `name` under the user seed `seed`:
 * `deriveSeed(seed, fnv1a32(utf8(name)))`. A model parameter's initialisation uses
 * `seedFor(modelSeed, parameterName)`, so it depends on the model seed and that name only.
 */
export function seedFor(seed: number, name: string): number {
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seedFor: seed must be a safe integer, got ${seed}`);
  if (typeof name !== 'string' || name.length === 0) throw new RangeError(`seedFor: name must be a non-empty string, got ${JSON.stringify(name)}`);
  return deriveSeed(seed, fnv1a32(UTF8.encode(name)));
}
