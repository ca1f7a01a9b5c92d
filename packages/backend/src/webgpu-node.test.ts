import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, initBackend, listBackends } from './index.js';
import { describeAdapter, formatAdapter, loadDawn, parseDawnOptions, resolveDawnOptions, SWIFTSHADER_ICD, WEBGPU_OPTIONS_ENV } from './webgpu-node.js';
import { GPU_TEST_BACKENDS, parseTestBackends } from '../../../testing/backends.js';

describe('Dawn options', () => {
  it('reads MAEJS_WEBGPU_OPTIONS as comma-separated key=value, a piece without = continuing the value before it', () => {
    expect(parseDawnOptions('')).toEqual([]);
    expect(parseDawnOptions(' backend=vulkan , ')).toEqual(['backend=vulkan']);
    expect(parseDawnOptions('backend=vulkan,enable-dawn-features=allow_unsafe_apis,dump_shaders,adapter=x')).toEqual(['backend=vulkan', 'enable-dawn-features=allow_unsafe_apis,dump_shaders', 'adapter=x']);
  });

  it('names an entry that is not key=value', () => {
    expect(() => parseDawnOptions('vulkan,backend=vulkan')).toThrow("MAEJS_WEBGPU_OPTIONS: 'vulkan' is not a Dawn option: expected comma-separated key=value options, e.g. backend=vulkan,enable-dawn-features=allow_unsafe_apis");
  });

  it('puts the environment first and initBackend options after them (Dawn takes the last value of a key)', () => {
    const env = { [WEBGPU_OPTIONS_ENV]: 'backend=vulkan,enable-dawn-features=a,b' };
    expect(resolveDawnOptions({ dawnOptions: ['backend=null'] }, env)).toEqual(['backend=vulkan', 'enable-dawn-features=a,b', 'backend=null']);
    expect(resolveDawnOptions({}, {})).toEqual([]);
  });

  it('refuses Dawn options in a browser, which brings its own navigator.gpu', async () => {
    const g = globalThis as { window?: unknown };
    g.window = {}; // detectEnvironment() says 'browser' where a window exists
    try {
      await expect(initBackend('cpu', { webgpu: { dawnOptions: ['backend=vulkan'] } })).rejects.toThrow(
        'initBackend: options.webgpu.dawnOptions [backend=vulkan] apply only in Node (Dawn, the npm package webgpu); a browser provides navigator.gpu itself',
      );
    } finally {
      delete g.window;
    }
  });

  it('names a bad dawnOptions value and what was expected', () => {
    expect(() => resolveDawnOptions({ dawnOptions: 'backend=vulkan' as unknown as string[] }, {})).toThrow(`initBackend: options.webgpu.dawnOptions must be an array of 'key=value' strings, got "backend=vulkan"`);
    expect(() => resolveDawnOptions({ dawnOptions: ['backend=vulkan', 'vulkan'] }, {})).toThrow(`initBackend: options.webgpu.dawnOptions[1] is "vulkan": expected 'key=value', e.g. 'backend=vulkan'`);
    expect(() => resolveDawnOptions({ dawnOptions: [3 as unknown as string] }, {})).toThrow('options.webgpu.dawnOptions[0] is 3');
  });
});

describe('WebGPU adapters', () => {
  it('tells software adapters from hardware ones and formats them on one line', () => {
    const swiftshader = describeAdapter({ info: { vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader driver 5.0.0' } }, ['backend=vulkan']);
    expect(swiftshader).toEqual({ vendor: 'google', architecture: 'swiftshader', device: '', description: 'SwiftShader driver 5.0.0', software: true, dawnOptions: ['backend=vulkan'] });
    expect(formatAdapter(swiftshader)).toBe('google / swiftshader / SwiftShader driver 5.0.0 (software adapter: for correctness checks, slow); Dawn options backend=vulkan');
    expect(describeAdapter({ info: { vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' } }).software).toBe(true);
    expect(describeAdapter({ info: { vendor: 'intel', architecture: 'gen-12lp', isFallbackAdapter: true } }).software).toBe(true);
    const nvidia = describeAdapter({ info: { vendor: 'nvidia', architecture: 'ampere', description: 'NVIDIA GeForce RTX 3090' } });
    expect(nvidia.software).toBe(false);
    expect(formatAdapter(nvidia)).toBe('nvidia / ampere / NVIDIA GeForce RTX 3090');
  });

  it('the jest harness reads MAEJS_TEST_BACKENDS and names a backend it does not know', () => {
    expect(parseTestBackends(' cpu , webgpu ,')).toEqual(['cpu', 'webgpu']);
    expect(() => parseTestBackends('cpu,webgpux')).toThrow("MAEJS_TEST_BACKENDS: 'webgpux' is not a backend: expected a comma-separated list of tensorflow, webgl, webgpu, wasm, cpu");
  });

  it('the jest harness and the library name the same SwiftShader driver', () => {
    expect(require('../../../testing/webgpu-setup.cjs').SWIFTSHADER_ICD).toBe(SWIFTSHADER_ICD);
  });
});

it('names the npm package to install when Dawn is missing', async () => {
  const error = await loadDawn('not-installed-dawn-for-a-test').catch((e: unknown) => e);
  expect(error).toBeInstanceOf(BackendUnavailableError);
  expect((error as Error).message).toBe("backend 'webgpu' is not available: in Node it needs the npm package not-installed-dawn-for-a-test (Dawn, WebGPU for Node), which is not installed: npm install not-installed-dawn-for-a-test@0.6.2");
});

// Dawn itself, on the driver the test harness selected (testing/webgpu-setup.cjs). The failures
// come first: a failed setup installs nothing, and the first success sets Dawn up for the process.
(GPU_TEST_BACKENDS.includes('webgpu') ? describe : describe.skip)('initBackend("webgpu") in Node, on Dawn', () => {
  const env = process.env[WEBGPU_OPTIONS_ENV];
  afterEach(() => {
    if (env === undefined) delete process.env[WEBGPU_OPTIONS_ENV];
    else process.env[WEBGPU_OPTIONS_ENV] = env;
  });

  it('passes on what Dawn says about an option it rejects', async () => {
    await expect(initBackend('webgpu', { webgpu: { dawnOptions: ['backend=bogus'] } })).rejects.toThrow(
      /^backend 'webgpu' is not available: Dawn rejected the options \[backend=bogus\] \(MAEJS_WEBGPU_OPTIONS, then initBackend's webgpu.dawnOptions\): unrecognised backend 'bogus'; Possible backends : 'null'/,
    );
  });

  it('says what to install or set when Dawn finds no adapter', async () => {
    process.env[WEBGPU_OPTIONS_ENV] = 'backend=opengl'; // Dawn here has no OpenGL adapter
    const error = (await initBackend('webgpu').catch((e: unknown) => e)) as BackendUnavailableError;
    expect(error).toBeInstanceOf(BackendUnavailableError);
    expect(error.reason).toMatch(/^Dawn \(npm package webgpu\) found no WebGPU adapter with the Dawn options \[backend=opengl\]/);
    expect(error.reason).toContain('apt-get install libvulkan1');
    expect(error.reason).toContain(`VK_ICD_FILENAMES=${SWIFTSHADER_ICD} (SwiftShader, from Debian's chromium package)`);
    process.env[WEBGPU_OPTIONS_ENV] = 'opengl';
    await expect(initBackend('webgpu')).rejects.toThrow("MAEJS_WEBGPU_OPTIONS: 'opengl' is not a Dawn option");
  });

  it('defines gpu on an existing navigator (Node 21+), keeps it, and computes on the adapter', async () => {
    const nav = { userAgent: 'Node.js/22' };
    Object.defineProperty(globalThis, 'navigator', { value: nav, configurable: true, writable: true });
    expect(await initBackend('webgpu')).toBe('webgpu');
    expect(tf.getBackend()).toBe('webgpu');
    expect((globalThis as { navigator?: unknown }).navigator).toBe(nav);
    expect(nav).toEqual({ userAgent: 'Node.js/22', gpu: expect.anything() });
    expect(typeof (globalThis as { GPUBufferUsage?: { STORAGE?: number } }).GPUBufferUsage?.STORAGE).toBe('number');
    const y = tf.matMul(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor2d([5, 6, 7, 8], [2, 2]));
    expect(Array.from(await y.data())).toEqual([19, 22, 43, 50]);
    y.dispose();
  });

  it('refuses other Dawn options once Dawn is set up, and reports the adapter', async () => {
    await expect(initBackend('webgpu', { webgpu: { dawnOptions: ['backend=vulkan'] } })).rejects.toThrow(
      "backend 'webgpu' is not available: navigator.gpu was created in this process with the Dawn options []; [backend=vulkan] cannot take effect (Dawn is set up once per process)",
    );
    expect(await initBackend('webgpu')).toBe('webgpu');
    const status = (await listBackends()).find((s) => s.name === 'webgpu')!;
    expect(status.available).toBe(true);
    expect(status.adapter).toEqual(expect.objectContaining({ dawnOptions: [] }));
    expect(status.adapter!.vendor.length + status.adapter!.architecture.length).toBeGreaterThan(0);
    if (process.env.VK_ICD_FILENAMES === SWIFTSHADER_ICD) expect(status.adapter).toEqual(expect.objectContaining({ vendor: 'google', architecture: 'swiftshader', software: true }));
  });
});
