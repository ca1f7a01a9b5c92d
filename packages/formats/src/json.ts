/**
 * A small strict JSON parser for safetensors headers. Unlike JSON.parse it keeps object keys in
 * file order (even integer-like keys such as "0"), refuses duplicate keys, and bounds nesting.
 */

/** Parsed JSON. Objects are Maps (file order, no prototype keys). */
export type JsonValue = null | boolean | number | string | JsonValue[] | Map<string, JsonValue>;

/** Deepest nesting of arrays/objects accepted. */
const MAX_JSON_DEPTH = 64;

/** A syntax error with the character position; callers wrap it in a WeightsFormatError. */
export class JsonSyntaxError extends Error {}

/** Parses `text` as exactly one JSON value (surrounding whitespace allowed). Throws JsonSyntaxError. */
export function parseJson(text: string): JsonValue {
  const parser = new JsonParser(text);
  parser.skipWhitespace();
  const value = parser.parseValue(0);
  parser.skipWhitespace();
  if (parser.pos !== text.length) parser.fail('expected end of input');
  return value;
}

const NUMBER_PATTERN = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/y;
const ESCAPES: Readonly<Record<string, string>> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

class JsonParser {
  pos = 0;

  constructor(private readonly text: string) {}

  fail(expected: string): never {
    const found = this.pos < this.text.length ? JSON.stringify(this.text[this.pos]) : 'end of input';
    throw new JsonSyntaxError(`${expected} at character ${this.pos}, found ${found}`);
  }

  skipWhitespace(): void {
    const t = this.text;
    while (this.pos < t.length) {
      const c = t.charCodeAt(this.pos);
      if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
      this.pos++;
    }
  }

  parseValue(depth: number): JsonValue {
    const c = this.text[this.pos];
    if (c === '{') return this.parseObject(depth + 1);
    if (c === '[') return this.parseArray(depth + 1);
    if (c === '"') return this.parseString();
    if (c === '-' || (c >= '0' && c <= '9')) return this.parseNumber();
    for (const [word, value] of [['true', true], ['false', false], ['null', null]] as const) {
      if (this.text.startsWith(word, this.pos)) {
        this.pos += word.length;
        return value;
      }
    }
    return this.fail('expected a JSON value');
  }

  private checkDepth(depth: number): void {
    if (depth > MAX_JSON_DEPTH) this.fail(`nesting deeper than ${MAX_JSON_DEPTH} levels`);
  }

  private parseObject(depth: number): Map<string, JsonValue> {
    this.checkDepth(depth);
    const result = new Map<string, JsonValue>();
    this.pos++; // '{'
    this.skipWhitespace();
    if (this.text[this.pos] === '}') {
      this.pos++;
      return result;
    }
    for (;;) {
      if (this.text[this.pos] !== '"') this.fail('expected a string key');
      const keyPos = this.pos;
      const key = this.parseString();
      if (result.has(key)) throw new JsonSyntaxError(`duplicate key ${JSON.stringify(key)} at character ${keyPos}`);
      this.skipWhitespace();
      this.expect(':');
      this.skipWhitespace();
      result.set(key, this.parseValue(depth));
      this.skipWhitespace();
      if (this.text[this.pos] === '}') {
        this.pos++;
        return result;
      }
      this.expect(',');
      this.skipWhitespace();
    }
  }

  private parseArray(depth: number): JsonValue[] {
    this.checkDepth(depth);
    const result: JsonValue[] = [];
    this.pos++; // '['
    this.skipWhitespace();
    if (this.text[this.pos] === ']') {
      this.pos++;
      return result;
    }
    for (;;) {
      result.push(this.parseValue(depth));
      this.skipWhitespace();
      if (this.text[this.pos] === ']') {
        this.pos++;
        return result;
      }
      this.expect(',');
      this.skipWhitespace();
    }
  }

  private expect(char: string): void {
    if (this.text[this.pos] !== char) this.fail(`expected '${char}'`);
    this.pos++;
  }

  private parseNumber(): number {
    NUMBER_PATTERN.lastIndex = this.pos;
    const match = NUMBER_PATTERN.exec(this.text);
    if (!match) return this.fail('expected a number');
    this.pos += match[0].length;
    return Number(match[0]);
  }

  private parseString(): string {
    const t = this.text;
    this.pos++; // opening quote
    let result = '';
    let chunkStart = this.pos;
    for (;;) {
      if (this.pos >= t.length) this.fail('unterminated string');
      const c = t.charCodeAt(this.pos);
      if (c === 0x22) break;
      if (c < 0x20) this.fail('control character in string');
      if (c !== 0x5c) {
        this.pos++;
        continue;
      }
      result += t.slice(chunkStart, this.pos);
      result += this.parseEscape();
      chunkStart = this.pos;
    }
    result += t.slice(chunkStart, this.pos);
    this.pos++; // closing quote
    return result;
  }

  /** At a backslash: returns the escaped text and moves past the escape. */
  private parseEscape(): string {
    const e = this.text[this.pos + 1];
    if (e === 'u') {
      const hex = this.text.slice(this.pos + 2, this.pos + 6);
      if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
        this.pos++;
        this.fail('expected 4 hex digits after \\u');
      }
      this.pos += 6;
      return String.fromCharCode(parseInt(hex, 16));
    }
    const escaped = e === undefined ? undefined : ESCAPES[e];
    if (escaped === undefined) {
      this.pos++;
      this.fail('invalid escape');
    }
    this.pos += 2;
    return escaped;
  }
}
