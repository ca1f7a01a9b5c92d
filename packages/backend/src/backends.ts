import * as tf from '@tensorflow/tfjs-core';
import { installWasmKernels } from './wasm-kernels.js';
import { detectEnvironment, type Environment } from './environment.js';

/** Backends maejs can run on. `tensorflow` is tfjs-node-gpu or tfjs-node (Node only). */
export const BACKEND_NAMES = ['tensorflow', 'webgl', 'webgpu', 'wasm', 'cpu'] as const;
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
 * correct but ~30x slower last resort). Browser: webgl first; webgpu is tried after it
 * because on software adapters its gradients have come out NaN (see docs/backends.md).
 */
const AUTO_ORDER: Record<Environment, BackendName[]> = {
  node: ['tensorflow', 'wasm', 'cpu'],
  browser: ['webgl', 'webgpu', 'wasm', 'cpu'],
};

/** Thrown when a backend cannot be started; `reason` says why in one line. */
export class BackendUnavailableError extends Error {
  constructor(
    readonly backend: string,
    readonly reason: string,
  ) {
    super(`backend '${backend}' is not available: ${reason}`);
    this.name = 'BackendUnavailableError';
  }
}

// A variable specifier keeps bundlers from trying to resolve optional packages that are not
// installed (a browser app registers its backend by importing it itself; see the README).
async function importOptional(specifier: string): Promise<void> {
  await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier);
}

function isModuleNotFound(error: unknown, specifier: string): boolean {
  const e = error as { code?: string; message?: string };
  const missing = e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND' || /Cannot find module|Failed to resolve module|Failed to fetch dynamically imported module/.test(e?.message ?? '');
  return missing && (e.message ?? '').includes(specifier);
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
    throw new BackendUnavailableError(name, `${pkg} loaded but registered no '${name}' backend`);
  }
  const install = missing.map((p) => `${p}@${tf.version_core}`).join(' or ');
  throw new BackendUnavailableError(name, `install the npm package ${install} (npm install ${missing[0]}@${tf.version_core})`);
}

async function activate(name: BackendName): Promise<void> {
  await registerBackend(name);
  let ok: boolean;
  try {
    ok = await tf.setBackend(name);
  } catch (error) {
    throw new BackendUnavailableError(name, `initialisation failed: ${(error as Error).message}`);
  }
  if (!ok) throw new BackendUnavailableError(name, 'tfjs could not initialise it (see the warning tfjs printed)');
  await tf.ready();
  if (name === 'wasm') await installWasmKernels();
}

/**
 * Picks and starts a tfjs backend and returns its name.
 *
 * - a concrete name: that backend or a {@link BackendUnavailableError} naming the npm
 *   package to install (or why it failed to start);
 * - `'auto'`: in Node tensorflow (tfjs-node-gpu, then tfjs-node), else wasm, else cpu;
 *   in a browser webgl, then webgpu, wasm, cpu. The first that starts wins; if none does,
 *   the error lists why each failed.
 */
export async function initBackend(name: BackendName | 'auto' = 'auto'): Promise<BackendName> {
  if (name !== 'auto') {
    if (!(BACKEND_NAMES as readonly string[]).includes(name)) {
      throw new Error(`unknown backend '${String(name)}': expected one of auto, ${BACKEND_NAMES.join(', ')}`);
    }
    await activate(name);
    return name;
  }
  const reasons: string[] = [];
  for (const candidate of AUTO_ORDER[detectEnvironment()]) {
    try {
      await activate(candidate);
      return candidate;
    } catch (error) {
      reasons.push((error as Error).message);
    }
  }
  throw new Error(`no tfjs backend could be started:\n  ${reasons.join('\n  ')}`);
}

/** Whether one backend can start here, and why not if it cannot. */
export interface BackendStatus {
  name: BackendName;
  available: boolean;
  packages: string[];
  reason?: string;
}

/**
 * Tries every backend in turn and reports which start. Leaves the backend that was active
 * before the call active again (if there was one).
 */
export async function listBackends(): Promise<BackendStatus[]> {
  const previous = tf.engine().backendName;
  const statuses: BackendStatus[] = [];
  for (const name of BACKEND_NAMES) {
    try {
      await activate(name);
      statuses.push({ name, available: true, packages: SPECS[name].packages });
    } catch (error) {
      const reason = error instanceof BackendUnavailableError ? error.reason : (error as Error).message;
      statuses.push({ name, available: false, packages: SPECS[name].packages, reason });
    }
  }
  if (previous) await tf.setBackend(previous);
  return statuses;
}
