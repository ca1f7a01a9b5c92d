/**
 * "One suite, many backends": model-level tests are written once and run on every backend
 * under test. A backend that cannot start fails its suites (their beforeAll throws the reason
 * and what to install); absence is an error, never a skip.
 *
 * MAEJS_TEST_BACKENDS (default `cpu,wasm,webgpu`) names the backends under test. GPU backends
 * (webgpu, in Node on Dawn) run only the suites that opt in with `{ gpu: true }`: the golden
 * parity checks and the conformance kit. On the software adapter the tests use when there is
 * no GPU (SwiftShader, see webgpu-setup.cjs) a tiny forward takes seconds, and webgpu in Node
 * has no synchronous reads (`dataSync` needs OffscreenCanvas), so those suites read with
 * `await t.data()`.
 */
import * as tf from '@tensorflow/tfjs-core';
import { BACKEND_NAMES, initBackend, type BackendName } from '@maejs/backend';

const DEFAULT_TEST_BACKENDS = 'cpu,wasm,webgpu';
/** Backends that run only the suites that opt in (`describeEachBackend(..., { gpu: true })`). */
const GPU_ONLY_IN_OPTED_SUITES: readonly BackendName[] = ['webgpu'];

/** The backends MAEJS_TEST_BACKENDS names (comma-separated), checked against BACKEND_NAMES. */
export function parseTestBackends(text: string): BackendName[] {
  const names = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  for (const name of names) {
    if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
      throw new Error(`MAEJS_TEST_BACKENDS: '${name}' is not a backend: expected a comma-separated list of ${BACKEND_NAMES.join(', ')}`);
    }
  }
  return names as BackendName[];
}

const SELECTED = parseTestBackends(process.env.MAEJS_TEST_BACKENDS ?? DEFAULT_TEST_BACKENDS);

/** Backends every model-level suite runs on (MAEJS_TEST_BACKENDS without the GPU ones). */
export const TEST_BACKENDS: BackendName[] = SELECTED.filter((b) => !GPU_ONLY_IN_OPTED_SUITES.includes(b));
/** GPU backends under test: only the golden parity suites and the conformance kit run on them. */
export const GPU_TEST_BACKENDS: BackendName[] = SELECTED.filter((b) => GPU_ONLY_IN_OPTED_SUITES.includes(b));

/**
 * Runs `body` once per test backend, inside a describe block whose beforeAll starts it.
 * `gpu: true` adds GPU_TEST_BACKENDS (the suite must then read tensors asynchronously).
 */
export function describeEachBackend(title: string, body: (backend: BackendName) => void, options: { gpu?: boolean } = {}): void {
  const backends = options.gpu ? [...TEST_BACKENDS, ...GPU_TEST_BACKENDS] : TEST_BACKENDS;
  if (backends.length === 0) {
    // MAEJS_TEST_BACKENDS names only backends this suite does not run on: say so (jest fails a file without tests).
    describe(title, () => it.skip(`runs on none of MAEJS_TEST_BACKENDS=${SELECTED.join(',')}`, () => {}));
    return;
  }
  for (const backend of backends) {
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
