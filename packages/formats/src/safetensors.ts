/**
 * safetensors reader and writer.
 *
 * Layout: u64 little-endian header length N, N bytes of UTF-8 JSON header
 * `{"name": {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, ..., "__metadata__": {...}}`,
 * then the data section; offsets are relative to the start of the data section.
 */
import { readU64, u64Text, utf8, viewOf } from './bytes.js';
import { checkedNumel, decodeElements, ITEM_SIZE, littleEndianBytes, shapeText } from './dtypes.js';
import { type JsonValue, JsonSyntaxError, parseJson } from './json.js';
import { type SourceDtype, type TensorRecord, WeightsFormatError } from './tensor-record.js';

/** Result of {@link parseSafetensors}. */
export interface SafetensorsContents {
  /** Tensors in header (file) order. */
  tensors: Map<string, TensorRecord>;
  /** The `__metadata__` string map (empty when absent). */
  metadata: Record<string, string>;
}

/** A tensor that {@link encodeSafetensors} can write. data: prod(shape) elements, row-major. */
export interface EncodableTensor {
  dtype: 'float32' | 'int32';
  shape: number[];
  data: Float32Array | Int32Array;
}

const DTYPE_OF_CODE: Readonly<Record<string, SourceDtype>> = {
  F32: 'float32',
  F16: 'float16',
  BF16: 'bfloat16',
  F64: 'float64',
  I32: 'int32',
  I64: 'int64',
  I16: 'int16',
  I8: 'int8',
  U8: 'uint8',
  BOOL: 'bool',
};

/** Largest header accepted (the reference implementation's limit). */
const MAX_HEADER_BYTES = 100_000_000;
const METADATA_KEY = '__metadata__';

/** One header entry after validation; begin/end are relative to the data section. */
interface HeaderEntry {
  name: string;
  code: string;
  dtype: SourceDtype;
  shape: number[];
  begin: number;
  end: number;
}

/**
 * Parses a safetensors file. Everything is validated before any tensor is decoded: the header
 * length against the file size, the JSON, every entry's dtype/shape/data_offsets, that byte counts
 * match shape x dtype, and that the tensors tile the data section without overlaps or gaps.
 * Throws {@link WeightsFormatError} (message starts with `source`) on any problem.
 */
export function parseSafetensors(bytes: Uint8Array, source = 'bytes'): SafetensorsContents {
  const headerLength = readHeaderLength(bytes, source);
  const header = parseHeaderJson(bytes.subarray(8, 8 + headerLength), source);
  const dataSection = bytes.subarray(8 + headerLength);
  const metadata = readMetadata(header.get(METADATA_KEY), source);
  const entries = readEntries(header, dataSection.length, source);
  checkTiling(entries, dataSection.length, source);
  const tensors = new Map<string, TensorRecord>();
  for (const e of entries) {
    const data = decodeElements(dataSection.subarray(e.begin, e.end), e.dtype, source, `tensor '${e.name}'`);
    tensors.set(e.name, { dtype: e.dtype, shape: e.shape, data });
  }
  return { tensors, metadata };
}

/** Reads the u64 header length and checks it against the file size before anything else. */
function readHeaderLength(bytes: Uint8Array, source: string): number {
  if (bytes.length < 8) {
    throw new WeightsFormatError(source, `file has ${bytes.length} bytes; a safetensors file starts with an 8-byte header length`);
  }
  const view = viewOf(bytes);
  const length = readU64(view, 0);
  if (length > bytes.length - 8) {
    throw new WeightsFormatError(source, `header length field is ${u64Text(view, 0)} but only ${bytes.length - 8} bytes follow it`);
  }
  if (length > MAX_HEADER_BYTES) {
    throw new WeightsFormatError(source, `header length ${length} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  }
  if (length < 2) throw new WeightsFormatError(source, `header length ${length} is too small for a JSON object`);
  return length;
}

function parseHeaderJson(headerBytes: Uint8Array, source: string): Map<string, JsonValue> {
  const text = utf8(headerBytes, source, 'header');
  if (text[0] !== '{') throw new WeightsFormatError(source, `header must start with '{', found ${JSON.stringify(text[0])}`);
  let header: JsonValue;
  try {
    header = parseJson(text);
  } catch (e) {
    if (e instanceof JsonSyntaxError) throw new WeightsFormatError(source, `header is not valid JSON: ${e.message}`);
    throw e;
  }
  if (!(header instanceof Map)) throw new WeightsFormatError(source, 'header must be a JSON object');
  return header;
}

function readMetadata(value: JsonValue | undefined, source: string): Record<string, string> {
  if (value === undefined) return {};
  if (!(value instanceof Map)) throw new WeightsFormatError(source, `${METADATA_KEY} must be an object of strings`);
  for (const [key, v] of value) {
    if (typeof v !== 'string') {
      throw new WeightsFormatError(source, `${METADATA_KEY} entry '${key}' is ${describeJson(v)}; expected a string`);
    }
  }
  return Object.fromEntries(value) as Record<string, string>; // fromEntries defines own keys, even '__proto__'
}

function readEntries(header: Map<string, JsonValue>, dataLength: number, source: string): HeaderEntry[] {
  const entries: HeaderEntry[] = [];
  for (const [name, value] of header) {
    if (name !== METADATA_KEY) entries.push(readEntry(name, value, dataLength, source));
  }
  return entries;
}

function readEntry(name: string, value: JsonValue, dataLength: number, source: string): HeaderEntry {
  const what = `tensor '${name}'`;
  if (!(value instanceof Map)) throw new WeightsFormatError(source, `${what} is ${describeJson(value)}; expected an object with dtype, shape, data_offsets`);
  const code = value.get('dtype');
  const dtype = typeof code === 'string' ? DTYPE_OF_CODE[code] : undefined;
  if (typeof code !== 'string' || dtype === undefined || !Object.hasOwn(DTYPE_OF_CODE, code)) {
    throw new WeightsFormatError(source, `${what} has dtype ${describeJson(code)}; supported: ${Object.keys(DTYPE_OF_CODE).join(', ')}`);
  }
  const shape = value.get('shape');
  if (!Array.isArray(shape)) throw new WeightsFormatError(source, `${what} has shape ${describeJson(shape)}; expected an array of integers`);
  const numel = checkedNumel(shape, source, what);
  const [begin, end] = readOffsets(value.get('data_offsets'), dataLength, source, what);
  const expected = numel * ITEM_SIZE[dtype];
  if (end - begin !== expected) {
    throw new WeightsFormatError(
      source,
      `${what} spans ${end - begin} bytes (data_offsets [${begin}, ${end}]) but shape ${shapeText(shape)} of ${code} needs ${expected}`,
    );
  }
  return { name, code, dtype, shape: shape as number[], begin, end };
}

function readOffsets(value: JsonValue | undefined, dataLength: number, source: string, what: string): [number, number] {
  const ok =
    Array.isArray(value) && value.length === 2 && value.every((v) => typeof v === 'number' && Number.isInteger(v) && v >= 0); // huge values fail the end check below
  if (!ok) throw new WeightsFormatError(source, `${what} has data_offsets ${describeJson(value)}; expected [begin, end] with 0 <= begin <= end`);
  const [begin, end] = value as [number, number];
  if (begin > end) throw new WeightsFormatError(source, `${what} has data_offsets [${begin}, ${end}]; begin must not exceed end`);
  if (end > dataLength) {
    throw new WeightsFormatError(source, `${what} has data_offsets [${begin}, ${end}] past the end of the ${dataLength}-byte data section`);
  }
  return [begin, end];
}

/** Tensors must cover the data section exactly: no overlaps, no gaps, no trailing bytes. */
function checkTiling(entries: readonly HeaderEntry[], dataLength: number, source: string): void {
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: HeaderEntry | null = null;
  for (const e of sorted) {
    if (e.begin < covered && previous) {
      throw new WeightsFormatError(
        source,
        `tensor '${e.name}' (bytes ${e.begin}..${e.end}) overlaps tensor '${previous.name}' (bytes ${previous.begin}..${previous.end})`,
      );
    }
    if (e.begin > covered) throw new WeightsFormatError(source, `data bytes ${covered}..${e.begin} belong to no tensor; expected contiguous tensors`);
    covered = e.end;
    previous = e;
  }
  if (covered !== dataLength) {
    throw new WeightsFormatError(source, `data bytes ${covered}..${dataLength} belong to no tensor; expected the tensors to end at the end of the file`);
  }
}

function describeJson(value: JsonValue | undefined): string {
  if (value === undefined) return 'missing';
  if (value instanceof Map) return 'an object';
  const text = JSON.stringify(value);
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

const CODE_OF_DTYPE = { float32: 'F32', int32: 'I32' } as const;

/**
 * Writes a safetensors file: tensors in the given order with contiguous data_offsets, then
 * `__metadata__` (if given) at the end of the header, the header padded with spaces so the data
 * section starts 8-byte aligned. Throws on duplicate names or data that does not match its shape.
 */
export function encodeSafetensors(
  tensors: Iterable<[string, EncodableTensor]>,
  metadata?: Record<string, string>,
): Uint8Array {
  const header: string[] = [];
  const chunks: Uint8Array[] = [];
  const names = new Set<string>();
  let offset = 0;
  for (const [name, tensor] of tensors) {
    checkEncodable(name, tensor, names);
    const bytes = littleEndianBytes(tensor.data);
    const entry = { dtype: CODE_OF_DTYPE[tensor.dtype], shape: tensor.shape, data_offsets: [offset, offset + bytes.length] };
    header.push(`${JSON.stringify(name)}:${JSON.stringify(entry)}`);
    chunks.push(bytes);
    offset += bytes.length;
  }
  if (metadata !== undefined) header.push(`${JSON.stringify(METADATA_KEY)}:${encodeMetadata(metadata)}`);
  return assemble(`{${header.join(',')}}`, chunks, offset);
}

function checkEncodable(name: string, tensor: EncodableTensor, names: Set<string>): void {
  const source = 'encodeSafetensors';
  if (name === METADATA_KEY) throw new WeightsFormatError(source, `'${METADATA_KEY}' is reserved and cannot name a tensor`);
  checkEncodableTensor(source, name, tensor, names);
}

/**
 * Checks one tensor to be written by `source` (a writer's name): a name not used before,
 * dtype float32 or int32 with matching data, and as many elements as the shape says.
 */
export function checkEncodableTensor(source: string, name: string, tensor: EncodableTensor, names: Set<string>): void {
  if (names.has(name)) throw new WeightsFormatError(source, `duplicate tensor name '${name}'`);
  names.add(name);
  const expectedType = tensor.dtype === 'float32' ? Float32Array : tensor.dtype === 'int32' ? Int32Array : null;
  if (expectedType === null) throw new WeightsFormatError(source, `tensor '${name}' has dtype '${String(tensor.dtype)}'; expected 'float32' or 'int32'`);
  if (!(tensor.data instanceof expectedType)) {
    throw new WeightsFormatError(source, `tensor '${name}' is ${tensor.dtype}; expected its data to be ${expectedType.name}`);
  }
  const numel = checkedNumel(tensor.shape, source, `tensor '${name}'`);
  if (tensor.data.length !== numel) {
    throw new WeightsFormatError(source, `tensor '${name}' has shape ${shapeText(tensor.shape)} (${numel} elements) but ${tensor.data.length} data elements`);
  }
}

function encodeMetadata(metadata: Record<string, string>): string {
  const parts = Object.entries(metadata).map(([k, v]) => {
    if (typeof v !== 'string') throw new WeightsFormatError('encodeSafetensors', `metadata '${k}' must be a string`);
    return `${JSON.stringify(k)}:${JSON.stringify(v)}`;
  });
  return `{${parts.join(',')}}`;
}

/** [u64 header length][header + spaces to 8-byte alignment][data chunks]. */
function assemble(headerText: string, chunks: readonly Uint8Array[], dataLength: number): Uint8Array {
  const headerBytes = new TextEncoder().encode(headerText);
  const paddedLength = Math.ceil(headerBytes.length / 8) * 8;
  const out = new Uint8Array(8 + paddedLength + dataLength);
  const view = viewOf(out);
  view.setUint32(0, paddedLength, true);
  view.setUint32(4, Math.floor(paddedLength / 0x1_0000_0000), true);
  out.set(headerBytes, 8);
  out.fill(0x20, 8 + headerBytes.length, 8 + paddedLength);
  let offset = 8 + paddedLength;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}
