/**
 * A pickle opcode emitter: what `torch.save` writes as data.pkl (`encodePth`), and the
 * hand-made pickles of the loader tests and the fuzz harness. Method names follow the opcode
 * names; nothing is added implicitly (start with {@link PickleWriter.proto}, end with
 * {@link PickleWriter.stop}).
 */
const encoder = new TextEncoder();

/** Little-endian bytes of an unsigned 32-bit integer. */
function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** Shortest two's-complement little-endian bytes of `value` (Python's `encode_long`). */
function longBytes(value: bigint): number[] {
  const bytes: number[] = [];
  let v = value;
  do {
    bytes.push(Number(BigInt.asUintN(8, v)));
    v >>= 8n;
  } while (!(v === 0n && (bytes[bytes.length - 1] & 0x80) === 0) && !(v === -1n && (bytes[bytes.length - 1] & 0x80) !== 0));
  return bytes;
}

/** Appends opcodes and their arguments to a byte array. */
export class PickleWriter {
  private readonly out: number[] = [];

  /** Raw opcode and argument bytes (for opcodes without a method, and for broken pickles). */
  op(...bytes: number[]): this {
    for (const b of bytes) this.out.push(b);
    return this;
  }

  /** `bytes` repeated `n` times (no argument spreading, so n can be large). */
  repeat(bytes: readonly number[], n: number): this {
    for (let i = 0; i < n; i++) for (const b of bytes) this.out.push(b);
    return this;
  }

  /** PROTO `version` (torch.save writes 2). */
  proto(version = 2): this {
    return this.op(0x80, version);
  }

  mark(): this {
    return this.op(0x28);
  }

  stop(): this {
    return this.op(0x2e);
  }

  none(): this {
    return this.op(0x4e);
  }

  /** NEWTRUE / NEWFALSE. */
  bool(value: boolean): this {
    return this.op(value ? 0x88 : 0x89);
  }

  emptyDict(): this {
    return this.op(0x7d);
  }

  emptyList(): this {
    return this.op(0x5d);
  }

  emptyTuple(): this {
    return this.op(0x29);
  }

  /** TUPLE: the values since the last MARK. */
  tuple(): this {
    return this.op(0x74);
  }

  /** TUPLE1, TUPLE2 or TUPLE3. */
  tupleN(n: 1 | 2 | 3): this {
    return this.op(0x84 + n);
  }

  append(): this {
    return this.op(0x61);
  }

  appends(): this {
    return this.op(0x65);
  }

  setitem(): this {
    return this.op(0x73);
  }

  setitems(): this {
    return this.op(0x75);
  }

  reduce(): this {
    return this.op(0x52);
  }

  build(): this {
    return this.op(0x62);
  }

  binpersid(): this {
    return this.op(0x51);
  }

  binput(index: number): this {
    return this.op(0x71, index);
  }

  binget(index: number): this {
    return this.op(0x68, index);
  }

  /** The shortest of BININT1, BININT2 and BININT, else LONG1 (as Python's pickler chooses). */
  int(value: number | bigint): this {
    const big = BigInt(value);
    if (big >= 0n && big < 256n) return this.op(0x4b, Number(big));
    if (big >= 0n && big < 65536n) return this.op(0x4d, Number(big) & 0xff, Number(big) >> 8);
    if (big >= -(2n ** 31n) && big < 2n ** 31n) return this.op(0x4a, ...u32(Number(BigInt.asUintN(32, big))));
    return this.long1(big);
  }

  /** LONG1: a signed integer of up to 255 bytes. */
  long1(value: bigint): this {
    const bytes = longBytes(value);
    return this.op(0x8a, bytes.length, ...bytes);
  }

  /** BINFLOAT: a big-endian float64. */
  float(value: number): this {
    const view = new DataView(new ArrayBuffer(8));
    view.setFloat64(0, value, false);
    return this.op(0x47, ...new Uint8Array(view.buffer));
  }

  /** BINUNICODE: a str. */
  str(text: string): this {
    const bytes = encoder.encode(text);
    this.op(0x58, ...u32(bytes.length));
    for (const b of bytes) this.out.push(b);
    return this;
  }

  /** GLOBAL `module.name`. */
  global(module: string, name: string): this {
    return this.op(0x63, ...encoder.encode(`${module}\n${name}\n`));
  }

  /** MARK, the integers, TUPLE: a tuple of ints such as a shape or strides. */
  intTuple(items: readonly (number | bigint)[]): this {
    this.mark();
    for (const item of items) this.int(item);
    return this.tuple();
  }

  /** The bytes written so far. */
  bytes(): Uint8Array {
    return Uint8Array.from(this.out);
  }
}
