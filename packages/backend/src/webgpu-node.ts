/**
 * WebGPU in Node: `navigator.gpu` from Dawn's Node binding, the npm package `webgpu`.
 *
 * tfjs-backend-webgpu registers its backend when it is imported, and only if `navigator.gpu`
 * exists then; `initBackend('webgpu')` therefore runs {@link setUpNodeWebGpu} first and imports
 * the tfjs backend after it. The setup happens once per process: it creates Dawn's GPU object
 * with the Dawn options (`create(options)`), checks that Dawn finds an adapter, defines the
 * WebGPU globals (`GPUBufferUsage`, `GPUMapMode`, ...) that are missing and `navigator.gpu`
 * (on Node's own `navigator` where there is one, Node 21+).
 *
 * No driver is chosen here: Dawn picks the adapter of the system (Vulkan on Linux, Metal on
 * macOS, D3D12 on Windows). A software adapter such as SwiftShader is used only when the
 * environment selects it (VK_ICD_FILENAMES), and it is reported as one.
 */
import { BackendUnavailableError } from './errors.js';
import { importOptional, isModuleNotFound } from './optional-import.js';

/** The npm package that provides WebGPU in Node, and the version maejs is tested with. */
export const WEBGPU_NODE_PACKAGE = 'webgpu';
export const WEBGPU_NODE_VERSION = '0.6.2';
/**
 * Environment variable with Dawn options, comma-separated `key=value` (a piece without `=`
 * continues the value before it: `backend=vulkan,enable-dawn-features=a,b` is two options).
 */
export const WEBGPU_OPTIONS_ENV = 'MAEJS_WEBGPU_OPTIONS';
/** SwiftShader's Vulkan driver (a software adapter) as Debian's chromium package installs it. */
export const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

/** Settings of the webgpu backend (`initBackend(name, { webgpu })`). */
export interface WebGpuOptions {
  /**
   * Node only: options for Dawn, each `'key=value'`, e.g. `'backend=vulkan'`,
   * `'enable-dawn-features=allow_unsafe_apis'`, `'adapter=<name>'`. They come after those of
   * MAEJS_WEBGPU_OPTIONS; Dawn takes the last value of a key given twice.
   */
  dawnOptions?: string[];
}

/** The adapter WebGPU runs on. */
export interface WebGpuAdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
  /** A CPU implementation (SwiftShader, lavapipe, llvmpipe, WARP): right for correctness checks, slow. */
  software: boolean;
  /** Node: the Dawn options `navigator.gpu` was created with. Empty in a browser. */
  dawnOptions: string[];
}

/** What of the npm package `webgpu` is used. */
interface DawnModule {
  create(options: string[]): GpuLike;
  globals: Record<string, unknown>;
}

/** The parts of `GPU` and `GPUAdapter` read here (no dependency on @webgpu/types). */
interface GpuLike {
  requestAdapter(options?: { powerPreference?: 'high-performance' | 'low-power' }): Promise<GpuAdapterLike | null>;
}
interface GpuAdapterLike {
  isFallbackAdapter?: boolean;
  info?: { vendor?: string; architecture?: string; device?: string; description?: string; isFallbackAdapter?: boolean };
}

type Env = Record<string, string | undefined>;

function processEnv(): Env {
  return (globalThis as { process?: { env?: Env } }).process?.env ?? {};
}

/**
 * Dawn options from MAEJS_WEBGPU_OPTIONS: comma-separated `key=value` entries. A piece without
 * `=` continues the value before it, so Dawn's own comma lists work:
 * `backend=vulkan,enable-dawn-features=allow_unsafe_apis,dump_shaders` is two options.
 */
export function parseDawnOptions(text: string, source = WEBGPU_OPTIONS_ENV): string[] {
  const options: string[] = [];
  for (const piece of text.split(',').map((p) => p.trim())) {
    if (piece === '') continue;
    if (piece.includes('=')) options.push(piece);
    else if (options.length > 0) options[options.length - 1] += `,${piece}`;
    else throw new Error(`${source}: '${piece}' is not a Dawn option: expected comma-separated key=value options, e.g. backend=vulkan,enable-dawn-features=allow_unsafe_apis`);
  }
  return options;
}

/** Checks `initBackend`'s `webgpu.dawnOptions`: an array of `'key=value'` strings. */
function checkDawnOptions(options: unknown): string[] {
  if (!Array.isArray(options)) {
    throw new Error(`initBackend: options.webgpu.dawnOptions must be an array of 'key=value' strings, got ${JSON.stringify(options)}`);
  }
  options.forEach((option, i) => {
    if (typeof option !== 'string' || !/^[^=\s]+=/.test(option)) {
      throw new Error(`initBackend: options.webgpu.dawnOptions[${i}] is ${JSON.stringify(option)}: expected 'key=value', e.g. 'backend=vulkan'`);
    }
  });
  return options as string[];
}

/** The Dawn options in effect: MAEJS_WEBGPU_OPTIONS, then `options.dawnOptions`. */
export function resolveDawnOptions(options: WebGpuOptions = {}, env: Env = processEnv()): string[] {
  const fromEnv = parseDawnOptions(env[WEBGPU_OPTIONS_ENV] ?? '');
  return [...fromEnv, ...checkDawnOptions(options.dawnOptions ?? [])];
}

const SOFTWARE = /swiftshader|llvmpipe|lavapipe|softpipe|microsoft basic render|\bwarp\b/i;

/** Vendor, architecture, device, description of an adapter, and whether it is a software one. */
export function describeAdapter(adapter: GpuAdapterLike, dawnOptions: string[] = []): WebGpuAdapterInfo {
  const info = adapter.info ?? {};
  const [vendor, architecture, device, description] = [info.vendor, info.architecture, info.device, info.description].map((s) => s ?? '');
  const fallback = info.isFallbackAdapter === true || adapter.isFallbackAdapter === true;
  return { vendor, architecture, device, description, software: fallback || SOFTWARE.test(`${vendor} ${architecture} ${device} ${description}`), dawnOptions };
}

/** One line, e.g. `google / swiftshader / SwiftShader driver 5.0.0 (software adapter)`. */
export function formatAdapter(a: WebGpuAdapterInfo): string {
  const parts = [a.vendor, a.architecture, a.device, a.description].filter((s) => s !== '');
  const options = a.dawnOptions.length ? `; Dawn options ${a.dawnOptions.join(' ')}` : '';
  return `${parts.length ? parts.join(' / ') : 'unnamed adapter'}${a.software ? ' (software adapter: for correctness checks, slow)' : ''}${options}`;
}

/** Why Dawn gave no adapter, and what to do. */
function noAdapterReason(dawnOptions: string[], env: Env): string {
  const options = dawnOptions.length ? ` with the Dawn options [${dawnOptions.join(', ')}]` : '';
  const icd = env.VK_ICD_FILENAMES ? ` (VK_ICD_FILENAMES is ${env.VK_ICD_FILENAMES})` : '';
  const platform = (globalThis as { process?: { platform?: string } }).process?.platform;
  if (platform === 'darwin' || platform === 'win32') {
    return `Dawn (npm package ${WEBGPU_NODE_PACKAGE}) found no WebGPU adapter${options}: it uses ${platform === 'darwin' ? 'Metal' : 'D3D12 or Vulkan'}; check the GPU driver`;
  }
  return (
    `Dawn (npm package ${WEBGPU_NODE_PACKAGE}) found no WebGPU adapter${options}${icd}. On Linux it runs on Vulkan: it needs the Vulkan loader libvulkan.so.1 ` +
    `(Debian/Ubuntu: apt-get install libvulkan1) and a Vulkan driver for the GPU; Dawn prints why Vulkan failed on stderr. ` +
    `Without a GPU, a software adapter (slow, for correctness checks): VK_ICD_FILENAMES=${SWIFTSHADER_ICD} (SwiftShader, from Debian's chromium package)`
  );
}

/** Loads the npm package `webgpu` (`specifier` only differs in tests of the message). */
export async function loadDawn(specifier = WEBGPU_NODE_PACKAGE): Promise<DawnModule> {
  try {
    return await importOptional<DawnModule>(specifier);
  } catch (error) {
    if (isModuleNotFound(error, specifier)) {
      throw new BackendUnavailableError('webgpu', `in Node it needs the npm package ${specifier} (Dawn, WebGPU for Node), which is not installed: npm install ${specifier}@${WEBGPU_NODE_VERSION}`);
    }
    throw new BackendUnavailableError('webgpu', `${specifier} is installed but failed to load: ${(error as Error).message}`);
  }
}

/** Defines the missing WebGPU globals and `navigator.gpu` (on an existing `navigator` if there is one). */
function installNavigatorGpu(gpu: GpuLike, globals: Record<string, unknown>): void {
  const g = globalThis as Record<string, unknown>;
  for (const [name, value] of Object.entries(globals)) if (!(name in g)) g[name] = value;
  const navigator = g.navigator;
  if (navigator !== undefined && navigator !== null) {
    Object.defineProperty(navigator, 'gpu', { value: gpu, configurable: true, enumerable: true, writable: true });
  } else {
    Object.defineProperty(g, 'navigator', { value: { gpu }, configurable: true, enumerable: false, writable: true });
  }
}

/** Set once per process by {@link setUpNodeWebGpu}. */
let installed: { dawnOptions: string[]; adapter: WebGpuAdapterInfo } | undefined;

const sameOptions = (a: string[], b: string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/**
 * Makes `navigator.gpu` available in Node from the npm package `webgpu` (Dawn) and returns the
 * adapter. Idempotent; throws {@link BackendUnavailableError} when the package is missing, Dawn
 * rejects an option, Dawn finds no adapter, or a later call asks for other Dawn options.
 */
export async function setUpNodeWebGpu(options: WebGpuOptions = {}): Promise<WebGpuAdapterInfo> {
  const env = processEnv();
  const dawnOptions = resolveDawnOptions(options, env);
  if (installed) {
    if (sameOptions(installed.dawnOptions, dawnOptions)) return installed.adapter;
    throw new BackendUnavailableError('webgpu', `navigator.gpu was created in this process with the Dawn options [${installed.dawnOptions.join(', ')}]; [${dawnOptions.join(', ')}] cannot take effect (Dawn is set up once per process)`);
  }
  const existing = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  if (existing) return useExistingGpu(existing, dawnOptions);
  const dawn = await loadDawn();
  let adapter: GpuAdapterLike | null;
  let gpu: GpuLike;
  try {
    gpu = dawn.create(dawnOptions); // throws on an option that is not key=value
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' }); // throws on an unknown backend or adapter name
  } catch (error) {
    throw new BackendUnavailableError('webgpu', `Dawn rejected the options [${dawnOptions.join(', ')}] (${WEBGPU_OPTIONS_ENV}, then initBackend's webgpu.dawnOptions): ${(error as Error).message.trim().replace(/\s*\n\s*/g, '; ')}`);
  }
  if (!adapter) throw new BackendUnavailableError('webgpu', noAdapterReason(dawnOptions, env));
  installNavigatorGpu(gpu, dawn.globals);
  installed = { dawnOptions, adapter: describeAdapter(adapter, dawnOptions) };
  return installed.adapter;
}

/** `navigator.gpu` that something else provided: used as it is, so Dawn options cannot apply. */
async function useExistingGpu(gpu: GpuLike, dawnOptions: string[]): Promise<WebGpuAdapterInfo> {
  if (dawnOptions.length) {
    throw new BackendUnavailableError('webgpu', `navigator.gpu already exists in this process (not created by maejs), so the Dawn options [${dawnOptions.join(', ')}] cannot take effect`);
  }
  const adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  if (!adapter) throw new BackendUnavailableError('webgpu', 'navigator.gpu (not created by maejs) found no WebGPU adapter');
  installed = { dawnOptions, adapter: describeAdapter(adapter) };
  return installed.adapter;
}

/**
 * The adapter webgpu runs on: in Node the one {@link setUpNodeWebGpu} found (undefined before
 * it ran), in a browser the one `navigator.gpu.requestAdapter()` gives (undefined without one).
 */
export async function webgpuAdapter(environment: 'node' | 'browser'): Promise<WebGpuAdapterInfo | undefined> {
  if (environment === 'node') return installed?.adapter;
  const gpu = (globalThis as { navigator?: { gpu?: GpuLike } }).navigator?.gpu;
  const adapter = gpu ? await gpu.requestAdapter({ powerPreference: 'high-performance' }) : null;
  return adapter ? describeAdapter(adapter) : undefined;
}
