/**
 * Backend conformance kit: runs, on whatever tfjs backend is active, every op and gradient
 * maejs relies on and compares it with a float64 reference computed in plain JavaScript
 * (analytic formulas, no second backend needed), plus an optional model-level check that
 * the caller injects (for example the golden tiny-gray forward/backward from the official
 * PyTorch code; @maejs/backend cannot import the model, it is the bottom package).
 *
 * ```ts
 * import '@tensorflow/tfjs-backend-webgl';
 * import { initBackend } from '@maejs/backend';
 * import { runConformance, formatReport } from '@maejs/backend/conformance';
 *
 * await initBackend('webgl');
 * const report = await runConformance();
 * console.log(formatReport(report)); // one line per check: pass/fail, max abs / rel error
 * ```
 *
 * A check passes when every element satisfies `|a - b| <= atol * scale + rtol * |b|`, where
 * `b` is the reference, `a` the backend's value and `scale = max|b|` (1 if that is 0), and
 * every value is finite. The report gives per check the max absolute error and the max
 * relative error `|a - b| / max(|b|, 1e-3 * scale)` (elements far below the check's own
 * magnitude do not blow it up).
 *
 * @module conformance
 */
export type { CheckGroup, CheckResult, ConformanceOptions, ConformanceReport, GoldenCheck, GoldenComparison, Tolerance } from './conformance/types.js';
export { defaultTolerance } from './conformance/types.js';
export { erf64 } from './conformance/reference.js';
export { conformanceCheckNames } from './conformance/checks.js';
export { runConformance } from './conformance/run.js';
export { formatReport } from './conformance/report.js';
