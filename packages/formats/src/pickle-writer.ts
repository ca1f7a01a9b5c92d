/** A pickle opcode emitter (protocol 2): what `torch.save` writes as data.pkl, and hand-made pickles for loader tests. */
const encoder = new TextEncoder();

/** Little-endian bytes of an unsigned 32-bit integer. */
function u32(n: number): number[] {
  return [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
}

/** Appends opcodes; {@link bytes} adds STOP. */
export class PickleWriter {
  readonly out: number[] = [0x80, 2]; // PROTO 2
  /** Raw opcode and argument bytes. */
  op(...bytes: number[]): this {
    for (const b of bytes) this.out.push(b);
    return this;
  }
  /** `bytes` repeated `n` times (no argument spreading, so n can be large). */
  repeat(bytes: readonly number[], n: number): this {
    for (let i = 0; i < n; i++) for (const b of bytes) this.out.push(b);
    return this;
  }
  /** BINUNICODE: a str. */
  str(s: string): this {
    const b = encoder.encode(s);
    this.op(0x58, ...u32(b.length));
    for (const x of b) this.out.push(x);
    return this;
  }
  /** GLOBAL module.name. */
  global(module: string, name: string): this {
    return this.op(0x63, ...encoder.encode(`${module}\n${name}\n`));
  }
  /** BININT for 32-bit values, else LONG1. */
  int(v: number | bigint): this {
    const big = BigInt(v);
    if (big >= -(2n ** 31n) && big < 2n ** 31n) return this.op(0x4a, ...u32(Number(BigInt.asUintN(32, big))));
    const bytes: number[] = [];
    let x = big;
    for (let i = 0; i < 9; i++, x >>= 8n) bytes.push(Number(BigInt.asUintN(8, x)));
    return this.op(0x8a, bytes.length, ...bytes); // LONG1
  }
  /** MARK, the integers, TUPLE. */
  tuple(items: readonly (number | bigint)[]): this {
    this.op(0x28);
    items.forEach((i) => this.int(i));
    return this.op(0x74);
  }
  /** The pickle, STOP included. */
  bytes(): Uint8Array {
    return Uint8Array.from([...this.out, 0x2e]);
  }
}
