/** Argument checks shared by the trainer modules; every error names the value and the allowed range. */

/** Throws unless `value` is a finite number >= 0. */
export function checkNonNegative(what: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new RangeError(`${what} must be a finite number >= 0, got ${String(value)}`);
  }
}

/** Throws unless `value` is a finite number > 0. */
export function checkPositive(what: string, value: number): void {
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
    throw new RangeError(`${what} must be a finite number > 0, got ${String(value)}`);
  }
}

/** Throws unless `value` is an integer >= `min`. */
export function checkInteger(what: string, value: number, min: number): void {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) {
    throw new RangeError(`${what} must be an integer >= ${min}, got ${String(value)}`);
  }
}

/** Throws unless `betas` is a pair of numbers each in [0, 1) (torch.optim.AdamW's check). */
export function checkBetas(what: string, betas: readonly number[]): void {
  if (!Array.isArray(betas) || betas.length !== 2) {
    throw new RangeError(`${what} must be a pair [beta1, beta2], got ${JSON.stringify(betas)}`);
  }
  betas.forEach((b, i) => {
    if (typeof b !== 'number' || !(b >= 0 && b < 1)) {
      throw new RangeError(`${what}[${i}] must be in [0, 1), got ${String(b)}`);
    }
  });
}

/** `[2, 3]` -> `'[2, 3]'`, for messages. */
export function showShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** True when two shapes are equal. */
export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((s, i) => s === b[i]);
}
