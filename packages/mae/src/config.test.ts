import { configFromOfficial, maeTiny28, maeVitBasePatch16, maeVitHugePatch14, preset, PRESETS, resolveConfig } from './index.js';

const tiny = { imgSize: 28, patchSize: 4, inChans: 1, embedDim: 64, depth: 2, numHeads: 4, decoderEmbedDim: 32, decoderDepth: 1, decoderNumHeads: 4 };

describe('resolveConfig', () => {
  it('fills the official defaults', () => {
    const c = resolveConfig(tiny);
    expect(c).toMatchObject({ mlpRatio: 4, normPixLoss: false, maskRatio: 0.75, layerNormEps: 1e-6 });
    expect(Object.isFrozen(c)).toBe(true);
  });

  it.each([
    [{ imgSize: 30 }, /MaeConfig\.imgSize is 30: expected a multiple of patchSize 4/],
    [{ embedDim: 66, numHeads: 4 }, /MaeConfig\.embedDim is 66: expected divisible by numHeads 4/],
    [{ decoderEmbedDim: 30, decoderNumHeads: 4 }, /MaeConfig\.decoderEmbedDim is 30: expected divisible by decoderNumHeads 4/],
    [{ embedDim: 6, numHeads: 3 }, /MaeConfig\.embedDim is 6: expected a multiple of 4/],
    [{ maskRatio: 1 }, /MaeConfig\.maskRatio is 1: expected a number in \[0, 1\)/],
    [{ maskRatio: -0.1 }, /MaeConfig\.maskRatio is -0\.1: expected a number in \[0, 1\)/],
    [{ patchSize: 0 }, /MaeConfig\.patchSize is 0: expected an integer >= 1/],
    [{ depth: 1.5 }, /MaeConfig\.depth is 1\.5: expected an integer >= 0/],
    [{ inChans: '1' }, /MaeConfig\.inChans is "1": expected an integer >= 1/],
    [{ mlpRatio: 0 }, /MaeConfig\.mlpRatio is 0: expected a finite number > 0/],
    [{ normPixLoss: 'yes' }, /MaeConfig\.normPixLoss is "yes": expected true or false/],
    [{ layerNormEps: 0 }, /MaeConfig\.layerNormEps is 0: expected a finite number > 0/],
    [{ maskRatio: '0.75' }, /MaeConfig\.maskRatio is "0\.75": expected a number in \[0, 1\)/],
    [{ mlpRatio: Infinity }, /MaeConfig\.mlpRatio is Infinity: expected a finite number > 0/],
    [{ normPixLoss: true, patchSize: 1, imgSize: 28, inChans: 1 }, /MaeConfig\.normPixLoss is true: expected false when a patch holds a single value/],
    [{ imgsize: 28 }, /MaeConfig\.imgsize is not a config field: expected one of imgSize/],
  ])('rejects %j', (patch, message) => {
    expect(() => resolveConfig({ ...tiny, ...(patch as object) })).toThrow(message);
  });

  it('rejects a missing field by name', () => {
    const { embedDim, ...rest } = tiny;
    expect(embedDim).toBe(64);
    expect(() => resolveConfig(rest)).toThrow(/MaeConfig\.embedDim is undefined: expected an integer >= 1/);
  });
});

describe('configFromOfficial', () => {
  it('maps official keyword names and ignores other keys', () => {
    const c = configFromOfficial({ img_size: 28, patch_size: 4, in_chans: 1, embed_dim: 64, depth: 2, num_heads: 4, decoder_embed_dim: 32, decoder_depth: 1, decoder_num_heads: 4, mlp_ratio: 4.0, norm_pix_loss: true, mask_ratio: 0.5, batch: 3, norm_layer: 'LayerNorm' });
    expect(c).toMatchObject({ ...tiny, normPixLoss: true, maskRatio: 0.5 });
  });

  it('rejects a non-object', () => {
    expect(() => configFromOfficial([] as never)).toThrow('MaeConfig.(root) is []: expected a JSON object with official keyword names (img_size, patch_size, ...)');
    expect(() => resolveConfig(null as never)).toThrow('MaeConfig.(root) is null: expected an object');
  });
});

describe('presets', () => {
  it('have the official dimensions', () => {
    expect(resolveConfig(maeVitBasePatch16)).toMatchObject({ imgSize: 224, patchSize: 16, embedDim: 768, depth: 12, numHeads: 12, decoderEmbedDim: 512, decoderDepth: 8, decoderNumHeads: 16 });
    expect(resolveConfig(maeVitHugePatch14)).toMatchObject({ patchSize: 14, embedDim: 1280, depth: 32, numHeads: 16 });
    expect(resolveConfig(maeTiny28)).toMatchObject({ imgSize: 28, inChans: 1 });
    for (const p of Object.values(PRESETS)) expect(() => resolveConfig(p)).not.toThrow();
  });

  it('name unknown presets', () => {
    expect(() => preset('vit_giant')).toThrow('preset is "vit_giant": expected one of "mae_vit_base_patch16", "mae_vit_large_patch16", "mae_vit_huge_patch14", "mae_tiny_28", "mae_tiny_32"');
    expect(() => preset('toString')).toThrow('preset is "toString": expected one of "mae_vit_base_patch16",');
  });
});
