/**
 * Which build of maejs's wasm kernels runs, and loading it.
 *
 * kernels/*.c are compiled twice (scripts/build-wasm-kernels.mjs), both embedded in
 * generated/wasm-kernels.cjs:
 * - `'simd'` (kernels.wasm): 128-bit SIMD, every multiply and add rounded separately. Runs
 *   wherever tfjs-backend-wasm's SIMD build runs.
 * - `'relaxed-simd'` (kernels-relaxed.wasm): the same kernels with the multiply-adds of the
 *   matMul inner loop and of the GELU polynomials as `f32x4.relaxed_madd`, one fused
 *   multiply-add (a single rounding) where the CPU has FMA. Results differ from `'simd'` in the
 *   last bits. Needs relaxed SIMD: on by default in Chrome/Edge >= 114 and Node >= 21
 *   (V8 >= 11.4); Node 20 has it behind `--experimental-wasm-relaxed-simd`.
 *
 * By default (`'auto'`) the relaxed build runs where the engine validates a relaxed-SIMD module.
 * On Node without it, maejs first sets V8's `--experimental-wasm-relaxed-simd` flag (through
 * `node:v8`, imported only when running in Node): that flag is process-wide, so every module
 * compiled afterwards in this process may use relaxed SIMD too. The environment variable
 * `MAEJS_WASM_RELAXED_SIMD=0` (or `useWasmKernelVariant('simd')`) keeps to the plain build and
 * leaves V8's flags alone.
 *
 * The kernels hold the module through one stable object ({@link kernelModule}) whose members
 * read the instance selected now, so {@link useWasmKernelVariant} switches every installed kernel
 * at once, at any time, both ways.
 */
import { wasmKernelsBase64, wasmKernelsRelaxedBase64 } from '../generated/wasm-kernels.cjs';
import { importOptional } from './optional-import.js';

/** The two builds of maejs's wasm kernels (see the module comment). */
export type WasmKernelVariant = 'relaxed-simd' | 'simd';
/** A variant, or `'auto'`: relaxed SIMD where the engine supports it, else plain SIMD. */
export type WasmKernelChoice = WasmKernelVariant | 'auto';

/** Environment variable: `0` = plain SIMD build, `1` = relaxed SIMD build (an error where unsupported), unset or `auto` = auto. */
export const RELAXED_SIMD_ENV = 'MAEJS_WASM_RELAXED_SIMD';

/** One instantiated build of kernels/*.c: its memory and exports (pointers are byte offsets in `memory`). */
export interface KernelModule {
  readonly variant: WasmKernelVariant;
  readonly memory: WebAssembly.Memory;
  /** First byte after the module's static data: operands go from here on. */
  readonly heapBase: number;
  batchMatmul(a: number, b: number, c: number, work: number, batch: number, m: number, k: number, n: number, transposeA: number, transposeB: number, aStep: number, bStep: number): void;
  workFloats(m: number, k: number, n: number): number;
  geluForward(x: number, y: number, cdf: number, n: number): void;
  geluBackward(x: number, cdf: number, dy: number, dx: number, n: number): void;
  adamwUpdate(p: number, g: number, m: number, v: number, p1: number, m1: number, v1: number, n: number, decay: number, b1: number, c1: number, b2: number, c2: number, bc2Sqrt: number, eps: number, step: number): void;
}

/** Whether the engine runs relaxed SIMD, and whether maejs set Node's V8 flag for it. */
export interface RelaxedSimdSupport {
  supported: boolean;
  /** true when relaxed SIMD validated only after maejs set `--experimental-wasm-relaxed-simd` (Node 20). */
  nodeFlagSet: boolean;
}

/**
 * The smallest relaxed-SIMD module: one function (v128, v128, v128) -> v128 returning
 * f32x4.relaxed_madd of its parameters (opcode 0xfd 0x105).
 */
export const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // "\0asm", version 1
  0x01, 0x08, 0x01, 0x60, 0x03, 0x7b, 0x7b, 0x7b, 0x01, 0x7b, // type section: (v128 v128 v128) -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x0d, 0x01, 0x0b, 0x00, 0x20, 0x00, 0x20, 0x01, 0x20, 0x02, 0xfd, 0x85, 0x02, 0x0b, // code: local.get 0 1 2, f32x4.relaxed_madd, end
]);

const BASE64: Record<WasmKernelVariant, string> = { simd: wasmKernelsBase64, 'relaxed-simd': wasmKernelsRelaxedBase64 };
const instances = new Map<WasmKernelVariant, Promise<KernelModule>>();
let detection: Promise<RelaxedSimdSupport> | null = null;
let current: KernelModule | null = null;
let selecting: Promise<KernelModule> | null = null;

/** Whether this engine validates a relaxed-SIMD module now (no flags touched). */
export function validatesRelaxedSimd(): boolean {
  return WebAssembly.validate(RELAXED_SIMD_PROBE);
}

const isNode = () => typeof process !== 'undefined' && typeof process.versions?.node === 'string';

/** Node without relaxed SIMD by default (Node 20, V8 11.3): sets V8's flag for it (process-wide). */
async function enableInNode(): Promise<boolean> {
  if (!isNode()) return false;
  try {
    const v8 = await importOptional<{ setFlagsFromString(flags: string): void }>('node:v8');
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    return false;
  }
  return validatesRelaxedSimd();
}

/**
 * Whether relaxed SIMD runs here. On Node, when the engine does not validate it by default, sets
 * `--experimental-wasm-relaxed-simd` first (process-wide; see the module comment). Computed once.
 */
export function relaxedSimdSupport(): Promise<RelaxedSimdSupport> {
  detection ??= (async () => {
    if (validatesRelaxedSimd()) return { supported: true, nodeFlagSet: false };
    const enabled = await enableInNode();
    return { supported: enabled, nodeFlagSet: enabled };
  })();
  return detection;
}

function decodeBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

async function instantiate(variant: WasmKernelVariant): Promise<KernelModule> {
  if (variant === 'relaxed-simd' && !(await relaxedSimdSupport()).supported) {
    throw new Error(`maejs wasm kernels: the 'relaxed-simd' build needs WebAssembly relaxed SIMD, which this engine does not support (Chrome/Edge >= 114, Node >= 20): use 'simd' or 'auto'`);
  }
  const { instance } = await WebAssembly.instantiate(decodeBase64(BASE64[variant]).buffer as ArrayBuffer);
  const e = instance.exports as Record<string, unknown>;
  return {
    variant,
    memory: e.memory as WebAssembly.Memory,
    heapBase: (e.__heap_base as WebAssembly.Global).value as number,
    batchMatmul: e.batch_matmul as KernelModule['batchMatmul'],
    workFloats: e.work_floats as KernelModule['workFloats'],
    geluForward: e.gelu_forward as KernelModule['geluForward'],
    geluBackward: e.gelu_backward as KernelModule['geluBackward'],
    adamwUpdate: e.adamw_update as KernelModule['adamwUpdate'],
  };
}

/**
 * One instance of a build, instantiated on first use and kept (each with its own memory).
 * `'relaxed-simd'` rejects where relaxed SIMD does not run. For tests and benchmarks that run a
 * build explicitly; the kernels use {@link kernelModule}.
 */
export function loadKernelModule(variant: WasmKernelVariant): Promise<KernelModule> {
  if (variant !== 'simd' && variant !== 'relaxed-simd') throw new Error(`loadKernelModule: expected 'relaxed-simd' or 'simd', got ${JSON.stringify(variant)}`);
  let loading = instances.get(variant);
  if (!loading) {
    loading = instantiate(variant);
    instances.set(variant, loading);
    loading.catch(() => instances.delete(variant));
  }
  return loading;
}

/** The choice MAEJS_WASM_RELAXED_SIMD asks for ('auto' when unset or outside Node). */
export function choiceFromEnvironment(): WasmKernelChoice {
  const value = typeof process !== 'undefined' ? process.env?.[RELAXED_SIMD_ENV] : undefined;
  if (value === undefined || value === '' || value === 'auto') return 'auto';
  if (value === '0') return 'simd';
  if (value === '1') return 'relaxed-simd';
  throw new Error(`${RELAXED_SIMD_ENV}=${JSON.stringify(value)}: expected 0 (plain SIMD kernels), 1 (relaxed SIMD kernels) or auto (relaxed where supported)`);
}

async function resolveChoice(choice: WasmKernelChoice): Promise<WasmKernelVariant> {
  if (choice !== 'auto') return choice;
  return (await relaxedSimdSupport()).supported ? 'relaxed-simd' : 'simd';
}

/**
 * Selects the build the installed kernels run from now on: `'auto'` (relaxed SIMD where
 * supported), `'relaxed-simd'` (rejects where unsupported) or `'simd'`. Reversible, any time;
 * resolves to the build now in use. Without a call, the first kernel load uses
 * MAEJS_WASM_RELAXED_SIMD (default auto). Affects this thread only: `DataParallel` workers
 * choose from MAEJS_WASM_RELAXED_SIMD.
 */
export async function useWasmKernelVariant(choice: WasmKernelChoice): Promise<WasmKernelVariant> {
  if (choice !== 'auto' && choice !== 'simd' && choice !== 'relaxed-simd') {
    throw new Error(`useWasmKernelVariant: expected 'auto', 'relaxed-simd' or 'simd', got ${JSON.stringify(choice)}`);
  }
  const previous = selecting;
  selecting = (async () => {
    await previous?.catch(() => undefined); // in call order
    current = await loadKernelModule(await resolveChoice(choice));
    return current;
  })();
  return (await selecting).variant;
}

/** The build the kernels run now, or null before maejs's wasm kernels are first loaded (initBackend('wasm')). */
export function wasmKernelVariant(): WasmKernelVariant | null {
  return current?.variant ?? null;
}

/** A module whose members are those of the build selected now (see {@link useWasmKernelVariant}). */
const selected: KernelModule = {
  get variant() {
    return active().variant;
  },
  get memory() {
    return active().memory;
  },
  get heapBase() {
    return active().heapBase;
  },
  batchMatmul: (...args) => active().batchMatmul(...args),
  workFloats: (...args) => active().workFloats(...args),
  geluForward: (...args) => active().geluForward(...args),
  geluBackward: (...args) => active().geluBackward(...args),
  adamwUpdate: (...args) => active().adamwUpdate(...args),
};

function active(): KernelModule {
  if (!current) throw new Error('maejs wasm kernels: no kernel module is loaded yet: await kernelModule() (initBackend does) first');
  return current;
}

/**
 * The kernels' module: the selected build, chosen on first call from MAEJS_WASM_RELAXED_SIMD
 * (default auto) unless {@link useWasmKernelVariant} chose first. The object stays the same when
 * the build is switched later.
 */
export async function kernelModule(): Promise<KernelModule> {
  if (!selecting) await useWasmKernelVariant(choiceFromEnvironment());
  await selecting;
  return selected;
}
