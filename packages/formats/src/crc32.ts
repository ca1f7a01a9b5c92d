/**
 * Incremental CRC-32 (IEEE 802.3, the checksum of gzip members), used to verify gzip trailers
 * because fflate's streaming decompressor does not. Slicing-by-8: eight 256-entry tables, eight
 * bytes per step (about 4x a bytewise loop; ~1.5 GB/s in V8).
 */

let tables: Int32Array | undefined;

/** Tables T0..T7 of the reflected polynomial 0xEDB88320, [8, 256], built on first use. */
function crcTables(): Int32Array {
  if (tables) return tables;
  const t = new Int32Array(8 * 256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  for (let n = 0; n < 256; n++) {
    for (let k = 1; k < 8; k++) t[k * 256 + n] = t[(k - 1) * 256 + n] >>> 8 ^ t[t[(k - 1) * 256 + n] & 0xff];
  }
  tables = t;
  return t;
}

/**
 * Continues a CRC-32 over `bytes`. Start with `crc = 0`; the result is the unsigned CRC of all the
 * bytes fed so far, so `crc32Update(crc32Update(0, a), b) === crc32Update(0, concat(a, b))`.
 */
export function crc32Update(crc: number, bytes: Uint8Array): number {
  const t = crcTables();
  let c = ~crc;
  let i = 0;
  const end8 = bytes.length - (bytes.length % 8);
  for (; i < end8; i += 8) {
    const lo = c ^ (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
    c =
      t[1792 + (lo & 0xff)] ^
      t[1536 + ((lo >>> 8) & 0xff)] ^
      t[1280 + ((lo >>> 16) & 0xff)] ^
      t[1024 + (lo >>> 24)] ^
      t[768 + bytes[i + 4]] ^
      t[512 + bytes[i + 5]] ^
      t[256 + bytes[i + 6]] ^
      t[bytes[i + 7]];
  }
  for (; i < bytes.length; i++) c = t[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

/** CRC-32 (IEEE 802.3, as in zip and gzip) of `bytes`, as an unsigned number. */
export function crc32(bytes: Uint8Array): number {
  return crc32Update(0, bytes);
}
