import * as tf from '@tensorflow/tfjs-core';
import { backendKernelNames, replacedTfjsKernels } from './kernel-registry.js';
import { useMaejsKernels } from './kernels.js';
import { installWasmKernels } from './wasm-kernels.js';
import { detectEnvironment, type Environment } from './environment.js';
import { BackendUnavailableError } from './errors.js';
import { importOptional, isModuleNotFound } from './optional-import.js';
import { setUpNodeWebGpu, WEBGPU_NODE_PACKAGE, webgpuAdapter, type WebGpuAdapterInfo, type WebGpuOptions } from './webgpu-node.js';

export { BackendUnavailableError } from './errors.js';

/** Backends maejs can run on. `tensorflow` is tfjs-node-gpu or tfjs-node (Node only). */
export const BACKEND_NAMES = ['tensorflow', 'webgl', 'webgpu', 'wasm', 'cpu'] as const;
/** The name of a backend maejs can run on: one of {@link BACKEND_NAMES}. */
export type BackendName = (typeof BACKEND_NAMES)[number];

interface BackendSpec {
  /** npm packages that provide the backend, in order of preference. */
  packages: string[];
  /** Environments the backend can run in. */
  environments: Environment[];
}

const SPECS: Record<BackendName, BackendSpec> = {
  tensorflow: { packages: ['@tensorflow/tfjs-node-gpu', '@tensorflow/tfjs-node'], environments: ['node'] },
  webgl: { packages: ['@tensorflow/tfjs-backend-webgl'], environments: ['browser'] },
  webgpu: { packages: ['@tensorflow/tfjs-backend-webgpu'], environments: ['browser', 'node'] },
  wasm: { packages: ['@tensorflow/tfjs-backend-wasm'], environments: ['browser', 'node'] },
  cpu: { packages: ['@tensorflow/tfjs-backend-cpu'], environments: ['browser', 'node'] },
};

/**
 * The order `auto` tries. Node: native TensorFlow when installed, else wasm (cpu is a
 * correct but ~30x slower last resort); webgpu in Node only when asked for by name, since
 * Dawn's adapter may be a slow software one. Browser: webgl first, then webgpu.
 */
const AUTO_ORDER: Record<Environment, BackendName[]> = {
  node: ['tensorflow', 'wasm', 'cpu'],
  browser: ['webgl', 'webgpu', 'wasm', 'cpu'],
};

/** Options of {@link initBackend} and {@link listBackends}. */
export interface InitBackendOptions {
  /** Settings of the webgpu backend: in Node, the options of Dawn (see {@link WebGpuOptions}). */
  webgpu?: WebGpuOptions;
  /**
   * maejs's kernels (see `useMaejsKernels`): `true` switches them on and, on wasm, installs
   * maejs's wasm kernels, which replace tfjs-backend-wasm's own `BatchMatMul`, `GatherV2`, `Identity` and `Slice`
   * (process-wide; `registeredMaejsKernels()` lists them); `false` switches them off, so tfjs's
   * ops and kernels alone run. Unset (the default): as switched now, which is on unless
   * `useMaejsKernels(false)` ran or the environment has `MAEJS_KERNELS=off`.
   */
  maejsKernels?: boolean;
}

/** Imports the package that registers `name`, unless tfjs already knows the backend. */
async function registerBackend(name: BackendName): Promise<void> {
  if (tf.findBackendFactory(name) !== null) return;
  const spec = SPECS[name];
  const environment = detectEnvironment();
  if (!spec.environments.includes(environment)) {
    throw new BackendUnavailableError(name, `it does not run in ${environment === 'node' ? 'Node.js' : 'a browser'}`);
  }
  const missing: string[] = [];
  for (const pkg of spec.packages) {
    try {
      await importOptional(pkg);
    } catch (error) {
      if (isModuleNotFound(error, pkg)) {
        missing.push(pkg);
        continue;
      }
      throw new BackendUnavailableError(name, `${pkg} is installed but failed to load: ${(error as Error).message}`);
    }
    if (tf.findBackendFactory(name) !== null) return;
    throw new BackendUnavailableError(name, `${pkg} loaded but registered no '${name}' backend${notRegisteredHint(name, environment)}`);
  }
  const install = missing.map((p) => `${p}@${tf.version_core}`).join(' or ');
  throw new BackendUnavailableError(name, `install the npm package ${install} (npm install ${missing[0]}@${tf.version_core})`);
}

/** Why a backend package can load without registering its backend. */
function notRegisteredHint(name: BackendName, environment: Environment): string {
  if (name !== 'webgpu') return '';
  return environment === 'node'
    ? ': it registers only if navigator.gpu exists when it is first imported, and this process imported it before; in Node, let initBackend import it'
    : ': it registers only if navigator.gpu exists (WebGPU in this browser)';
}

async function activate(name: BackendName, options: InitBackendOptions): Promise<void> {
  if (options.maejsKernels !== undefined) await useMaejsKernels(options.maejsKernels);
  if (name === 'webgpu' && detectEnvironment() === 'node') await setUpNodeWebGpu(options.webgpu);
  await registerBackend(name);
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (error) {
    throw new BackendUnavailableError(name, `initialisation failed: ${(error as Error).message}`);
  }
  if (!ok) throw new BackendUnavailableError(name, 'tfjs could not initialise it (see the warning tfjs printed)');
  await tf.ready();
  if (name === 'wasm') await installWasmKernels(); // does nothing while maejs's kernels are off
}

/**
 * Picks and starts a tfjs backend and returns its name.
 *
 * - a concrete name: that backend or a {@link BackendUnavailableError} naming the npm
 *   package to install (or why it failed to start);
 * - `'auto'`: in Node tensorflow (tfjs-node-gpu, then tfjs-node), else wasm, else cpu;
 *   in a browser webgl, then webgpu, wasm, cpu. The first that starts wins; if none does,
 *   the error lists why each failed.
 *
 * `webgpu` in Node runs on Dawn (the npm package `webgpu`), set up before tfjs-backend-webgpu
 * is imported; `options.webgpu.dawnOptions` and MAEJS_WEBGPU_OPTIONS pass options to Dawn.
 *
 * `wasm` comes with maejs's wasm kernels unless they are switched off (`options.maejsKernels`):
 * they replace tfjs-backend-wasm's `BatchMatMul`, `GatherV2`, `Identity` and `Slice` for every later use of wasm in
 * this thread (see `installWasmKernels`); `useMaejsKernels(false)` registers tfjs's own again.
 */
export async function initBackend(name: BackendName | 'auto' = 'auto', options: InitBackendOptions = {}): Promise<BackendName> {
  checkOptions(options);
  if (name !== 'auto') {
    if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown backend '${String(name)}': expected one of auto, ${BACKEND_NAMES.join(', ')}`);
    }
    await activate(name, options);
    return name;
  }
  const reasons: string[] = [];
  for (const candidate of AUTO_ORDER[detectEnvironment()]) {
    try {
      await activate(candidate, options);
      return candidate;
    } catch (error) {
      reasons.push((error as Error).message);
    }
  }
  throw new Error(`no tfjs backend could be started:\n  ${reasons.join('\n  ')}`);
}

/** Dawn options are Node's: a browser brings its own WebGPU. */
function checkOptions(options: InitBackendOptions): void {
  if (options.maejsKernels !== undefined && typeof options.maejsKernels !== 'boolean') {
    throw new Error(`initBackend: options.maejsKernels is ${JSON.stringify(options.maejsKernels)}: expected true (maejs's kernels), false (tfjs's ops and kernels only) or unset (as switched now)`);
  }
  if (detectEnvironment() === 'browser' && options.webgpu?.dawnOptions?.length) {
    throw new Error(`initBackend: options.webgpu.dawnOptions [${options.webgpu.dawnOptions.join(', ')}] apply only in Node (Dawn, the npm package ${WEBGPU_NODE_PACKAGE}); a browser provides navigator.gpu itself`);
  }
}

/** Whether one backend can start here, and why not if it cannot. */
export interface BackendStatus {
  name: BackendName;
  available: boolean;
  /** npm packages that provide it, in order of preference (webgpu in Node also needs `webgpu`). */
  packages: string[];
  reason?: string;
  /** webgpu, when it started: the adapter it runs on. */
  adapter?: WebGpuAdapterInfo;
  /** When it started: maejs's backend kernels registered for it (its other maejs kernels run as tfjs ops). */
  maejsKernels?: string[];
  /** When it started: tfjs's own kernels of this backend that maejs's replace (wasm: `BatchMatMul`, `GatherV2`, `Identity`, `Slice`). */
  replacedTfjsKernels?: string[];
}

/**
 * Tries every backend in turn (with {@link initBackend}, so wasm gets maejs's wasm kernels unless
 * switched off) and reports which start, and for those, maejs's kernels there and the tfjs
 * kernels they replace. Leaves the backend that was active before the call active again (if there
 * was one).
 */
export async function listBackends(options: InitBackendOptions = {}): Promise<BackendStatus[]> {
  checkOptions(options);
  const previous = tf.engine().backendName;
  const statuses: BackendStatus[] = [];
  for (const name of BACKEND_NAMES) {
    const packages = SPECS[name].packages;
    try {
      await activate(name, options);
      const adapter = name === 'webgpu' ? await webgpuAdapter(detectEnvironment()) : undefined;
      const kernels = { maejsKernels: backendKernelNames(name), replacedTfjsKernels: replacedTfjsKernels(name) };
      statuses.push({ name, available: true, packages, ...(adapter ? { adapter } : {}), ...kernels });
    } catch (error) {
      const reason = error instanceof BackendUnavailableError ? error.reason : (error as Error).message;
      statuses.push({ name, available: false, packages, reason });
    }
  }
  if (previous) await tf.setBackend(previous);
  return statuses;
}

