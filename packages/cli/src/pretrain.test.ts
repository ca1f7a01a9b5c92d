import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PNG } from 'pngjs';
import { runMae as mae } from './test-utils/run-mae.js';

// A very small model on the bundled 28x28 sample, so a run takes seconds.
const SMALL = ['--embed-dim', '16', '--depth', '1', '--num-heads', '2', '--decoder-embed-dim', '8', '--decoder-depth', '1', '--decoder-num-heads', '2', '--batch-size', '16', '--figure-images', '2', '--backend', 'wasm'];


const losses = (dir: string) =>
  readFileSync(join(dir, 'metrics.jsonl'), 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l))
    .filter((e) => e.type === 'step')
    .map((e) => e.loss as number);

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'maejs-pretrain-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** maejs's backend kernels on wasm (initBackend('wasm') with the kernels on). */
const WASM_KERNELS = ['MaejsAdamWUpdate', 'MaejsStableRanks', 'MaejsInversePermutation', 'MaejsGelu', 'MaejsGeluGrad'];

describe('mae pretrain', () => {
  it('writes a run folder: resolved config, metrics, checkpoints, figures, loss curve', async () => {
    const out = join(dir, 'run');
    const r = await mae('pretrain', ...SMALL, '--epochs', '2', '--max-steps', '4', '--threads', '2', '--out', out);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/"embedDim": 16/);
    expect(r.out).toMatch(/data-parallel over 2 threads \(this one and 1 worker; --threads 1 for one\)/);
    expect(r.out).toMatch(/finished \(max-steps\) after 4 updates/);
    expect(r.out).toContain(`wasm: maejs kernels ${WASM_KERNELS.join(', ')}; replaces tfjs's BatchMatMul, GatherV2, Identity, Slice (MAEJS_KERNELS=off keeps tfjs's)`);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config).toMatchObject({ model: { embedDim: 16, normPixLoss: true }, training: { maxSteps: 4, batchSize: 16 }, backend: 'wasm', run: { threads: 2 }, data: { name: 'fashion-mnist-sample', images: 3000 } });
    expect(config.kernels).toEqual({ maejs: WASM_KERNELS, replacesTfjs: ['BatchMatMul', 'GatherV2', 'Identity', 'Slice'] });
    expect(losses(out)).toHaveLength(4);
    expect(readdirSync(join(out, 'checkpoints'))).toEqual(['checkpoint-00000004.safetensors']);
    const png = PNG.sync.read(readFileSync(join(out, 'loss.png')));
    expect(png.width).toBeGreaterThan(100);
    expect(existsSync(join(out, 'figures'))).toBe(false); // no epoch finished in 4 updates
  });

  it('resumes a run exactly', async () => {
    const whole = join(dir, 'whole');
    expect((await mae('pretrain', ...SMALL, '--epochs', '2', '--max-steps', '6', '--out', whole)).code).toBe(0);
    const part = join(dir, 'part');
    expect((await mae('pretrain', ...SMALL, '--epochs', '2', '--max-steps', '3', '--out', part)).code).toBe(0);
    const resumed = await mae('pretrain', '--resume', part, '--max-steps', '6');
    expect(resumed.err).toBe('');
    expect(resumed.out).toMatch(/resuming from .*checkpoint-00000003\.safetensors \(update 3\)/);
    expect(losses(part)).toEqual(losses(whole));
  });

  it('refuses data whose image size does not match the model', async () => {
    const r = await mae('pretrain', '--preset', 'mae_tiny_32', '--max-steps', '1', '--out', join(dir, 'x'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/data fashion-mnist-sample has images 28x28x1, but the model expects 32x32x3 \(imgSize, inChans\)/);
  });

  it('refuses to resume with other settings, listing them', async () => {
    const run = join(dir, 'small');
    expect((await mae('pretrain', ...SMALL, '--epochs', '2', '--max-steps', '1', '--out', run)).code).toBe(0);
    const r = await mae('pretrain', '--resume', run, '--batch-size', '32', '--embed-dim', '32');
    expect(r.err).toMatch(/was made with other settings[\s\S]*model\.embedDim: checkpoint 16, this run 32[\s\S]*batchSize: checkpoint 16, this run 32/);
  });

  it('--threads auto trains on one thread on a GPU backend (webgpu: Dawn in Node)', async () => {
    const out = join(dir, 'gpu');
    const onWebgpu = [...SMALL.slice(0, SMALL.indexOf('--backend')), '--backend', 'webgpu', '--figure-images', '0', '--batch-size', '4'];
    const r = await mae('pretrain', ...onWebgpu, '--epochs', '1', '--max-steps', '1', '--out', out);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/one thread: 'webgpu' is a GPU backend \(--threads auto means 1 there\)/);
    expect(r.out).not.toMatch(/data-parallel over/);
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'))).toMatchObject({ backend: 'webgpu', run: { threads: 'auto' } });
    expect(losses(out)).toHaveLength(1);
  });

  it('names unknown flags, bad values and bad config files', async () => {
    expect((await mae('pretrain', '--epoch', '3')).err).toMatch(/unknown flag --epoch; expected one of .*--epochs/);
    expect((await mae('pretrain', '--epochs', '0')).err).toMatch(/PretrainConfig\.epochs is 0: expected an integer >= 1/);
    expect((await mae('pretrain', '--mask-ratio', '1.5')).err).toMatch(/MaeConfig\.maskRatio is 1\.5: expected a number in \[0, 1\)/);
    expect((await mae('pretrain', '--threads', '0')).err).toMatch(/^mae pretrain: --threads is 0: expected "auto" \(one per core\) or an integer >= 1$/m);
    expect((await mae('pretrain', '--threads', 'many')).err).toMatch(/^mae pretrain: --threads is "many": expected "auto" \(one per core\) or an integer >= 1$/m);
    expect((await mae('pretrain', '--figure-images', '1.5')).err).toMatch(/^mae pretrain: --figure-images is 1\.5: expected an integer >= 0$/m);
    expect((await mae('pretrain', '--backend', 'webgpu', '--threads', '2')).err).toMatch(
      /^mae pretrain: --threads 2 is not allowed on the 'webgpu' backend: it runs on a GPU, and every data-parallel worker thread would start its own GPU device; use 1 \(or 'auto', which is 1 on tensorflow, webgl, webgpu\); data-parallel threads are for cpu and wasm/,
    );
    expect((await mae('pretrain', '--backend', 'tensorflow', '--threads', '4')).err).toMatch(/--threads 4 is not allowed on the 'tensorflow' backend: .*its own TensorFlow runtime \(with tfjs-node-gpu a CUDA context/);
    expect((await mae('pretrain', '--preset', 'vit_giant')).err).toMatch(/^mae pretrain: preset is "vit_giant": expected one of "mae_vit_base_patch16", /m);
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ embed_dim: 32, colour: 'red' }));
    expect((await mae('pretrain', '--config', bad)).err).toMatch(/unknown setting 'colour'/);
    expect((await mae('pretrain', '--data', join(dir, 'nothing-here'))).err).toMatch(/--data .*nothing-here: no such file or folder; expected 'sample'/);
  });
});
