import { encodeSafetensors, parseSafetensors } from './safetensors.js';
import { WeightsFormatError } from './tensor-record.js';
import { assembleSafetensors } from './test-utils/safetensors-bytes.js';

const entry = (dtype: string, shape: unknown, offsets: unknown): string => JSON.stringify({ dtype, shape, data_offsets: offsets });

function expectFormatError(run: () => unknown, message: RegExp): void {
  expect(run).toThrow(WeightsFormatError);
  expect(run).toThrow(message);
}

describe('parseSafetensors', () => {
  it('decodes every supported dtype', () => {
    const parts: Array<[string, string, number[], Uint8Array]> = [
      ['f32', 'F32', [2], new Uint8Array(new Float32Array([1.5, -2]).buffer)],
      ['f16', 'F16', [4], new Uint8Array(new Uint16Array([0x3c00, 0x7bff, 0x8000, 0x7c00]).buffer)],
      ['bf16', 'BF16', [2], new Uint8Array(new Uint16Array([0x3f80, 0xc049]).buffer)],
      ['f64', 'F64', [1], new Uint8Array(new Float64Array([0.1]).buffer)],
      ['i32', 'I32', [1], new Uint8Array(new Int32Array([-7]).buffer)],
      ['i64', 'I64', [2], new Uint8Array(new BigInt64Array([-(2n ** 31n), 12n]).buffer)],
      ['i16', 'I16', [1], new Uint8Array(new Int16Array([-2]).buffer)],
      ['i8', 'I8', [1], new Uint8Array(new Int8Array([-3]).buffer)],
      ['u8', 'U8', [1], Uint8Array.of(200)],
      ['bool', 'BOOL', [2], Uint8Array.of(0, 1)],
    ];
    let offset = 0;
    const header = parts.map(([name, code, shape, bytes]) => `"${name}":${entry(code, shape, [offset, (offset += bytes.length)])}`);
    const data = new Uint8Array(offset);
    parts.reduce((at, [, , , bytes]) => (data.set(bytes, at), at + bytes.length), 0);
    const { tensors, metadata } = parseSafetensors(assembleSafetensors(`{${header.join(',')}}`, data));
    expect(metadata).toEqual({});
    const values = Object.fromEntries([...tensors].map(([k, t]) => [k, [t.dtype, [...t.data]]]));
    expect(values).toEqual({
      f32: ['float32', [1.5, -2]],
      f16: ['float16', [1, 65504, -0, Infinity]],
      bf16: ['bfloat16', [1, -3.140625]],
      f64: ['float64', [Math.fround(0.1)]],
      i32: ['int32', [-7]],
      i64: ['int64', [-(2 ** 31), 12]],
      i16: ['int16', [-2]],
      i8: ['int8', [-3]],
      u8: ['uint8', [200]],
      bool: ['bool', [0, 1]],
    });
    expect(tensors.get('f16')?.data).toBeInstanceOf(Float32Array);
    expect(tensors.get('bool')?.data).toBeInstanceOf(Int32Array);
  });

  it('keeps file order even for integer-like names, and reads metadata', () => {
    const header = `{"b":${entry('F32', [1], [0, 4])},"10":${entry('F32', [1], [4, 8])},"2":${entry('F32', [], [8, 12])},"__metadata__":{"__proto__":"x","k":"v"}}`;
    const { tensors, metadata } = parseSafetensors(assembleSafetensors(header, new Float32Array([1, 2, 3])));
    expect([...tensors.keys()]).toEqual(['b', '10', '2']);
    expect(tensors.get('2')?.shape).toEqual([]);
    expect(Object.getPrototypeOf(metadata)).toBe(Object.prototype);
    expect(Object.entries(metadata)).toEqual([['__proto__', 'x'], ['k', 'v']]);
  });

  it('accepts zero-sized tensors and trailing header spaces', () => {
    const { tensors } = parseSafetensors(assembleSafetensors(`{"e":${entry('F32', [0, 5], [0, 0])},"x":${entry('I32', [1], [0, 4])}}    `, new Int32Array([9])));
    expect(tensors.get('e')?.data).toEqual(new Float32Array(0));
    expect(tensors.get('x')?.data).toEqual(new Int32Array([9]));
  });

  it('checks the header length field before reading anything', () => {
    expectFormatError(() => parseSafetensors(new Uint8Array(5), 'tiny.safetensors'), /^tiny\.safetensors: file has 5 bytes; a safetensors file starts with an 8-byte header length/);
    expectFormatError(() => parseSafetensors(assembleSafetensors('{}', [], 2n ** 53n), 'm.safetensors'), /^m\.safetensors: header length field is 9007199254740992 but only 2 bytes follow it/);
    expectFormatError(() => parseSafetensors(assembleSafetensors('{}', [], 2n ** 64n - 1n)), /header length field is 18446744073709551615 but only 2 bytes follow it/);
    expectFormatError(() => parseSafetensors(assembleSafetensors('{}', [], 1n)), /header length 1 is too small/);
  });

  it('refuses bad JSON and bad header structure', () => {
    expectFormatError(() => parseSafetensors(assembleSafetensors('{"a":', [])), /^bytes: header is not valid JSON: expected a JSON value at character 5, found end of input/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('F32', [1], [0, 4])},}`, new Float32Array(1))), /not valid JSON: expected a string key/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('F32', [1], [0, 4])},"a":${entry('F32', [1], [0, 4])}}`, new Float32Array(1))), /duplicate key "a"/);
    expectFormatError(() => parseSafetensors(assembleSafetensors('[1, 2]')), /header must start with '\{'/);
    expectFormatError(() => parseSafetensors(assembleSafetensors('{"a": 1}')), /tensor 'a' is 1; expected an object with dtype, shape, data_offsets/);
    const invalidUtf8 = assembleSafetensors('{  }');
    invalidUtf8[9] = 0xff;
    expectFormatError(() => parseSafetensors(invalidUtf8), /header is not valid UTF-8/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`${'['.repeat(0)}{"a":${'['.repeat(100)}${']'.repeat(100)}}`)), /nesting deeper than 64 levels/);
    expectFormatError(() => parseSafetensors(assembleSafetensors('{"__metadata__":{"k":1}}')), /__metadata__ entry 'k' is 1; expected a string/);
  });

  it('refuses bad entries: dtype, shape, offsets, byte counts, overlaps and gaps', () => {
    const one = new Float32Array([1]);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('C64', [1], [0, 8])}}`, new Uint8Array(8)), 'd.st'), /^d\.st: tensor 'a' has dtype "C64"; supported: F32, F16, BF16/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('constructor', [1], [0, 4])}}`, one)), /has dtype "constructor"; supported/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('F32', [2 ** 31, 2 ** 31], [0, 4])}}`, one)), /tensor 'a' has shape \[2147483648, 2147483648\] whose element count overflows 2\^53/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('F32', [2 ** 31, 2], [0, 4])}}`, one)), /tensor 'a' spans 4 bytes \(data_offsets \[0, 4\]\) but shape \[2147483648, 2\] of F32 needs 17179869184/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('F32', [-1], [0, 4])}}`, one)), /shape entry -1; expected non-negative integers/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('F32', [1.5], [0, 4])}}`, one)), /shape entry 1.5/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('F32', '1', [0, 4])}}`, one)), /has shape "1"; expected an array of integers/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('F32', [2], [0, 4])}}`, one)), /tensor 'a' spans 4 bytes \(data_offsets \[0, 4\]\) but shape \[2\] of F32 needs 8/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('F32', [1], [0, 8])}}`, one), 'p.st'), /^p\.st: tensor 'a' has data_offsets \[0, 8\] past the end of the 4-byte data section/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('F32', [1], [2 ** 60, 2 ** 60 + 4])}}`, one)), /data_offsets \[1152921504606847000, 1152921504606847000\] past the end of the 4-byte data section/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('F32', [1], [4, 0])}}`, one)), /begin must not exceed end/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('F32', [1], [0])}}`, one)), /data_offsets \[0\]; expected \[begin, end\]/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('F32', [1], [-4, 0])}}`, one)), /data_offsets \[-4,0\]; expected/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":{"dtype":"F32","shape":[1]}}`, one)), /data_offsets missing/);
    const two = new Float32Array([1, 2]);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('F32', [2], [0, 8])},"b":${entry('F32', [1], [4, 8])}}`, two), 'o.st'), /^o\.st: tensor 'b' \(bytes 4\.\.8\) overlaps tensor 'a' \(bytes 0\.\.8\)/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('F32', [1], [4, 8])}}`, two)), /data bytes 0\.\.4 belong to no tensor/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('F32', [1], [0, 4])}}`, two)), /data bytes 4\.\.8 belong to no tensor; expected the tensors to end at the end of the file/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('I64', [1], [0, 8])}}`, new BigInt64Array([2n ** 32n])), 'big.st'), /^big\.st: tensor 'a': int64 value 4294967296 at element 0 does not fit in int32/);
    expectFormatError(() => parseSafetensors(assembleSafetensors(`{"a":${entry('BOOL', [1], [0, 1])}}`, [2])), /tensor 'a': bool element 0 has byte value 2/);
  });
});

describe('encodeSafetensors', () => {
  it('round-trips float32 and int32 bit-exactly, aligned, in the given order', () => {
    const f = new Float32Array([NaN, -0, 1e-45, -Infinity, 2.5]);
    const i = new Int32Array([-(2 ** 31), 0, 2 ** 31 - 1]);
    const encoded = encodeSafetensors(
      [
        ['z', { dtype: 'float32', shape: [5], data: f }],
        ['a', { dtype: 'int32', shape: [1, 3], data: i }],
        ['s', { dtype: 'float32', shape: [], data: new Float32Array([7]) }],
      ],
      { note: 'é"\\' },
    );
    const headerLength = Number(new DataView(encoded.buffer).getBigUint64(0, true));
    expect((8 + headerLength) % 8).toBe(0);
    const { tensors, metadata } = parseSafetensors(encoded);
    expect([...tensors.keys()]).toEqual(['z', 'a', 's']);
    expect(new Uint32Array(tensors.get('z')!.data.buffer)).toEqual(new Uint32Array(f.buffer));
    expect(tensors.get('a')).toEqual({ dtype: 'int32', shape: [1, 3], data: i });
    expect(tensors.get('s')).toEqual({ dtype: 'float32', shape: [], data: new Float32Array([7]) });
    expect(metadata).toEqual({ note: 'é"\\' });
  });

  it('accepts views into larger buffers and writes only the view', () => {
    const big = new Float32Array([9, 1, 2, 9]);
    const { tensors } = parseSafetensors(encodeSafetensors([['v', { dtype: 'float32', shape: [2], data: big.subarray(1, 3) }]]));
    expect(tensors.get('v')?.data).toEqual(new Float32Array([1, 2]));
  });

  it('refuses duplicate names, reserved names and mismatched data', () => {
    const t = { dtype: 'float32' as const, shape: [1], data: new Float32Array(1) };
    expectFormatError(() => encodeSafetensors([['a', t], ['a', t]]), /^encodeSafetensors: duplicate tensor name 'a'/);
    expectFormatError(() => encodeSafetensors([['__metadata__', t]]), /'__metadata__' is reserved/);
    expectFormatError(() => encodeSafetensors([['a', { ...t, shape: [2] }]]), /shape \[2\] \(2 elements\) but 1 data elements/);
    expectFormatError(() => encodeSafetensors([['a', { ...t, dtype: 'int32' }]]), /is int32; expected its data to be Int32Array/);
  });
});
