/**
 * Test helper: safetensors files from raw header text, for headers encodeSafetensors never writes
 * (bad JSON, hostile shapes and offsets, a wrong declared header length). Used by the parser tests
 * and the fuzz harness (testing/fuzz-core.ts).
 */

/** `[u64 header length][header][data]`, the header length written as given (or the true one). */
export function assembleSafetensors(header: string, data: ArrayLike<number> | ArrayBufferView = [], declaredLength?: bigint): Uint8Array {
  const headerBytes = new TextEncoder().encode(header);
  const bytes = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : Uint8Array.from(data);
  const out = new Uint8Array(8 + headerBytes.length + bytes.length);
  new DataView(out.buffer).setBigUint64(0, declaredLength ?? BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  out.set(bytes, 8 + headerBytes.length);
  return out;
}
