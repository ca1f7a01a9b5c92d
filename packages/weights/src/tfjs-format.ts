/**
 * The TensorFlow.js weights format (`model.json` + binary weight shards) for state dicts:
 * `weightsManifest: [{ paths: ['group1-shard1of2.bin', ...], weights: [{ name, shape, dtype }] }]`,
 * each group's weights laid end to end across its shards, little-endian.
 *
 * maejs writes state dicts in the official PyTorch layout and key names, `format:
 * 'maejs-state-dict'`, and the model config in `userDefinedMetadata.maejs`. The readers treat
 * model.json and the shards as untrusted: every spec, size and shard path is checked before
 * anything is allocated, and a shard path must be a plain file name (no folders, no `..`, no URL).
 */
import type { io } from '@tensorflow/tfjs-core';
import { checkedNumel, decodeElements, type JsonValue, JsonSyntaxError, littleEndianBytes, parseJson, shapeText, type TensorRecord, utf8, WeightsFormatError } from '@maejs/formats';

/** The `format` maejs writes into model.json. */
export const TFJS_STATE_FORMAT = 'maejs-state-dict';

/** Default shard size: 4 MiB, as tfjs writes. */
export const TFJS_SHARD_BYTES = 4 * 1024 * 1024;

/** Largest model.json accepted (it lists names and shapes, never data). */
export const MAX_MODEL_JSON_BYTES = 64 * 1024 * 1024;

/** A tensor the tfjs writer takes: float32 or int32, row-major. */
export interface TfjsWritableTensor {
  shape: number[];
  data: Float32Array | Int32Array;
}

/** What a tfjs reader returns. */
export interface TfjsStateContents {
  /** Tensors in manifest order. */
  tensors: Map<string, TensorRecord>;
  /** `userDefinedMetadata.maejs` when present (layout and config), else {}. */
  metadata: Record<string, unknown>;
  /** The model.json `format` field ('' when absent). */
  format: string;
}

/** One validated weight spec. */
interface Spec {
  name: string;
  shape: number[];
  dtype: 'float32' | 'int32';
  bytes: number;
}

/** Concatenates byte chunks into one fresh ArrayBuffer. */
function concat(chunks: readonly Uint8Array[]): ArrayBuffer {
  const total = chunks.reduce((s, c) => s + c.length, 0);
  const out = new Uint8Array(total);
  let offset = 0;
  for (const c of chunks) {
    out.set(c, offset);
    offset += c.length;
  }
  return out.buffer;
}

/**
 * Model artifacts (weightSpecs + weightData) for a state dict, ready for any tfjs save handler
 * (`tf.io.getSaveHandlers('indexeddb://name')[0].save(artifacts)`, `downloads://`, a custom
 * handler). `metadata` goes to `userDefinedMetadata.maejs`.
 */
export function tfjsArtifactsFromState(state: Iterable<[string, TfjsWritableTensor]>, metadata: Record<string, unknown> = {}): io.ModelArtifacts {
  const weightSpecs: io.WeightsManifestEntry[] = [];
  const chunks: Uint8Array[] = [];
  const names = new Set<string>();
  for (const [name, t] of state) {
    const dtype = t.data instanceof Float32Array ? 'float32' : t.data instanceof Int32Array ? 'int32' : null;
    if (dtype === null) throw new WeightsFormatError('tfjs writer', `tensor '${name}' must hold a Float32Array or Int32Array`);
    if (names.has(name)) throw new WeightsFormatError('tfjs writer', `duplicate tensor name '${name}'`);
    names.add(name);
    const numel = checkedNumel(t.shape, 'tfjs writer', `tensor '${name}'`);
    if (numel !== t.data.length) throw new WeightsFormatError('tfjs writer', `tensor '${name}' has shape ${shapeText(t.shape)} but ${t.data.length} values`);
    weightSpecs.push({ name, shape: [...t.shape], dtype });
    chunks.push(littleEndianBytes(t.data));
  }
  return { format: TFJS_STATE_FORMAT, generatedBy: 'maejs', convertedBy: null, weightSpecs, weightData: concat(chunks), userDefinedMetadata: { maejs: metadata } };
}

/** `key` of a JSON object read by parseJson (a Map) or of a plain object; own properties only. */
function prop(obj: unknown, key: string): unknown {
  if (obj instanceof Map) return obj.get(key);
  if (obj !== null && typeof obj === 'object' && !Array.isArray(obj) && Object.prototype.hasOwnProperty.call(obj, key)) return (obj as Record<string, unknown>)[key];
  return undefined;
}

const isObject = (v: unknown) => v instanceof Map || (v !== null && typeof v === 'object' && !Array.isArray(v));

/** Validates one weight spec. */
function checkSpec(raw: unknown, index: number, names: Set<string>, source: string): Spec {
  if (!isObject(raw)) throw new WeightsFormatError(source, `weight spec ${index} is not an object`);
  const name = prop(raw, 'name');
  if (typeof name !== 'string' || name === '') throw new WeightsFormatError(source, `weight spec ${index} has no name (a non-empty string)`);
  if (names.has(name)) throw new WeightsFormatError(source, `weight '${name}' is listed twice`);
  names.add(name);
  const shape = prop(raw, 'shape');
  if (!Array.isArray(shape)) throw new WeightsFormatError(source, `weight '${name}' has no shape array`);
  const numel = checkedNumel(shape, source, `weight '${name}'`);
  const dtype = prop(raw, 'dtype');
  if (dtype !== 'float32' && dtype !== 'int32') throw new WeightsFormatError(source, `weight '${name}' has dtype ${JSON.stringify(dtype) ?? 'undefined'}; supported: "float32", "int32"`);
  if (prop(raw, 'quantization') !== undefined) throw new WeightsFormatError(source, `weight '${name}' is quantized; quantized weights are not supported (save without quantization)`);
  if (numel > Number.MAX_SAFE_INTEGER / 4) throw new WeightsFormatError(source, `weight '${name}' has shape ${shapeText(shape)}: too many elements`);
  return { name, shape: shape as number[], dtype, bytes: numel * 4 };
}

/** Validates a list of weight specs; names must be unique across all groups (`names`). */
function checkSpecs(raw: unknown, names: Set<string>, source: string): Spec[] {
  if (!Array.isArray(raw)) throw new WeightsFormatError(source, 'weights is not an array of weight specs');
  return raw.map((s, i) => checkSpec(s, i, names, source));
}

/** Decodes validated specs from `data`, which must hold exactly their bytes. */
function decodeSpecs(specs: Spec[], data: Uint8Array, source: string): Map<string, TensorRecord> {
  const needed = specs.reduce((s, spec) => s + spec.bytes, 0);
  if (needed !== data.length) throw new WeightsFormatError(source, `the weight specs need ${needed} bytes but the weight data holds ${data.length}`);
  const tensors = new Map<string, TensorRecord>();
  let offset = 0;
  for (const spec of specs) {
    const values = decodeElements(data.subarray(offset, offset + spec.bytes), spec.dtype, source, `weight '${spec.name}'`);
    tensors.set(spec.name, { dtype: spec.dtype, shape: spec.shape, data: values });
    offset += spec.bytes;
  }
  return tensors;
}

/** True for an ArrayBuffer from any realm (a worker, an iframe, a vm context). */
function isArrayBuffer(value: unknown): value is ArrayBuffer {
  return Object.prototype.toString.call(value) === '[object ArrayBuffer]';
}

/** weightData (ArrayBuffer, ArrayBuffer[] or a view) as one Uint8Array. */
function weightBytes(data: unknown, source: string): Uint8Array {
  if (isArrayBuffer(data)) return new Uint8Array(data);
  if (ArrayBuffer.isView(data)) return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (Array.isArray(data) && data.every(isArrayBuffer)) return new Uint8Array(concat(data.map((d) => new Uint8Array(d))));
  throw new WeightsFormatError(source, 'weightData is missing or not an ArrayBuffer');
}

/** The maejs metadata of artifacts, as a plain object. */
function maejsMetadata(userDefined: unknown): Record<string, unknown> {
  const m = prop(userDefined, 'maejs');
  if (m instanceof Map) return toPlain(m) as Record<string, unknown>;
  return m !== null && typeof m === 'object' && !Array.isArray(m) ? (m as Record<string, unknown>) : {};
}

/** JSON value from parseJson -> plain JS (objects built with defineProperty semantics, no prototype keys). */
function toPlain(value: JsonValue): unknown {
  if (value instanceof Map) return Object.fromEntries([...value].map(([k, v]) => [k, toPlain(v)]));
  if (Array.isArray(value)) return value.map(toPlain);
  return value;
}

/**
 * The tensors of tfjs model artifacts (from any load handler: `indexeddb://`, `http(s)://`,
 * browser files, a custom one). Specs and data are validated; names keep manifest order.
 */
export function stateFromTfjsArtifacts(artifacts: io.ModelArtifacts, source = 'model.json'): TfjsStateContents {
  if (!isObject(artifacts)) throw new WeightsFormatError(source, 'model artifacts are not an object');
  const specs = checkSpecs(artifacts.weightSpecs, new Set(), source);
  const tensors = decodeSpecs(specs, weightBytes(artifacts.weightData, source), source);
  return { tensors, metadata: maejsMetadata(artifacts.userDefinedMetadata), format: typeof artifacts.format === 'string' ? artifacts.format : '' };
}

/**
 * Splits artifacts into the files of the tfjs format: `model.json` (UTF-8) and shards
 * `group1-shard{i}of{n}.bin` of at most `shardBytes` bytes (4 MiB by default), as tfjs writes.
 */
export function tfjsFilesFromArtifacts(artifacts: io.ModelArtifacts, options: { shardBytes?: number } = {}): { modelJson: Uint8Array; shards: [string, Uint8Array][] } {
  const shardBytes = options.shardBytes ?? TFJS_SHARD_BYTES;
  if (!Number.isInteger(shardBytes) || shardBytes < 1) throw new Error(`shardBytes must be a positive integer, got ${shardBytes}`);
  const data = weightBytes(artifacts.weightData, 'tfjs writer');
  const count = Math.max(1, Math.ceil(data.length / shardBytes));
  const shards: [string, Uint8Array][] = Array.from({ length: count }, (_, i) => [`group1-shard${i + 1}of${count}.bin`, data.slice(i * shardBytes, (i + 1) * shardBytes)]);
  const json = {
    format: artifacts.format,
    generatedBy: artifacts.generatedBy,
    convertedBy: artifacts.convertedBy ?? null,
    userDefinedMetadata: artifacts.userDefinedMetadata,
    weightsManifest: [{ paths: shards.map(([name]) => name), weights: artifacts.weightSpecs ?? [] }],
  };
  return { modelJson: new TextEncoder().encode(JSON.stringify(json)), shards };
}

/** A shard path must be a plain file name: no folder, no `..`, no scheme, no absolute path. */
export function checkShardPath(path: unknown, source: string): string {
  if (typeof path !== 'string' || !/^[A-Za-z0-9_][A-Za-z0-9._-]{0,254}$/.test(path) || path.includes('..')) {
    throw new WeightsFormatError(source, `shard path ${JSON.stringify(path)?.slice(0, 80)} is not a plain file name beside model.json (letters, digits, '.', '_', '-'; no folders, '..' or URLs)`);
  }
  return path;
}

/** One manifest group after validation. */
interface ManifestGroup {
  paths: string[];
  specs: Spec[];
}

/** Parses and validates model.json: the manifest groups and the metadata. */
export function parseTfjsModelJson(bytes: Uint8Array, source = 'model.json'): { groups: ManifestGroup[]; metadata: Record<string, unknown>; format: string } {
  if (bytes.length > MAX_MODEL_JSON_BYTES) throw new WeightsFormatError(source, `is ${bytes.length} bytes; a model.json above ${MAX_MODEL_JSON_BYTES} bytes is refused`);
  let json: JsonValue;
  try {
    json = parseJson(utf8(bytes, source, 'model.json'));
  } catch (error) {
    if (error instanceof JsonSyntaxError) throw new WeightsFormatError(source, `is not valid JSON: ${error.message}`);
    throw error;
  }
  if (!(json instanceof Map)) throw new WeightsFormatError(source, 'is not a JSON object');
  const manifest = json.get('weightsManifest');
  if (!Array.isArray(manifest) || manifest.length === 0) throw new WeightsFormatError(source, 'has no weightsManifest (a non-empty array of { paths, weights } groups)');
  const names = new Set<string>();
  const groups = manifest.map((group, i) => {
    if (!(group instanceof Map)) throw new WeightsFormatError(source, `weightsManifest[${i}] is not an object`);
    const paths = group.get('paths');
    if (!Array.isArray(paths)) throw new WeightsFormatError(source, `weightsManifest[${i}].paths is not an array`);
    return { paths: paths.map((p) => checkShardPath(p, source)), specs: checkSpecs(group.get('weights'), names, source) };
  });
  const format = json.get('format');
  return { groups, metadata: maejsMetadata(json.get('userDefinedMetadata')), format: typeof format === 'string' ? format : '' };
}

/**
 * Reads one shard: its bytes, or undefined when it does not exist. `maxBytes` is how many bytes
 * the manifest still expects in this group; a reader should refuse a bigger file before reading it.
 */
export type ShardReader = (path: string, maxBytes: number) => Uint8Array | undefined;

/** Reads a group's shards, never more bytes than its weights need. */
function readGroup(group: ManifestGroup, readShard: ShardReader, index: number, source: string): Uint8Array[] {
  const expected = group.specs.reduce((s, spec) => s + spec.bytes, 0);
  const chunks: Uint8Array[] = [];
  let got = 0;
  for (const path of group.paths) {
    const bytes = readShard(path, expected - got);
    if (bytes === undefined) throw new WeightsFormatError(source, `shard '${path}' (weightsManifest[${index}]) is missing`);
    if (bytes.length > expected - got) throw new WeightsFormatError(source, `shard '${path}' holds ${bytes.length} bytes, more than the ${expected - got} bytes its group's weights still need`);
    chunks.push(bytes);
    got += bytes.length;
  }
  if (got !== expected) throw new WeightsFormatError(source, `the shards of weightsManifest[${index}] hold ${got} bytes but its weights need ${expected}`);
  return chunks;
}

/** Model artifacts from model.json bytes and a shard reader (for handlers that read files). */
export function tfjsArtifactsFromFiles(modelJson: Uint8Array, readShard: ShardReader, source = 'model.json'): io.ModelArtifacts {
  const parsed = parseTfjsModelJson(modelJson, source);
  const chunks = parsed.groups.flatMap((g, i) => readGroup(g, readShard, i, source));
  const weightSpecs = parsed.groups.flatMap((g) => g.specs.map(({ name, shape, dtype }) => ({ name, shape, dtype })));
  return { format: parsed.format, generatedBy: 'maejs', weightSpecs, weightData: concat(chunks), userDefinedMetadata: { maejs: parsed.metadata as {} } };
}

/** The state dict in a tfjs model.json + shards (read through `readShard`). */
export function parseTfjsModel(modelJson: Uint8Array, readShard: ShardReader, source = 'model.json'): TfjsStateContents {
  return stateFromTfjsArtifacts(tfjsArtifactsFromFiles(modelJson, readShard, source), source);
}
