import { encodeNpy, parseNpy } from './npy.js';
import { stateDictFromPth, parsePth } from './pth.js';
import { encodeSafetensors, parseSafetensors } from './safetensors.js';
import type { TensorRecord } from './tensor-record.js';
import { readGolden as read, tinyGray } from '../../../testing/golden.js';

const caseJson = tinyGray.caseJson() as { state_dict_keys: Record<string, number[]> };

/** The raw bytes, so NaN and -0 compare exactly (and fast: jest's toEqual on big typed arrays is slow). */
function bits(data: Float32Array | Int32Array): Buffer {
  return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}

function expectSameTensors(a: Map<string, TensorRecord>, b: Map<string, TensorRecord>): void {
  expect([...a.keys()]).toEqual([...b.keys()]);
  for (const [key, ta] of a) {
    const tb = b.get(key) as TensorRecord;
    expect({ key, dtype: ta.dtype, shape: ta.shape }).toEqual({ key, dtype: tb.dtype, shape: tb.shape });
    expect(ta.data.constructor).toBe(tb.data.constructor);
    expect({ key, identical: bits(ta.data).equals(bits(tb.data)) }).toEqual({ key, identical: true });
  }
}

describe('golden tiny-gray', () => {
  const fromSafetensors = parseSafetensors(read('state_dict.safetensors'), 'state_dict.safetensors');
  const fromPth = stateDictFromPth(read('state_dict.pth'), 'state_dict.pth');

  it('state_dict.pth and state_dict.safetensors hold the same float32 tensors, bit for bit, in the same order', () => {
    expect(fromPth.wrapper).toBeNull();
    expect(fromPth.skipped).toEqual([]);
    expect(fromPth.tensors.size).toBe(Object.keys(caseJson.state_dict_keys).length); // 50 in tiny-gray
    expectSameTensors(fromPth.tensors, fromSafetensors.tensors);
    for (const t of fromPth.tensors.values()) expect(t.data).toBeInstanceOf(Float32Array);
  });

  it('shapes and key order equal case.json state_dict_keys', () => {
    const expected = Object.entries(caseJson.state_dict_keys);
    expect([...fromPth.tensors].map(([k, t]) => [k, t.shape])).toEqual(expected);
    expect([...fromSafetensors.tensors].map(([k, t]) => [k, t.shape])).toEqual(expected);
    for (const t of fromPth.tensors.values()) expect(t.data.length).toBe(t.shape.reduce((a: number, b: number) => a * b, 1));
  });

  it('parsePth exposes the archive name and an OrderedDict root', () => {
    const { root, archiveName } = parsePth(read('state_dict.pth'), 'state_dict.pth');
    expect(archiveName).toBe('state_dict');
    expect(root).toBeInstanceOf(Map);
  });

  it('safetensors metadata is read', () => {
    expect(fromSafetensors.metadata).toEqual({ format: 'pt', case: 'tiny-gray' });
  });

  it('npy files have the documented shapes and dtypes', () => {
    const inputs = parseNpy(read('inputs.npy'), 'inputs.npy');
    expect(inputs.dtype).toBe('float32');
    expect(inputs.shape).toEqual([3, 1, 28, 28]);
    expect(inputs.data).toBeInstanceOf(Float32Array);
    expect(inputs.data.length).toBe(3 * 28 * 28);
    const ids = parseNpy(read('ids_restore.npy'), 'ids_restore.npy');
    expect(ids.dtype).toBe('int32');
    expect(ids.shape).toEqual([3, 49]);
    expect(ids.data).toBeInstanceOf(Int32Array);
    for (let n = 0; n < 3; n++) expect([...ids.data.subarray(49 * n, 49 * n + 49)].sort((a, b) => a - b)).toEqual([...Array(49).keys()]);
  });

  it.each(['inputs.npy', 'ids_restore.npy', 'pred.npy', 'mask.npy', 'grad_patch_embed_proj_weight.npy'])('encodeNpy(parseNpy(%s)) is byte-identical to numpy', (file) => {
    const bytes = read(file);
    const record = parseNpy(bytes, file);
    expect(record.dtype === 'float32' || record.dtype === 'int32').toBe(true);
    const encoded = encodeNpy(record as { dtype: 'float32' | 'int32'; shape: number[]; data: Float32Array | Int32Array });
    expect(Buffer.from(encoded).equals(Buffer.from(bytes))).toBe(true);
  });

  it.each(['state_dict.safetensors', 'grads.safetensors', 'state_dict_after_step.safetensors'])('encoding parsed %s reproduces the file byte for byte', (file) => {
    const bytes = read(file);
    const parsed = parseSafetensors(bytes, file);
    const encoded = encodeSafetensors(
      [...parsed.tensors].map(([k, t]) => [k, { dtype: 'float32' as const, shape: t.shape, data: t.data }]),
      parsed.metadata,
    );
    expectSameTensors(parseSafetensors(encoded, 'encoded').tensors, parsed.tensors);
    expect(Buffer.from(encoded).equals(Buffer.from(bytes))).toBe(true);
  });

  it('accepts Node Buffers that are views into a larger (pooled) memory block', () => {
    /** The same bytes as a Buffer at byte offset 3 of a bigger allocation (Buffer#slice would not copy). */
    const asOffsetBuffer = (bytes: Uint8Array): Buffer => {
      const block = Buffer.alloc(bytes.length + 8, 0xee);
      block.set(bytes, 3);
      return block.subarray(3, 3 + bytes.length);
    };
    for (const file of ['inputs.npy', 'ids_restore.npy']) {
      const expected = parseNpy(read(file), file);
      const actual = parseNpy(asOffsetBuffer(read(file)), file);
      expect(actual.shape).toEqual(expected.shape);
      expect(bits(actual.data).equals(bits(expected.data))).toBe(true);
    }
    const pooled = parseNpy(Buffer.from(read('ids_restore.npy')), 'ids_restore.npy'); // small: from the shared pool
    expect(bits(pooled.data).equals(bits(parseNpy(read('ids_restore.npy')).data))).toBe(true);
    expectSameTensors(parseSafetensors(asOffsetBuffer(read('state_dict.safetensors'))).tensors, fromSafetensors.tensors);
    expectSameTensors(stateDictFromPth(asOffsetBuffer(read('state_dict.pth'))).tensors, fromPth.tensors);
  });
});
