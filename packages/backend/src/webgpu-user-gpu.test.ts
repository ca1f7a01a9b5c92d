/**
 * A program that creates navigator.gpu itself (here from Dawn, as a user could): initBackend
 * uses it as it is, so Dawn options cannot apply to it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { create, globals } from 'webgpu';
import { initBackend, listBackends } from './index.js';
import { GPU_TEST_BACKENDS } from '../../../testing/backends.js';

(GPU_TEST_BACKENDS.includes('webgpu') ? it : it.skip)("uses a navigator.gpu it did not create, says when it has no adapter, and refuses Dawn options for it", async () => {
  Object.assign(globalThis, globals);
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: create(['backend=opengl']) }, configurable: true, writable: true }); // no OpenGL adapter here
  await expect(initBackend('webgpu')).rejects.toThrow("backend 'webgpu' is not available: navigator.gpu (not created by maejs) found no WebGPU adapter");
  Object.defineProperty(globalThis, 'navigator', { value: { gpu: create([]) }, configurable: true, writable: true });
  await expect(initBackend('webgpu', { webgpu: { dawnOptions: ['backend=vulkan'] } })).rejects.toThrow(
    "backend 'webgpu' is not available: navigator.gpu already exists in this process (not created by maejs), so the Dawn options [backend=vulkan] cannot take effect",
  );
  expect(await initBackend('webgpu')).toBe('webgpu');
  const y = tf.add(tf.tensor1d([1, 2, 3]), tf.tensor1d([10, 20, 30]));
  expect(Array.from(await y.data())).toEqual([11, 22, 33]);
  y.dispose();
  const status = (await listBackends()).find((s) => s.name === 'webgpu')!;
  expect(status).toEqual(expect.objectContaining({ available: true, adapter: expect.objectContaining({ dawnOptions: [] }) }));
});
