/**
 * loadPretrained / importPretrained against a local server that behaves like the Hugging Face hub
 * (packages/hub/src/test-utils/hub-server.ts), serving the tiny-gray golden checkpoint (official
 * PyTorch MAE) in the HF layout (model.safetensors or pytorch_model.bin + config.json), as an
 * official-style .pth, and as a maejs .safetensors at a URL.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@maejs/backend';
import { configFromOfficial, isDecoderKey, maeVitBasePatch16, type MaeConfig } from '@maejs/mae';
import { HubServer } from '../../hub/src/test-utils/hub-server.js';
import { expectClose } from '../../../testing/backends.js';
import { analyzeCheckpoint, CheckpointError, exportSafetensors, importCheckpoint, maeStateOf } from './checkpoint.js';
import { officialToHf } from './hf-vitmae.js';
import { importPretrained, loadPretrained, type NodePretrainedOptions } from './node.js';
import { importPretrained as importInBrowser, loadPretrained as loadInBrowser } from './index.js';
import { parseNpy, WeightsFormatError, type TensorRecord } from '@maejs/formats';
import { readGolden, tinyGray } from '../../../testing/golden.js';
import { buildPth, float32Bytes, type TensorSpec, writeStateDictPickle } from '../../formats/src/test-utils/pth-builder.js';
import { HubError } from '@maejs/hub';

const caseJson = tinyGray.caseJson();
const config: MaeConfig = { ...configFromOfficial(caseJson.config) };
const golden = () => importCheckpoint(readGolden('state_dict.safetensors'), 'state_dict.safetensors');
const goldenState = () => maeStateOf(golden(), analyzeCheckpoint(golden(), config)).state;
const files = (list: { name: string; bytes: Uint8Array }[]) => Object.fromEntries(list.map((f) => [f.name, f.bytes]));

/** A torch.save-style .pth of float32 tensors (an OrderedDict state dict). */
function pthOf(tensors: Map<string, TensorRecord>): Uint8Array {
  const specs: TensorSpec[] = [];
  const storages: Record<string, Uint8Array> = {};
  [...tensors].forEach(([key, t], i) => {
    const stride = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    specs.push({ key, storageClass: 'FloatStorage', storageKey: String(i), storageNumel: t.data.length, offset: 0, size: t.shape, stride });
    storages[String(i)] = float32Bytes(t.data);
  });
  return buildPth(writeStateDictPickle(specs), storages);
}

/** The model's state dict equals the golden tensors, bit for bit (decoder keys only when `decoder`). */
async function expectGoldenWeights(model: { stateDict(): Promise<Map<string, { shape: number[]; data: Float32Array }>> }, decoder = true): Promise<void> {
  const got = await model.stateDict();
  for (const [key, t] of golden().tensors) {
    if (!decoder && isDecoderKey(key)) continue;
    expect({ key, shape: got.get(key)?.shape }).toEqual({ key, shape: t.shape });
    expect(Buffer.from(got.get(key)!.data.buffer).equals(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength))).toBe(true);
  }
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected an error, but it succeeded');
}

let server: HubServer;
let root: string;
let n = 0;
const options = (extra: NodePretrainedOptions = {}): NodePretrainedOptions => ({ cache: join(root, `cache-${++n}`), endpoint: server.endpoint, retries: 1, retryDelayMs: 10, timeoutMs: 2000, env: {}, ...extra });

beforeAll(async () => {
  tf.enableProdMode();
  await initBackend('cpu');
  server = await HubServer.start();
  root = mkdtempSync(join(tmpdir(), 'maejs-pretrained-'));
  const hf = files(exportSafetensors(goldenState(), config, 'hf'));
  server.addRepo('facebook/vit-mae-tiny', hf);
  const hfTensors = officialToHf(new Map([...goldenState()].map(([k, t]) => [k, { dtype: 'float32', shape: t.shape, data: t.data } as TensorRecord])));
  server.addRepo('org/bin-only', { 'config.json': hf['config.json'], 'pytorch_model.bin': pthOf(hfTensors) });
  const encoderOnly = new Map([...hfTensors].filter(([k]) => k.startsWith('vit.')));
  server.addRepo('org/encoder-only', { 'config.json': hf['config.json'], 'pytorch_model.bin': pthOf(encoderOnly) });
  const cut = hf['model.safetensors'].subarray(0, 4000);
  server.addRepo('org/corrupt', { 'config.json': hf['config.json'], 'model.safetensors': cut });
  server.addFile('mirror/visualize/mae_visualize_vit_base.pth', readGolden('state_dict.pth'));
  server.addFile('mirror/pretrain/mae_pretrain_vit_base.pth', pthOf(new Map([...golden().tensors].filter(([k]) => !isDecoderKey(k)))));
  server.addFile('maejs/tiny.safetensors', files(exportSafetensors(goldenState(), config, 'official'))['model.safetensors']);
  server.addFile('plain/state_dict.pth', readGolden('state_dict.pth'));
});

afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

describe('loadPretrained', () => {
  it('hf: a transformers ViTMAE repository (model.safetensors + config.json) gives the golden model; the second load makes no request', async () => {
    const opts = options();
    const events: string[] = [];
    const loaded = await loadPretrained('hf:facebook/vit-mae-tiny', { ...opts, onProgress: (e) => events.push(`${e.file} ${e.bytesDone}/${e.bytesTotal}${e.cached ? ' cached' : ''}`) });
    expect(loaded.source).toBe('hf:facebook/vit-mae-tiny@main');
    expect(loaded.config).toEqual(config);
    expect(loaded.hasDecoder).toBe(true);
    expect(loaded.files.map((f) => [f.name, f.fromCache])).toEqual([
      ['config.json', false],
      ['model.safetensors', false],
    ]);
    expect(events[events.length - 1]).toBe(`model.safetensors ${loaded.files[1].size}/${loaded.files[1].size}`);
    await expectGoldenWeights(loaded.model);

    const x = parseNpy(readGolden('inputs.npy'), 'inputs.npy');
    const noise = parseNpy(readGolden('noise.npy'), 'noise.npy');
    const images = tf.tidy(() => tf.transpose(tf.tensor4d(x.data as Float32Array, x.shape as [number, number, number, number]), [0, 2, 3, 1]) as tf.Tensor4D);
    const out = loaded.model.forward(images, { noise: tf.tensor2d(noise.data as Float32Array, noise.shape as [number, number]) });
    expectClose('pred', await out.pred.data(), parseNpy(readGolden('pred.npy'), 'pred.npy').data, 1e-5, 1e-4);
    tf.dispose([images, ...Object.values(out)]);
    loaded.model.dispose();

    const before = server.requests.length;
    const again = await loadPretrained('hf:facebook/vit-mae-tiny', { ...opts, env: { HF_HUB_OFFLINE: '1' } });
    expect(server.requests.length).toBe(before);
    expect(again.files.map((f) => f.fromCache)).toEqual([true, true]);
    again.model.dispose();
  });

  it('hf: pytorch_model.bin when there is no model.safetensors', async () => {
    const loaded = await loadPretrained('hf:org/bin-only', options());
    expect(loaded.files.map((f) => f.name)).toEqual(['config.json', 'pytorch_model.bin']);
    await expectGoldenWeights(loaded.model);
    loaded.model.dispose();
  });

  it('hf: an encoder-only repository loads the encoder and says the decoder is random', async () => {
    const loaded = await loadPretrained('hf:org/encoder-only', { ...options(), seed: 3 });
    expect(loaded.hasDecoder).toBe(false);
    expect(loaded.notes[0]).toMatch(/^decoder absent: this is an encoder-only checkpoint/);
    await expectGoldenWeights(loaded.model, false);
    loaded.model.dispose();
  });

  it('an official name: its URL (here a mirror), its preset as the fallback, head counts from the config option', async () => {
    const opts = options({ env: { MAEJS_OFFICIAL_BASE_URL: `${server.endpoint}/files/mirror` } });
    const pretrain = await importPretrained('mae_pretrain_vit_base', opts);
    expect(pretrain.fallback).toEqual({ ...maeVitBasePatch16, normPixLoss: true });
    expect(pretrain.source).toMatchObject({ kind: 'official', id: 'mae_pretrain_vit_base' });
    // The preset's ViT-B head count (12) is used, and does not divide the tiny file's width (64):
    const error = await failure(loadPretrained('mae_visualize_vit_base', opts));
    expect(error).toBeInstanceOf(CheckpointError);
    expect(error.message).toMatch(/^mae_visualize_vit_base\.pth: MaeConfig\.embedDim is 64: expected divisible by numHeads 12 \(sources: .*numHeads from fallback/);
    const loaded = await loadPretrained('mae_visualize_vit_base', { ...opts, config: { numHeads: 4, decoderNumHeads: 4 } });
    expect(loaded.config).toMatchObject({ numHeads: 4, normPixLoss: false, embedDim: 64 });
    // The download of the attempt that failed on the config is in the cache and reused:
    expect(loaded.files[0]).toMatchObject({ name: 'mae_visualize_vit_base.pth', url: `${server.endpoint}/files/mirror/visualize/mae_visualize_vit_base.pth`, fromCache: true });
    expect(server.hits('/files/mirror/visualize/')).toHaveLength(1);
    await expectGoldenWeights(loaded.model);
    loaded.model.dispose();
  });

  it('a URL: a maejs .safetensors carries its config; a bare .pth needs the head counts, and the error says which', async () => {
    const loaded = await loadPretrained(`${server.endpoint}/files/maejs/tiny.safetensors`, options());
    expect(loaded.config).toEqual(config);
    loaded.model.dispose();
    const url = `${server.endpoint}/files/plain/state_dict.pth`;
    const error = await failure(loadPretrained(url, options()));
    expect(error.message).toMatch(new RegExp(`^${url.replace(/[.]/g, '\\.')}: numHeads is not determined by the tensors`));
    const named = await loadPretrained(url, { ...options(), preset: { numHeads: 4, decoderNumHeads: 4 } });
    await expectGoldenWeights(named.model);
    named.model.dispose();
  });

  it('a local HF folder (Node): read from disk, reported as local files', async () => {
    const dir = join(root, 'hf-folder');
    mkdirSync(dir, { recursive: true });
    for (const f of exportSafetensors(goldenState(), config, 'hf')) writeFileSync(join(dir, f.name), f.bytes);
    const loaded = await loadPretrained(dir, options());
    expect(loaded.source).toBe(dir);
    expect(loaded.files.map((f) => [f.name, f.location, f.fromCache])).toEqual([
      ['model.safetensors', join(dir, 'model.safetensors'), true],
      ['config.json', join(dir, 'config.json'), true],
    ]);
    await expectGoldenWeights(loaded.model);
    loaded.model.dispose();
    expect((await failure(loadPretrained('facebook/vit-mae-base', options()))).message).toBe('cannot read checkpoint facebook/vit-mae-base: ENOENT (for the Hugging Face repository write hf:facebook/vit-mae-base)');
  });

  it('the browser entry: the same sources without a file system (cache: false here, where Node has no Cache API); no local paths', async () => {
    const loaded = await loadInBrowser('hf:facebook/vit-mae-tiny', { endpoint: server.endpoint, cache: false });
    expect(loaded.files.map((f) => f.location)).toEqual(['memory', 'memory']);
    await expectGoldenWeights(loaded.model);
    loaded.model.dispose();
    const error = await failure(importInBrowser('/tmp/model.safetensors', { cache: false }));
    expect(error).toBeInstanceOf(HubError);
    expect(error.message).toBe('/tmp/model.safetensors: local paths are read only in Node (@maejs/weights/node); give hf:<owner>/<name>[@revision], an official checkpoint name (mae_pretrain_vit_base, mae_pretrain_vit_large, mae_pretrain_vit_huge, mae_visualize_vit_base, mae_visualize_vit_large), an http(s) URL');
  });
});

describe('loadPretrained errors', () => {
  it('a repository whose file is not a valid checkpoint: the parser names the source and file', async () => {
    const error = await failure(loadPretrained('hf:org/corrupt', options()));
    expect(error).toBeInstanceOf(WeightsFormatError);
    expect(error.message).toMatch(/^hf:org\/corrupt@main\/model\.safetensors: /);
  });

  it('offline and not cached; an unknown repository; an unknown preset', async () => {
    const offline = await failure(loadPretrained('hf:facebook/vit-mae-tiny', options({ offline: true })));
    expect(offline.message).toMatch(/^hf:facebook\/vit-mae-tiny@main: config\.json: not in the cache \(looked for .*\/hf\/facebook\/vit-mae-tiny\/main\/config\.json\) and offline mode is on/);
    const missing = await failure(loadPretrained('hf:facebook/vit-mae-nope', options({ token: 'hf_x' })));
    expect(missing.message).toMatch(/^hf:facebook\/vit-mae-nope@main: config\.json: repository not found \(HTTP 404 Not Found\)/);
    const preset = await failure(loadPretrained('hf:facebook/vit-mae-tiny', options({ preset: 'mae_vit_tiny' })));
    expect(preset.message).toBe('hf:facebook/vit-mae-tiny@main: preset is "mae_vit_tiny": expected one of "mae_vit_base_patch16", "mae_vit_large_patch16", "mae_vit_huge_patch14", "mae_tiny_28", "mae_tiny_32"');
  });
});
