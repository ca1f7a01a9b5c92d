import * as tf from '@tensorflow/tfjs-core';
import { argsort, countDeviceWork, expandTo, initBackend, inversePermutation, isOpLevelKernel, linear, listBackends, permuteTokens, registeredMaejsKernels, registerMaejsGradients, registerTfjsGradients, stableRanks, useMaejsKernels } from './index.js';
import { describeEachBackend, expectClose } from '../../../testing/backends.js';

describe('initBackend', () => {
  it('starts cpu and wasm by name and reports the active one', async () => {
    expect(await initBackend('cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await initBackend('wasm')).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('auto picks wasm in Node when tfjs-node is not installed', async () => {
    expect(await initBackend('auto')).toBe('wasm');
  });

  it('names the npm packages to install for tensorflow', async () => {
    await expect(initBackend('tensorflow')).rejects.toThrow(
      /backend 'tensorflow' is not available: install the npm package @tensorflow\/tfjs-node-gpu@4\.22\.0 or @tensorflow\/tfjs-node@4\.22\.0/,
    );
  });

  it('refuses browser-only backends in Node', async () => {
    await expect(initBackend('webgl')).rejects.toThrow(/backend 'webgl' is not available: it does not run in Node\.js/);
  });

  it('refuses unknown names, listing the allowed ones', async () => {
    await expect(initBackend('metal' as never)).rejects.toThrow(/unknown backend 'metal': expected one of auto, tensorflow, webgl, webgpu, wasm, cpu/);
  });

  it('lists every backend with a reason for those that cannot start', async () => {
    await initBackend('cpu');
    const statuses = await listBackends();
    expect(statuses.map((s) => s.name)).toEqual(['tensorflow', 'webgl', 'webgpu', 'wasm', 'cpu']);
    expect(statuses.find((s) => s.name === 'wasm')?.available).toBe(true);
    expect(statuses.find((s) => s.name === 'tensorflow')?.reason).toMatch(/tfjs-node/);
    expect(tf.getBackend()).toBe('cpu');
    const cpuKernels = ['MaejsAdamWUpdate', 'MaejsStableRanks', 'MaejsInversePermutation'];
    expect(statuses.find((s) => s.name === 'wasm')).toMatchObject({ maejsKernels: [...cpuKernels, 'MaejsGelu', 'MaejsGeluGrad'], replacedTfjsKernels: ['BatchMatMul', 'GatherV2', 'Identity', 'Slice'] });
    expect(statuses.find((s) => s.name === 'cpu')).toMatchObject({ maejsKernels: cpuKernels, replacedTfjsKernels: [] });
    expect(statuses.find((s) => s.name === 'tensorflow')).not.toHaveProperty('maejsKernels');
  });
});

describe('registerTfjsGradients', () => {
  it('has registered every gradient on import, so a second call adds none', () => {
    expect(tf.getGradient('Sum')).toBeDefined();
    expect(tf.getGradient('BatchMatMul')).toBeDefined();
    expect(registerTfjsGradients()).toBe(0);
  });

  it("registers the gradients of maejs's kernels MaejsLinear and MaejsPermuteTokens on import", () => {
    const [linearGradient, permuteGradient] = [tf.getGradient('MaejsLinear'), tf.getGradient('MaejsPermuteTokens')];
    expect([linearGradient?.inputsToSave, permuteGradient?.inputsToSave]).toEqual([['x', 'weight'], ['ids']]);
    registerMaejsGradients();
    expect(tf.getGradient('MaejsLinear')).toBe(linearGradient);
  });
});

describeEachBackend('permuteTokens', () => {
  const n = 2;
  const l = 5;
  const d = 3;
  const ids = [
    [3, 0, 4, 1, 2],
    [1, 2, 0, 4, 3],
  ];

  it('gathers rows per sample', () => {
    const x = tf.reshape(tf.range(0, n * l * d), [n, l, d]) as tf.Tensor3D;
    const out = permuteTokens(x, tf.tensor2d(ids, [n, l], 'int32'));
    const got = out.arraySync();
    const src = x.arraySync();
    for (let b = 0; b < n; b++) for (let i = 0; i < l; i++) expect(got[b][i]).toEqual(src[b][ids[b][i]]);
    tf.dispose([x, out]);
  });

  it('has the scatter gradient (computed through the inverse permutation)', () => {
    const x = tf.randomNormal([n, l, d], 0, 1, 'float32', 1) as tf.Tensor3D;
    const w = tf.randomNormal([n, l, d], 0, 1, 'float32', 2);
    const idsT = tf.tensor2d(ids, [n, l], 'int32');
    const g = tf.grad((xx: tf.Tensor) => tf.sum(tf.mul(permuteTokens(xx as tf.Tensor3D, idsT), w)))(x);
    // d/dx[b, ids[b, i]] = w[b, i]
    const gw = w.arraySync() as number[][][];
    const got = g.arraySync() as number[][][];
    for (let b = 0; b < n; b++) for (let i = 0; i < l; i++) expect(got[b][ids[b][i]]).toEqual(gw[b][i]);
    tf.dispose([x, w, idsT, g]);
  });

  it('rejects ids of the wrong shape or dtype', () => {
    const x = tf.zeros([n, l, d]) as tf.Tensor3D;
    expect(() => permuteTokens(x, tf.zeros([n, l - 1], 'int32') as tf.Tensor2D)).toThrow(/ids must be \[N, L\] = \[2, 5\], got \[2,4\]/);
    expect(() => permuteTokens(x, tf.zeros([n, l]) as tf.Tensor2D)).toThrow(/ids must be int32, got float32/);
  });

  it('argsort sorts ascending', () => {
    const v = tf.tensor2d([[0.5, 0.1, 0.9, 0.3]]);
    expect(argsort(v).arraySync()).toEqual([[1, 3, 0, 2]]);
  });

  it('argsort and stableRanks break ties by index, as a stable sort does', () => {
    const v = tf.tensor2d([
      [0.5, 0.2, 0.5, 0.2, 0.1, 0.5],
      [1, 1, 1, 1, 1, 1],
    ]);
    expect(argsort(v).arraySync()).toEqual([
      [4, 1, 3, 0, 2, 5],
      [0, 1, 2, 3, 4, 5],
    ]);
    expect(stableRanks(v).arraySync()).toEqual([
      [3, 1, 4, 2, 0, 5],
      [0, 1, 2, 3, 4, 5],
    ]);
    expect(stableRanks(v).dtype).toBe('int32');
  });

  it('argsort and stableRanks agree with a sort in JS on random rows, and invert each other', () => {
    const [rows, l] = [7, 49];
    const v = tf.randomUniform([rows, l], 0, 1, 'float32', 5) as tf.Tensor2D;
    const values = v.arraySync();
    const order = argsort(v);
    const ranks = stableRanks(v);
    const expected = values.map((row) => row.map((_, i) => i).sort((a, b) => row[a] - row[b] || a - b));
    expect(order.arraySync()).toEqual(expected);
    expect(inversePermutation(order).arraySync()).toEqual(ranks.arraySync());
    expect(inversePermutation(ranks).arraySync()).toEqual(expected);
    tf.dispose([v, order, ranks]);
  });

  it('the cpu/wasm kernels give the op form\'s integers, ties included, and the inverse kernel refuses a non-permutation', async () => {
    const v = tf.tensor2d([
      [0.5, 0.2, 0.5, 0.2, 0.1, 0.5, 0.9],
      [3, 1, 2, 1, 3, 0, 1],
    ]);
    const withKernels = [stableRanks(v), argsort(v)];
    expect(registeredMaejsKernels()).toEqual(expect.arrayContaining(['MaejsStableRanks', 'MaejsInversePermutation']));
    await useMaejsKernels(false);
    try {
      const opForm = [stableRanks(v), argsort(v)];
      for (let i = 0; i < 2; i++) expect(await withKernels[i].array()).toEqual(await opForm[i].array());
      tf.dispose(opForm);
    } finally {
      await useMaejsKernels(true);
    }
    expect(() => inversePermutation(tf.tensor2d([[0, 2, 2]], [1, 3], 'int32'))).toThrow('inversePermutation: row 0 is not a permutation of 0..2 (perm[0][2] is 2)');
    tf.dispose([v, ...withKernels]);
  });

  it('stableRanks and inversePermutation reject bad inputs', () => {
    expect(() => stableRanks(tf.zeros([4]) as never)).toThrow(/stableRanks: v must be \[N, L\], got shape \[4\]/);
    expect(() => inversePermutation(tf.zeros([6], 'int32') as never)).toThrow(/inversePermutation: perm must be \[N, L\], got shape \[6\]/);
    expect(() => inversePermutation(tf.zeros([2, 3]) as tf.Tensor2D)).toThrow(/inversePermutation: perm must be int32, got float32/);
  });
});

describeEachBackend('linear and expandTo', () => {
  it('linear has the value and gradients of matMul + bias', () => {
    const x = tf.randomNormal([5, 3], 0, 1, 'float32', 1) as tf.Tensor2D;
    const w = tf.randomNormal([3, 4], 0, 1, 'float32', 2) as tf.Tensor2D;
    const b = tf.randomNormal([4], 0, 1, 'float32', 3) as tf.Tensor1D;
    const up = tf.randomNormal([5, 4], 0, 1, 'float32', 4);
    const ours = tf.grads((a: tf.Tensor, bw: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(linear(a as tf.Tensor2D, bw as tf.Tensor2D, bb as tf.Tensor1D), up)))([x, w, b]);
    const ref = tf.grads((a: tf.Tensor, bw: tf.Tensor, bb: tf.Tensor) => tf.sum(tf.mul(tf.add(tf.matMul(a, bw), bb), up)))([x, w, b]);
    ours.forEach((g, i) => expectClose(`grad ${i}`, g.dataSync(), ref[i].dataSync(), 1e-6, 1e-5));
    expectClose('value', linear(x, w, b).dataSync(), tf.add(tf.matMul(x, w), b).dataSync(), 1e-6, 1e-6);
  });

  it('linear is the maejs kernel MaejsLinear, run as tfjs ops: tfjs computes only the gradients it needs', async () => {
    const x = tf.randomNormal([5, 3], 0, 1, 'float32', 1) as tf.Tensor2D;
    const w = tf.randomNormal([3, 4], 0, 1, 'float32', 2) as tf.Tensor2D;
    const b = tf.zeros([4]) as tf.Tensor1D;
    const loss = (a: tf.Tensor2D, bw: tf.Tensor2D) => tf.sum(linear(a, bw, b));
    const all = await countDeviceWork(() => tf.grads((a: tf.Tensor, bw: tf.Tensor) => loss(a as tf.Tensor2D, bw as tf.Tensor2D))([x, w]));
    const weightOnly = await countDeviceWork(() => tf.grad((bw: tf.Tensor) => loss(x, bw as tf.Tensor2D))(w));
    expect(isOpLevelKernel('MaejsLinear', tf.getBackend())).toBe(true);
    expect(all.counts.kernels - weightOnly.counts.kernels).toBe(1); // dx's matMul (a tf.customGrad op computes every input's gradient)
    expect(await weightOnly.result.data()).toEqual(await all.result[1].data());
    tf.dispose([x, w, b, ...all.result, weightOnly.result]);
  });

  it('linear rejects mismatched shapes', () => {
    expect(() => linear(tf.zeros([2, 3]) as tf.Tensor2D, tf.zeros([4, 5]) as tf.Tensor2D, tf.zeros([5]) as tf.Tensor1D)).toThrow(/linear: expected x \[M, in\], weight \[in, out\], bias \[out\], got \[2,3\], \[4,5\], \[5\]/);
  });

  it('expandTo broadcasts and sums the gradient over the copies', () => {
    const t = tf.tensor3d([[[1, 2]]]);
    expect(expandTo(t, [2, 3, 2]).arraySync()).toEqual([[[1, 2], [1, 2], [1, 2]], [[1, 2], [1, 2], [1, 2]]]);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(expandTo(a, [2, 3, 2]), tf.reshape(tf.range(0, 12), [2, 3, 2]))))(t);
    expect(g.arraySync()).toEqual([[[0 + 2 + 4 + 6 + 8 + 10, 1 + 3 + 5 + 7 + 9 + 11]]]);
  });
});
