/**
 * Runs the conformance checks on the active tfjs backend and builds the report.
 */
import * as tf from '@tensorflow/tfjs-core';
import { detectEnvironment } from '../environment.js';
import { registerTfjsGradients } from '../gradients.js';
import { allChecks, type CheckDef } from './checks.js';
import { judge } from './compare.js';
import { defaultTolerance, type CheckResult, type ConformanceOptions, type ConformanceReport } from './types.js';

const now = (): number => (typeof performance !== 'undefined' ? performance.now() : Date.now());

/**
 * Runs the conformance checks on the active tfjs backend (start one first, e.g. with
 * `initBackend`) and returns the report. Never throws for a failing check: failures, thrown
 * errors (a missing kernel, a shader that does not compile) and non-finite values become
 * failed rows.
 */
export async function runConformance(options: ConformanceOptions = {}): Promise<ConformanceReport> {
  registerTfjsGradients();
  await tf.ready();
  const backend = tf.getBackend();
  if (!backend) throw new Error('runConformance: no tfjs backend is active; call initBackend(name) first');
  const tolerance = { ...defaultTolerance(backend), ...options.tolerance };
  const started = now();
  const before = tf.memory().numTensors;
  const checks: CheckResult[] = [];
  const push = (r: CheckResult) => {
    checks.push(r);
    options.onCheck?.(r);
  };
  const selected = allChecks().filter((c) => !options.only || options.only.some((s) => c.name.includes(s)));
  const runChecks = async (defs: CheckDef[]) => {
    for (const check of defs) {
      const t0 = now();
      try {
        const pairs = await check.run();
        push(judge(check.name, check.group, pairs, tolerance, now() - t0));
      } catch (error) {
        push({ name: check.name, group: check.group, status: 'fail', maxAbsError: NaN, maxRelError: NaN, tolerance, error: `threw: ${(error as Error)?.message ?? String(error)}`, ms: now() - t0 });
      }
      await new Promise((resolve) => setTimeout(resolve, 0)); // let a page repaint between checks
    }
  };
  await runChecks(selected.filter((c) => !c.last));
  if (options.golden) {
    const t0 = now();
    try {
      const comparisons = await options.golden({ backend, tolerance });
      const ms = (now() - t0) / Math.max(1, comparisons.length);
      for (const c of comparisons) {
        const tol = { ...tolerance, ...c.tolerance };
        push(judge(`model: ${c.name}`, 'model', [{ what: c.name, actual: c.actual, expected: c.expected, exact: c.exact, tolerance: tol }], tol, ms));
      }
    } catch (error) {
      push({ name: 'model: golden check', group: 'model', status: 'fail', maxAbsError: NaN, maxRelError: NaN, tolerance, error: `threw: ${(error as Error)?.message ?? String(error)}`, ms: now() - t0 });
    }
  }
  await runChecks(selected.filter((c) => c.last));
  const counts = { pass: 0, fail: 0, skip: 0 };
  for (const c of checks) counts[c.status]++;
  return {
    backend,
    environment: detectEnvironment(),
    tfjsVersion: tf.version_core,
    tolerance,
    passed: counts.fail === 0,
    counts,
    checks,
    leakedTensors: tf.memory().numTensors - before,
    seconds: (now() - started) / 1000,
  };
}
