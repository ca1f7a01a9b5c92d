/**
 * A restricted unpickler that runs no code.
 *
 * It interprets an allow-list of pickle opcodes (enough for protocol 2 state dicts written by
 * `torch.save`) with an explicit stack, so no input can cause deep JS recursion. Everything that
 * could run code in Python (GLOBAL, REDUCE, BUILD, persistent ids) is delegated to {@link PickleHooks},
 * which decide what is allowed. Resource use is bounded: nesting depth, open MARKs, stack length and
 * memo size all have limits ({@link UNPICKLE_LIMITS}) that end in a WeightsFormatError.
 */
import { readU64, requireRange, utf8, viewOf } from './bytes.js';
import { copyOf } from './dtypes.js';
import type { PickleValue } from './pickle-value.js';
import { WeightsFormatError } from './tensor-record.js';

/** What the unpickler asks its host to do for the opcodes that reach outside plain data. */
export interface PickleHooks {
  /** GLOBAL / STACK_GLOBAL `module.name`: return a stand-in value if allowed, else throw. */
  resolveGlobal(module: string, name: string): PickleValue;
  /**
   * REDUCE: "call" `callable` with `args` (a tuple); return the result or throw.
   * `nearbyKey` is a hint for messages: the string just below on the stack (usually the dict key
   * the result will be stored under), or null.
   */
  reduce(callable: PickleValue, args: PickleValue[], nearbyKey: string | null): PickleValue;
  /** BINPERSID: resolve a persistent id (for torch: a storage) or throw. `nearbyKey` as for reduce. */
  persistentLoad(pid: PickleValue, nearbyKey: string | null): PickleValue;
  /** BUILD: apply `state` to `target` (typically ignore it) or throw. */
  build(target: PickleValue, state: PickleValue): void;
  /**
   * NEWOBJ: `cls.__new__(cls, *args)` of a plain data class (e.g. argparse.Namespace in official
   * training checkpoints): return an inert stand-in or throw. Without this hook NEWOBJ is refused.
   */
  newObject?(cls: PickleValue, args: PickleValue[]): PickleValue;
}

/** Resource limits of {@link unpickle}. */
export const UNPICKLE_LIMITS = {
  /** Deepest nesting of lists/tuples/dicts. */
  maxNesting: 1000,
  /** Most MARKs open at once. */
  maxMarks: 1000,
  /** Most values on the stack. */
  maxStack: 1 << 20,
  /** Most memo entries. */
  maxMemo: 1 << 20,
} as const;

/** How far down the stack {@link PickleHooks} hints look for a dict key. */
const NEARBY_KEY_DEPTH = 3;
/** Longest module or name line accepted by GLOBAL. */
const MAX_GLOBAL_LINE = 256;

/** Names of all pickle opcodes (protocols 0-5), for error messages. */
const OPCODE_NAMES: Readonly<Record<number, string>> = {
  0x28: 'MARK', 0x2e: 'STOP', 0x30: 'POP', 0x31: 'POP_MARK', 0x32: 'DUP', 0x46: 'FLOAT', 0x49: 'INT', 0x4a: 'BININT',
  0x4b: 'BININT1', 0x4c: 'LONG', 0x4d: 'BININT2', 0x4e: 'NONE', 0x50: 'PERSID', 0x51: 'BINPERSID', 0x52: 'REDUCE',
  0x53: 'STRING', 0x54: 'BINSTRING', 0x55: 'SHORT_BINSTRING', 0x56: 'UNICODE', 0x58: 'BINUNICODE', 0x61: 'APPEND',
  0x62: 'BUILD', 0x63: 'GLOBAL', 0x64: 'DICT', 0x7d: 'EMPTY_DICT', 0x65: 'APPENDS', 0x67: 'GET', 0x68: 'BINGET',
  0x69: 'INST', 0x6a: 'LONG_BINGET', 0x6c: 'LIST', 0x5d: 'EMPTY_LIST', 0x6f: 'OBJ', 0x70: 'PUT', 0x71: 'BINPUT',
  0x72: 'LONG_BINPUT', 0x73: 'SETITEM', 0x74: 'TUPLE', 0x29: 'EMPTY_TUPLE', 0x75: 'SETITEMS', 0x47: 'BINFLOAT',
  0x80: 'PROTO', 0x81: 'NEWOBJ', 0x82: 'EXT1', 0x83: 'EXT2', 0x84: 'EXT4', 0x85: 'TUPLE1', 0x86: 'TUPLE2',
  0x87: 'TUPLE3', 0x88: 'NEWTRUE', 0x89: 'NEWFALSE', 0x8a: 'LONG1', 0x8b: 'LONG4', 0x42: 'BINBYTES',
  0x43: 'SHORT_BINBYTES', 0x8c: 'SHORT_BINUNICODE', 0x8d: 'BINUNICODE8', 0x8e: 'BINBYTES8', 0x8f: 'EMPTY_SET',
  0x90: 'ADDITEMS', 0x91: 'FROZENSET', 0x92: 'NEWOBJ_EX', 0x93: 'STACK_GLOBAL', 0x94: 'MEMOIZE', 0x95: 'FRAME',
  0x96: 'BYTEARRAY8', 0x97: 'NEXT_BUFFER', 0x98: 'READONLY_BUFFER',
};

/** Opcode name and hex code for messages, e.g. `0x81 (NEWOBJ)`. */
export function opcodeText(code: number): string {
  const hex = `0x${code.toString(16).padStart(2, '0')}`;
  return OPCODE_NAMES[code] === undefined ? hex : `${hex} (${OPCODE_NAMES[code]})`;
}

/**
 * Unpickles `bytes` (protocols 0-5 framing, opcodes limited to what torch state dicts use).
 * Throws {@link WeightsFormatError} starting with `source` for any unknown or unsupported opcode,
 * malformed or truncated input, exceeded limit, or anything a hook refuses.
 */
export function unpickle(bytes: Uint8Array, source: string, hooks: PickleHooks): PickleValue {
  return new Unpickler(bytes, source, hooks).run();
}

type Container = PickleValue[] | Map<PickleValue, PickleValue>;

function isContainer(value: PickleValue): value is Container {
  return Array.isArray(value) || value instanceof Map;
}

/** The interpreter state. One instance per call. */
class Unpickler {
  private pos = 0;
  /** Start of the opcode being executed (for messages). */
  private opStart = 0;
  private readonly view: DataView;
  private readonly stack: PickleValue[] = [];
  /** Stack lengths at each open MARK. */
  private readonly marks: number[] = [];
  private readonly memo = new Map<number, PickleValue>();
  /** Nesting depth of containers that hold other containers (absent = 1). */
  private readonly depths = new WeakMap<Container, number>();
  /**
   * Tuples, and containers already placed inside another container: they may no longer change,
   * which keeps recorded depths exact and makes cycles impossible.
   */
  private readonly frozen = new WeakSet<Container>();

  constructor(
    private readonly bytes: Uint8Array,
    private readonly source: string,
    private readonly hooks: PickleHooks,
  ) {
    this.view = viewOf(bytes);
  }

  run(): PickleValue {
    for (;;) {
      if (this.pos >= this.bytes.length) this.fail('pickle ends without a STOP opcode');
      this.opStart = this.pos;
      const code = this.bytes[this.pos++];
      if (code === 0x2e) return this.stop();
      this.execute(code);
    }
  }

  private fail(problem: string): never {
    throw new WeightsFormatError(this.source, `${problem} (pickle byte ${this.opStart})`);
  }

  // ---- reading operands ----

  private take(length: number, what: string): Uint8Array {
    requireRange(this.bytes.length, this.pos, length, this.source, `pickle ${what} at byte ${this.opStart}`);
    const out = this.bytes.subarray(this.pos, this.pos + length);
    this.pos += length;
    return out;
  }

  private u8(): number {
    return this.take(1, 'operand')[0];
  }

  private u16(): number {
    this.take(2, 'operand');
    return this.view.getUint16(this.pos - 2, true);
  }

  private u32(): number {
    this.take(4, 'operand');
    return this.view.getUint32(this.pos - 4, true);
  }

  private i32(): number {
    this.take(4, 'operand');
    return this.view.getInt32(this.pos - 4, true);
  }

  private u64(): number {
    this.take(8, 'operand');
    return readU64(this.view, this.pos - 8);
  }

  private text(length: number): string {
    return utf8(this.take(length, 'string'), this.source, `pickle string at byte ${this.opStart}`);
  }

  /** A GLOBAL operand line: printable ASCII up to '\n'. */
  private line(): string {
    const limit = Math.min(this.bytes.length, this.pos + MAX_GLOBAL_LINE + 1);
    const end = this.bytes.subarray(0, limit).indexOf(0x0a, this.pos);
    if (end < 0) this.fail(`GLOBAL operand is not a newline-terminated line of at most ${MAX_GLOBAL_LINE} characters`);
    const raw = this.bytes.subarray(this.pos, end);
    if (raw.some((b) => b < 0x20 || b > 0x7e)) this.fail('GLOBAL operand has non-printable or non-ASCII characters');
    this.pos = end + 1;
    return String.fromCharCode(...raw);
  }

  /** LONG1 operand: little-endian two's complement of `length` bytes. */
  private long(length: number): number | bigint {
    const raw = this.take(length, 'integer');
    let value = 0n;
    for (let i = raw.length - 1; i >= 0; i--) value = (value << 8n) | BigInt(raw[i]);
    if (length > 0 && raw[length - 1] & 0x80) value -= 1n << BigInt(8 * length);
    const asNumber = Number(value);
    return Number.isSafeInteger(asNumber) ? asNumber : value;
  }

  // ---- the stack ----

  private push(value: PickleValue): void {
    if (this.stack.length >= UNPICKLE_LIMITS.maxStack) this.fail(`stack holds more than ${UNPICKLE_LIMITS.maxStack} values`);
    this.stack.push(value);
  }

  private stackBase(): number {
    return this.marks.length > 0 ? this.marks[this.marks.length - 1] : 0;
  }

  private pop(): PickleValue {
    if (this.stack.length <= this.stackBase()) this.fail('pops a value from an empty stack (or across a MARK)');
    return this.stack.pop() as PickleValue;
  }

  private top(): PickleValue {
    if (this.stack.length <= this.stackBase()) this.fail('needs a value but the stack is empty (or the top is a MARK)');
    return this.stack[this.stack.length - 1];
  }

  private mark(): void {
    if (this.marks.length >= UNPICKLE_LIMITS.maxMarks) this.fail(`more than ${UNPICKLE_LIMITS.maxMarks} MARKs are open at once`);
    this.marks.push(this.stack.length);
  }

  /** Removes and returns the values pushed since the innermost MARK. */
  private popMark(): PickleValue[] {
    const base = this.marks.pop();
    if (base === undefined) this.fail('needs a MARK but none is open');
    return this.stack.splice(base);
  }

  // ---- containers ----

  private depthOf(value: PickleValue): number {
    return isContainer(value) ? (this.depths.get(value) ?? 1) : 0;
  }

  /** Records that `child` is now inside `container`: freezes the child and checks the depth. */
  private adopt(container: Container, child: PickleValue): void {
    if (child === container) this.fail('a container would contain itself (recursive objects are not supported)');
    if (!isContainer(child)) return;
    this.frozen.add(child);
    const depth = this.depthOf(child) + 1;
    if (depth > UNPICKLE_LIMITS.maxNesting) this.fail(`nesting deeper than ${UNPICKLE_LIMITS.maxNesting} levels`);
    if (depth > this.depthOf(container)) this.depths.set(container, depth);
  }

  private tuple(items: PickleValue[]): PickleValue[] {
    for (const item of items) this.adopt(items, item);
    this.frozen.add(items);
    return items;
  }

  private targetList(op: string): PickleValue[] {
    const target = this.top();
    if (!Array.isArray(target)) this.fail(`${op} needs a list below its operands, found ${describe(target)}`);
    this.checkMutable(target, op);
    return target;
  }

  private targetDict(op: string): Map<PickleValue, PickleValue> {
    const target = this.top();
    if (!(target instanceof Map)) this.fail(`${op} needs a dict below its operands, found ${describe(target)}`);
    this.checkMutable(target, op);
    return target;
  }

  private checkMutable(target: Container, op: string): void {
    if (this.frozen.has(target)) this.fail(`${op} modifies a tuple or a container already nested in another one`);
  }

  private appendAll(values: PickleValue[], op: string): void {
    const list = this.targetList(op);
    for (const v of values) {
      this.adopt(list, v);
      list.push(v);
    }
  }

  private setAll(pairs: PickleValue[], op: string): void {
    if (pairs.length % 2 !== 0) this.fail(`${op} needs key/value pairs but got ${pairs.length} values`);
    const dict = this.targetDict(op);
    this.fillDict(dict, pairs);
  }

  private fillDict(dict: Map<PickleValue, PickleValue>, pairs: PickleValue[]): void {
    for (let i = 0; i < pairs.length; i += 2) {
      this.adopt(dict, pairs[i]);
      this.adopt(dict, pairs[i + 1]);
      dict.set(pairs[i], pairs[i + 1]);
    }
  }

  // ---- memo ----

  private memoPut(index: number): void {
    if (!this.memo.has(index) && this.memo.size >= UNPICKLE_LIMITS.maxMemo) this.fail(`memo holds more than ${UNPICKLE_LIMITS.maxMemo} values`);
    this.memo.set(index, this.top());
  }

  private memoGet(index: number): void {
    if (!this.memo.has(index)) this.fail(`refers to memo entry ${index}, which was never stored`);
    this.push(this.memo.get(index) as PickleValue);
  }

  // ---- execution ----

  private stop(): PickleValue {
    if (this.marks.length > 0) this.fail('STOP with a MARK still open');
    if (this.stack.length !== 1) this.fail(`STOP with ${this.stack.length} values on the stack; expected exactly 1`);
    if (this.pos !== this.bytes.length) this.fail(`${this.bytes.length - this.pos} bytes follow the STOP opcode`);
    return this.stack[0];
  }

  private execute(code: number): void {
    switch (code) {
      case 0x80: { // PROTO
        const version = this.u8();
        if (version > 5) this.fail(`pickle protocol ${version} is not supported (expected 2 to 5)`);
        return;
      }
      case 0x95: { // FRAME: only a hint of the next frame's length
        const length = this.u64();
        if (length > this.bytes.length - this.pos) this.fail(`FRAME of ${length} bytes runs past the end of the pickle`);
        return;
      }
      case 0x28: return this.mark(); // MARK
      case 0x30: return void this.pop(); // POP
      case 0x31: return void this.popMark(); // POP_MARK
      case 0x32: return this.push(this.top()); // DUP
      case 0x4e: return this.push(null); // NONE
      case 0x88: return this.push(true); // NEWTRUE
      case 0x89: return this.push(false); // NEWFALSE
      case 0x4a: return this.push(this.i32()); // BININT
      case 0x4b: return this.push(this.u8()); // BININT1
      case 0x4d: return this.push(this.u16()); // BININT2
      case 0x8a: return this.push(this.long(this.u8())); // LONG1
      case 0x47: { // BINFLOAT (big-endian)
        this.take(8, 'float');
        return this.push(this.view.getFloat64(this.pos - 8, false));
      }
      case 0x58: return this.push(this.text(this.u32())); // BINUNICODE
      case 0x8c: return this.push(this.text(this.u8())); // SHORT_BINUNICODE
      case 0x8d: return this.push(this.text(this.u64())); // BINUNICODE8
      case 0x43: return this.push(copyOf(this.take(this.u8(), 'bytes'))); // SHORT_BINBYTES
      case 0x42: return this.push(copyOf(this.take(this.u32(), 'bytes'))); // BINBYTES
      case 0x8e: return this.push(copyOf(this.take(this.u64(), 'bytes'))); // BINBYTES8
      case 0x7d: return this.push(new Map()); // EMPTY_DICT
      case 0x5d: return this.push([]); // EMPTY_LIST
      case 0x29: return this.push(this.tuple([])); // EMPTY_TUPLE
      case 0x74: return this.push(this.tuple(this.popMark())); // TUPLE
      case 0x85: return this.pushTupleOf(1); // TUPLE1
      case 0x86: return this.pushTupleOf(2); // TUPLE2
      case 0x87: return this.pushTupleOf(3); // TUPLE3
      case 0x6c: return this.pushListFromMark(); // LIST
      case 0x64: return this.pushDictFromMark(); // DICT
      case 0x61: return this.appendAll([this.pop()], 'APPEND'); // APPEND
      case 0x65: return this.appendAll(this.popMark(), 'APPENDS'); // APPENDS
      case 0x73: { // SETITEM
        const value = this.pop();
        const key = this.pop();
        return this.setAll([key, value], 'SETITEM');
      }
      case 0x75: return this.setAll(this.popMark(), 'SETITEMS'); // SETITEMS
      case 0x71: return this.memoPut(this.u8()); // BINPUT
      case 0x72: return this.memoPut(this.u32()); // LONG_BINPUT
      case 0x94: return this.memoPut(this.memo.size); // MEMOIZE
      case 0x68: return this.memoGet(this.u8()); // BINGET
      case 0x6a: return this.memoGet(this.u32()); // LONG_BINGET
      case 0x63: { // GLOBAL
        const module = this.line();
        const name = this.line();
        return this.push(this.hooks.resolveGlobal(module, name));
      }
      case 0x93: return this.stackGlobal(); // STACK_GLOBAL
      case 0x52: return this.reduce(); // REDUCE
      case 0x81: return this.newObject(); // NEWOBJ
      case 0x62: return this.build(); // BUILD
      case 0x51: return this.persistentLoad(); // BINPERSID
      default:
        if (OPCODE_NAMES[code] !== undefined) this.fail(`opcode ${opcodeText(code)} is not supported by this restricted unpickler`);
        this.fail(`unknown opcode ${opcodeText(code)}`);
    }
  }

  private pushTupleOf(count: number): void {
    const items: PickleValue[] = [];
    for (let i = 0; i < count; i++) items.unshift(this.pop());
    this.push(this.tuple(items));
  }

  private pushListFromMark(): void {
    const items = this.popMark();
    const list: PickleValue[] = [];
    for (const item of items) {
      this.adopt(list, item);
      list.push(item);
    }
    this.push(list);
  }

  private pushDictFromMark(): void {
    const pairs = this.popMark();
    if (pairs.length % 2 !== 0) this.fail(`DICT needs key/value pairs but got ${pairs.length} values`);
    const dict = new Map<PickleValue, PickleValue>();
    this.fillDict(dict, pairs);
    this.push(dict);
  }

  private stackGlobal(): void {
    const name = this.pop();
    const module = this.pop();
    if (typeof module !== 'string' || typeof name !== 'string') this.fail('STACK_GLOBAL needs two strings (module, name)');
    this.push(this.hooks.resolveGlobal(module, name));
  }

  private reduce(): void {
    const args = this.pop();
    const callable = this.pop();
    if (!Array.isArray(args)) this.fail(`REDUCE needs an argument tuple, found ${describe(args)}`);
    this.push(this.hooks.reduce(callable, args, this.nearbyKey()));
  }

  private newObject(): void {
    const args = this.pop();
    const cls = this.pop();
    if (!Array.isArray(args)) this.fail(`NEWOBJ needs an argument tuple, found ${describe(args)}`);
    if (!this.hooks.newObject) this.fail(`opcode ${opcodeText(0x81)} is not supported by this restricted unpickler`);
    this.push(this.hooks.newObject(cls, args));
  }

  private persistentLoad(): void {
    const pid = this.pop();
    this.push(this.hooks.persistentLoad(pid, this.nearbyKey()));
  }

  /** The topmost string among the top few stack values (a hint naming the dict key being built). */
  private nearbyKey(): string | null {
    for (let i = this.stack.length - 1; i >= Math.max(0, this.stack.length - NEARBY_KEY_DEPTH); i--) {
      const value = this.stack[i];
      if (typeof value === 'string') return value;
    }
    return null;
  }

  private build(): void {
    const state = this.pop();
    const target = this.top();
    if (isContainer(target)) this.checkMutable(target, 'BUILD');
    this.hooks.build(target, state);
  }
}

/** Short description of a value's type for messages. */
export function describe(value: PickleValue): string {
  if (value === null) return 'None';
  if (Array.isArray(value)) return `a list/tuple of ${value.length}`;
  if (value instanceof Map) return `a dict of ${value.size}`;
  if (value instanceof Uint8Array) return `bytes of length ${value.length}`;
  if (typeof value === 'object') return `a ${value.constructor.name}`;
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  return `${typeof value} ${String(value)}`;
}
