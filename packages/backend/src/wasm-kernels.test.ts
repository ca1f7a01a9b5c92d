import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend, installWasmKernels } from '@maejs/backend';
import { Rng } from '@maejs/random';

const packageDir = join(__dirname, '..');

const random = (shape: number[], seed: number) => {
  return tf.tensor(new Rng(seed).fillUniform(new Float32Array(shape.reduce((a, b) => a * b, 1)), -1, 1), shape);
};

/** The product on the cpu backend (tfjs's reference kernels), as a plain array. */
async function onCpu(f: () => tf.Tensor): Promise<Float32Array> {
  const previous = tf.getBackend();
  await tf.setBackend('cpu');
  const y = f();
  const values = (await y.data()) as Float32Array;
  y.dispose();
  await tf.setBackend(previous);
  return values;
}

describe('maejs wasm BatchMatMul kernel', () => {
  beforeAll(async () => {
    await initBackend('wasm');
  });

  it('is installed by initBackend and installing again changes nothing', async () => {
    const kernel = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
    await installWasmKernels();
    expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).toBe(kernel);
  });

  it.each([
    [[512, 13, 32], [512, 13, 32], false, true],
    [[8, 50, 50], [8, 50, 16], true, false],
    [[2, 3, 17, 9], [2, 3, 9, 23], false, false],
    [[1, 6, 4], [5, 6, 3], true, false],
    [[130, 70], [70, 66], false, false],
    [[70, 130], [66, 70], true, true],
  ])('matches the cpu backend: [%j] x [%j], transposeA %s, transposeB %s', async (aShape, bShape, ta, tb) => {
    const [a, b] = [random(aShape, 1), random(bShape, 2)];
    const y = tf.matMul(a, b, ta, tb);
    const expected = await onCpu(() => tf.matMul(tf.tensor(a.dataSync(), a.shape), tf.tensor(b.dataSync(), b.shape), ta, tb));
    const actual = (await y.data()) as Float32Array;
    expect(actual.length).toBe(expected.length);
    let worst = 0;
    for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
    expect(worst).toBeLessThan(1e-5);
    tf.dispose([a, b, y]);
  });

  it('handles empty products and k = 0', async () => {
    expect(tf.matMul(tf.zeros([3, 0, 4]), tf.zeros([3, 4, 5])).shape).toEqual([3, 0, 5]);
    const y = tf.matMul(tf.ones([2, 3, 0]), tf.ones([2, 0, 4]));
    expect(Array.from(await y.data())).toEqual(new Array(24).fill(0));
  });

  it('leaves int32 products to tfjs (which refuses them on wasm) and keeps the tensor count flat', async () => {
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) tf.tidy(() => tf.matMul(random([4, 9, 7], 3), random([4, 7, 5], 4)).dataSync());
    expect(tf.memory().numTensors).toBe(before);
    const ints = [tf.tensor3d([1, 2, 3, 4], [1, 2, 2], 'int32'), tf.tensor3d([5, 6, 7, 8], [1, 2, 2], 'int32')];
    expect(() => tf.matMul(ints[0], ints[1])).toThrow('BatchMatMul for non non-float32 tensors not yet supported'); // tfjs-backend-wasm's own message
    tf.dispose(ints);
  });

  it.each([
    [[6272, 128], [6272], 0],
    [[4, 9, 5], [7, 2], 1],
    [[3, 6], [4], 1],
  ])('GatherV2 matches the cpu backend: x [%j], indices [%j], axis %i', async (xShape, idShape, axis) => {
    const x = random(xShape, 5);
    const rng = new Rng(6);
    const ids = Int32Array.from({ length: idShape.reduce((a, b) => a * b, 1) }, () => rng.int(0, xShape[axis]));
    const y = tf.gather(x, tf.tensor(ids, idShape, 'int32'), axis);
    const expected = await onCpu(() => tf.gather(tf.tensor(x.dataSync(), x.shape), tf.tensor(ids, idShape, 'int32'), axis));
    expect(y.shape).toEqual([...xShape.slice(0, axis), ...idShape, ...xShape.slice(axis + 1)]);
    expect(Array.from(await y.data())).toEqual(Array.from(expected));
    tf.dispose([x, y]);
  });

  it('GatherV2 gathers int32 and bool tensors and refuses an index out of range', async () => {
    expect(Array.from(await tf.gather(tf.tensor1d([5, 6, 7], 'int32'), tf.tensor1d([2, 0], 'int32')).data())).toEqual([7, 5]);
    expect(Array.from(await tf.gather(tf.tensor1d([true, false], 'bool'), tf.tensor1d([1, 1, 0], 'int32')).data())).toEqual([0, 0, 1]);
    expect(() => tf.gather(tf.tensor2d([1, 2, 3, 4], [2, 2]), tf.tensor1d([0, 2], 'int32'))).toThrow('GatherV2: index 2 at position 1 is not in [0, 1]');
  });

  it('Identity (tf.clone, the tape\'s saved tensors) shares memory: no new buffer, and the clone outlives the original', async () => {
    const x = random([3, 5], 31);
    const values = Array.from(await x.data());
    const buffers = tf.memory().numDataBuffers;
    const y = tf.clone(x);
    expect(tf.memory().numDataBuffers).toBe(buffers);
    x.dispose();
    expect(Array.from(await y.data())).toEqual(values);
    expect(y.shape).toEqual([3, 5]);
    y.dispose();
    expect(tf.memory().numDataBuffers).toBe(buffers - 1);
    const s = tf.tensor(['a', 'b']); // strings go to tfjs's own kernel
    expect(await tf.clone(s).data()).toEqual(['a', 'b']);
  });

  it('Slice equals the cpu backend\'s on every rank, contiguous or not, and for int32 and bool', async () => {
    const cases: [number[], number[], number[]][] = [
      [[7], [2], [4]],
      [[6, 9], [0, 3], [6, 3]],
      [[6, 9], [2, 0], [3, -1]],
      [[4, 5, 6], [1, 2, 3], [2, 3, 2]],
      [[3, 4, 5, 6], [1, 0, 2, 1], [2, 4, 1, 5]],
      [[2, 3, 2, 3, 4], [1, 1, 0, 2, 1], [1, 2, 2, 1, 3]],
      [[5, 4], [1, 1], [0, 2]],
    ];
    for (const [shape, begin, size] of cases) {
      const x = random(shape, 32);
      const expected = await onCpu(() => tf.slice(tf.tensor(x.dataSync(), shape), begin, size));
      const got = tf.slice(x, begin, size);
      expect(Array.from(await got.data())).toEqual(Array.from(expected));
      tf.dispose([x, got]);
    }
    expect(Array.from(await tf.slice(tf.tensor2d([[1, 2, 3], [4, 5, 6]], [2, 3], 'int32'), [0, 1], [2, 2]).data())).toEqual([2, 3, 5, 6]);
    expect(Array.from(await tf.slice(tf.tensor1d([true, false, true]), [1], [2]).data())).toEqual([0, 1]);
    expect(await tf.slice(tf.tensor1d(['a', 'b', 'c']), [1], [1]).data()).toEqual(['b']); // strings: tfjs's own kernel
  });

  it('refuses to install without tfjs-backend-wasm kernels', async () => {
    const config = tf.getKernel('BatchMatMul', 'wasm')!;
    tf.unregisterKernel('BatchMatMul', 'wasm');
    try {
      await expect(installWasmKernels()).rejects.toThrow('installWasmKernels: no BatchMatMul kernel is registered for wasm: import @tensorflow/tfjs-backend-wasm first');
    } finally {
      tf.registerKernel(config);
    }
  });
});

describe('committed kernel binary', () => {
  it('was compiled from the current C sources (rebuild with clang + lld after editing kernels/*.c)', () => {
    const kernels = join(packageDir, 'kernels');
    const info = JSON.parse(readFileSync(join(kernels, 'kernels.wasm.json'), 'utf8'));
    const sources = readdirSync(kernels).filter((f) => f.endsWith('.c')).sort();
    const hash = createHash('sha256');
    for (const f of sources) hash.update(`${f}\0`).update(readFileSync(join(kernels, f)));
    expect(info.sources).toEqual(sources);
    expect(info.sourceSha256).toBe(hash.digest('hex'));
  });
});
