/**
 * `mae download` and `--weights hf:... | <name> | <URL>` in every command that takes weights, against
 * a local server that behaves like the Hugging Face hub (packages/hub/src/test-utils/hub-server.ts),
 * serving the tiny-gray golden checkpoint (official PyTorch MAE) in the HF layout, as an official
 * .pth and as a maejs .safetensors.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromOfficial, isDecoderKey } from '@maejs/mae';
import { encodeSafetensors, parseNpy, parseSafetensors } from '@maejs/formats';
import { analyzeCheckpoint, exportSafetensors, importCheckpoint, maeStateOf } from '@maejs/weights';
import type { DownloadProgress } from '@maejs/hub';
import { HubServer } from '../../hub/src/test-utils/hub-server.js';
import { expectClose } from '../../../testing/backends.js';
import { goldenFile } from '../../../testing/golden.js';
import { downloadReporter } from './progress.js';
import { runMae as mae } from './test-utils/run-mae.js';

const golden = (file: string) => goldenFile('tiny-gray', file);
const caseJson = JSON.parse(readFileSync(golden('case.json'), 'utf8'));
const config = configFromOfficial(caseJson.config);
const imported = () => importCheckpoint(readFileSync(golden('state_dict.safetensors')), 'state_dict.safetensors');
const state = () => maeStateOf(imported(), analyzeCheckpoint(imported(), config)).state;
const ENV = ['HF_ENDPOINT', 'HF_TOKEN', 'HF_HUB_OFFLINE', 'MAEJS_CACHE', 'MAEJS_OFFICIAL_BASE_URL'] as const;

let server: HubServer;
let dir: string;
let cache: string;
const saved: Record<string, string | undefined> = {};

beforeAll(async () => {
  server = await HubServer.start();
  dir = mkdtempSync(join(tmpdir(), 'maejs-cli-hub-'));
  cache = join(dir, 'cache');
  for (const k of ENV) saved[k] = process.env[k];
  for (const k of ENV) delete process.env[k];
  process.env.HF_ENDPOINT = server.endpoint;
  process.env.MAEJS_CACHE = cache;
  process.env.MAEJS_OFFICIAL_BASE_URL = `${server.endpoint}/files/mirror`;
  const hf = Object.fromEntries(exportSafetensors(state(), config, 'hf').map((f) => [f.name, f.bytes]));
  server.addRepo('facebook/vit-mae-tiny', hf);
  const encoder = [...state()].filter(([k]) => !isDecoderKey(k)).map(([k, t]) => [k, { dtype: 'float32' as const, shape: t.shape, data: t.data }] as [string, { dtype: 'float32'; shape: number[]; data: Float32Array }]);
  server.addFile('maejs/encoder.safetensors', encodeSafetensors(encoder, { format: 'pt', maejs_config: JSON.stringify(config) }));
  server.addFile('mirror/visualize/mae_visualize_vit_base.pth', readFileSync(golden('state_dict.pth')));
  server.addFile('maejs/tiny.safetensors', exportSafetensors(state(), config, 'official')[0].bytes);
});

afterAll(async () => {
  await server.close();
  for (const k of ENV) {
    if (saved[k] === undefined) delete process.env[k];
    else process.env[k] = saved[k];
  }
  rmSync(dir, { recursive: true, force: true });
});

/** mae forward on the golden inputs and noise; checks pred, mask and loss against the official outputs. */
async function expectGoldenForward(...weights: string[]): Promise<string> {
  const out = join(dir, `forward-${Math.random().toString(36).slice(2)}`);
  const r = await mae('forward', '--weights', ...weights, '--images', golden('inputs.npy'), '--noise', golden('noise.npy'), '--out', out, '--backend', 'cpu');
  expect(r.err).toBe('');
  expect(r.code).toBe(0);
  expectClose('pred', parseNpy(readFileSync(join(out, 'pred.npy')), 'pred').data, parseNpy(readFileSync(golden('pred.npy')), 'pred').data, 1e-5, 1e-4);
  expect(parseNpy(readFileSync(join(out, 'mask.npy')), 'mask').data).toEqual(parseNpy(readFileSync(golden('mask.npy')), 'mask').data);
  expectClose('loss', [JSON.parse(readFileSync(join(out, 'loss.json'), 'utf8')).loss], [caseJson.values.loss], 0, 1e-5);
  return r.out;
}

describe('mae download', () => {
  it('downloads a Hugging Face repository with progress lines, prints where the files are; the second run makes no request', async () => {
    const r = await mae('download', 'hf:facebook/vit-mae-tiny');
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const folder = join(cache, 'hub', 'hf', 'facebook', 'vit-mae-tiny', 'main');
    const size = readFileSync(join(folder, 'model.safetensors')).length;
    expect(r.out).toContain(`downloading hf:facebook/vit-mae-tiny@main model.safetensors (${(size / 1000).toFixed(1)} kB)`);
    expect(r.out).toMatch(/^ {2}model\.safetensors: \d+\.\d kB in 0:0\d$/m);
    expect(r.out).toMatch(new RegExp(`^hf:facebook/vit-mae-tiny@main:\\n  config\\.json: ${folder}/config\\.json \\(\\d+ bytes, sha256 [0-9a-f]{64}, downloaded now\\)\\n  model\\.safetensors: ${folder}/model\\.safetensors \\(\\d+\\.\\d kB, sha256 [0-9a-f]{64}, downloaded now\\)\\ncache: ${cache}/hub$`, 'm'));
    const before = server.requests.length;
    const again = await mae('download', 'hf:facebook/vit-mae-tiny');
    expect(server.requests.length).toBe(before);
    expect(again.out).not.toContain('downloading');
    expect(again.out).not.toContain('downloaded now');
    expect((await mae('download', 'hf:facebook/vit-mae-tiny', '--offline')).code).toBe(0);
  });

  it('an official name: says its preset and that it holds the decoder', async () => {
    const r = await mae('download', 'mae_visualize_vit_base');
    expect(r.err).toBe('');
    expect(r.out).toMatch(/^mae_visualize_vit_base \(preset mae_vit_base_patch16, encoder and decoder\):\n {2}mae_visualize_vit_base\.pth: .*\/hub\/url\/127\.0\.0\.1_\d+\/[0-9a-f]{16}\/mae_visualize_vit_base\.pth \(502\.6 kB, sha256 [0-9a-f]{64}, downloaded now\)$/m);
  });

  it('errors: an unknown repository (exit 1, says HF_TOKEN), offline and not cached, a local path, no source', async () => {
    const gone = await mae('download', 'hf:facebook/vit-mae-nope');
    expect(gone.code).toBe(1);
    expect(gone.err).toBe(`mae download: hf:facebook/vit-mae-nope@main: config.json: access denied (HTTP 401 Unauthorized) at ${server.endpoint}/facebook/vit-mae-nope/resolve/main/config.json; the server says: RepoNotFound: Repository not found: the repository does not exist, or it is private or gated: set HF_TOKEN (or pass the token option) to a Hugging Face access token that can read it\n`);
    const offline = await mae('download', 'hf:facebook/vit-mae-tiny@v2', '--offline');
    expect(offline.err).toMatch(/^mae download: hf:facebook\/vit-mae-tiny@v2: config\.json: not in the cache \(looked for .*\/hub\/hf\/facebook\/vit-mae-tiny\/v2\/config\.json\) and offline mode is on \(HF_HUB_OFFLINE=1 or the offline option\): download it once while online \(e\.g\. mae download hf:facebook\/vit-mae-tiny@v2\)\n$/);
    const local = await mae('download', './weights.pth');
    expect(local.err).toMatch(/^mae download: \.\/weights\.pth: is a local path, so there is nothing to download: give hf:<owner>\/<name>\[@revision\], an official checkpoint name \(mae_pretrain_vit_base, .*\), an http\(s\) URL\n$/);
    const none = await mae('download');
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^mae download: expected one source, got 0\nusage: mae download <source> \[--offline\]/);
  });
});

describe('--weights <hf: | name | URL> and every layout, in every command', () => {
  it('mae forward: hf: without --config (config.json gives it), the golden outputs', async () => {
    await expectGoldenForward('hf:facebook/vit-mae-tiny');
  });

  it('mae forward: a local HF folder, a tfjs folder, a maejs .safetensors URL, an official name with --config', async () => {
    const hf = join(dir, 'hf-folder');
    mkdirSync(hf, { recursive: true });
    for (const f of exportSafetensors(state(), config, 'hf')) writeFileSync(join(hf, f.name), f.bytes);
    await expectGoldenForward(hf);
    const tfjs = join(dir, 'tfjs');
    expect((await mae('convert', hf, tfjs, '--to', 'tfjs')).err).toBe('');
    await expectGoldenForward(join(tfjs, 'model.json'));
    await expectGoldenForward(`${server.endpoint}/files/maejs/tiny.safetensors`);
    await expectGoldenForward('mae_visualize_vit_base', '--config', golden('case.json'));
  });

  it('mae forward: an encoder-only checkpoint is refused with the reason', async () => {
    const r = await mae('forward', '--weights', `${server.endpoint}/files/maejs/encoder.safetensors`, '--images', golden('inputs.npy'), '--out', join(dir, 'enc'), '--backend', 'cpu');
    expect(r.code).toBe(1);
    expect(r.err).toBe(`mae forward: ${server.endpoint}/files/maejs/encoder.safetensors: holds the encoder only (no mask_token, decoder_*): mae forward needs the whole MAE (e.g. mae_visualize_vit_base, or a ViTMAEForPreTraining repository); for encoder features use mae features\n`);
  });

  it('mae info and mae convert take hf: sources', async () => {
    const info = await mae('info', 'hf:facebook/vit-mae-tiny');
    expect(info.err).toBe('');
    expect(info.out).toMatch(/^source: hf:facebook\/vit-mae-tiny@main\n {2}\S+\/config\.json \(\d+ bytes, sha256 [0-9a-f]{64}\)\n {2}\S+\/model\.safetensors \(/);
    expect(info.out).toContain('file: hf:facebook/vit-mae-tiny@main/model.safetensors (safetensors, Hugging Face ViTMAE layout; 50 tensors; config declared by hf:facebook/vit-mae-tiny@main/config.json)');
    expect(info.out).toMatch(/numHeads = 4 {2}\(from given\)/);
    const out = join(dir, 'back.safetensors');
    expect((await mae('convert', 'hf:facebook/vit-mae-tiny', out)).err).toBe('');
    const a = parseSafetensors(readFileSync(out), 'a').tensors;
    const b = parseSafetensors(readFileSync(golden('state_dict.safetensors')), 'b').tensors;
    expect([...a.keys()]).toEqual([...b.keys()]);
    for (const [k, t] of a) expect(Buffer.from(t.data.buffer).equals(Buffer.from(b.get(k)!.data.buffer))).toBe(true);
  });

  it('mae features and mae visualize: --weights hf: and a URL; --offline afterwards', async () => {
    const feats = join(dir, 'feats.npy');
    const f = await mae('features', '--weights', 'hf:facebook/vit-mae-tiny', '--images', 'sample', '--count', '8', '--out', feats, '--backend', 'cpu', '--offline');
    expect(f.err).toBe('');
    expect(f.out).toMatch(/with weights hf:facebook\/vit-mae-tiny@main$/m);
    expect(parseNpy(readFileSync(feats), 'f').shape).toEqual([8, 64]);
    const fig = join(dir, 'fig.png');
    const v = await mae('visualize', '--weights', `${server.endpoint}/files/maejs/tiny.safetensors`, '--count', '2', '--out', fig, '--backend', 'cpu');
    expect(v.err).toBe('');
    expect(existsSync(fig)).toBe(true);
    const missing = await mae('eval', '--weights', 'hf:facebook/vit-mae-tiny@v3', '--data', 'sample', '--offline', '--backend', 'cpu');
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/^mae eval: hf:facebook\/vit-mae-tiny@v3: config\.json: not in the cache/);
  });
});

describe('downloadReporter', () => {
  const events = (total: number | null): DownloadProgress[] => [0, 400_000, 1_000_000].map((bytesDone, i) => ({ source: 'hf:a/b@main', file: 'model.safetensors', bytesDone, bytesTotal: i === 2 ? 1_000_000 : total, cached: false }));

  it('draws a bar on a terminal, ending the line when the file is complete', () => {
    let written = '';
    const lines: string[] = [];
    const stream = { isTTY: true, write: (s: string) => ((written += s), true) } as unknown as NodeJS.WriteStream;
    let t = 0;
    const report = downloadReporter(stream, (l) => lines.push(l), () => t);
    for (const e of events(1_000_000)) {
      report(e);
      t += 2000;
    }
    expect(lines).toEqual(['downloading hf:a/b@main model.safetensors (1.0 MB)', '  model.safetensors: 1.0 MB in 0:04']);
    expect(written).toBe(
      '\r[........................] model.safetensors 0 B/1.0 MB  0 B/s\x1b[K' +
        '\r[##########..............] model.safetensors 400.0 kB/1.0 MB  200.0 kB/s ETA 0:03\x1b[K' +
        '\r[########################] model.safetensors 1.0 MB/1.0 MB  250.0 kB/s\x1b[K\n',
    );
  });

  it('prints plain lines otherwise, at most every 10 s; a resumed transfer says where it resumes; cached files print nothing', () => {
    const lines: string[] = [];
    let t = 0;
    const report = downloadReporter({ isTTY: false } as NodeJS.WriteStream, (l) => lines.push(l), () => t);
    report({ source: 's', file: 'cached.bin', bytesDone: 5, bytesTotal: 5, cached: true });
    report({ source: 's', file: 'w.pth', bytesDone: 1000, bytesTotal: null, cached: false });
    t = 11_000;
    report({ source: 's', file: 'w.pth', bytesDone: 12_000, bytesTotal: null, cached: false });
    t = 12_000;
    report({ source: 's', file: 'w.pth', bytesDone: 13_000, bytesTotal: null, cached: false });
    report({ source: 's', file: 'w.pth', bytesDone: 13_000, bytesTotal: 13_000, cached: false });
    expect(lines).toEqual(['downloading s w.pth (size unknown), resuming at 1.0 kB', '  w.pth 12.0 kB/?  1.0 kB/s', '  w.pth: 13.0 kB in 0:12']);
  });
});
