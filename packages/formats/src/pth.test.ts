import { parsePth, selectStateDict, stateDictFromPth } from './pth.js';
import { PickledTensor } from './pickle-value.js';
import { parseSafetensors } from './safetensors.js';
import { WeightsFormatError } from './tensor-record.js';
import { readGolden } from '../../../testing/golden.js';
import { PickleWriter } from './pickle-writer.js';
import { writeZip } from './zip.js';
import { buildPth, float32Bytes, type TensorSpec, writeDictBody, writeStateDictPickle } from './test-utils/pth-builder.js';

function expectFormatError(run: () => unknown, message: RegExp): void {
  expect(run).toThrow(WeightsFormatError);
  expect(run).toThrow(message);
}

/** A contiguous float32 view over a whole storage. */
function contiguous(key: string, storageKey: string, shape: number[]): TensorSpec {
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((a, b) => a * b, 1));
  return { key, storageClass: 'FloatStorage', storageKey, storageNumel: shape.reduce((a, b) => a * b, 1), offset: 0, size: shape, stride: strides };
}

/** A .pth whose data.pkl is `pickle` and whose storages are given. */
const pth = (pickle: Uint8Array, storages: Record<string, Uint8Array> = {}): Uint8Array => buildPth(pickle, storages);

/** A .pth whose pickle is built by `write` between PROTO 2 and STOP. */
function pthOf(write: (w: PickleWriter) => void, storages: Record<string, Uint8Array> = {}): Uint8Array {
  const w = new PickleWriter().proto(2);
  write(w);
  return pth(w.stop().bytes(), storages);
}

describe('stateDictFromPth on hand-made checkpoints', () => {
  const golden = parseSafetensors(readGolden('state_dict.safetensors'), 'state_dict.safetensors').tensors;
  const specs = [...golden].map(([key, t], i) => contiguous(key, String(i), t.shape));
  const storages = Object.fromEntries([...golden.values()].map((t, i) => [String(i), float32Bytes(t.data)]));

  it("finds the state dict under 'model' in {model: state_dict, epoch: 3}", () => {
    const bytes = pth(writeStateDictPickle(specs, { key: 'model', extra: [['epoch', 3]] }), storages);
    const { tensors, skipped, wrapper } = stateDictFromPth(bytes, 'wrapped.pth');
    expect(wrapper).toBe('model');
    expect(skipped).toEqual([]);
    expect([...tensors.keys()]).toEqual([...golden.keys()]);
    for (const [key, t] of tensors) {
      expect(t.shape).toEqual(golden.get(key)?.shape);
      expect(Buffer.from(t.data.buffer).equals(Buffer.from(golden.get(key)!.data.buffer))).toBe(true);
    }
    const { root } = parsePth(bytes, 'wrapped.pth');
    expect(root instanceof Map && root.get('epoch')).toBe(3);
  });

  it("finds it under 'state_dict' too, and prefers an all-tensor dict", () => {
    const bytes = pth(writeStateDictPickle(specs.slice(0, 2), { key: 'state_dict', extra: [['step', 70000]] }), storages);
    expect(stateDictFromPth(bytes).wrapper).toBe('state_dict');
  });

  it('reports non-tensor entries of the chosen dict in skipped', () => {
    const w = new PickleWriter().proto(2);
    writeDictBody(w, [['w', specs[0]], ['version', 2], ['b', specs[1]]], false);
    const { tensors, skipped, wrapper } = stateDictFromPth(pth(w.stop().bytes(), storages));
    expect(wrapper).toBeNull();
    expect([...tensors.keys()]).toEqual(['w', 'b']);
    expect(skipped).toEqual(['version']);
  });

  it('throws naming the keys found when no dict of tensors exists', () => {
    const w = new PickleWriter().proto(2);
    writeDictBody(w, [['epoch', 3], ['model', { dict: [['lr', 1]] }]], false);
    const bytes = pth(w.stop().bytes());
    expectFormatError(() => stateDictFromPth(bytes, 'opt.pth'), /^opt\.pth: no state dict found: the root is a dict with keys \['epoch', 'model'\]; expected a dict of tensors at the root or under 'model' or 'state_dict'/);
    expectFormatError(() => selectStateDict(5, 'five.pth'), /^five\.pth: no state dict found: the root is number 5/);
  });
});

describe('tensor decoding in .pth files', () => {
  it('decodes float16 and bfloat16 storages exactly', () => {
    const halves = new Uint16Array([0x3c00, 0xc000, 0x7bff, 0x0001, 0x03ff, 0x7c00, 0xfc00, 0x8000, 0x3555]);
    const bf16 = new Uint16Array([0x3f80, 0xc040, 0x4049, 0x0001]);
    const specs: TensorSpec[] = [
      { key: 'h', storageClass: 'HalfStorage', storageKey: '0', storageNumel: 9, offset: 0, size: [9], stride: [1] },
      { key: 'b', storageClass: 'BFloat16Storage', storageKey: '1', storageNumel: 4, offset: 0, size: [2, 2], stride: [2, 1] },
    ];
    const { tensors } = stateDictFromPth(pth(writeStateDictPickle(specs), { 0: new Uint8Array(halves.buffer), 1: new Uint8Array(bf16.buffer) }));
    const h = tensors.get('h')!;
    expect(h.dtype).toBe('float16');
    expect(h.data).toBeInstanceOf(Float32Array);
    expect([...h.data]).toEqual([1, -2, 65504, 2 ** -24, 1023 * 2 ** -24, Infinity, -Infinity, -0, Math.fround(0x555 / 1024 / 4)]);
    expect(Object.is(h.data[7], -0)).toBe(true);
    const b = tensors.get('b')!;
    expect(b.dtype).toBe('bfloat16');
    expect(b.shape).toEqual([2, 2]);
    expect([...b.data]).toEqual([1, -3, 3.140625, 2 ** -133]);
  });

  it('decodes integer storages (int64 within int32 range, uint8, bool, int8, int16, float64)', () => {
    const specs: TensorSpec[] = [
      { key: 'l', storageClass: 'LongStorage', storageKey: 'l', storageNumel: 2, offset: 0, size: [2], stride: [1] },
      { key: 'u', storageClass: 'ByteStorage', storageKey: 'u', storageNumel: 2, offset: 0, size: [2], stride: [1] },
      { key: 'q', storageClass: 'BoolStorage', storageKey: 'q', storageNumel: 2, offset: 0, size: [2], stride: [1] },
      { key: 'c', storageClass: 'CharStorage', storageKey: 'c', storageNumel: 1, offset: 0, size: [], stride: [] },
      { key: 's', storageClass: 'ShortStorage', storageKey: 's', storageNumel: 1, offset: 0, size: [1], stride: [1] },
      { key: 'd', storageClass: 'DoubleStorage', storageKey: 'd', storageNumel: 1, offset: 0, size: [1], stride: [1] },
    ];
    const storages = {
      l: new Uint8Array(new BigInt64Array([-3n, 2n ** 31n - 1n]).buffer),
      u: Uint8Array.of(0, 255),
      q: Uint8Array.of(1, 0),
      c: Uint8Array.of(0x80),
      s: new Uint8Array(new Int16Array([-1234]).buffer),
      d: new Uint8Array(new Float64Array([1 / 3]).buffer),
    };
    const { tensors } = stateDictFromPth(pth(writeStateDictPickle(specs), storages));
    const summary = Object.fromEntries([...tensors].map(([k, t]) => [k, [t.dtype, t.shape, [...t.data]]]));
    expect(summary).toEqual({
      l: ['int64', [2], [-3, 2 ** 31 - 1]],
      u: ['uint8', [2], [0, 255]],
      q: ['bool', [2], [1, 0]],
      c: ['int8', [], [-128]],
      s: ['int16', [1], [-1234]],
      d: ['float64', [1], [Math.fround(1 / 3)]],
    });
  });

  it('gathers non-contiguous views (transpose, offset + step, broadcast, shared storage)', () => {
    const storage = float32Bytes([...Array(12).keys()]); // 0..11 as a [3, 4] matrix
    const specs: TensorSpec[] = [
      { key: 'm', storageClass: 'FloatStorage', storageKey: '0', storageNumel: 12, offset: 0, size: [3, 4], stride: [4, 1] },
      { key: 't', storageClass: 'FloatStorage', storageKey: '0', storageNumel: 12, offset: 0, size: [4, 3], stride: [1, 4] },
      { key: 'odd', storageClass: 'FloatStorage', storageKey: '0', storageNumel: 12, offset: 1, size: [2, 2], stride: [4, 2] },
      { key: 'col', storageClass: 'FloatStorage', storageKey: '0', storageNumel: 12, offset: 3, size: [3, 1], stride: [4, 99] },
      { key: 'bcast', storageClass: 'FloatStorage', storageKey: '0', storageNumel: 12, offset: 5, size: [2, 3], stride: [0, 1] },
      { key: 'empty', storageClass: 'FloatStorage', storageKey: '0', storageNumel: 12, offset: 11, size: [0, 7], stride: [7, 1] },
    ];
    const { tensors } = stateDictFromPth(pth(writeStateDictPickle(specs), { 0: storage }));
    const values = Object.fromEntries([...tensors].map(([k, t]) => [k, [t.shape, [...t.data]]]));
    expect(values).toEqual({
      m: [[3, 4], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]],
      t: [[4, 3], [0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11]],
      odd: [[2, 2], [1, 3, 5, 7]],
      col: [[3, 1], [3, 7, 11]],
      bcast: [[2, 3], [5, 6, 7, 5, 6, 7]],
      empty: [[0, 7], []],
    });
  });

  it('rebuilds torch.nn.Parameter via _rebuild_parameter', () => {
    const bytes = pthOf(
      (w) => {
        w.emptyDict().str('p').global('torch._utils', '_rebuild_parameter').mark();
        w.global('torch._utils', '_rebuild_tensor_v2').mark();
        w.mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(2).tuple().binpersid();
        w.int(0).int(2).tupleN(1).int(1).tupleN(1).bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
        w.bool(true).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce().setitem();
      },
      { 0: float32Bytes([4, 5]) },
    );
    const p = (parsePth(bytes).root as Map<string, unknown>).get('p');
    expect(p).toBeInstanceOf(PickledTensor);
    expect(p).toMatchObject({ dtype: 'float32', shape: [2], data: new Float32Array([4, 5]), requiresGrad: true });
  });

  it('refuses storages and views that do not fit', () => {
    const base: TensorSpec = { key: 'w', storageClass: 'FloatStorage', storageKey: '0', storageNumel: 4, offset: 0, size: [4], stride: [1] };
    const four = { 0: float32Bytes([1, 2, 3, 4]) };
    expectFormatError(
      () => stateDictFromPth(pth(writeStateDictPickle([{ ...base, storageNumel: 1000 }]), four), 'big.pth'),
      /^big\.pth: storage '0' \(torch\.FloatStorage\) \(used by tensor 'w'\) declares 1000 elements \(4000 bytes\) but zip entry 'archive\/data\/0' holds 16 bytes/,
    );
    expectFormatError(
      () => stateDictFromPth(pth(writeStateDictPickle([{ ...base, storageKey: '7' }]), four)),
      /pickle refers to storage '7' \(used by tensor 'w'\) but the archive has no entry 'archive\/data\/7'/,
    );
    expectFormatError(
      () => stateDictFromPth(pth(writeStateDictPickle([{ ...base, size: [2, 2], stride: [3, 1] }]), four)),
      /tensor 'w' \(storage '0'\): view with offset 0, size \[2, 2\], stride \[3, 1\] reaches element 4 but the storage holds 4 elements/,
    );
    expectFormatError(() => stateDictFromPth(pth(writeStateDictPickle([{ ...base, offset: 1 }]), four)), /reaches element 4 but the storage holds 4/);
    expectFormatError(
      () => stateDictFromPth(pth(writeStateDictPickle([{ ...base, size: [2 ** 31, 2 ** 31], stride: [0, 0] }]), four)),
      /has shape \[2147483648, 2147483648\]|decode to more elements than the file size allows/,
    );
    expectFormatError(
      () => stateDictFromPth(pth(writeStateDictPickle([{ ...base, size: [2 ** 20, 2 ** 20], stride: [0, 0] }]), four)),
      /tensors decode to more elements than the file size allows \(broadcast views\?\); tensor 'w' \(storage '0'\) has 1099511627776/,
    );
    expectFormatError(() => stateDictFromPth(pth(writeStateDictPickle([{ ...base, size: [4], stride: [1, 1] }]), four)), /has stride \[1, 1\]|expected 1 non-negative integers/);
    expectFormatError(() => stateDictFromPth(pth(writeStateDictPickle([{ ...base, storageClass: 'LongStorage', storageNumel: 2, size: [2] }]), { 0: new Uint8Array(new BigInt64Array([1n, -(2n ** 40n)]).buffer) })), /int64 value -1099511627776 at element 1 does not fit in int32/);
    expectFormatError(() => stateDictFromPth(pth(writeStateDictPickle([{ ...base, storageKey: '../x' }]), four)), /storage key the string "\.\.\/x"; expected a short name/);
    expectFormatError(() => stateDictFromPth(pth(writeStateDictPickle([{ ...base, storageClass: 'ComplexFloatStorage' }]), four)), /global 'torch\.ComplexFloatStorage', which is not allowed/);
  });

  it('refuses big-endian archives and strange version records', () => {
    const pickle = writeStateDictPickle([]);
    const be = writeZip([{ name: 'a/data.pkl', data: pickle }, { name: 'a/byteorder', data: new TextEncoder().encode('big') }]);
    expectFormatError(() => parsePth(be, 'be.pth'), /^be\.pth: archive byteorder is 'big'; only 'little'/);
    const le = writeZip([{ name: 'a/data.pkl', data: pickle }, { name: 'a/byteorder', data: new TextEncoder().encode('little') }]);
    expect(parsePth(le).archiveName).toBe('a');
    const badVersion = writeZip([{ name: 'a/data.pkl', data: pickle }, { name: 'a/version', data: new TextEncoder().encode('x') }]);
    expectFormatError(() => parsePth(badVersion), /archive version record is "x"; expected a small decimal number/);
  });

  it('refuses archives that are not torch checkpoints', () => {
    expectFormatError(() => parsePth(writeZip([{ name: 'x.txt', data: Uint8Array.of(1) }]), 'other.zip'), /^other\.zip: zip has no '<archive>\/data\.pkl' entry, so it is not a torch\.save checkpoint \(entries: 'x\.txt'\)/);
    const two = writeZip([{ name: 'a/data.pkl', data: Uint8Array.of(0x2e) }, { name: 'b/data.pkl', data: Uint8Array.of(0x2e) }]);
    expectFormatError(() => parsePth(two), /zip holds 2 '<archive>\/data\.pkl' entries; expected one/);
    const legacy = new PickleWriter().proto(2).long1(0x1950a86a20f9469cfc6cn).op(0x2e).str('protocol_version').bytes(); // old magic-number header
    expectFormatError(() => parsePth(legacy, 'old.pth'), /^old\.pth: no zip end-of-central-directory record .*legacy pre-1\.6 torch\.save format/);
  });
});

describe('restricted unpickling of .pth files', () => {
  const ALLOWED = /\(allowed: torch\._utils\._rebuild_tensor_v2, torch\._utils\._rebuild_parameter, .*collections\.OrderedDict, argparse\.Namespace, torch\.FloatStorage, .*torch\.BoolStorage\)/;

  it("refuses GLOBAL 'os system', naming it and the allow-list", () => {
    const bytes = pthOf((w) => w.global('os', 'system').str('touch /tmp/pwned').tupleN(1).reduce());
    expectFormatError(() => parsePth(bytes, 'evil.pth'), /^evil\.pth: pickle refers to global 'os\.system', which is not allowed /);
    expectFormatError(() => parsePth(bytes, 'evil.pth'), ALLOWED);
    expectFormatError(() => stateDictFromPth(bytes, 'evil.pth'), /global 'os\.system'/);
  });

  it('refuses STACK_GLOBAL of builtins.eval and other non-allowed globals', () => {
    const bytes = pthOf((w) => w.str('builtins').str('eval').op(0x93).str('1+1').tupleN(1).reduce());
    expectFormatError(() => parsePth(bytes, 'evil.pth'), /^evil\.pth: pickle refers to global 'builtins\.eval', which is not allowed/);
    expectFormatError(() => parsePth(pthOf((w) => w.global('torch', 'load'))), /global 'torch\.load', which is not allowed/);
    expectFormatError(() => parsePth(pthOf((w) => w.global('argparse', 'ArgumentParser'))), /global 'argparse\.ArgumentParser', which is not allowed/);
  });

  it('never calls allowed globals in unintended ways', () => {
    expectFormatError(() => parsePth(pthOf((w) => w.global('torch', 'FloatStorage').emptyTuple().reduce())), /pickle calls 'torch\.FloatStorage', which cannot be called/);
    expectFormatError(() => parsePth(pthOf((w) => w.str('x').emptyTuple().reduce())), /pickle calls the string "x", which cannot be called/);
    expectFormatError(() => parsePth(pthOf((w) => w.global('collections', 'OrderedDict').int(1).tupleN(1).reduce())), /calls collections\.OrderedDict with 1 arguments; expected none/);
    expectFormatError(() => parsePth(pthOf((w) => w.emptyList().emptyDict().build())), /sets the state of a list\/tuple of 0 \(BUILD\), which is only supported for dicts/);
    expectFormatError(() => parsePth(pthOf((w) => w.str('x').binpersid())), /persistent id the string "x"; expected \('storage', storage_type, key, location, numel\)/);
    expectFormatError(() => parsePth(pthOf((w) => w.global('torch._utils', '_rebuild_tensor_v2').int(1).tupleN(1).reduce())), /_rebuild_tensor_v2 gets 1 arguments; expected 6 or 7/);
  });

  it('ends deep nesting in a clean error: 100000 EMPTY_LIST + APPEND levels', () => {
    const w = new PickleWriter().proto(2);
    for (let i = 0; i < 100000; i++) w.emptyList();
    for (let i = 0; i < 99999; i++) w.append();
    const bytes = pth(w.stop().bytes());
    expectFormatError(() => parsePth(bytes, 'deep.pth'), /^deep\.pth: nesting deeper than 1000 levels \(pickle byte \d+\)/);
  });

  it('ends deep nesting in a clean error: 100000 MARKs, 100000 TUPLE1 wraps', () => {
    const marks = new PickleWriter().proto(2);
    for (let i = 0; i < 100000; i++) marks.mark();
    const marksPth = pth(marks.stop().bytes());
    expectFormatError(() => parsePth(marksPth, 'marks.pth'), /^marks\.pth: more than 1000 MARKs are open at once/);
    const tuples = new PickleWriter().proto(2).emptyList();
    for (let i = 0; i < 100000; i++) tuples.tupleN(1);
    const tuplesPth = pth(tuples.stop().bytes());
    expectFormatError(() => parsePth(tuplesPth), /nesting deeper than 1000 levels/);
  });

  it('refuses to modify containers after nesting them (memo tricks) and self-containment', () => {
    // a = []; b = [a]; then append to a through the memo
    const later = pthOf((w) => w.emptyList().binput(0).emptyList().binget(0).append().binget(0).int(1).append().op(0x30));
    expectFormatError(() => parsePth(later), /APPEND modifies a tuple or a container already nested in another one/);
    const self = pthOf((w) => w.emptyList().binput(0).binget(0).append());
    expectFormatError(() => parsePth(self), /a container would contain itself/);
    expectFormatError(() => parsePth(pthOf((w) => w.emptyTuple().int(1).append())), /APPEND needs a list below its operands, found number 1|APPEND modifies a tuple/);
  });

  it('accepts nesting up to the limit', () => {
    const w = new PickleWriter().proto(2);
    for (let i = 0; i < 999; i++) w.emptyList();
    for (let i = 0; i < 998; i++) w.append();
    let value = parsePth(pth(w.stop().bytes())).root;
    let depth = 0;
    while (Array.isArray(value)) {
      depth++;
      value = value[0] ?? null;
    }
    expect(depth).toBe(999);
  });

  it("reads the argparse.Namespace official training checkpoints keep under 'args' as an inert dict", () => {
    const { root } = parsePth(pthOf((w) => w.global('argparse', 'Namespace').emptyTuple().op(0x81).emptyDict().str('blr').float(1.5e-4).setitem().build()));
    expect(root).toBeInstanceOf(Map);
    expectFormatError(() => parsePth(pthOf((w) => w.global('collections', 'OrderedDict').emptyTuple().op(0x81))), /creates an object of 'collections\.OrderedDict' \(NEWOBJ\), which is only allowed for argparse\.Namespace/);
    expectFormatError(() => parsePth(pthOf((w) => w.global('argparse', 'Namespace').int(1).tupleN(1).op(0x81))), /creates argparse\.Namespace with 1 arguments; expected none/);
  });

  it('refuses unknown and unsupported opcodes, naming them', () => {
    expectFormatError(() => parsePth(pthOf((w) => w.op(0xff)), 'op.pth'), /^op\.pth: unknown opcode 0xff \(pickle byte 2\)/);
    expectFormatError(() => parsePth(pthOf((w) => w.op(0x69))), /opcode 0x69 \(INST\) is not supported by this restricted unpickler/);
    expectFormatError(() => parsePth(pthOf((w) => w.op(0x81))), /pops a value from an empty stack/);
    expectFormatError(() => parsePth(pthOf((w) => w.op(0x6f))), /opcode 0x6f \(OBJ\) is not supported/);
    expectFormatError(() => parsePth(pthOf((w) => w.op(0x82, 1))), /opcode 0x82 \(EXT1\) is not supported/);
  });

  it('reads plain values: ints, LONG1, floats, strings, bytes, None, bools, memo', () => {
    const bytes = pthOf((w) => {
      w.emptyList().mark();
      w.int(0).int(300).int(-5).int(2 ** 31 - 1).long1(2n ** 40n).long1(-(2n ** 70n)).long1(0n).float(-0.1);
      w.str('é😀').op(0x8c, 2, 0x68, 0x69).op(0x43, 2, 9, 8).none().bool(true).bool(false);
      w.op(0x94).binget(0).op(0x95, 0, 0, 0, 0, 0, 0, 0, 0); // MEMOIZE, BINGET, FRAME(0)
      w.appends();
    });
    expect(parsePth(bytes).root).toEqual([0, 300, -5, 2 ** 31 - 1, 2 ** 40, -(2n ** 70n), 0, -0.1, 'é😀', 'hi', Uint8Array.of(9, 8), null, true, false, false]);
  });

  it('refuses malformed pickles cleanly', () => {
    expectFormatError(() => parsePth(pth(new PickleWriter().proto(2).none().bytes())), /pickle ends without a STOP opcode/);
    expectFormatError(() => parsePth(pthOf((w) => w.op(0x30))), /pops a value from an empty stack/);
    expectFormatError(() => parsePth(pthOf((w) => w.none().none())), /STOP with 2 values on the stack; expected exactly 1/);
    expectFormatError(() => parsePth(pthOf((w) => w.mark().none())), /STOP with a MARK still open/);
    expectFormatError(() => parsePth(pth(new PickleWriter().proto(2).none().stop().none().bytes())), /1 bytes follow the STOP opcode/);
    expectFormatError(() => parsePth(pthOf((w) => w.binget(3))), /refers to memo entry 3, which was never stored/);
    expectFormatError(() => parsePth(pthOf((w) => w.binput(0))), /needs a value but the stack is empty/);
    expectFormatError(() => parsePth(pthOf((w) => w.none().setitems())), /needs a MARK but none is open/);
    expectFormatError(() => parsePth(pthOf((w) => w.emptyDict().mark().none().setitems())), /SETITEMS needs key\/value pairs but got 1 values/);
    expectFormatError(() => parsePth(pthOf((w) => w.emptyList().none().none().setitem())), /SETITEM needs a dict below its operands, found a list\/tuple of 0/);
    expectFormatError(() => parsePth(pthOf((w) => w.op(0x58, 255, 255, 255, 127))), /pickle string at byte 2 needs bytes 7\.\.2147483654 but only \d+ bytes are available/);
    expectFormatError(() => parsePth(pthOf((w) => w.op(0x8d, 255, 255, 255, 255, 255, 255, 255, 255))), /pickle string at byte 2 needs bytes/);
    expectFormatError(() => parsePth(pthOf((w) => w.op(0x8c, 2, 0xff, 0xfe))), /pickle string at byte 2 is not valid UTF-8/);
    expectFormatError(() => parsePth(pthOf((w) => w.op(0x63, 0x6f, 0x73))), /GLOBAL operand is not a newline-terminated line/);
    expectFormatError(() => parsePth(pthOf((w) => w.op(0x63, 0x01, 0x0a, 0x41, 0x0a))), /GLOBAL operand has non-printable/);
    expectFormatError(() => parsePth(pthOf((w) => w.int(1).str('x').op(0x93))), /STACK_GLOBAL needs two strings/);
    expectFormatError(() => parsePth(pthOf((w) => w.global('collections', 'OrderedDict').none().reduce())), /REDUCE needs an argument tuple, found None/);
    expectFormatError(() => parsePth(pth(new PickleWriter().proto(6).none().stop().bytes())), /pickle protocol 6 is not supported/);
    expectFormatError(() => parsePth(pthOf((w) => w.op(0x95, 255, 0, 0, 0, 0, 0, 0, 0))), /FRAME of 255 bytes runs past the end of the pickle/);
    expectFormatError(() => parsePth(pthOf((w) => w.op(0x4a, 1))), /pickle operand at byte 2 needs bytes 3\.\.7/);
  });
});
