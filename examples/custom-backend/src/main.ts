/**
 * Contributing a backend, as docs/backends.md ("Adding a new tfjs backend", "Proving a backend")
 * describes: register it, run the conformance kit on it with the golden model check, read the
 * report. Two backends are registered:
 *
 * - `example-cpu`: tfjs's cpu kernels with our own Softmax kernel. The kit passes.
 * - `example-cpu-fastexp`: the same with a Softmax that uses an approximate exp. The kit fails,
 *   and its report names the softmax check and the first wrong element.
 *
 *   node dist/main.js [--golden <folder holding tiny-gray/>] [--skip-golden]
 *
 * Exit code 0 when the kit passes the first backend and fails the second at the softmax check
 * (every other op check passing), else 1.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs-core';
import { formatReport, runConformance, type ConformanceReport, type GoldenCheck } from '@maejs/backend/conformance';
import { fastExp, registerBackend } from './backend.js';
import { tinyGrayCheck } from './golden-check.js';

const { values: flags } = parseArgs({
  options: {
    golden: { type: 'string' },
    'skip-golden': { type: 'boolean', default: false },
  },
  strict: true,
});

// The golden cases: --golden, else MAEJS_GOLDEN, else ../shared/golden beside the repository.
let golden: GoldenCheck | undefined;
if (!flags['skip-golden']) {
  const dir = flags.golden ?? process.env.MAEJS_GOLDEN ?? resolve(import.meta.dirname, '..', '..', '..', '..', 'shared', 'golden');
  if (!existsSync(join(dir, 'tiny-gray', 'case.json'))) throw new Error(`golden cases not found: ${join(dir, 'tiny-gray')} has no case.json; pass --golden <folder holding tiny-gray/>, set MAEJS_GOLDEN, or --skip-golden to run the op checks only`);
  golden = tinyGrayCheck(join(dir, 'tiny-gray'));
}
tf.enableProdMode();

/** Runs the kit on backend `name` and prints its report. */
async function prove(name: string): Promise<ConformanceReport> {
  await tf.setBackend(name);
  const report = await runConformance({ golden });
  console.log(formatReport(report));
  console.log();
  return report;
}

// 1. Register both backends (their kernels, and a factory tfjs calls on setBackend).
registerBackend('example-cpu', Math.exp);
registerBackend('example-cpu-fastexp', fastExp);

// 2. Prove them.
const good = await prove('example-cpu');
const bad = await prove('example-cpu-fastexp');

// 3. Read the reports.
const failed = (r: ConformanceReport) => r.checks.filter((c) => c.status === 'fail');
const problems: string[] = [];
if (!good.passed) problems.push(`example-cpu failed ${failed(good).map((c) => `'${c.name}'`).join(', ')}; it should pass every check`);
if (good.leakedTensors !== 0) problems.push(`example-cpu leaked ${good.leakedTensors} tensors during the kit`);
const badOps = failed(bad).filter((c) => c.group !== 'model');
if (bad.passed) problems.push('example-cpu-fastexp passed; its approximate exp should fail the softmax check');
else if (badOps.length !== 1 || !badOps[0].name.startsWith('softmax')) problems.push(`example-cpu-fastexp failed op checks ${badOps.map((c) => `'${c.name}'`).join(', ')}; expected the softmax check alone`);
if (problems.length) {
  console.log(`UNEXPECTED:\n  ${problems.join('\n  ')}`);
  process.exitCode = 1;
} else {
  const modelRows = failed(bad).filter((c) => c.group === 'model');
  console.log(`example-cpu: every check passes (${good.counts.pass} rows${golden ? ', the golden model rows included' : ''}).`);
  console.log(`example-cpu-fastexp: the kit names the broken kernel: '${badOps[0].name}' -> ${badOps[0].error}`);
  if (modelRows.length) console.log(`  and, since attention runs softmax, the model rows ${modelRows.map((c) => `'${c.name.replace('model: ', '')}'`).join(', ')} fail too.`);
}
