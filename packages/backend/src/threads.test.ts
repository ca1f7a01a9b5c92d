import { GPU_BACKENDS, isGpuBackend, resolveThreads, supportsDataParallel } from './index.js';

describe('data-parallel threads per backend', () => {
  it('counts tensorflow, webgl and webgpu as GPU backends, cpu and wasm as data-parallel ones', () => {
    expect([...GPU_BACKENDS]).toEqual(['tensorflow', 'webgl', 'webgpu']);
    expect(['tensorflow', 'webgl', 'webgpu', 'wasm', 'cpu'].map(isGpuBackend)).toEqual([true, true, true, false, false]);
    expect(['tensorflow', 'webgl', 'webgpu', 'wasm', 'cpu'].map(supportsDataParallel)).toEqual([false, false, false, true, true]);
  });

  it("'auto' is one thread per core on cpu and wasm and one thread on a GPU backend", () => {
    expect(resolveThreads('wasm', 'auto', 16)).toBe(16);
    expect(resolveThreads('cpu', 'auto', 2)).toBe(2);
    for (const gpu of GPU_BACKENDS) expect(resolveThreads(gpu, 'auto', 16)).toBe(1);
  });

  it('keeps an explicit count on cpu and wasm, and 1 everywhere', () => {
    expect(resolveThreads('wasm', 3, 2)).toBe(3);
    expect(resolveThreads('webgpu', 1, 16)).toBe(1);
  });

  it('refuses more than one thread on a GPU backend, naming the backend, the value and what is allowed', () => {
    expect(() => resolveThreads('tensorflow', 2, 16, '--threads')).toThrow(
      "--threads 2 is not allowed on the 'tensorflow' backend: it runs on a GPU, and every data-parallel worker thread would start its own TensorFlow runtime (with tfjs-node-gpu a CUDA context on the GPU; tfjs-node already uses every core); use 1 (or 'auto', which is 1 on tensorflow, webgl, webgpu); data-parallel threads are for cpu and wasm",
    );
    expect(() => resolveThreads('webgpu', 4, 16)).toThrow(/^threads 4 is not allowed on the 'webgpu' backend: .*its own GPU device; use 1 \(or 'auto'/);
    expect(() => resolveThreads('webgl', 2, 16)).toThrow(/'webgl' backend: .*its own WebGL context on the GPU/);
  });

  it('refuses counts that are not positive integers', () => {
    expect(() => resolveThreads('wasm', 0, 2, 'DataParallel: threads')).toThrow('DataParallel: threads is 0: expected "auto" or an integer >= 1 (threads that compute, this one included)');
    expect(() => resolveThreads('cpu', 1.5, 2)).toThrow(/threads is 1.5: expected "auto" or an integer >= 1/);
    expect(() => resolveThreads('cpu', 'all' as unknown as number, 2)).toThrow('threads is "all": expected "auto" or an integer >= 1');
  });
});
