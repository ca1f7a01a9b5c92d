/**
 * MaeConfigInput: the constructor's type requires the architecture fields that have no default
 * (type-checked by `npm run typecheck`: each @ts-expect-error below fails the build when the line
 * stops being a type error), and the same configs fail at run time with a message naming the field.
 */
import { MaskedAutoencoder, type MaeConfigInput } from './index.js';
import { describeEachBackend } from '../../../testing/backends.js';

const architecture = { imgSize: 8, patchSize: 4, embedDim: 16, depth: 1, numHeads: 2, decoderEmbedDim: 8, decoderDepth: 1, decoderNumHeads: 2 };

describeEachBackend('MaeConfigInput', () => {
  it('builds a model from the architecture fields alone (the rest take CONFIG_DEFAULTS)', () => {
    const input: MaeConfigInput = architecture;
    const model = new MaskedAutoencoder(input);
    expect([model.config.inChans, model.config.mlpRatio, model.config.maskRatio, model.config.normPixLoss, model.config.layerNormEps]).toEqual([3, 4, 0.75, false, 1e-6]);
    model.dispose();
  });

  it('an empty config or a missing architecture field is a type error and a run-time error naming the field', () => {
    // @ts-expect-error imgSize, patchSize, embedDim, ... are required
    expect(() => new MaskedAutoencoder({})).toThrow('MaeConfig.imgSize is undefined: expected an integer >= 1');
    const { decoderNumHeads, ...withoutHeads } = architecture;
    expect(decoderNumHeads).toBe(2);
    // @ts-expect-error decoderNumHeads is required
    expect(() => new MaskedAutoencoder(withoutHeads)).toThrow('MaeConfig.decoderNumHeads is undefined: expected an integer >= 1');
  });
});
