/**
 * Fuzzing the checkpoint loaders: mutated and hand-made hostile inputs built from seed files
 * (.pth zip + pickle, .safetensors, .npy, tfjs model.json + shards, HF safetensors + config.json).
 * Each attempt must end in a clean error (a WeightsFormatError whose message starts with the file
 * name) or in a correct parse (every tensor's data matches its shape, and the decoded elements
 * stay within 4 per input byte plus 2^22). Anything else — another error type, a message that
 * does not name the file, an attempt slower than `maxMs` — is counted as an "other error".
 *
 * Shared by `scripts/fuzz-loaders.mjs` (long runs) and a short jest run. No Node built-ins.
 */
import type { MaeConfig } from '@maejs/mae';
import { Rng } from '@maejs/random';
import { crc32, parseNpy, readStoredZip, type TensorRecord, WeightsFormatError } from '@maejs/formats';
import { analyzeCheckpoint, exportSafetensors, exportTfjsArtifacts, importCheckpoint, maeStateOf, parseTfjsModel, tfjsFilesFromArtifacts } from '@maejs/weights';
import { concatBytes } from '../packages/formats/src/bytes.js';
import { PickleWriter } from '../packages/formats/src/pickle-writer.js';
import { assembleSafetensors } from '../packages/formats/src/test-utils/safetensors-bytes.js';
import { type EditedZipEntry as ZipSpec, writeEditedZip } from '../packages/formats/src/test-utils/zip-edits.js';

/** Which loader a seed goes through. */
export type FuzzKind = 'pth' | 'safetensors' | 'npy' | 'tfjs' | 'hf';

/** A valid input to start from. */
export interface FuzzSeed {
  /** Source name passed to the loader; clean errors must start with it (or a side file's name). */
  name: string;
  kind: FuzzKind;
  /** The main file: the checkpoint, the .npy, tfjs model.json, HF model.safetensors. */
  bytes: Uint8Array;
  /** Side files by name: tfjs shards, HF config.json. */
  files?: Map<string, Uint8Array>;
}

/** Outcome counts. */
export interface FuzzTally {
  attempts: number;
  cleanErrors: number;
  correctLoads: number;
  otherErrors: number;
}

/** Result of {@link runFuzz}. */
export interface FuzzReport extends FuzzTally {
  byMutator: Record<string, FuzzTally>;
  /** The first few other errors, described (seed, mutator, error). */
  failures: string[];
  /** Slowest attempt in milliseconds. */
  maxMs: number;
  elapsedMs: number;
}

/** Options of {@link runFuzz}. */
export interface FuzzOptions {
  /** Number of attempts. */
  count: number;
  /** PRNG seed (default 1): the same seed and seeds give the same attempts. */
  seed?: number;
  /** An attempt slower than this counts as an other error (default 5000 ms). */
  maxMs?: number;
  /** Called after every attempt. */
  onAttempt?: (index: number, outcome: 'clean' | 'loaded' | 'other', mutator: string) => void;
}

// ---------------------------------------------------------------- randomness

type Rand = () => number;
const int = (r: Rand, lo: number, hi: number) => lo + Math.floor(r() * (hi - lo + 1)); // [lo, hi]
const pick = <T>(r: Rand, items: readonly T[]): T => items[Math.floor(r() * items.length)];
const text = (s: string) => new TextEncoder().encode(s);

// ---------------------------------------------------------------- generic byte mutators

function flipBytes(r: Rand, b: Uint8Array, end = b.length): Uint8Array {
  const out = b.slice();
  for (let i = int(r, 1, 8); i > 0 && end > 0; i--) out[int(r, 0, end - 1)] ^= int(r, 1, 255);
  return out;
}

function truncate(r: Rand, b: Uint8Array): Uint8Array {
  return b.slice(0, int(r, 0, Math.max(0, b.length - 1)));
}

function extend(r: Rand, b: Uint8Array): Uint8Array {
  const tail = Uint8Array.from({ length: int(r, 1, 64) }, () => int(r, 0, 255));
  const out = new Uint8Array(b.length + tail.length);
  out.set(b);
  out.set(tail, b.length);
  return out;
}

/** Copies a chunk over another place (structures that overlap or repeat). */
function splice(r: Rand, b: Uint8Array): Uint8Array {
  if (b.length < 2) return b.slice();
  const len = int(r, 1, Math.min(256, b.length - 1));
  const from = int(r, 0, b.length - len);
  const to = int(r, 0, b.length - len);
  const out = b.slice();
  out.set(b.subarray(from, from + len), to);
  return out;
}

/** Inserts a copy of a chunk (shifts every later offset). */
function duplicate(r: Rand, b: Uint8Array): Uint8Array {
  if (b.length < 2) return extend(r, b);
  const len = int(r, 1, Math.min(512, b.length));
  const from = int(r, 0, b.length - len);
  const at = int(r, 0, b.length);
  return concatBytes([b.subarray(0, at), b.subarray(from, from + len), b.subarray(at)]);
}

type ByteMutator = (r: Rand, b: Uint8Array) => Uint8Array;
const GENERIC: Record<string, ByteMutator> = {
  flip: (r, b) => flipBytes(r, b),
  'flip-head': (r, b) => flipBytes(r, b, Math.min(b.length, 1024)),
  truncate,
  extend,
  splice,
  duplicate,
};

// ---------------------------------------------------------------- safetensors

/** Header JSON text and data section of a (valid) safetensors seed. */
function splitSafetensors(b: Uint8Array): { header: string; data: Uint8Array } {
  const n = Number(new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0, true));
  return { header: new TextDecoder().decode(b.subarray(8, 8 + n)), data: b.subarray(8 + n) };
}

const HUGE_SHAPES: unknown[] = [[2 ** 31, 2 ** 31], [1e15], [-1, 4], [1.5], ['7'], [[2]], [2 ** 53], Array(100).fill(2), [], null];

/** Edits one entry of a safetensors header: shapes, offsets (overlapping, past the end), dtypes. */
function safetensorsEdit(r: Rand, b: Uint8Array): Uint8Array {
  const { header, data } = splitSafetensors(b);
  const json = JSON.parse(header) as Record<string, any>;
  const names = Object.keys(json).filter((k) => k !== '__metadata__');
  const entry = json[pick(r, names)];
  const other = json[pick(r, names)];
  const edits: (() => void)[] = [
    () => (entry.shape = pick(r, HUGE_SHAPES)),
    () => (entry.data_offsets = [...other.data_offsets]), // overlapping
    () => (entry.data_offsets = [entry.data_offsets[0], data.length + int(r, 1, 1 << 30)]),
    () => (entry.data_offsets = [2 ** 53, 2 ** 53 + 4]),
    () => (entry.data_offsets = [entry.data_offsets[1], entry.data_offsets[0]]),
    () => (entry.dtype = pick(r, ['F8_E4M3', 'U64', 'X', 'f32', 7, null])),
    () => delete entry.data_offsets,
    () => (json.__metadata__ = pick(r, [{ a: 1 }, [1], 'x', { b: { c: 'd' } }])),
  ];
  pick(r, edits)();
  return assembleSafetensors(JSON.stringify(json), data);
}

/** Header-level attacks: huge declared lengths, deep nesting, duplicate keys. */
function safetensorsHeader(r: Rand, b: Uint8Array): Uint8Array {
  const { header, data } = splitSafetensors(b);
  const depth = int(r, 65, 200_000);
  const variants: (() => Uint8Array)[] = [
    () => assembleSafetensors(header, data, pick(r, [2n ** 53n, 2n ** 64n - 1n, 0xffffffffn, BigInt(header.length + data.length + 1), 0n])),
    () => assembleSafetensors(`${header.slice(0, -1)},"deep":${'['.repeat(depth)}${']'.repeat(depth)}}`, data),
    () => assembleSafetensors(`{${header.slice(1, header.indexOf('},') + 1)},${header.slice(1)}`, data), // first entry twice
    () => assembleSafetensors(`${header}${' '.repeat(int(r, 0, 7))}\u0000`, data),
  ];
  return pick(r, variants)();
}

// ---------------------------------------------------------------- npy

/** Rewrites the header dict of a (v1) .npy: huge shapes, bad dtypes, fortran order, lengths. */
function npyHeader(r: Rand, b: Uint8Array): Uint8Array {
  const headerLength = b[8] | (b[9] << 8);
  const body = b.subarray(10 + headerLength);
  const dict = pick(r, [
    `{'descr': '<f4', 'fortran_order': False, 'shape': (${pick(r, ['1099511627776,', '2**40,', '-1, 3', '3, 1, 28, 28, 0', '9007199254740993,', '65536, 65536, 65536'])}), }`,
    `{'descr': '${pick(r, ['|O', '>f4', '<U10', '<c8', '[("a", "<f4")]', "<f4'"])}', 'fortran_order': False, 'shape': (3, 1, 28, 28), }`,
    "{'descr': '<f4', 'fortran_order': True, 'shape': (3, 1, 28, 29), }",
    `{'descr': '<f4', 'fortran_order': False, 'shape': ${'('.repeat(int(r, 50, 50_000))}`,
    "{'descr': '<f4', 'descr': '<i4', 'fortran_order': False, 'shape': (3,), }",
  ]);
  const h = text(dict.padEnd(Math.ceil((dict.length + 11) / 64) * 64 - 10, ' ') + '\n');
  const head = b.slice(0, 10);
  const declared = r() < 0.2 ? 0xffff : h.length;
  head[8] = declared & 0xff;
  head[9] = declared >> 8;
  return concatBytes([head, h, body]);
}

// ---------------------------------------------------------------- zip + pickle (.pth)

/** A pickle that starts with PROTO 2, as torch.save writes. */
const pickle = (): PickleWriter => new PickleWriter().proto(2);

/** {'w': _rebuild_tensor_v2(storage '0' of `numel` floats, offset, size, stride, False, OrderedDict())}. */
function tensorPickle(numel: number | bigint, offset: number | bigint, size: (number | bigint)[], stride: (number | bigint)[]): Uint8Array {
  const p = pickle().emptyDict().str('w').global('torch._utils', '_rebuild_tensor_v2').mark();
  p.mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(numel).tuple().binpersid(); // persistent id
  p.int(offset).intTuple(size).intTuple(stride).bool(false).global('collections', 'OrderedDict').emptyTuple().reduce();
  return p.tuple().reduce().setitem().stop().bytes();
}

const BAD_GLOBALS: [string, string][] = [['os', 'system'], ['builtins', 'eval'], ['subprocess', 'Popen'], ['posix', 'system'], ['torch', 'load'], ['__builtin__', 'exec'], ['numpy.core.multiarray', '_reconstruct'], ['torch._utils', '_rebuild_tensor']];

/** Hand-made hostile pickles. */
function hostilePickle(r: Rand, storageFloats: number): Uint8Array {
  const n = int(r, 500, 200_000);
  const g = pick(r, BAD_GLOBALS);
  const variants: (() => Uint8Array)[] = [
    () => tensorPickle(2n ** BigInt(int(r, 31, 62)), 0, [4], [1]), // huge declared storage
    () => tensorPickle(storageFloats, 0, [65536, 65536], [0, 0]), // stride-0 broadcast bomb
    () => tensorPickle(storageFloats, 0, [2 ** 31, 2 ** 31], [2 ** 31, 1]),
    () => tensorPickle(storageFloats, pick(r, [-1, storageFloats, 2 ** 40]), [4], [1]),
    () => tensorPickle(storageFloats, 0, [4, 4], [-1, 1]),
    () => tensorPickle(storageFloats, 0, [4], [1, 1]),
    () => pickle().repeat([0x5d], n).repeat([0x61], n - 1).stop().bytes(), // nested lists
    () => pickle().repeat([0x28], n).stop().bytes(), // MARKs
    () => pickle().global(g[0], g[1]).str('id').op(0x85, 0x52).stop().bytes(), // GLOBAL + REDUCE
    () => pickle().str(g[0]).str(g[1]).op(0x93).op(0x29, 0x52).stop().bytes(), // STACK_GLOBAL
    () => pickle().op(0x28, ...text('ios\nsystem\n')).stop().bytes(), // INST
    () => pickle().global('collections', 'OrderedDict').op(0x29, 0x81).stop().bytes(), // NEWOBJ
    () => pickle().global('collections', 'OrderedDict').intTuple([1, 2, 3]).op(0x52).stop().bytes(),
    () => pickle().global('torch._utils', '_rebuild_tensor_v2').intTuple([1]).op(0x52).stop().bytes(),
    () => pickle().op(0x8e, 0, 0, 0, 0, 0, 0, 0, 0x10).stop().bytes(), // BINBYTES8 of 2^60
    () => pickle().op(0x58, 0xff, 0xff, 0xff, 0xff).stop().bytes(), // BINUNICODE of 4 GiB
    () => pickle().op(0x95, 0, 0, 0, 0, 0, 0, 0, 0x40).stop().bytes(), // FRAME of 2^62
    () => pickle().op(0x6a, 0xff, 0xff, 0xff, 0xff).stop().bytes(), // LONG_BINGET missing
    () => pickle().op(0x5d, 0x71, 0).repeat([0x68, 0, 0x61], Math.min(n, 20000)).stop().bytes(), // a list appended into itself
  ];
  return pick(r, variants)();
}

/** Entries of a .pth seed, and its archive prefix. */
function pthParts(b: Uint8Array): { prefix: string; entries: ZipSpec[] } {
  const entries = [...readStoredZip(b, 'seed').values()].map((e) => ({ name: e.name, data: e.data }));
  const pkl = entries.find((e) => e.name.endsWith('/data.pkl'))!;
  return { prefix: pkl.name.slice(0, -'/data.pkl'.length), entries };
}

/** Replaces data.pkl with a hostile pickle, keeping the storages. */
function pthPickle(r: Rand, b: Uint8Array): Uint8Array {
  const { prefix, entries } = pthParts(b);
  const storage = entries.find((e) => e.name === `${prefix}/data/0`);
  const hostile = hostilePickle(r, storage ? storage.data.length / 4 : 0);
  return writeEditedZip(entries.map((e) => (e.name === `${prefix}/data.pkl` ? { name: e.name, data: hostile } : e)));
}

/** Zip-level attacks: compressed "bombs", huge declared sizes, overlapping and duplicate entries. */
function pthZip(r: Rand, b: Uint8Array): Uint8Array {
  const { entries } = pthParts(b);
  const i = int(r, 0, entries.length - 1);
  const variants: (() => ZipSpec[])[] = [
    () => entries.map((e, k) => (k === i ? { ...e, method: pick(r, [8, 9, 12, 14, 93, 99]), size: 0xffffffff } : e)), // zip bomb
    () => entries.map((e, k) => (k === i ? { ...e, size: pick(r, [0xffffffff, e.data.length + 1, 0]) } : e)),
    () => entries.map((e, k) => (k === i ? { ...e, sameOffsetAs: int(r, 0, entries.length - 1) } : e)), // overlap
    () => [...entries, { ...entries[i] }], // duplicate name
    () => [...entries, ...Array.from({ length: int(r, 100, 5000) }, (_, k) => ({ name: `junk/${k}`, data: new Uint8Array(0) }))],
  ];
  return writeEditedZip(pick(r, variants)());
}

// ---------------------------------------------------------------- tfjs model.json

/** Edits model.json: hostile shapes, dtypes, quantization, shard paths, structure. */
function tfjsJson(r: Rand, b: Uint8Array): Uint8Array {
  const json = JSON.parse(new TextDecoder().decode(b));
  const group = json.weightsManifest[0];
  const w = pick(r, group.weights as Record<string, unknown>[]);
  const edits: (() => void)[] = [
    () => (w.shape = pick(r, HUGE_SHAPES)),
    () => (w.dtype = pick(r, ['string', 'complex64', 'bool', 'float16', 5])),
    () => (w.quantization = { dtype: 'uint8', scale: 1, min: 0 }),
    () => (group.paths[int(r, 0, group.paths.length - 1)] = pick(r, ['../../etc/passwd', '/etc/shadow', 'file:///etc/passwd', 'https://example.com/x', '..\\..\\x', 'a/../../b', '.', ''])),
    () => group.paths.push('group1-shard99of99.bin'),
    () => (w.name = (group.weights[0] as Record<string, unknown>).name),
    () => json.weightsManifest.push({ paths: [], weights: [{ name: 'extra', shape: [1 << 20], dtype: 'float32' }] }),
    () => (json.weightsManifest = pick(r, [null, {}, [], 'x', [[]]])),
    () => (json.userDefinedMetadata = { maejs: { config: pick(r, [{ numHeads: 'x' }, [1], 'x', { embedDim: -1 }]) } }),
  ];
  pick(r, edits)();
  return text(JSON.stringify(json));
}

/** Mutates one shard (the model.json stays valid). */
function tfjsShards(r: Rand, files: Map<string, Uint8Array>): Map<string, Uint8Array> {
  const out = new Map(files);
  const name = pick(r, [...files.keys()]);
  const bytes = files.get(name)!;
  out.set(name, pick(r, [truncate, extend, flipBytes, duplicate])(r, bytes));
  if (r() < 0.2) out.delete(name);
  return out;
}

// ---------------------------------------------------------------- HF config.json

/** Edits config.json fields to hostile or contradicting values. */
function hfConfig(r: Rand, b: Uint8Array): Uint8Array {
  const json = JSON.parse(new TextDecoder().decode(b));
  const key = pick(r, ['hidden_size', 'num_hidden_layers', 'num_attention_heads', 'intermediate_size', 'image_size', 'patch_size', 'num_channels', 'decoder_hidden_size', 'decoder_num_attention_heads', 'decoder_intermediate_size', 'layer_norm_eps', 'hidden_act', 'qkv_bias', 'model_type', 'mask_ratio']);
  json[key] = pick(r, [1e308, -1, 0, 3.5, '768', null, [16, 16], [1, 2], { a: 1 }, true, 'gelu_new', 2 ** 53 + 2]);
  const out = JSON.stringify(json);
  return text(r() < 0.1 ? `${'['.repeat(100_000)}` : out);
}

// ---------------------------------------------------------------- running

/** One input to a loader. */
interface FuzzInput {
  mutator: string;
  bytes: Uint8Array;
  files?: Map<string, Uint8Array>;
}

/** Structural mutators by kind (each returns a whole new input). */
const STRUCTURAL: Record<FuzzKind, Record<string, (r: Rand, s: FuzzSeed) => FuzzInput>> = {
  safetensors: {
    'st-entry': (r, s) => ({ mutator: 'st-entry', bytes: safetensorsEdit(r, s.bytes) }),
    'st-header': (r, s) => ({ mutator: 'st-header', bytes: safetensorsHeader(r, s.bytes) }),
  },
  npy: { 'npy-header': (r, s) => ({ mutator: 'npy-header', bytes: npyHeader(r, s.bytes) }) },
  pth: {
    'pth-pickle': (r, s) => ({ mutator: 'pth-pickle', bytes: pthPickle(r, s.bytes) }),
    'pth-zip': (r, s) => ({ mutator: 'pth-zip', bytes: pthZip(r, s.bytes) }),
  },
  tfjs: {
    'tfjs-json': (r, s) => ({ mutator: 'tfjs-json', bytes: tfjsJson(r, s.bytes), files: s.files }),
    'tfjs-shard': (r, s) => ({ mutator: 'tfjs-shard', bytes: s.bytes, files: tfjsShards(r, s.files!) }),
  },
  hf: {
    'hf-config': (r, s) => ({ mutator: 'hf-config', bytes: s.bytes, files: new Map([['config.json', hfConfig(r, s.files!.get('config.json')!)]]) }),
    'hf-keys': (r, s) => ({ mutator: 'hf-keys', bytes: safetensorsEdit(r, s.bytes), files: s.files }),
  },
};

/** A generic mutation of the main file, or (for side files) of one side file. */
function genericInput(r: Rand, s: FuzzSeed): FuzzInput {
  const name = pick(r, Object.keys(GENERIC));
  const mutate = GENERIC[name];
  if (s.files && r() < 0.3) {
    const side = pick(r, [...s.files.keys()]);
    return { mutator: `${name}(side)`, bytes: s.bytes, files: new Map([...s.files, [side, mutate(r, s.files.get(side)!)]]) };
  }
  return { mutator: name, bytes: mutate(r, s.bytes), files: s.files };
}

/** The tensors a loader produced, or throws. */
function load(seed: FuzzSeed, input: FuzzInput): Map<string, TensorRecord> {
  switch (seed.kind) {
    case 'npy':
      return new Map([['array', parseNpy(input.bytes, seed.name)]]);
    case 'tfjs':
      return parseTfjsModel(input.bytes, (p) => input.files?.get(p), seed.name).tensors;
    case 'pth':
    case 'safetensors':
    case 'hf': {
      const config = input.files?.get('config.json');
      const imported = importCheckpoint(input.bytes, seed.name, config ? { hfConfig: { bytes: config, source: 'config.json' } } : {});
      maeStateOf(imported, analyzeCheckpoint(imported, {}, { numHeads: 4, decoderNumHeads: 4 }));
      return imported.tensors;
    }
  }
}

/** Every tensor's data matches its shape, and the output stays within 4 elements per input byte + 2^22. */
function checkLoaded(tensors: Map<string, TensorRecord>, inputBytes: number): string | null {
  let elements = 0;
  for (const [k, t] of tensors) {
    if (!(t.data instanceof Float32Array || t.data instanceof Int32Array)) return `tensor '${k}' has no typed data`;
    const numel = t.shape.reduce((a, b) => a * b, 1);
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d >= 0) || numel !== t.data.length) return `tensor '${k}' has shape [${t.shape}] but ${t.data.length} values`;
    elements += numel;
  }
  return elements > 4 * inputBytes + 2 ** 22 ? `decoded ${elements} elements from ${inputBytes} input bytes` : null;
}

/** 'clean', 'loaded', or a description of another outcome. */
function classify(seed: FuzzSeed, input: FuzzInput, maxMs: number): { outcome: 'clean' | 'loaded' | string; ms: number } {
  const sources = [seed.name, ...(input.files?.keys() ?? [])];
  const inputBytes = input.bytes.length + [...(input.files?.values() ?? [])].reduce((s, b) => s + b.length, 0);
  const start = Date.now();
  let outcome: string;
  try {
    outcome = checkLoaded(load(seed, input), inputBytes) ?? 'loaded';
  } catch (error) {
    const named = error instanceof WeightsFormatError && sources.some((s) => error.message.startsWith(`${s}: `));
    outcome = named ? 'clean' : `${(error as Error)?.name}: ${String((error as Error)?.message).slice(0, 300)}`;
  }
  const ms = Date.now() - start;
  if (ms > maxMs && (outcome === 'clean' || outcome === 'loaded')) outcome = `slow: ${ms} ms (limit ${maxMs})`;
  return { outcome, ms };
}

const emptyTally = (): FuzzTally => ({ attempts: 0, cleanErrors: 0, correctLoads: 0, otherErrors: 0 });

function count(t: FuzzTally, outcome: string): void {
  t.attempts++;
  if (outcome === 'clean') t.cleanErrors++;
  else if (outcome === 'loaded') t.correctLoads++;
  else t.otherErrors++;
}

/** Builds the input of attempt `i`: half generic byte mutations, half structural attacks. */
function inputFor(r: Rand, seed: FuzzSeed): FuzzInput {
  const structural = Object.values(STRUCTURAL[seed.kind]);
  return r() < 0.5 || !structural.length ? genericInput(r, seed) : pick(r, structural)(r, seed);
}

/**
 * Runs `count` attempts over the seeds (round robin), deterministic for a given `seed`.
 * Returns the counts per outcome and per mutator, and the first 20 other errors.
 */
export function runFuzz(seeds: readonly FuzzSeed[], options: FuzzOptions): FuzzReport {
  if (!seeds.length) throw new Error('runFuzz: no seeds');
  const rng = new Rng(options.seed ?? 1);
  const r: Rand = () => rng.random();
  const maxMs = options.maxMs ?? 5000;
  const report: FuzzReport = { ...emptyTally(), byMutator: {}, failures: [], maxMs: 0, elapsedMs: 0 };
  const began = Date.now();
  for (let i = 0; i < options.count; i++) {
    const seed = seeds[i % seeds.length];
    const input = inputFor(r, seed);
    const { outcome, ms } = classify(seed, input, maxMs);
    report.maxMs = Math.max(report.maxMs, ms);
    count(report, outcome);
    count((report.byMutator[`${seed.kind}:${input.mutator}`] ??= emptyTally()), outcome);
    if (outcome !== 'clean' && outcome !== 'loaded' && report.failures.length < 20) report.failures.push(`#${i} ${seed.name} ${input.mutator}: ${outcome}`);
    options.onAttempt?.(i, outcome === 'clean' || outcome === 'loaded' ? outcome : 'other', input.mutator);
  }
  report.elapsedMs = Date.now() - began;
  return report;
}

/**
 * Seeds derived from an official state dict (.safetensors bytes): its tfjs export (model.json +
 * 64 KiB shards) and its HF export (model.safetensors + config.json). `given` completes the config
 * (e.g. the head counts).
 */
export function derivedSeeds(stateSafetensors: Uint8Array, given: Partial<MaeConfig>): FuzzSeed[] {
  const imported = importCheckpoint(stateSafetensors, 'seed');
  const analysis = analyzeCheckpoint(imported, given);
  const { state } = maeStateOf(imported, analysis);
  const { modelJson, shards } = tfjsFilesFromArtifacts(exportTfjsArtifacts(state, analysis.config), { shardBytes: 64 * 1024 });
  const [model, config] = exportSafetensors(state, analysis.config, 'hf');
  return [
    { name: 'model.json', kind: 'tfjs', bytes: modelJson, files: new Map(shards) },
    { name: 'model.safetensors', kind: 'hf', bytes: model.bytes, files: new Map([['config.json', config.bytes]]) },
  ];
}
