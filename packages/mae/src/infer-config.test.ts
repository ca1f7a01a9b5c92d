import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@maejs/backend';
import { describeEachBackend } from '../../../testing/backends.js';
import { CheckpointConfigError, inferConfig, inferConfigFields, isDecoderKey, mlpRatioFor, officialShapes, partialConfigFromJson } from './infer-config.js';
import { loadEncoderStateDict, loadStateDictPartial } from './load-partial.js';
import { MaskedAutoencoder } from './model.js';
import { maeTiny28, maeVitBasePatch16, maeVitHugePatch14 } from './presets.js';
import { resolveConfig } from './config.js';
import { StateDictMismatchError, type StateTensor } from './state-dict.js';

/** tiny-gray's architecture (the golden case). */
const tinyGray = { imgSize: 28, patchSize: 4, inChans: 1, embedDim: 64, depth: 2, numHeads: 4, decoderEmbedDim: 32, decoderDepth: 1, decoderNumHeads: 4 };

const shapesOf = (m: Map<string, number[]>) => new Map([...m].map(([k, s]) => [k, s] as [string, number[]]));
const withoutDecoder = (m: Map<string, number[]>) => new Map([...m].filter(([k]) => !isDecoderKey(k)));

describe('officialShapes', () => {
  beforeAll(async () => {
    await initBackend('cpu');
  });

  it.each([
    ['tiny-gray', tinyGray],
    ['tiny-28', maeTiny28],
    ['mlp ratio 3', { ...tinyGray, mlpRatio: 3 }],
  ])('matches the keys, order and shapes of a real model (%s)', async (_name, partial) => {
    const model = new MaskedAutoencoder(partial);
    const state = await model.stateDict();
    expect([...officialShapes(model.config)]).toEqual([...state].map(([k, t]) => [k, t.shape]));
    model.dispose();
  });

  it('counts ViT-B/16 MAE at 111.9M parameters with the decoder, 85.8M without (incl. fixed pos embeds)', () => {
    const count = (m: Map<string, number[]>) => [...m.values()].reduce((s, shape) => s + shape.reduce((a, b) => a * b, 1), 0);
    const config = resolveConfig(maeVitBasePatch16);
    expect(count(officialShapes(config))).toBe(111_907_840);
    expect(count(officialShapes(config, { decoder: false }))).toBe(85_798_656);
  });
});

describe('inferConfigFields / inferConfig', () => {
  const full = officialShapes(resolveConfig(tinyGray));

  it('reads every determined field of tiny-gray from the shapes, with the tensor that shows it', () => {
    const found = inferConfigFields(full);
    expect(found.fields).toEqual({ imgSize: 28, patchSize: 4, inChans: 1, embedDim: 64, depth: 2, mlpRatio: 4, decoderEmbedDim: 32, decoderDepth: 1 });
    expect(found.evidence.patchSize).toBe('patch_embed.proj.weight [64, 1, 4, 4]');
    expect(found.evidence.imgSize).toBe('pos_embed [1, 50, 64]: a 7x7 grid of 4-pixel patches');
    expect(found.hasDecoder).toBe(true);
    expect(found.problems).toEqual([]);
  });

  it('needs the head counts: the error names numHeads and decoderNumHeads', () => {
    const run = () => inferConfig(full, {});
    expect(run).toThrow(CheckpointConfigError);
    expect(run).toThrow(/numHeads is not determined by the tensors \(attention weights do not show how they split into heads\)/);
    expect(run).toThrow(/decoderNumHeads is not determined/);
    try {
      run();
    } catch (e) {
      expect((e as CheckpointConfigError).fields).toEqual(['numHeads', 'decoderNumHeads']);
    }
  });

  it('completes the config from the given head counts and reports sources', () => {
    const r = inferConfig(full, { numHeads: 4, decoderNumHeads: 4 });
    expect(r.config).toEqual(resolveConfig(tinyGray));
    expect(r.sources.embedDim).toBe('tensors');
    expect(r.sources.numHeads).toBe('given');
    expect(r.sources.layerNormEps).toBe('default');
    expect(r.missingKeys).toEqual([]);
    expect(r.extraKeys).toEqual([]);
    expect(r.misshapen).toEqual([]);
    expect(r.hasDecoder).toBe(true);
  });

  it('takes undetermined fields from a fallback (preset) but never lets it override the tensors', () => {
    const r = inferConfig(full, {}, { ...maeVitBasePatch16, numHeads: 8, decoderNumHeads: 2 });
    expect(r.config.embedDim).toBe(64);
    expect(r.config.numHeads).toBe(8);
    expect(r.sources.numHeads).toBe('fallback');
    expect(r.sources.imgSize).toBe('tensors');
  });

  it('refuses a given config that contradicts the tensors, naming field, values and tensor', () => {
    expect(() => inferConfig(full, { numHeads: 4, decoderNumHeads: 4, embedDim: 768, imgSize: 224 })).toThrow(
      /imgSize is 224 in the given config but 28 in the checkpoint \(pos_embed \[1, 50, 64\]: a 7x7 grid of 4-pixel patches\)\n  embedDim is 768 in the given config but 64 in the checkpoint \(patch_embed\.proj\.weight \[64, 1, 4, 4\]\)/,
    );
  });

  it('turns a head count that does not divide the width into an error naming the field', () => {
    expect(() => inferConfig(full, { numHeads: 12, decoderNumHeads: 4 })).toThrow(/MaeConfig\.embedDim is 64: expected divisible by numHeads 12/);
  });

  it('reads the official ViT-H/14 layout (patch 14, 1280 x 32, 224 px)', () => {
    const r = inferConfig(officialShapes(resolveConfig(maeVitHugePatch14)), { numHeads: 16, decoderNumHeads: 16 });
    expect(r.config).toMatchObject({ imgSize: 224, patchSize: 14, embedDim: 1280, depth: 32, decoderEmbedDim: 512, decoderDepth: 8, mlpRatio: 4 });
  });

  it('encoder-only: says the decoder is absent, needs only numHeads, uses the official decoder defaults', () => {
    const enc = withoutDecoder(full);
    const r = inferConfig(enc, { numHeads: 4 });
    expect(r.hasDecoder).toBe(false);
    expect(r.config).toMatchObject({ embedDim: 64, depth: 2, decoderEmbedDim: 512, decoderDepth: 8, decoderNumHeads: 16 });
    expect(r.sources.decoderEmbedDim).toBe('default');
    expect(r.notes[0]).toMatch(/^decoder absent: this is an encoder-only checkpoint/);
    expect(r.missingKeys).toContain('decoder_embed.weight');
    expect(r.missingKeys.every(isDecoderKey)).toBe(true);
  });

  it('fine-tuned (global pool): reports head.* and fc_norm.* and that norm.* is missing', () => {
    const ft = withoutDecoder(full);
    ft.delete('norm.weight');
    ft.delete('norm.bias');
    ft.set('fc_norm.weight', [64]);
    ft.set('fc_norm.bias', [64]);
    ft.set('head.weight', [10, 64]);
    ft.set('head.bias', [10]);
    const r = inferConfig(ft, { numHeads: 4 });
    expect(r.extraKeys).toEqual(['fc_norm.weight', 'fc_norm.bias', 'head.weight', 'head.bias']);
    expect(r.missingKeys).toEqual(expect.arrayContaining(['norm.weight', 'norm.bias']));
    expect(r.notes.join('\n')).toMatch(/fine-tuned classifier head present \(head\.weight, head\.bias\)/);
    expect(r.notes.join('\n')).toMatch(/fc_norm present/);
  });

  it('reports inconsistent shapes instead of guessing', () => {
    const bad = shapesOf(full);
    bad.set('pos_embed', [1, 48, 64]); // 47 patches: not a square grid
    bad.delete('blocks.0.norm1.weight');
    bad.set('blocks.3.norm1.weight', [64]); // gap: blocks 2 missing
    expect(() => inferConfig(bad, { numHeads: 4, decoderNumHeads: 4 })).toThrow(/blocks\.N: blocks 2 are missing below blocks\.3\n  pos_embed has shape \[1, 48, 64\]; expected \[1, 1 \+ g\*g, D\]/);
    expect(() => inferConfig(new Map([['head.weight', [10, 64]]]), {})).toThrow(/no encoder tensors found/);
  });

  it('lists misshapen keys against the completed config', () => {
    const bad = shapesOf(full);
    bad.set('blocks.1.attn.qkv.bias', [190]);
    expect(inferConfig(bad, { numHeads: 4, decoderNumHeads: 4 }).misshapen).toEqual([{ key: 'blocks.1.attn.qkv.bias', expected: [192], got: [190] }]);
  });

  it('mlpRatioFor gives a ratio that maps back to the hidden size', () => {
    for (const [h, d] of [[256, 64], [10, 3], [3072, 768], [100, 7], [2730, 1024]]) expect(Math.trunc(d * mlpRatioFor(h, d))).toBe(h);
  });

  it('partialConfigFromJson takes both naming styles and the config member of case.json', () => {
    expect(partialConfigFromJson({ num_heads: 4, decoderNumHeads: 2, other: 1 })).toEqual({ numHeads: 4, decoderNumHeads: 2 });
    expect(partialConfigFromJson({ case: 'x', config: { img_size: 28, batch: 3 } })).toEqual({ imgSize: 28 });
    expect(() => partialConfigFromJson([1])).toThrow('MaeConfig.(root) is [1]: expected a JSON object');
  });
});

describeEachBackend('encoder-only loading', () => {
  it('loads an encoder-only state dict; features equal the full model; the decoder is untouched', async () => {
    const source = new MaskedAutoencoder(tinyGray, { seed: 3 });
    const full = await source.stateDict();
    const encoderOnly = new Map([...full].filter(([k]) => !isDecoderKey(k)));
    encoderOnly.set('head.weight', { shape: [10, 64], data: new Float32Array(640) });
    const target = new MaskedAutoencoder(tinyGray, { seed: 9 });
    const decoderBefore = target.params.get('decoder_pred.weight').variable.dataSync().slice();
    const before = tf.memory().numTensors;
    const report = loadEncoderStateDict(target, encoderOnly);
    expect(tf.memory().numTensors).toBe(before);
    expect(report).toEqual({ decoderLoaded: false, ignored: ['head.weight'], loaded: 30 });
    expect(target.params.get('decoder_pred.weight').variable.dataSync()).toEqual(decoderBefore);
    const images = tf.randomNormal([2, 28, 28, 1], 0, 1, 'float32', 4) as tf.Tensor4D;
    const [a, b] = [source.features(images, 'mean'), target.features(images, 'mean')];
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    tf.dispose([images, a, b]);
    source.dispose();
    target.dispose();
  });

  it('refuses a partial decoder and lists every problem; the model is unchanged', async () => {
    const model = new MaskedAutoencoder(tinyGray, { seed: 3 });
    const state = new Map<string, StateTensor>(await model.stateDict());
    state.delete('decoder_norm.bias');
    state.set('blocks.0.norm1.weight', { shape: [63], data: new Float32Array(63) });
    const run = () => loadStateDictPartial(model, state, { allowMissingDecoder: true });
    expect(run).toThrow(StateDictMismatchError);
    expect(run).toThrow(/missing key: decoder_norm\.bias[\s\S]*wrong shape for blocks\.0\.norm1\.weight: expected \[64\], got \[63\]/);
    expect(model.params.get('blocks.0.norm1.weight').variable.dataSync()[0]).toBe(1);
    model.dispose();
  });
});
