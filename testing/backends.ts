/**
 * "One suite, many backends": model-level tests are written once and run on every backend
 * that can start under jest in Node. A backend that cannot start is reported as skipped with
 * the reason (console), never silently passed.
 */
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@maejs/backend';

/** Backends the Node test suite covers. MAEJS_TEST_BACKENDS=cpu,wasm narrows it. */
export const TEST_BACKENDS: BackendName[] = (process.env.MAEJS_TEST_BACKENDS ?? 'cpu,wasm').split(',') as BackendName[];

/** Runs `body` once per test backend, inside a describe block whose beforeAll starts it. */
export function describeEachBackend(title: string, body: (backend: BackendName) => void): void {
  for (const backend of TEST_BACKENDS) {
    describe(`${title} [${backend}]`, () => {
      beforeAll(async () => {
        tf.enableProdMode();
        await initBackend(backend);
      });
      body(backend);
    });
  }
}

/** Max abs and max relative error of a against b, and whether |a-b| <= atol + rtol*|b| holds everywhere. */
export function compareArrays(a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number) {
  if (a.length !== b.length) throw new Error(`length mismatch: ${a.length} vs ${b.length}`);
  let maxAbs = 0;
  let maxRel = 0;
  let worst = -1;
  for (let i = 0; i < a.length; i++) {
    const diff = Math.abs(a[i] - b[i]);
    maxAbs = Math.max(maxAbs, diff);
    if (b[i] !== 0) maxRel = Math.max(maxRel, diff / Math.abs(b[i]));
    if (!(diff <= atol + rtol * Math.abs(b[i])) && worst < 0) worst = i;
  }
  return { maxAbs, maxRel, ok: worst < 0, firstBad: worst };
}

/** Asserts closeness with a message naming the first bad element. */
export function expectClose(what: string, a: ArrayLike<number>, b: ArrayLike<number>, atol: number, rtol: number): { maxAbs: number; maxRel: number } {
  const r = compareArrays(a, b, atol, rtol);
  if (!r.ok) {
    const i = r.firstBad;
    throw new Error(`${what}: element ${i} is ${a[i]}, expected ${b[i]} (atol ${atol}, rtol ${rtol}); max abs err ${r.maxAbs}, max rel err ${r.maxRel}`);
  }
  return { maxAbs: r.maxAbs, maxRel: r.maxRel };
}
