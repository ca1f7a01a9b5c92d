/**
 * The public types of the conformance kit and the default tolerance of a backend.
 */
import type { Environment } from '../environment.js';
import type { runConformance } from './run.js';

/** What a check exercises. */
export type CheckGroup = 'op' | 'gradient' | 'random' | 'model';

/** Element-wise tolerance: `|a - b| <= atol * max|b| + rtol * |b|`. */
export interface Tolerance {
  atol: number;
  rtol: number;
}

/** One row of the report. */
export interface CheckResult {
  name: string;
  group: CheckGroup;
  status: 'pass' | 'fail' | 'skip';
  /** Largest |a - b| over all compared values (0 when nothing was compared). */
  maxAbsError: number;
  /** Largest |a - b| / max(|b|, 1e-3 * max|b|). */
  maxRelError: number;
  tolerance: Tolerance;
  /** Why it failed (first bad element, a thrown error, a non-finite value) or was skipped. */
  error?: string;
  /** Wall-clock milliseconds, including read-backs. */
  ms: number;
}

/** What {@link runConformance} returns. */
export interface ConformanceReport {
  backend: string;
  environment: Environment;
  tfjsVersion: string;
  /** The default tolerance used for op and gradient checks. */
  tolerance: Tolerance;
  /** True when no check failed (skipped checks do not fail the report). */
  passed: boolean;
  counts: { pass: number; fail: number; skip: number };
  checks: CheckResult[];
  /** Tensors alive after the run minus before it (should be 0). */
  leakedTensors: number;
  seconds: number;
}

/** One comparison produced by an injected model-level check. */
export interface GoldenComparison {
  name: string;
  actual: ArrayLike<number>;
  expected: ArrayLike<number>;
  /** Defaults to the report's tolerance. */
  tolerance?: Partial<Tolerance>;
  /** Require bit-equal values (masks, ids). */
  exact?: boolean;
}

/**
 * A model-level check run after the op checks, on the active backend: it computes the
 * model's outputs and returns them beside their expected values; the kit compares them and
 * adds one `model` row per comparison. A thrown error becomes one failed row.
 */
export type GoldenCheck = (context: { backend: string; tolerance: Tolerance }) => Promise<GoldenComparison[]> | GoldenComparison[];

/** Options of {@link runConformance}. */
export interface ConformanceOptions {
  /** Model-level check(s) to run after the op checks (see {@link GoldenCheck}). */
  golden?: GoldenCheck;
  /** Overrides the backend's default tolerance (see {@link defaultTolerance}). */
  tolerance?: Partial<Tolerance>;
  /** Runs only the checks whose name contains one of these strings (model checks always run). */
  only?: string[];
  /** Called after every check, e.g. to show progress. */
  onCheck?: (result: CheckResult) => void;
}

/**
 * Default tolerance of a backend: float32 kernels against a float64 reference. GPU backends
 * (webgl, webgpu) may use other summation orders or float16 textures: 1e-3 as in the design.
 */
export function defaultTolerance(backend: string): Tolerance {
  return backend === 'webgl' || backend === 'webgpu' ? { atol: 1e-4, rtol: 1e-3 } : { atol: 1e-5, rtol: 1e-4 };
}
