import * as tf from '@tensorflow/tfjs-core';
import { countDeviceWork } from './index.js';
import { describeEachBackend } from '../../../testing/backends.js';

describeEachBackend('countDeviceWork', (backend) => {
  it('counts synchronous and asynchronous reads and registered kernels', async () => {
    const a = tf.tensor1d([1, 2, 3]);
    const { result, counts } = await countDeviceWork(async () => {
      const b = tf.add(a, 1); // one kernel
      const c = tf.mul(b, b); // one kernel
      const values = await c.data(); // one asynchronous read
      tf.dispose([b, c]);
      return Array.from(values);
    });
    expect(result).toEqual([4, 9, 16]);
    expect(counts).toMatchObject({ backend, syncReads: 0, asyncReads: 1, kernels: 2 });
    if (backend !== 'webgpu') {
      // webgpu in Node has no synchronous read (dataSync needs OffscreenCanvas).
      const sync = await countDeviceWork(() => tf.tidy(() => tf.neg(a).dataSync()));
      expect(sync.counts).toMatchObject({ syncReads: 1, asyncReads: 0, kernels: 1 });
    }
    a.dispose();
  });

  it('counts a custom op by its kernels, and removes its wrappers when the work throws', async () => {
    const x = tf.tensor1d([1, 2]);
    const square = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
      const v = args[0] as tf.Tensor;
      return { value: tf.mul(v, v), gradFunc: (dy: tf.Tensor) => tf.mul(dy, tf.mul(v, 2)) };
    });
    const { counts } = await countDeviceWork(() => tf.tidy(() => void square(x)));
    expect(counts.kernels).toBe(1);
    const backendObject = tf.backend() as unknown as Record<string, unknown>;
    const before = { read: backendObject.read, readSync: backendObject.readSync };
    await expect(countDeviceWork(() => Promise.reject(new Error('work failed')))).rejects.toThrow('work failed');
    expect({ read: backendObject.read, readSync: backendObject.readSync }).toEqual(before);
    const after = await countDeviceWork(() => tf.tidy(() => void tf.neg(x)));
    expect(after.counts.kernels).toBe(1); // counting again from zero, not twice
    x.dispose();
  });
}, { gpu: true });
