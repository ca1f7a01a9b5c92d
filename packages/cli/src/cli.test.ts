import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SWIFTSHADER_ICD, useMaejsKernels } from '@maejs/backend';
import { parseNpy } from '@maejs/formats';
import { goldenFile } from '../../../testing/golden.js';
import { expectClose, GPU_TEST_BACKENDS, TEST_BACKENDS } from '../../../testing/backends.js';
import { runMae as mae } from './test-utils/run-mae.js';

const golden = (file: string) => goldenFile('tiny-gray', file);


let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'maejs-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.each([...TEST_BACKENDS, ...GPU_TEST_BACKENDS])('mae forward on the golden case [%s]', (backend) => {
  it.each(['state_dict.pth', 'state_dict.safetensors'])('reproduces the official outputs from %s', async (weights) => {
    const out = join(dir, `${backend}-${weights}`);
    const r = await mae('forward', '--weights', golden(weights), '--config', golden('case.json'), '--images', golden('inputs.npy'), '--noise', golden('noise.npy'), '--out', out, '--backend', backend);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`backend ${backend}: loss 2\\.63592`));
    const read = (f: string) => parseNpy(readFileSync(join(out, f)), f);
    const want = (f: string) => parseNpy(readFileSync(golden(f)), f);
    for (const f of ['mask.npy', 'ids_restore.npy']) {
      expect(read(f).dtype).toBe(want(f).dtype);
      expect(read(f).shape).toEqual(want(f).shape);
      expect(read(f).data).toEqual(want(f).data);
    }
    for (const f of ['pred.npy', 'latent.npy']) {
      expect(read(f).shape).toEqual(want(f).shape);
      expectClose(f, read(f).data, want(f).data, 1e-5, 1e-4);
    }
    const caseJson = JSON.parse(readFileSync(golden('case.json'), 'utf8'));
    const { loss } = JSON.parse(readFileSync(join(out, 'loss.json'), 'utf8'));
    expectClose('loss', [loss], [caseJson.values.loss], 0, 1e-5);
  });
});

describe('mae command line errors', () => {
  const base = () => ['--weights', golden('state_dict.safetensors'), '--config', golden('case.json'), '--images', golden('inputs.npy'), '--out', join(dir, 'errors'), '--backend', 'cpu'];

  it('lists commands on an unknown command', async () => {
    const r = await mae('frobnicate');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/mae: unknown command 'frobnicate'/);
    expect(r.err).toMatch(/forward\s+one MAE forward pass/);
  });

  it('names a missing required flag and an unknown flag', async () => {
    expect((await mae('forward', '--out', dir)).err).toMatch(/mae forward: --weights is required/);
    expect((await mae('forward', ...base(), '--colour', 'red')).err).toMatch(/mae forward: Unknown option '--colour'/);
  });

  it('names an unreadable file', async () => {
    const r = await mae('forward', ...base().slice(0, 4), '--images', join(dir, 'nope.npy'), '--out', dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot read images .*nope\.npy: ENOENT/);
  });

  it('rejects images whose shape does not fit the config', async () => {
    const r = await mae('forward', ...base().slice(0, 4), '--images', golden('noise.npy'), '--out', dir, '--backend', 'cpu');
    expect(r.err).toMatch(/noise\.npy: images must be NCHW \[N, 1, 28, 28\] for this config, got \[3,49\]/);
  });

  it('rejects a config with a bad value, naming the field', async () => {
    const config = join(dir, 'bad-config.json');
    writeFileSync(config, JSON.stringify({ img_size: 30, patch_size: 4, embed_dim: 64, depth: 1, num_heads: 4, decoder_embed_dim: 32, decoder_depth: 1, decoder_num_heads: 4 }));
    const args = base();
    args[3] = config;
    expect((await mae('forward', ...args)).err).toMatch(/MaeConfig\.imgSize is 30: expected a multiple of patchSize 4/);
  });

  it('rejects weights that do not fit the config, listing the keys', async () => {
    const config = join(dir, 'deeper.json');
    writeFileSync(config, JSON.stringify({ ...JSON.parse(readFileSync(golden('case.json'), 'utf8')).config, depth: 3 }));
    const args = base();
    args[3] = config;
    const r = await mae('forward', ...args);
    expect(r.err).toMatch(/state dict does not match the model \(12 missing, 0 unexpected, 0 wrongly shaped\)/);
    expect(r.err).toMatch(/missing key: blocks\.2\.attn\.qkv\.weight/);
  });

  it('rejects a truncated checkpoint cleanly', async () => {
    const cut = join(dir, 'cut.safetensors');
    writeFileSync(cut, readFileSync(golden('state_dict.safetensors')).subarray(0, 1000));
    const args = base();
    args[1] = cut;
    const r = await mae('forward', ...args);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/mae forward: cut\.safetensors: /);
  });

  it('rejects noise of the wrong shape', async () => {
    const r = await mae('forward', ...base(), '--noise', golden('mask.npy').replace('mask.npy', 'ids_restore.npy'));
    expect(r.err).toMatch(/ids_restore\.npy: noise must be float32 \[N, L\], got int32 \[3,49\]/);
  });

  it('reports backends', async () => {
    const r = await mae('backends');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/yes\s+wasm\s+@tensorflow\/tfjs-backend-wasm; maejs kernels MaejsAdamWUpdate, MaejsStableRanks, MaejsInversePermutation, MaejsGelu, MaejsGeluGrad; replaces tfjs's BatchMatMul, GatherV2, Identity, Slice \(MAEJS_KERNELS=off keeps tfjs's\)$/m);
    expect(r.out).toMatch(/yes\s+cpu\s+@tensorflow\/tfjs-backend-cpu; maejs kernels MaejsAdamWUpdate, MaejsStableRanks, MaejsInversePermutation$/m);
    expect(r.out).toMatch(/no\s+tensorflow\s+install the npm package @tensorflow\/tfjs-node-gpu/);
    if (!GPU_TEST_BACKENDS.includes('webgpu')) return;
    expect(r.out).toMatch(/yes\s+webgpu\s+@tensorflow\/tfjs-backend-webgpu on Dawn \(npm package webgpu\); adapter \S.*; maejs kernels as tfjs ops$/m);
    if (process.env.VK_ICD_FILENAMES === SWIFTSHADER_ICD) expect(r.out).toMatch(/adapter google \/ swiftshader \/ .*SwiftShader driver [\d.]+ \(software adapter: for correctness checks, slow\); maejs kernels as tfjs ops$/m);
  });

  it("reports backends with maejs's kernels switched off: tfjs's own kernels everywhere", async () => {
    await useMaejsKernels(false);
    try {
      const r = await mae('backends');
      expect(r.out).toMatch(/yes\s+wasm\s+@tensorflow\/tfjs-backend-wasm; maejs kernels as tfjs ops$/m);
      expect(r.out).toMatch(/^maejs kernels are switched off \(MAEJS_KERNELS=off\): every backend runs tfjs's ops and kernels only$/m);
    } finally {
      await useMaejsKernels(true);
    }
  });
});
