/**
 * tfjs-backend-webgpu registers its backend only if navigator.gpu exists when it is first
 * imported. Imported earlier (here, at the top of this file, as a user's static import would),
 * it never registers in this process, and initBackend('webgpu') must say why.
 */
import '@tensorflow/tfjs-backend-webgpu';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from './index.js';
import { GPU_TEST_BACKENDS } from '../../../testing/backends.js';

(GPU_TEST_BACKENDS.includes('webgpu') ? it : it.skip)('explains a tfjs-backend-webgpu imported before navigator.gpu existed', async () => {
  expect(tf.findBackendFactory('webgpu')).toBeNull();
  await expect(initBackend('webgpu')).rejects.toThrow(
    "backend 'webgpu' is not available: @tensorflow/tfjs-backend-webgpu loaded but registered no 'webgpu' backend: it registers only if navigator.gpu exists when it is first imported, and this process imported it before; in Node, let initBackend import it",
  );
});
