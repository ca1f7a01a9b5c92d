/**
 * encodePth: a state dict as torch.save writes it. Read back by maejs's own .pth reader (always),
 * and by PyTorch's torch.load(f, weights_only=True) when Debian's python3-torch is installed.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePth, parseSafetensors, readStoredZip, stateDictFromPth, type EncodableTensor } from './index.js';
import { goldenFile, readGolden } from '../../../testing/golden.js';

const golden = parseSafetensors(readGolden('state_dict.safetensors'), 'state_dict.safetensors').tensors;
const goldenState = (): [string, EncodableTensor][] => [...golden].map(([k, t]) => [k, { dtype: 'float32', shape: t.shape, data: t.data as Float32Array }]);
/** The golden state dict plus a scalar and an int32 tensor. */
const state = (): [string, EncodableTensor][] => [...goldenState(), ['scalar', { dtype: 'float32', shape: [], data: Float32Array.of(-2.5) }], ['steps', { dtype: 'int32', shape: [2, 2], data: Int32Array.of(1, -2, 3, 2 ** 31 - 1) }]];

const PYTHON = '/usr/bin/python3';
const hasTorch = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

describe('encodePth', () => {
  it('round-trips through the maejs .pth reader: keys in order, shapes, dtypes, values', () => {
    const read = stateDictFromPth(encodePth(state()), 'written.pth');
    expect(read.wrapper).toBeNull();
    expect(read.skipped).toEqual([]);
    expect([...read.tensors.keys()]).toEqual(state().map(([k]) => k));
    for (const [key, t] of state()) {
      const got = read.tensors.get(key)!;
      expect([key, got.dtype, got.shape]).toEqual([key, t.dtype, t.shape]);
      expect(got.data).toEqual(t.data);
    }
  });

  it('writes the torch.save layout: data.pkl, byteorder, data/<n> 64-byte aligned, version', () => {
    const bytes = encodePth(goldenState(), { archiveName: 'state_dict' });
    const entries = readStoredZip(bytes, 'written.pth');
    expect([...entries.keys()]).toEqual(['state_dict/data.pkl', 'state_dict/byteorder', ...goldenState().map((_, i) => `state_dict/data/${i}`), 'state_dict/version']);
    expect(new TextDecoder().decode(entries.get('state_dict/version')!.data)).toBe('3\n');
    expect(new TextDecoder().decode(entries.get('state_dict/byteorder')!.data)).toBe('little');
    for (const [name, e] of entries) if (name.includes('/data/')) expect([name, e.data.byteOffset % 64]).toEqual([name, 0]);
  });

  it('rejects what it cannot write, naming the tensor and what was expected', () => {
    const t: EncodableTensor = { dtype: 'float32', shape: [2], data: new Float32Array(2) };
    expect(() => encodePth([['a', t], ['a', t]])).toThrow("encodePth: duplicate tensor name 'a'");
    expect(() => encodePth([['a', { ...t, shape: [3] }]])).toThrow("encodePth: tensor 'a' has shape [3] (3 elements) but 2 data elements");
    expect(() => encodePth([['a', { ...t, dtype: 'int32' }]])).toThrow("encodePth: tensor 'a' is int32; expected its data to be Int32Array");
    expect(() => encodePth([['a', t]], { archiveName: '../x' })).toThrow("encodePth: archiveName '../x' is not a plain folder name: expected letters, digits, '_', '.' or '-'");
  });

  (hasTorch ? it : it.skip)('is read by torch.load(f, weights_only=True) as the golden state dict (python3-torch)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'maejs-pth-'));
    try {
      const file = join(dir, 'written.pth');
      writeFileSync(file, encodePth(state()));
      const script = [
        'import collections, json, sys, torch',
        'sd = torch.load(sys.argv[1], weights_only=True)',
        'ref = torch.load(sys.argv[2], weights_only=True)',
        'golden_equal = all(torch.equal(sd[k], v) for k, v in ref.items())',
        'print(json.dumps({"type": type(sd).__name__, "keys": list(sd.keys()), "golden_equal": golden_equal,',
        '  "dtypes": sorted({str(v.dtype) for v in sd.values()}), "contiguous": all(v.is_contiguous() for v in sd.values()),',
        '  "scalar": sd["scalar"].item(), "scalar_shape": list(sd["scalar"].shape), "steps": sd["steps"].tolist()}))',
      ].join('\n');
      const r = spawnSync(PYTHON, ['-c', script, file, goldenFile('tiny-gray', 'state_dict.pth')], { encoding: 'utf8' });
      expect([r.status, r.stderr]).toEqual([0, '']);
      const out = JSON.parse(r.stdout);
      expect(out).toEqual({
        type: 'OrderedDict',
        keys: state().map(([k]) => k),
        golden_equal: true,
        dtypes: ['torch.float32', 'torch.int32'],
        contiguous: true,
        scalar: -2.5,
        scalar_shape: [],
        steps: [[1, -2], [3, 2 ** 31 - 1]],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
