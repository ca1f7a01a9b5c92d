/**
 * Compares a backend's values with their float64 reference and turns the comparisons of one
 * check into a report row.
 */
import type { CheckGroup, CheckResult, Tolerance } from './types.js';

interface Comparison {
  maxAbs: number;
  maxRel: number;
  firstBad: number;
  nonFinite: number;
  actualAtBad?: number;
  expectedAtBad?: number;
}

export function compare(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: Tolerance, exact = false): Comparison {
  if (actual.length !== expected.length) throw new Error(`got ${actual.length} values, expected ${expected.length}`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  if (scale === 0) scale = 1;
  const floor = 1e-3 * scale;
  let maxAbs = 0;
  let maxRel = 0;
  let firstBad = -1;
  let nonFinite = -1;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i];
    const b = expected[i];
    if (!Number.isFinite(a)) {
      if (nonFinite < 0) nonFinite = i;
      if (firstBad < 0) firstBad = i;
      continue;
    }
    const diff = Math.abs(a - b);
    maxAbs = Math.max(maxAbs, diff);
    maxRel = Math.max(maxRel, diff / Math.max(Math.abs(b), floor));
    const ok = exact ? a === b : diff <= tol.atol * scale + tol.rtol * Math.abs(b);
    if (!ok && firstBad < 0) firstBad = i;
  }
  const out: Comparison = { maxAbs, maxRel, firstBad, nonFinite };
  if (firstBad >= 0) {
    out.actualAtBad = actual[firstBad];
    out.expectedAtBad = expected[firstBad];
  }
  return out;
}

/** A named pair of arrays to compare inside one check. */
export interface Pair {
  what: string;
  actual: ArrayLike<number>;
  expected: ArrayLike<number>;
  exact?: boolean;
  tolerance?: Tolerance;
  /** Leave out of the reported max abs / rel errors (statistics such as sample moments). */
  notInErrors?: boolean;
}

export function judge(name: string, group: CheckGroup, pairs: Pair[], tol: Tolerance, ms: number): CheckResult {
  let maxAbs = 0;
  let maxRel = 0;
  let error: string | undefined;
  for (const p of pairs) {
    const t = p.tolerance ?? tol;
    let c: Comparison;
    try {
      c = compare(p.actual, p.expected, t, p.exact);
    } catch (e) {
      error ??= `${p.what}: ${(e as Error).message}`;
      continue;
    }
    if (!p.notInErrors) {
      maxAbs = Math.max(maxAbs, c.maxAbs);
      maxRel = Math.max(maxRel, c.maxRel);
    }
    if (c.firstBad >= 0 && error === undefined) {
      error =
        c.nonFinite >= 0
          ? `${p.what}: element ${c.nonFinite} is ${p.actual[c.nonFinite]} (non-finite), expected ${p.expected[c.nonFinite]}`
          : `${p.what}: element ${c.firstBad} is ${c.actualAtBad}, expected ${c.expectedAtBad}${p.exact ? ' (exact match required)' : ` (atol ${t.atol} x max|ref|, rtol ${t.rtol})`}`;
    }
  }
  return { name, group, status: error === undefined ? 'pass' : 'fail', maxAbsError: maxAbs, maxRelError: maxRel, tolerance: tol, error, ms };
}
