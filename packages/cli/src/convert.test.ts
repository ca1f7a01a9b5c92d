/** `mae convert` and `mae info` on the tiny-gray golden checkpoint. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDecoderKey } from '@maejs/mae';
import { encodeSafetensors, parseSafetensors, stateDictFromPth } from '@maejs/formats';
import { goldenFile } from '../../../testing/golden.js';
import { runMae as mae } from './test-utils/run-mae.js';

const golden = (file: string) => goldenFile('tiny-gray', file);


/** Same tensors (keys, order, shapes, bytes) in two safetensors files. */
function expectSameSafetensors(a: string, b: string): void {
  const [x, y] = [parseSafetensors(readFileSync(a), a).tensors, parseSafetensors(readFileSync(b), b).tensors];
  expect([...x.keys()]).toEqual([...y.keys()]);
  for (const [k, t] of x) {
    expect(t.shape).toEqual(y.get(k)!.shape);
    expect(Buffer.from(t.data.buffer).equals(Buffer.from(y.get(k)!.data.buffer))).toBe(true);
  }
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'maejs-convert-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const heads = ['--config', '{"num_heads": 4, "decoder_num_heads": 4}'];

describe('mae convert', () => {
  it('names the undetermined fields when no head counts are given', async () => {
    const r = await mae('convert', golden('state_dict.pth'), join(dir, 'x.safetensors'));
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/mae convert: state_dict\.pth: numHeads is not determined by the tensors .*; decoderNumHeads is not determined/);
  });

  it('.pth -> HF folder -> official .safetensors -> tfjs -> official: every step bit-exact', async () => {
    const hf = join(dir, 'hf');
    let r = await mae('convert', golden('state_dict.pth'), hf, '--to', 'hf', ...heads);
    expect(r.err).toBe('');
    expect(r.out).toMatch(/read state_dict\.pth \(pth, official layout; 50 tensors\)/);
    expect(r.out).toMatch(/wrote Hugging Face ViTMAE layout: .*hf\/model\.safetensors, .*hf\/config\.json/);
    expect(JSON.parse(readFileSync(join(hf, 'config.json'), 'utf8'))).toMatchObject({ model_type: 'vit_mae', num_attention_heads: 4, layer_norm_eps: 1e-6 });

    r = await mae('convert', hf, join(dir, 'back.safetensors')); // heads from config.json
    expect(r.err).toBe('');
    expect(r.out).toMatch(/Hugging Face ViTMAE layout; 50 tensors; config declared by config\.json/);
    expectSameSafetensors(join(dir, 'back.safetensors'), golden('state_dict.safetensors'));

    r = await mae('convert', join(dir, 'back.safetensors'), join(dir, 'tfjs'), '--to', 'tfjs'); // heads from maejs metadata
    expect(r.err).toBe('');
    expect(readFileSync(join(dir, 'tfjs', 'group1-shard1of1.bin')).length).toBe(485824);

    r = await mae('convert', join(dir, 'tfjs', 'model.json'), join(dir, 'again.safetensors'));
    expect(r.err).toBe('');
    expectSameSafetensors(join(dir, 'again.safetensors'), golden('state_dict.safetensors'));
  });

  it('encoder-only input: says the decoder is absent and writes the encoder', async () => {
    const { tensors } = parseSafetensors(readFileSync(golden('state_dict.safetensors')), 'golden');
    const enc = [...tensors].filter(([k]) => !isDecoderKey(k)).map(([k, t]) => [k, { dtype: 'float32' as const, shape: t.shape, data: t.data }] as [string, { dtype: 'float32'; shape: number[]; data: Float32Array | Int32Array }]);
    writeFileSync(join(dir, 'enc.safetensors'), encodeSafetensors(enc, { format: 'pt' }));
    const r = await mae('convert', join(dir, 'enc.safetensors'), join(dir, 'enc-out.safetensors'), '--config', '{"numHeads": 4}');
    expect(r.err).toBe('');
    expect(r.out).toMatch(/note: decoder absent/);
    expect(parseSafetensors(readFileSync(join(dir, 'enc-out.safetensors')), 'x').tensors.size).toBe(30);
  });

  it('resizes the position embeddings for another image size', async () => {
    const r = await mae('convert', golden('state_dict.safetensors'), join(dir, 'big.safetensors'), ...heads, '--img-size', '56', '--pos-embed', 'sincos');
    expect(r.err).toBe('');
    expect(r.out).toMatch(/position embeddings resized to 56 px \(sincos\)/);
    const t = parseSafetensors(readFileSync(join(dir, 'big.safetensors')), 'x');
    expect(t.tensors.get('pos_embed')!.shape).toEqual([1, 197, 64]);
    expect(JSON.parse(t.metadata.maejs_config).imgSize).toBe(56);
  });

  it('refuses a model.json whose shard path leaves its folder', async () => {
    const evil = join(dir, 'evil');
    mkdirSync(evil, { recursive: true });
    writeFileSync(join(evil, 'model.json'), JSON.stringify({ weightsManifest: [{ paths: ['../hf/model.safetensors'], weights: [{ name: 'w', shape: [1], dtype: 'float32' }] }] }));
    const r = await mae('info', evil);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/mae info: model\.json: shard path "\.\.\/hf\/model\.safetensors" is not a plain file name beside model\.json/);
  });

  it('usage errors: --to, argument count', async () => {
    expect((await mae('convert', 'a')).err).toMatch(/mae convert: expected <in> <out>, got 1 argument/);
    expect((await mae('convert', 'a', 'b', '--to', 'onnx')).err).toMatch(/^mae convert: --to is "onnx": expected one of "official", "hf", "tfjs"$/m);
    expect((await mae('convert', 'a', 'b', '--to', 'official', '--pos-embed', 'cubic')).err).toMatch(/^mae convert: --pos-embed is "cubic": expected "bicubic" or "sincos"$/m);
    expect((await mae('convert', 'a', 'b', '--to', 'official', '--img-size', '0')).err).toMatch(/^mae convert: --img-size is 0: expected an integer >= 1$/m);
    expect((await mae('convert', 'a', 'b', '--to', 'official', '--img-size', '112px')).err).toMatch(/^mae convert: --img-size is "112px": expected an integer >= 1$/m);
    expect((await mae('convert', golden('state_dict.pth'), join(dir, 'out'))).err).toMatch(/say --to official\|hf\|tfjs/);
    const r = await mae('convert', golden('state_dict.pth'), join(dir, 'hf.pth'), '--to', 'hf', ...heads);
    expect([r.code, r.err.trim()]).toEqual([2, `mae convert: a .pth file holds the official layout; --to hf writes a folder, got '${join(dir, 'hf.pth')}'`]);
  });

  it('writes a .pth file (not a folder) that reads back as the golden state dict', async () => {
    const out = join(dir, 'nested', 'model.pth');
    const r = await mae('convert', golden('state_dict.safetensors'), out, ...heads);
    expect([r.code, r.err]).toEqual([0, '']);
    expect(statSync(out).isFile()).toBe(true);
    const written = stateDictFromPth(readFileSync(out), 'model.pth').tensors;
    const want = parseSafetensors(readFileSync(golden('state_dict.safetensors')), 'state_dict.safetensors').tensors;
    expect([...written.keys()]).toEqual([...want.keys()]);
    for (const [k, t] of want) expect([k, written.get(k)!.shape, Buffer.from(written.get(k)!.data.buffer).equals(Buffer.from(t.data.buffer))]).toEqual([k, t.shape, true]);
  });
});

describe('mae info', () => {
  it('shows format, keys, the inferred architecture and what is undetermined', async () => {
    const r = await mae('info', golden('state_dict.pth'));
    expect(r.err).toBe('');
    expect(r.out).toMatch(/file: state_dict\.pth \(pth, official layout; 50 tensors\)/);
    expect(r.out).toMatch(/ {2}blocks\.0\.attn\.qkv\.weight \[192, 64\] float32/);
    expect(r.out).toMatch(/ {2}patchSize = 4 {2}\(patch_embed\.proj\.weight \[64, 1, 4, 4\]\)/);
    expect(r.out).toMatch(/ {2}imgSize = 28 {2}\(pos_embed \[1, 50, 64\]: a 7x7 grid of 4-pixel patches\)/);
    expect(r.out).toMatch(/decoder: present/);
    expect(r.out).toMatch(/not determined by the tensors: numHeads, decoderNumHeads/);
    expect(r.out).toMatch(/config: cannot be completed: state_dict\.pth: numHeads is not determined/);
  });

  it('with --preset-like fields: the completed config and no missing keys; an encoder-only file says so', async () => {
    let r = await mae('info', golden('state_dict.safetensors'), ...heads);
    expect(r.out).toMatch(/numHeads = 4 {2}\(from given\)/);
    expect(r.out).toMatch(/missing keys: none/);
    r = await mae('info', join(dir, 'enc.safetensors'));
    expect(r.out).toMatch(/decoder: ABSENT \(encoder-only checkpoint/);
    expect(r.out).toMatch(/not determined by the tensors: numHeads \(/);
  });

  it('reads an HF folder and a tfjs folder', async () => {
    expect((await mae('info', join(dir, 'hf'))).out).toMatch(/file: model\.safetensors \(safetensors, Hugging Face ViTMAE layout; 50 tensors; config declared by config\.json\)[\s\S]*layerNormEps = 0\.000001 {2}\(from given\)/);
    expect((await mae('info', join(dir, 'tfjs'))).out).toMatch(/file: model\.json \(tfjs, official layout; 50 tensors; config declared by maejs metadata\)/);
  });
});
