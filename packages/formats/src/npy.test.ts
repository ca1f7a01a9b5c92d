import { encodeNpy, parseNpy } from './npy.js';
import { WeightsFormatError } from './tensor-record.js';

/** An NPY file with the given header text (version 1, 2 or 3) and data bytes. */
function npy(header: string, data: ArrayLike<number> | ArrayBufferView = [], version = 1): Uint8Array {
  const headerBytes = new TextEncoder().encode(header);
  const lengthSize = version === 1 ? 2 : 4;
  const raw = ArrayBuffer.isView(data) ? new Uint8Array(data.buffer, data.byteOffset, data.byteLength) : Uint8Array.from(data);
  const out = new Uint8Array(8 + lengthSize + headerBytes.length + raw.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const view = new DataView(out.buffer);
  if (version === 1) view.setUint16(8, headerBytes.length, true);
  else view.setUint32(8, headerBytes.length, true);
  out.set(headerBytes, 8 + lengthSize);
  out.set(raw, 8 + lengthSize + headerBytes.length);
  return out;
}

const dict = (descr: string, shape: string, fortran = 'False'): string => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }\n`;

function expectFormatError(run: () => unknown, message: RegExp): void {
  expect(run).toThrow(WeightsFormatError);
  expect(run).toThrow(message);
}

describe('parseNpy', () => {
  it('reads every supported dtype', () => {
    expect(parseNpy(npy(dict('<f8', '(2,)'), new Float64Array([1.5, -1e300])))).toEqual({ dtype: 'float64', shape: [2], data: new Float32Array([1.5, -Infinity]) });
    expect(parseNpy(npy(dict('<f2', '(3,)'), new Uint16Array([0x3c00, 0xc000, 0x0001]))).data).toEqual(new Float32Array([1, -2, 2 ** -24]));
    expect(parseNpy(npy(dict('<i8', '(2,)'), new BigInt64Array([-5n, 2147483647n]))).data).toEqual(new Int32Array([-5, 2147483647]));
    expect(parseNpy(npy(dict('<i2', '(2,)'), new Int16Array([-300, 7]))).data).toEqual(new Int32Array([-300, 7]));
    expect(parseNpy(npy(dict('|i1', '(2,)'), new Int8Array([-128, 127]))).data).toEqual(new Int32Array([-128, 127]));
    expect(parseNpy(npy(dict('|u1', '(2,)'), [255, 0]))).toEqual({ dtype: 'uint8', shape: [2], data: new Int32Array([255, 0]) });
    expect(parseNpy(npy(dict('|b1', '(2,)'), [1, 0]))).toEqual({ dtype: 'bool', shape: [2], data: new Int32Array([1, 0]) });
    expect(parseNpy(npy(dict('<i4', '()'), new Int32Array([42])))).toEqual({ dtype: 'int32', shape: [], data: new Int32Array([42]) });
    expect(parseNpy(npy(dict('<f4', '(0, 3)')))).toEqual({ dtype: 'float32', shape: [0, 3], data: new Float32Array(0) });
  });

  it('reads v2 and v3 headers (v3 is UTF-8)', () => {
    expect(parseNpy(npy(dict('<f4', '(1,)'), new Float32Array([2]), 2)).data).toEqual(new Float32Array([2]));
    expect(parseNpy(npy(`${dict('<f4', '(1,)').trimEnd()}   \n`, new Float32Array([3]), 3)).data).toEqual(new Float32Array([3]));
  });

  it('accepts keys in any order, double quotes and no trailing comma', () => {
    const header = `{"shape": (2, 1), "fortran_order": False, "descr": "<i4"}`;
    expect(parseNpy(npy(header, new Int32Array([1, 2])))).toEqual({ dtype: 'int32', shape: [2, 1], data: new Int32Array([1, 2]) });
  });

  it('transposes fortran_order arrays into row-major order', () => {
    // A = [[1, 2, 3], [4, 5, 6]] stored column-major: 1 4 2 5 3 6
    const record = parseNpy(npy(dict('<f4', '(2, 3)', 'True'), new Float32Array([1, 4, 2, 5, 3, 6])));
    expect(record.shape).toEqual([2, 3]);
    expect(record.data).toEqual(new Float32Array([1, 2, 3, 4, 5, 6]));
    // rank 3: element (i, j, k) at i + 2j + 4k in Fortran order
    const f = new Int32Array(2 * 2 * 3);
    for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) for (let k = 0; k < 3; k++) f[i + 2 * j + 4 * k] = 100 * i + 10 * j + k;
    const c = parseNpy(npy(dict('<i4', '(2, 2, 3)', 'True'), f)).data;
    expect([...c]).toEqual([0, 1, 2, 10, 11, 12, 100, 101, 102, 110, 111, 112]);
  });

  it('reads data at an unaligned byte offset', () => {
    const file = npy(dict('<f4', '(2,)'), new Float32Array([0.25, -8]));
    const shifted = new Uint8Array(file.length + 1);
    shifted.set(file, 1);
    expect(parseNpy(shifted.subarray(1)).data).toEqual(new Float32Array([0.25, -8]));
  });

  it('refuses malformed and unsupported files with named problems', () => {
    expectFormatError(() => parseNpy(new Uint8Array([1, 2, 3]), 'x.npy'), /^x\.npy: not an NPY file/);
    expectFormatError(() => parseNpy(npy(dict('>f4', '(1,)'), [0, 0, 0, 0]), 'be.npy'), /^be\.npy: dtype '>f4' is big-endian; only little-endian .*'<f4'/);
    expectFormatError(() => parseNpy(npy(dict('<c8', '(1,)'), new Uint8Array(8))), /^bytes: dtype '<c8' is not supported; expected one of/);
    expectFormatError(() => parseNpy(npy(`{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }`, new Uint8Array(4))), /structured dtypes are not supported/);
    expectFormatError(() => parseNpy(npy(dict('<f4', '(2,)'), new Float32Array([1])), 'short.npy'), /^short\.npy: shape \[2\] of float32 needs 8 data bytes after the header but the file has 4/);
    expectFormatError(() => parseNpy(npy(dict('<f4', '(1,)'), new Float32Array([1, 2]))), /needs 4 data bytes after the header but the file has 8/);
    expectFormatError(() => parseNpy(npy(dict('<f4', '(5)'), new Float32Array(5))), /parenthesised number, not a tuple/);
    expectFormatError(() => parseNpy(npy(dict('<f4', '(-1,)'))), /expected a non-negative integer/);
    expectFormatError(() => parseNpy(npy(dict('<f4', '(2147483648, 2147483648, 2147483648)'))), /overflows 2\^53/);
    expectFormatError(() => parseNpy(npy(`{'descr': '<f4', 'shape': (1,), }`, new Float32Array(1))), /'fortran_order' must be True or False/);
    expectFormatError(() => parseNpy(npy(`{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, 'shape': (1,)}`)), /duplicate key 'descr'/);
    expectFormatError(() => parseNpy(npy(`{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': True}`)), /unexpected key 'x'/);
    expectFormatError(() => parseNpy(npy(`${dict('<f4', '(1,)')}__import__('os')`)), /unexpected text after the closing brace/);
    expectFormatError(() => parseNpy(npy(`{'descr': '<f4' 'fortran_order': False}`)), /expected '}'/);
    expectFormatError(() => parseNpy(npy(dict('<i8', '(1,)'), new BigInt64Array([2n ** 40n]))), /int64 value 1099511627776 at element 0 does not fit in int32/);
    expectFormatError(() => parseNpy(npy(dict('|b1', '(2,)'), [1, 7])), /bool element 1 has byte value 7; expected 0 or 1/);
    const lying = npy(dict('<f4', '(1,)'), new Float32Array(1));
    new DataView(lying.buffer).setUint16(8, 60000, true);
    expectFormatError(() => parseNpy(lying), /header length field says 60000 bytes but only \d+ follow it/);
    const v9 = npy(dict('<f4', '(1,)'), new Float32Array(1));
    v9[6] = 9;
    expectFormatError(() => parseNpy(v9), /NPY format version 9\.0 is not supported/);
  });
});

describe('encodeNpy', () => {
  it('round-trips float32 and int32 bit-exactly, with a 64-byte aligned v1.0 header', () => {
    const values = new Float32Array([0, -0, NaN, Infinity, -Infinity, 1e-45, 3.4028234663852886e38, Math.PI]);
    const encoded = encodeNpy({ dtype: 'float32', shape: [2, 4], data: values });
    expect([encoded[6], encoded[7]]).toEqual([1, 0]);
    expect((10 + new DataView(encoded.buffer).getUint16(8, true)) % 64).toBe(0);
    const back = parseNpy(encoded);
    expect(back.shape).toEqual([2, 4]);
    expect(new Uint32Array(back.data.buffer)).toEqual(new Uint32Array(values.buffer));
    const ints = new Int32Array([-(2 ** 31), 2 ** 31 - 1, 0]);
    expect(parseNpy(encodeNpy({ dtype: 'int32', shape: [3], data: ints }))).toEqual({ dtype: 'int32', shape: [3], data: ints });
    expect(parseNpy(encodeNpy({ dtype: 'int32', shape: [], data: new Int32Array([5]) })).shape).toEqual([]);
  });

  it('refuses data that does not match the shape or dtype', () => {
    expectFormatError(() => encodeNpy({ dtype: 'float32', shape: [3], data: new Float32Array(2) }), /^encodeNpy: data must be Float32Array with 3 elements/);
    expectFormatError(() => encodeNpy({ dtype: 'int32', shape: [1], data: new Float32Array(1) }), /must be Int32Array with 1 elements/);
  });
});
