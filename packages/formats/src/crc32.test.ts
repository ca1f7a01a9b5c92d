import { crc32Update } from './crc32.js';

/** Bytewise reference CRC-32. */
function reference(bytes: Uint8Array): number {
  let c = -1;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  }
  return ~c >>> 0;
}

describe('crc32Update', () => {
  it('matches the standard check value and a bytewise reference, incrementally', () => {
    expect(crc32Update(0, new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
    expect(crc32Update(0, new Uint8Array(0))).toBe(0);
    const bytes = Uint8Array.from({ length: 1037 }, (_, i) => (i * 131 + 7) % 256);
    expect(crc32Update(0, bytes)).toBe(reference(bytes));
    for (const split of [1, 5, 8, 13, 1000]) expect(crc32Update(crc32Update(0, bytes.subarray(0, split)), bytes.subarray(split))).toBe(reference(bytes));
  });
});
