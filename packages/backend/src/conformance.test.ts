import * as tf from '@tensorflow/tfjs-core';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';
import { initBackend } from './index.js';
import { conformanceCheckNames, defaultTolerance, erf64, formatReport, runConformance, type GoldenCheck } from './conformance.js';
import { describeEachBackend } from '../../../testing/backends.js';

describe('conformance references', () => {
  it('erf64 is accurate to float64 precision on both branches', () => {
    // Values from Python's math.erf.
    expect(erf64(0)).toBe(0);
    expect(erf64(1)).toBeCloseTo(0.8427007929497149, 15);
    expect(erf64(-0.5)).toBeCloseTo(-0.5204998778130465, 15);
    expect(erf64(2.9)).toBeCloseTo(0.9999589021219005, 15);
    expect(erf64(2.01)).toBeCloseTo(0.9955248493552482, 15);
    expect(erf64(3.5)).toBeCloseTo(0.9999992569016276, 15);
    expect(erf64(-6)).toBeCloseTo(-1, 15);
  });

  it('names every op maejs depends on', () => {
    const names = conformanceCheckNames().join('\n');
    for (const op of ['matMul', 'transposeA', 'transposeB', 'batched matMul', 'softmax', 'erf-GELU', 'LayerNorm', 'linear', 'transpose', 'permuteTokens', 'masking ids', 'stableRanks', 'inversePermutation', 'topk', 'expandTo', 'concat', 'slice', 'clipByValue', 'masked MSE', 'randomUniform', 'randomNormal', 'int32 kernels']) {
      expect(names).toContain(op);
    }
  });
});

describeEachBackend('runConformance', (backend) => {
  it('passes every check, leaks no tensor, and prints a readable report', async () => {
    const report = await runConformance();
    console.log(formatReport(report));
    expect(report.backend).toBe(backend);
    expect(report.environment).toBe('node');
    expect(report.tolerance).toEqual(defaultTolerance(backend));
    expect(report.checks.map((c) => c.name)).toEqual(conformanceCheckNames());
    expect(report.checks.filter((c) => c.status !== 'pass').map((c) => `${c.name}: ${c.error}`)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.leakedTensors).toBe(0);
    for (const c of report.checks) {
      expect(Number.isFinite(c.maxAbsError)).toBe(true);
      expect(c.maxRelError).toBeLessThan(1e-3);
    }
  });

  it('turns an injected model-level check into rows: pass, fail with the element, thrown error', async () => {
    const golden: GoldenCheck = ({ backend: b }) => {
      expect(b).toBe(backend);
      return [
        { name: 'loss', actual: [2.6359267], expected: [2.6359267234802246], tolerance: { rtol: 1e-5, atol: 0 } },
        { name: 'mask', actual: [0, 1, 1], expected: [0, 1, 0], exact: true },
        { name: 'pred', actual: [1, NaN], expected: [1, 2] },
      ];
    };
    const report = await runConformance({ golden, only: ['clipByValue', 'int32 kernels'] });
    // The integer-kernel check runs after the model check (a failing integer shader can lose a GPU device).
    expect(report.checks.map((c) => [c.name, c.status])).toEqual([
      [expect.stringContaining('clipByValue'), 'pass'],
      ['model: loss', 'pass'],
      ['model: mask', 'fail'],
      ['model: pred', 'fail'],
      [expect.stringContaining('int32 kernels'), 'pass'],
    ]);
    expect(report.checks[2].error).toBe('mask: element 2 is 1, expected 0 (exact match required)');
    expect(report.checks[3].error).toBe('pred: element 1 is NaN (non-finite), expected 2');
    expect(report.passed).toBe(false);
    expect(report.counts).toEqual({ pass: 3, fail: 2, skip: 0 });

    const thrown = await runConformance({ only: ['no such check'], golden: async () => Promise.reject(new Error('golden files not found')) });
    expect(thrown.checks).toEqual([expect.objectContaining({ name: 'model: golden check', status: 'fail', error: 'threw: golden files not found' })]);
  });
}, { gpu: true });

describe('runConformance on a broken backend', () => {
  // A new backend, 'broken-cpu': the cpu backend's kernels, except an Erf that is off by 1e-3
  // and no Softmax kernel at all. The kit must name exactly those checks.
  const NAME = 'broken-cpu';
  beforeAll(async () => {
    tf.enableProdMode();
    await initBackend('cpu');
    for (const kernel of tf.getKernelsForBackend('cpu')) {
      if (kernel.kernelName === tf.Softmax) continue;
      tf.registerKernel({ ...kernel, backendName: NAME });
    }
    const erf = tf.getKernel(tf.Erf, 'cpu')!;
    tf.unregisterKernel(tf.Erf, NAME);
    tf.registerKernel({
      kernelName: tf.Erf,
      backendName: NAME,
      kernelFunc: (args) => {
        const out = erf.kernelFunc(args) as tf.TensorInfo;
        const backend = args.backend as MathBackendCPU;
        const values = backend.data.get(out.dataId).values as Float32Array;
        for (let i = 0; i < values.length; i++) values[i] += 1e-3;
        return out;
      },
    });
    tf.registerBackend(NAME, () => new MathBackendCPU(), -1);
    await tf.setBackend(NAME);
  });
  afterAll(async () => {
    await tf.setBackend('cpu');
    tf.removeBackend(NAME);
    for (const kernel of tf.getKernelsForBackend(NAME)) tf.unregisterKernel(kernel.kernelName, NAME);
  });

  it('fails the GELU and softmax checks with the reason and passes the rest', async () => {
    const report = await runConformance();
    const failed = report.checks.filter((c) => c.status === 'fail');
    expect(failed.map((c) => c.name)).toEqual([expect.stringContaining('softmax'), expect.stringContaining('erf-GELU')]);
    expect(failed[0].error).toMatch(/^threw: .*Softmax.*not registered for backend 'broken-cpu'/);
    expect(failed[1].error).toMatch(/^gelu: element \d+ is .*, expected .* \(atol 0.00001 x max\|ref\|, rtol 0.0001\)$/);
    expect(failed[1].maxAbsError).toBeGreaterThan(1e-4);
    expect(report.passed).toBe(false);
    expect(report.backend).toBe(NAME);
  });
});
