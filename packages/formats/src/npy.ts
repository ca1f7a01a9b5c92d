/**
 * NPY reader (format versions 1, 2, 3) and float32/int32 writer (version 1.0).
 *
 * Layout: "\x93NUMPY", major, minor, header length (u16 for v1, u32 for v2/v3), an ASCII (v3: UTF-8)
 * Python dict literal `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 1, 28, 28), }` padded
 * with spaces and a newline, then the raw little-endian data.
 */
import { latin1, requireRange, utf8, viewOf } from './bytes.js';
import { checkedNumel, decodeElements, ITEM_SIZE, littleEndianBytes, shapeText } from './dtypes.js';
import { gatherStridedBytes } from './strided.js';
import { type SourceDtype, type TensorRecord, WeightsFormatError } from './tensor-record.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
/** Longest header accepted (numpy itself refuses headers over 10000 bytes by default). */
const MAX_HEADER_BYTES = 1 << 20;

const DTYPE_OF_DESCR: Readonly<Record<string, SourceDtype>> = {
  '<f4': 'float32',
  '<f8': 'float64',
  '<f2': 'float16',
  '<i4': 'int32',
  '<i8': 'int64',
  '<i2': 'int16',
  '|i1': 'int8',
  '|u1': 'uint8',
  '|b1': 'bool',
};

/** The header dict of an NPY file. */
interface NpyHeader {
  dtype: SourceDtype;
  fortranOrder: boolean;
  shape: number[];
}

/**
 * Parses an NPY file (v1/v2/v3, little-endian numeric dtypes). Fortran-order arrays are transposed
 * into row-major order, so `data` is always C order. Throws {@link WeightsFormatError} on anything
 * malformed or unsupported (big-endian, structured or object dtypes, wrong data size).
 */
export function parseNpy(bytes: Uint8Array, source = 'bytes'): TensorRecord {
  const { headerText, dataStart } = readPreamble(bytes, source);
  const header = interpretHeader(parseDictLiteral(headerText, source), source);
  const numel = checkedNumel(header.shape, source, 'array');
  const expected = numel * ITEM_SIZE[header.dtype];
  const available = bytes.length - dataStart;
  if (available !== expected) {
    throw new WeightsFormatError(
      source,
      `shape ${shapeText(header.shape)} of ${header.dtype} needs ${expected} data bytes after the header but the file has ${available}`,
    );
  }
  const stored = bytes.subarray(dataStart);
  const rowMajor = header.fortranOrder ? gatherStridedBytes(stored, ITEM_SIZE[header.dtype], header.shape, fortranStrides(header.shape), 0) : stored;
  return { dtype: header.dtype, shape: header.shape, data: decodeElements(rowMajor, header.dtype, source, 'array') };
}

/** Checks magic and version, returns the header text and where the data starts. */
function readPreamble(bytes: Uint8Array, source: string): { headerText: string; dataStart: number } {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) {
    throw new WeightsFormatError(source, 'not an NPY file: expected the magic string \\x93NUMPY and a 10-byte preamble');
  }
  const major = bytes[6];
  if (major < 1 || major > 3) throw new WeightsFormatError(source, `NPY format version ${major}.${bytes[7]} is not supported; expected 1.0, 2.0 or 3.0`);
  const view = viewOf(bytes);
  const lengthSize = major === 1 ? 2 : 4;
  requireRange(bytes.length, 8, lengthSize, source, 'header length field');
  const headerLength = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const headerStart = 8 + lengthSize;
  if (headerLength > MAX_HEADER_BYTES) throw new WeightsFormatError(source, `header length ${headerLength} exceeds the ${MAX_HEADER_BYTES}-byte limit`);
  if (headerStart + headerLength > bytes.length) {
    throw new WeightsFormatError(source, `header length field says ${headerLength} bytes but only ${bytes.length - headerStart} follow it`);
  }
  const headerBytes = bytes.subarray(headerStart, headerStart + headerLength);
  const headerText = major === 3 ? utf8(headerBytes, source, 'header') : latin1(headerBytes);
  return { headerText, dataStart: headerStart + headerLength };
}

/** Values the header dict literal may hold. */
type DictValue = string | boolean | number[];

/**
 * Strict parser of the header's Python dict literal: string keys; values are strings, True/False
 * or tuples of non-negative integers; a trailing comma is allowed; only whitespace may follow '}'.
 */
function parseDictLiteral(text: string, source: string): Map<string, DictValue> {
  const lexer = new LiteralLexer(text, source);
  const dict = new Map<string, DictValue>();
  lexer.expect('{');
  while (!lexer.accept('}')) {
    const key = lexer.string();
    if (dict.has(key)) lexer.fail(`duplicate key '${key}'`);
    lexer.expect(':');
    dict.set(key, lexer.value());
    if (!lexer.accept(',')) {
      lexer.expect('}');
      break;
    }
  }
  lexer.end();
  return dict;
}

/** Character-level scanner for {@link parseDictLiteral}. */
class LiteralLexer {
  private pos = 0;

  constructor(
    private readonly text: string,
    private readonly source: string,
  ) {}

  fail(problem: string): never {
    throw new WeightsFormatError(this.source, `header dict ${problem} at character ${this.pos} of ${JSON.stringify(this.text.slice(0, 120))}`);
  }

  private skipSpace(): void {
    while (this.pos < this.text.length && ' \t\r\n'.includes(this.text[this.pos])) this.pos++;
  }

  accept(token: string): boolean {
    this.skipSpace();
    if (this.text[this.pos] !== token) return false;
    this.pos++;
    return true;
  }

  expect(token: string): void {
    if (!this.accept(token)) this.fail(`expected '${token}'`);
  }

  end(): void {
    this.skipSpace();
    if (this.pos !== this.text.length) this.fail('has unexpected text after the closing brace');
  }

  string(): string {
    this.skipSpace();
    const quote = this.text[this.pos];
    if (quote !== "'" && quote !== '"') this.fail('expected a quoted string');
    const close = this.text.indexOf(quote, this.pos + 1);
    const body = close < 0 ? '' : this.text.slice(this.pos + 1, close);
    if (close < 0 || body.includes('\\') || body.includes('\n')) this.fail('has an unterminated or escaped string');
    this.pos = close + 1;
    return body;
  }

  value(): DictValue {
    this.skipSpace();
    const c = this.text[this.pos];
    if (c === "'" || c === '"') return this.string();
    if (c === '(') return this.intTuple();
    for (const [word, value] of [['True', true], ['False', false]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    if (c === '[') this.fail('holds a list (structured dtypes are not supported)');
    return this.fail('expected a string, True, False or a tuple');
  }

  /** `()`, `(5,)`, `(3, 4)` or `(3, 4,)` of non-negative integers. */
  private intTuple(): number[] {
    this.pos++; // '('
    const items: number[] = [];
    let trailingComma = false;
    while (!this.accept(')')) {
      items.push(this.integer());
      trailingComma = this.accept(',');
      if (!trailingComma) {
        this.expect(')');
        break;
      }
    }
    if (items.length === 1 && !trailingComma) this.fail('has a parenthesised number, not a tuple (expected a trailing comma)');
    return items;
  }

  private integer(): number {
    this.skipSpace();
    const match = /^\d+/.exec(this.text.slice(this.pos, this.pos + 32));
    if (!match) this.fail('expected a non-negative integer');
    this.pos += match[0].length;
    const value = Number(match[0]);
    if (!Number.isSafeInteger(value)) this.fail(`has integer ${match[0]} above 2^53`);
    return value;
  }
}

function interpretHeader(dict: Map<string, DictValue>, source: string): NpyHeader {
  for (const key of dict.keys()) {
    if (key !== 'descr' && key !== 'fortran_order' && key !== 'shape') {
      throw new WeightsFormatError(source, `header has unexpected key '${key}'; expected descr, fortran_order, shape`);
    }
  }
  const descr = dict.get('descr');
  const fortranOrder = dict.get('fortran_order');
  const shape = dict.get('shape');
  if (typeof descr !== 'string') throw new WeightsFormatError(source, "header 'descr' must be a dtype string such as '<f4'");
  if (typeof fortranOrder !== 'boolean') throw new WeightsFormatError(source, "header 'fortran_order' must be True or False");
  if (!Array.isArray(shape)) throw new WeightsFormatError(source, "header 'shape' must be a tuple of integers");
  return { dtype: dtypeOfDescr(descr, source), fortranOrder, shape };
}

function dtypeOfDescr(descr: string, source: string): SourceDtype {
  if (Object.hasOwn(DTYPE_OF_DESCR, descr)) return DTYPE_OF_DESCR[descr];
  if (descr.startsWith('>')) {
    throw new WeightsFormatError(source, `dtype '${descr}' is big-endian; only little-endian data is supported (expected e.g. '<${descr.slice(1)}')`);
  }
  throw new WeightsFormatError(source, `dtype '${descr}' is not supported; expected one of ${Object.keys(DTYPE_OF_DESCR).join(' ')}`);
}

/** Column-major strides of `shape` (first index fastest). shape: [rank] -> [rank]. */
function fortranStrides(shape: readonly number[]): number[] {
  const strides: number[] = [];
  let stride = 1;
  for (const dim of shape) {
    strides.push(stride);
    stride *= dim;
  }
  return strides;
}

/** Spaces numpy reserves after the dict so the first axis can grow in place. */
const GROWTH_AXIS_MAX_DIGITS = 21;

/**
 * Writes an NPY v1.0 file (C order, '<f4' or '<i4') with the header padded so the data starts at a
 * multiple of 64 bytes, byte-identical to numpy's `np.save` for the same array.
 */
export function encodeNpy(record: { dtype: 'float32' | 'int32'; shape: number[]; data: Float32Array | Int32Array }): Uint8Array {
  const source = 'encodeNpy';
  const descr = record.dtype === 'float32' ? '<f4' : record.dtype === 'int32' ? '<i4' : null;
  if (descr === null) throw new WeightsFormatError(source, `dtype '${String(record.dtype)}' is not supported; expected 'float32' or 'int32'`);
  const numel = checkedNumel(record.shape, source, 'array');
  const expectedType = record.dtype === 'float32' ? Float32Array : Int32Array;
  if (!(record.data instanceof expectedType) || record.data.length !== numel) {
    throw new WeightsFormatError(source, `data must be ${expectedType.name} with ${numel} elements for shape ${shapeText(record.shape)}`);
  }
  const header = npyHeaderText(descr, record.shape);
  if (header.length > 0xffff) throw new WeightsFormatError(source, `header of ${header.length} bytes does not fit NPY v1.0`);
  const out = new Uint8Array(10 + header.length + record.data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  viewOf(out).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  out.set(littleEndianBytes(record.data), 10 + header.length);
  return out;
}

/** numpy's v1.0 header text: dict, growth spaces, padding to 64-byte alignment, newline. */
function npyHeaderText(descr: string, shape: readonly number[]): string {
  const shapeRepr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let dict = `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeRepr}, }`;
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, GROWTH_AXIS_MAX_DIGITS - String(shape[0]).length));
  const unpadded = 10 + dict.length + 1; // preamble + dict + '\n'
  const padding = (64 - (unpadded % 64)) % 64;
  return `${dict}${' '.repeat(padding)}\n`;
}
