/**
 * Registers the tfjs backends this page offers and starts one through @maejs/backend.
 *
 * @maejs/backend imports backend packages on demand with a variable specifier, which a bundler
 * cannot follow; a browser app imports the ones it wants itself, and initBackend then finds
 * them registered.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import '@tensorflow/tfjs-backend-webgl';
import '@tensorflow/tfjs-backend-webgpu'; // registers 'webgpu' only where navigator.gpu exists
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreadedSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';
import { initBackend, type BackendName } from '@maejs/backend';

// tfjs fetches its .wasm binaries from the script's folder or a CDN unless told; Vite emits them
// as hashed assets, so give it their URLs (no network beyond this origin).
setWasmPaths({ 'tfjs-backend-wasm.wasm': wasmPlain, 'tfjs-backend-wasm-simd.wasm': wasmSimd, 'tfjs-backend-wasm-threaded-simd.wasm': wasmThreadedSimd });

export const PAGE_BACKENDS = ['auto', 'webgl', 'webgpu', 'wasm', 'cpu'] as const;
export type PageBackend = (typeof PAGE_BACKENDS)[number];

/** What runs, for the status line and the tests. */
export interface BackendInfo {
  name: string;
  /** WebGL renderer (unmasked) for webgl, adapter description for webgpu, '' otherwise. */
  renderer: string;
  /** tfjs flags that matter for numerics and speed. */
  flags: Record<string, unknown>;
  webgpuAvailable: boolean;
}

/** Starts `name` ('auto': webgl, then webgpu, wasm, cpu) and returns what runs. */
export async function startBackend(name: PageBackend): Promise<BackendInfo> {
  const started = await initBackend(name as BackendName | 'auto');
  return backendInfo(started);
}

async function webgpuAdapter(): Promise<{ description: string } | null> {
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return null;
  try {
    const adapter = (await gpu.requestAdapter()) as { info?: Record<string, string>; isFallbackAdapter?: boolean } | null;
    if (!adapter) return null;
    const info = adapter.info ?? {};
    const parts = [info.vendor, info.architecture, info.device, info.description].filter(Boolean);
    return { description: `${parts.join(' ') || 'unknown adapter'}${adapter.isFallbackAdapter ? ' (fallback adapter)' : ''}` };
  } catch {
    return null;
  }
}

/** The unmasked WebGL renderer string of a fresh WebGL2 context (what tfjs's webgl backend draws with). */
export function webglRenderer(): string {
  const canvas = document.createElement('canvas');
  const gl = canvas.getContext('webgl2') ?? canvas.getContext('webgl');
  if (!gl) return 'no WebGL context';
  const ext = gl.getExtension('WEBGL_debug_renderer_info');
  const renderer = String(gl.getParameter(ext ? ext.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
  gl.getExtension('WEBGL_lose_context')?.loseContext();
  return renderer;
}

export async function backendInfo(name = tf.getBackend()): Promise<BackendInfo> {
  const flags: Record<string, unknown> = {};
  const flagNames: Record<string, string[]> = {
    webgl: ['WEBGL_VERSION', 'WEBGL_RENDER_FLOAT32_ENABLED', 'WEBGL_FORCE_F16_TEXTURES', 'WEBGL_MAX_TEXTURE_SIZE'],
    wasm: ['WASM_HAS_SIMD_SUPPORT', 'WASM_HAS_MULTITHREAD_SUPPORT'],
  };
  for (const flag of flagNames[name] ?? []) {
    try {
      flags[flag] = await tf.env().getAsync(flag);
    } catch {
      flags[flag] = 'unknown';
    }
  }
  const adapter = await webgpuAdapter();
  let renderer = '';
  if (name === 'webgl') renderer = webglRenderer();
  if (name === 'webgpu') renderer = adapter?.description ?? '';
  return { name, renderer, flags, webgpuAvailable: adapter !== null };
}
