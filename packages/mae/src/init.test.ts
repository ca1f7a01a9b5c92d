import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@maejs/backend';
import { MaskedAutoencoder } from './index.js';

const TINY = { imgSize: 8, patchSize: 4, inChans: 3, embedDim: 16, depth: 2, numHeads: 2, decoderEmbedDim: 8, decoderDepth: 1, decoderNumHeads: 2 };

/** The initial value of every parameter of a TINY model of `seed` made on `backend`. */
async function initialValues(backend: BackendName, seed: number): Promise<Map<string, Float32Array>> {
  await initBackend(backend);
  const model = new MaskedAutoencoder(TINY, { seed });
  const values = new Map<string, Float32Array>();
  for (const [name, p] of model.params.entries()) values.set(name, (await p.variable.data()) as Float32Array);
  model.dispose();
  return values;
}

/** Parameters drawn at random by the official initialize_weights (the rest are zeros, ones or sin-cos tables). */
const isRandom = (name: string): boolean => name === 'cls_token' || name === 'mask_token' || (name.endsWith('.weight') && !/norm/.test(name));

describe('MaskedAutoencoder initialisation', () => {
  afterAll(async () => {
    await initBackend('cpu');
  });

  it('gives the same values for a seed on cpu and on wasm (drawn in JavaScript)', async () => {
    const cpu = await initialValues('cpu', 7);
    const wasm = await initialValues('wasm', 7);
    expect([...wasm.keys()]).toEqual([...cpu.keys()]);
    for (const [name, values] of cpu) expect([name, wasm.get(name)]).toEqual([name, values]);
  });

  it('gives different random parameters for different seeds, and the same fixed ones', async () => {
    const a = await initialValues('cpu', 0);
    const b = await initialValues('cpu', 1);
    const random = [...a.keys()].filter(isRandom); // in definition order
    expect(random).toEqual([
      'cls_token',
      'patch_embed.proj.weight',
      ...[0, 1].flatMap((i) => ['attn.qkv', 'attn.proj', 'mlp.fc1', 'mlp.fc2'].map((layer) => `blocks.${i}.${layer}.weight`)),
      'mask_token',
      'decoder_embed.weight',
      ...['attn.qkv', 'attn.proj', 'mlp.fc1', 'mlp.fc2'].map((layer) => `decoder_blocks.0.${layer}.weight`),
      'decoder_pred.weight',
    ]);
    for (const name of random) expect([name, b.get(name)]).not.toEqual([name, a.get(name)]);
    for (const name of [...a.keys()].filter((n) => !isRandom(n))) expect([name, b.get(name)]).toEqual([name, a.get(name)]);
    expect(tf.memory().numTensors).toBe(0);
  });
});
