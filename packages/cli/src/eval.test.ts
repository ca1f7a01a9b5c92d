import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { parseNpy } from '@maejs/formats';
import { goldenFile } from '../../../testing/golden.js';
import { runMae as mae } from './test-utils/run-mae.js';

const SMALL = ['--embed-dim', '16', '--depth', '1', '--num-heads', '2', '--decoder-embed-dim', '8', '--decoder-depth', '1', '--decoder-num-heads', '2', '--batch-size', '16', '--figure-images', '0', '--backend', 'wasm'];


let dir: string;
let run: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'maejs-eval-'));
  run = join(dir, 'run');
  const r = await mae('pretrain', ...SMALL, '--epochs', '2', '--max-steps', '2', '--out', run);
  if (r.code !== 0) throw new Error(r.err);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('mae features / visualize / eval', () => {
  it('writes encoder features and labels as .npy', async () => {
    const out = join(dir, 'feats.npy');
    const r = await mae('features', '--checkpoint', run, '--images', 'sample', '--pooling', 'mean', '--start', '10', '--count', '40', '--out', out, '--backend', 'wasm');
    expect(r.err).toBe('');
    const f = parseNpy(readFileSync(out), 'feats.npy');
    expect(f.shape).toEqual([40, 16]);
    expect(parseNpy(readFileSync(join(dir, 'feats.labels.npy')), 'labels').shape).toEqual([40]);
    // 'mean' (official global_pool) is a LayerNorm output: every row has mean 0; 'mean-norm' averages normed tokens instead.
    const rows = (data: ArrayLike<number>) => Array.from({ length: 40 }, (_, i) => Array.from(data).slice(i * 16, (i + 1) * 16));
    for (const row of rows(f.data)) expect(Math.abs(row.reduce((a, v) => a + v, 0) / 16)).toBeLessThan(1e-5);
    const outNorm = join(dir, 'feats-mean-norm.npy');
    const rn = await mae('features', '--checkpoint', run, '--images', 'sample', '--pooling', 'mean-norm', '--start', '10', '--count', '40', '--out', outNorm, '--backend', 'wasm');
    expect(rn.err).toBe('');
    expect(rn.out).toMatch(/\(mean-norm pooling\)/);
    const g = parseNpy(readFileSync(outNorm), 'feats-mean-norm.npy');
    expect(g.shape).toEqual([40, 16]);
    expect(Math.max(...Array.from(g.data).map((v, i) => Math.abs(v - (f.data[i] as number))))).toBeGreaterThan(0.1);
  });

  it('features over 2 threads equal those of 1 thread; --threads is checked', async () => {
    const run1 = await mae('features', '--checkpoint', run, '--count', '24', '--batch-size', '10', '--threads', '1', '--out', join(dir, 't1.npy'), '--backend', 'wasm');
    const run2 = await mae('features', '--checkpoint', run, '--count', '24', '--batch-size', '10', '--threads', '2', '--out', join(dir, 't2.npy'), '--backend', 'wasm');
    expect(run1.err + run2.err).toBe('');
    expect(run1.out).toMatch(/features on wasm, 1 thread$/m);
    expect(run2.out).toMatch(/features on wasm, 2 threads$/m);
    const [one, two] = ['t1.npy', 't2.npy'].map((f) => parseNpy(readFileSync(join(dir, f)), f));
    expect(two.shape).toEqual([24, 16]);
    expect(Math.max(...Array.from(two.data).map((v, i) => Math.abs(v - (one.data[i] as number))))).toBeLessThan(1e-5);
    expect((await mae('features', '--checkpoint', run, '--threads', '0', '--out', join(dir, 'x.npy'), '--backend', 'wasm')).err).toMatch(/^mae features: --threads is 0: expected an integer >= 1/m);
  });

  it('draws the reconstruction figure of a checkpoint and of official weights', async () => {
    const out = join(dir, 'fig.png');
    expect((await mae('visualize', '--checkpoint', run, '--count', '3', '--out', out, '--backend', 'wasm')).err).toBe('');
    const png = PNG.sync.read(readFileSync(out));
    expect(png.height).toBe(3 * 112 + 4 * 2); // 28 px tiles upscaled 4x, 2 px gaps
    const golden = join(dir, 'golden.png');
    const r = await mae('visualize', '--weights', goldenFile('tiny-gray', 'state_dict.safetensors'), '--config', goldenFile('tiny-gray', 'case.json'), '--count', '2', '--out', golden, '--backend', 'wasm');
    expect(r.err).toBe('');
    expect(existsSync(golden)).toBe(true);
  });

  it('runs the probes and their raw-pixel baselines on the sample', async () => {
    const out = join(dir, 'eval.json');
    const r = await mae('eval', '--checkpoint', run, '--data', 'sample', '--probe', 'linear,knn,finetune', '--baseline', '--linear-epochs', '2', '--finetune-epochs', '1', '--finetune-samples', '64', '--out', out, '--backend', 'wasm');
    expect(r.err).toBe('');
    expect(r.out).toMatch(/2000 train \/ 1000 test images/);
    const results = JSON.parse(readFileSync(out, 'utf8'));
    expect([results.pooling, results.poolingMeaning]).toEqual(['mean', expect.stringMatching(/^LayerNorm \(weight 1, bias 0\) of the mean of the patch tokens before the final norm \(official global_pool=True/)]);
    expect(Object.keys(results.probes)).toEqual(['linear probe, mean features', 'kNN (k 20, T 0.07), mean features', 'linear probe, raw pixels', 'kNN (k 20, T 0.07), raw pixels', 'fine-tune (64 images, 1 ep)', 'same ViT from scratch']);
    for (const v of Object.values(results.probes) as number[]) expect(v).toBeGreaterThan(0.05);
    expect(results.probes['kNN (k 20, T 0.07), raw pixels']).toBeGreaterThan(0.7); // the bundled sample is real Fashion-MNIST
  });

  it('computes features from an encoder-only official checkpoint, saying the decoder is absent', async () => {
    const { parseSafetensors, encodeSafetensors } = await import('@maejs/formats');
    const full = parseSafetensors(readFileSync(goldenFile('tiny-gray', 'state_dict.safetensors')), 'golden').tensors;
    const encoderOnly = [...full].filter(([k]) => !k.startsWith('decoder') && k !== 'mask_token') as [string, { dtype: 'float32'; shape: number[]; data: Float32Array }][];
    const file = join(dir, 'encoder-only.safetensors');
    writeFileSync(file, encodeSafetensors(encoderOnly));
    const r = await mae('features', '--weights', file, '--config', '{"num_heads": 4}', '--count', '5', '--out', join(dir, 'enc.npy'), '--backend', 'wasm');
    expect(r.err).toBe('');
    expect(r.out).toMatch(/note: .*decoder/i);
    expect(parseNpy(readFileSync(join(dir, 'enc.npy')), 'enc').shape).toEqual([5, 64]);
  });

  it('names bad flags', async () => {
    expect((await mae('eval', '--checkpoint', run, '--probe', 'svm')).err).toMatch(/^mae eval: --probe is "svm": expected one of "linear", "knn", "finetune"$/m);
    expect((await mae('eval', '--probe', 'knn')).err).toMatch(/give --checkpoint <run folder or checkpoint file> or --weights <file> \[--config <json> \| --preset <name>\]/);
    expect((await mae('features', '--checkpoint', run, '--pooling', 'max', '--out', join(dir, 'x.npy'))).err).toMatch(/^mae features: --pooling is "max": expected one of "cls", "mean", "mean-norm"$/m);
    expect((await mae('eval', '--checkpoint', run, '--pooling', 'meannorm')).err).toMatch(/^mae eval: --pooling is "meannorm": expected one of "cls", "mean", "mean-norm"$/m);
    expect((await mae('features', '--checkpoint', run, '--split', 'val', '--out', join(dir, 'x.npy'))).err).toMatch(/^mae features: --split is "val": expected "train" or "test"$/m);
    expect((await mae('visualize', '--checkpoint', run, '--split', 'val', '--out', join(dir, 'x.png'))).err).toMatch(/^mae visualize: --split is "val": expected "train" or "test"$/m);
    expect((await mae('visualize', '--checkpoint', join(dir, 'none'), '--out', join(dir, 'x.png'))).err).toMatch(/none: does not exist/);
    // integer flags are checked before any model or data is loaded
    expect((await mae('eval', '--checkpoint', run, '--seed', 'abc')).err).toMatch(/mae eval: --seed is "abc": expected an integer >= 0/);
    expect((await mae('eval', '--checkpoint', run, '--linear-epochs', '0')).err).toMatch(/mae eval: --linear-epochs is 0: expected an integer >= 1/);
    expect((await mae('eval', '--checkpoint', run, '--finetune-samples', '1e3')).err).toMatch(/mae eval: --finetune-samples is "1e3": expected an integer >= 0/);
    expect((await mae('features', '--checkpoint', run, '--batch-size', '1.5', '--out', join(dir, 'x.npy'))).err).toMatch(/mae features: --batch-size is "1\.5": expected an integer >= 1/);
    expect((await mae('features', '--checkpoint', run, '--count', '0', '--out', join(dir, 'x.npy'))).err).toMatch(/mae features: --count is 0: expected an integer >= 1/);
    expect((await mae('features', '--checkpoint', run, '--start=-3', '--out', join(dir, 'x.npy'))).err).toMatch(/mae features: --start is -3: expected an integer >= 0/);
    expect((await mae('visualize', '--checkpoint', run, '--seed', '', '--out', join(dir, 'x.png'))).err).toMatch(/mae visualize: --seed is "": expected an integer >= 0/);
    const dash = (await mae('features', '--checkpoint', run, '--start', '-3', '--out', join(dir, 'x.npy'))).err;
    expect(dash).toMatch(/^mae features: Option '--start' argument is ambiguous/); // Node's parseArgs message, prefixed once
    expect(dash).not.toMatch(/mae features: mae features/);
  });
});
