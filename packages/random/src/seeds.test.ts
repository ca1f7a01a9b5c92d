import { deriveSeed, fnv1a32, mix32, seedFor } from '@maejs/random';

const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);

/** The parameter names of a ViT-Huge MAE (32 encoder blocks, 8 decoder blocks), as in the official state dict. */
function maeHugeNames(): string[] {
  const block = (prefix: string): string[] =>
    ['norm1', 'attn.qkv', 'attn.proj', 'norm2', 'mlp.fc1', 'mlp.fc2'].flatMap((layer) => [`${prefix}.${layer}.weight`, `${prefix}.${layer}.bias`]);
  return [
    'cls_token',
    'pos_embed',
    'mask_token',
    'patch_embed.proj.weight',
    'patch_embed.proj.bias',
    ...Array.from({ length: 32 }, (_, i) => block(`blocks.${i}`)).flat(),
    'norm.weight',
    'norm.bias',
    'decoder_embed.weight',
    'decoder_embed.bias',
    'decoder_pos_embed',
    ...Array.from({ length: 8 }, (_, i) => block(`decoder_blocks.${i}`)).flat(),
    'decoder_norm.weight',
    'decoder_norm.bias',
    'decoder_pred.weight',
    'decoder_pred.bias',
    'fc_norm.weight',
    'fc_norm.bias',
    'head.weight',
    'head.bias',
  ];
}

describe('mix32', () => {
  it('is the MurmurHash3 fmix32 finaliser (published MurmurHash3_x86_32 vectors)', () => {
    // MurmurHash3_x86_32 of the empty input is fmix32(seed). Vectors from the murmurhash3 test of
    // Bitcoin Core (src/test/hash_tests.cpp): T(expected, seed, "") for seeds 0, 0xFBA4C795, 0xffffffff;
    // seed 1 -> 0x514E28B7 is the SMHasher value quoted by many ports.
    expect(mix32(0)).toBe(0);
    expect(mix32(0xfba4c795)).toBe(0x6a396f08);
    expect(mix32(0xffffffff)).toBe(0x81f16f39);
    expect(mix32(-1)).toBe(0x81f16f39);
    expect(mix32(1)).toBe(0x514e28b7);
  });
});

describe('fnv1a32', () => {
  it('matches the published FNV-1a 32-bit vectors', () => {
    // From the FNV test suite (test_fnv.c, Landon Curt Noll, www.isthe.com/chongo/tech/comp/fnv).
    expect(fnv1a32(utf8(''))).toBe(0x811c9dc5);
    expect(fnv1a32(utf8('a'))).toBe(0xe40c292c);
    expect(fnv1a32(utf8('foobar'))).toBe(0xbf9cf968);
  });
});

describe('deriveSeed', () => {
  it('is stable and separates streams', () => {
    expect(deriveSeed(0)).toBe(2644196859);
    expect(deriveSeed(1, 0, 0x5348)).toBe(3136854255);
    expect(deriveSeed(2 ** 40, 3)).toBe(3501491958);
    expect(deriveSeed(1, 0, 5)).not.toBe(deriveSeed(1, 1, 5));
    expect(deriveSeed(1, 0, 5)).not.toBe(deriveSeed(0, 1, 5));
    expect(deriveSeed(3, 4)).toBe(deriveSeed(3, 4));
    expect(deriveSeed(2 ** 32)).not.toBe(deriveSeed(0));
  });

  it('rejects parts that are not safe integers', () => {
    expect(() => deriveSeed(1, 0.5)).toThrow(/deriveSeed: parts must be safe integers, got 0.5/);
    expect(() => deriveSeed(NaN)).toThrow(/deriveSeed: parts must be safe integers, got NaN/);
  });
});

describe('seedFor', () => {
  it('gives each name a stable seed', () => {
    expect(seedFor(0, 'cls_token')).toBe(993528284);
    expect(seedFor(0, 'mask_token')).toBe(979075172);
    expect(seedFor(0, 'blocks.0.attn.qkv.weight')).toBe(3169475267);
    expect(seedFor(1, 'blocks.0.attn.qkv.weight')).toBe(1551367500);
    expect(seedFor(0, 'é')).toBe(934286408); // the UTF-8 bytes c3 a9
    expect(seedFor(7, 'head.weight')).toBe(deriveSeed(7, fnv1a32(utf8('head.weight'))));
  });

  it('gives every parameter of a ViT-Huge MAE a different seed', () => {
    const names = maeHugeNames();
    expect(names.length).toBe(3 + 2 + 32 * 12 + 2 + 3 + 8 * 12 + 4 + 4);
    for (const seed of [0, 1, 2 ** 40]) expect(new Set(names.map((n) => seedFor(seed, n))).size).toBe(names.length);
  });

  it('does not shift one block onto the next when the model seed changes', () => {
    // A per-parameter counter (seed + k) made model seed s + 12 initialise block i as seed s
    // initialises block i + 1 (12 parameters a block): no seed of one model equals a seed of another.
    const names = maeHugeNames();
    const seeds = (s: number): Set<number> => new Set(names.map((n) => seedFor(s, n)));
    const base = seeds(0);
    for (const shift of [1, 4, 6, 12]) {
      const shifted = [...seeds(shift)].filter((x) => base.has(x));
      expect(shifted).toEqual([]);
    }
    expect(seedFor(4, 'blocks.0.attn.qkv.weight')).not.toBe(seedFor(0, 'blocks.1.attn.qkv.weight'));
  });

  it('rejects a bad seed or name', () => {
    expect(() => seedFor(1.5, 'cls_token')).toThrow(/seedFor: seed must be a safe integer, got 1.5/);
    expect(() => seedFor(0, '')).toThrow(/seedFor: name must be a non-empty string, got ""/);
    expect(() => seedFor(0, 3 as never)).toThrow(/seedFor: name must be a non-empty string, got 3/);
  });
});
