/**
 * Argument checks for every maejs package. Each failed check throws one message shape,
 * `<what> is <value>: expected <expectation>`, for example
 * `linearProbe: lr is NaN: expected a finite number > 0`.
 *
 * A check throws a RangeError unless it is given another {@link ArgumentErrorMaker} (a config
 * error class, a CLI usage error); the maker receives the parts and builds the message with
 * {@link argumentMessage} or {@link describeMismatch}, so the shape stays the same.
 *
 * @module validate
 */

/** Builds the error a failed check throws from what was checked, its value and what was expected. */
export type ArgumentErrorMaker = (what: string, value: unknown, expected: string) => Error;

/** Interval notation for {@link checkInRange}: `[` and `]` include an end, `(` and `)` exclude it. */
export type IntervalBounds = '[]' | '[)' | '(]' | '()';

/** Array items a message shows before it elides the rest. */
const SHOWN_ITEMS = 8;

/**
 * A value as a message shows it: numbers as JavaScript prints them (`NaN`, `-0`, `1e-8`),
 * strings quoted (`"mean"`), arrays item by item (`[0.9, NaN]`, where JSON would print null),
 * plain objects as JSON, typed arrays and class instances by their class.
 */
export function showValue(value: unknown): string {
  if (typeof value === 'number') return Object.is(value, -0) ? '-0' : String(value);
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (typeof value === 'function') return `a function (${value.name || 'anonymous'})`;
  if (value === null || typeof value !== 'object') return String(value);
  if (Array.isArray(value)) return showArray(value);
  if (ArrayBuffer.isView(value)) return showView(value);
  const proto: unknown = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) return `a ${(value as object).constructor?.name ?? 'object'}`;
  return showPlainObject(value);
}

/** `[1, "a", NaN]`; arrays longer than {@link SHOWN_ITEMS} end with `... (N items)`. */
function showArray(items: readonly unknown[]): string {
  const shown = items.slice(0, SHOWN_ITEMS).map(showValue);
  if (items.length > SHOWN_ITEMS) shown.push(`... (${items.length} items)`);
  return `[${shown.join(', ')}]`;
}

/** `a Float32Array of length 3` (a DataView: `a DataView of 12 bytes`). */
function showView(view: ArrayBufferView): string {
  const length = (view as ArrayBufferView & { length?: number }).length;
  return length === undefined ? `a ${view.constructor.name} of ${view.byteLength} bytes` : `a ${view.constructor.name} of length ${length}`;
}

/** A plain object as JSON, or `an object` when it cannot be (a cycle, a bigint inside). */
function showPlainObject(value: object): string {
  try {
    return JSON.stringify(value);
  } catch {
    return 'an object';
  }
}

/** `is <value>: expected <expectation>`: the part of every argument message after what was checked. */
export function describeMismatch(value: unknown, expected: string): string {
  return `is ${showValue(value)}: expected ${expected}`;
}

/** `<what> is <value>: expected <expectation>`: the message of every failed argument check. */
export function argumentMessage(what: string, value: unknown, expected: string): string {
  return `${what} ${describeMismatch(value, expected)}`;
}

/** The default {@link ArgumentErrorMaker}: a RangeError with {@link argumentMessage}. */
export const rangeError: ArgumentErrorMaker = (what, value, expected) => new RangeError(argumentMessage(what, value, expected));

/** An {@link ArgumentErrorMaker} for values of the wrong kind (not an array, not a Float32Array): a TypeError with {@link argumentMessage}. */
export const typeError: ArgumentErrorMaker = (what, value, expected) => new TypeError(argumentMessage(what, value, expected));

/** Throws the error `makeError` builds for `what`, `value` and `expected`. For checks the helpers below do not cover. */
export function failArgument(what: string, value: unknown, expected: string, makeError: ArgumentErrorMaker = rangeError): never {
  throw makeError(what, value, expected);
}

/** Throws unless `value` is a finite number (not NaN, not ±Infinity). */
export function checkFinite(what: string, value: unknown, makeError: ArgumentErrorMaker = rangeError): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value)) failArgument(what, value, 'a finite number', makeError);
}

/** Throws unless `value` is a finite number > 0. */
export function checkPositive(what: string, value: unknown, makeError: ArgumentErrorMaker = rangeError): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) failArgument(what, value, 'a finite number > 0', makeError);
}

/** Throws unless `value` is a finite number >= 0. */
export function checkNonNegative(what: string, value: unknown, makeError: ArgumentErrorMaker = rangeError): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) failArgument(what, value, 'a finite number >= 0', makeError);
}

/** `an integer`, `an integer >= 1`, `an integer <= 9` or `an integer in [0, 9]`. */
function integerExpectation(min: number, max: number): string {
  if (min === -Infinity && max === Infinity) return 'an integer';
  if (max === Infinity) return `an integer >= ${min}`;
  if (min === -Infinity) return `an integer <= ${max}`;
  return `an integer in [${min}, ${max}]`;
}

/** Throws unless `value` is an integer in [min, max] (both ends included; leave them out for no bound). */
export function checkInteger(what: string, value: unknown, min = -Infinity, max = Infinity, makeError: ArgumentErrorMaker = rangeError): asserts value is number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) failArgument(what, value, integerExpectation(min, max), makeError);
}

/** Whether `value` lies between `low` and `high` as `bounds` says (false for NaN). */
function inInterval(value: number, low: number, high: number, bounds: IntervalBounds): boolean {
  const aboveLow = bounds[0] === '[' ? value >= low : value > low;
  const belowHigh = bounds[1] === ']' ? value <= high : value < high;
  return aboveLow && belowHigh;
}

/**
 * Throws unless `value` is a number in the interval from `low` to `high`; `bounds` says which
 * ends are included (default `'[]'`, both). For example `checkInRange('maskRatio', r, 0, 1, '[)')`.
 */
export function checkInRange(what: string, value: unknown, low: number, high: number, bounds: IntervalBounds = '[]', makeError: ArgumentErrorMaker = rangeError): asserts value is number {
  if (typeof value !== 'number' || !inInterval(value, low, high, bounds)) failArgument(what, value, `a number in ${bounds[0]}${low}, ${high}${bounds[1]}`, makeError);
}

/** `"cls"`, `"cls" or "mean"`, or `one of "a", "b", "c"`. */
export function choicesExpectation(choices: readonly unknown[]): string {
  const shown = choices.map(showValue);
  if (shown.length <= 1) return shown.join('');
  if (shown.length === 2) return `${shown[0]} or ${shown[1]}`;
  return `one of ${shown.join(', ')}`;
}

/** Throws unless `value` is one of `choices` (compared with `===`; NaN is never one). */
export function checkOneOf<T>(what: string, value: unknown, choices: readonly T[], makeError: ArgumentErrorMaker = rangeError): asserts value is T {
  if (!choices.some((choice) => choice === value)) failArgument(what, value, choicesExpectation(choices), makeError);
}

/** Throws unless `betas` is a pair [beta1, beta2] of numbers each in [0, 1) (torch.optim.AdamW's check). */
export function checkBetas(what: string, betas: unknown, makeError: ArgumentErrorMaker = rangeError): asserts betas is [number, number] {
  if (!Array.isArray(betas) || betas.length !== 2) failArgument(what, betas, 'a pair [beta1, beta2] of numbers in [0, 1)', makeError);
  betas.forEach((beta: unknown, i) => checkInRange(`${what}[${i}]`, beta, 0, 1, '[)', makeError));
}

/** `[2, 3]` -> `'[2, 3]'`: a tensor shape as messages show it. */
export function showShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** True when two shapes are equal (same rank, same sizes). */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}
