/**
 * The fixed 2-D sin-cos position embeddings against the golden state dict of the official
 * code (the forward parity test cannot see them: it loads the golden ones from the checkpoint).
 */
import { MaskedAutoencoder } from '@maejs/mae';
import { sincosPosEmbed2d } from '@maejs/vit';
import { describeEachBackend, expectClose } from '../../../testing/backends.js';
import { tinyGray } from '../../../testing/golden.js';

const { config } = tinyGray.readCase();
const golden = tinyGray.stateFromSafetensors();
const grid = config.imgSize / config.patchSize;

describe('tiny-gray golden position embeddings', () => {
  it.each([
    ['pos_embed', config.embedDim],
    ['decoder_pos_embed', config.decoderEmbedDim],
  ])('sincosPosEmbed2d gives the official %s (D = %d, 7x7 grid, cls row zeros)', (key, dim) => {
    const official = golden.get(key)!;
    expect(official.shape).toEqual([1, 1 + grid * grid, dim]);
    const ours = sincosPosEmbed2d(dim, grid, true);
    expect(ours.length).toBe(official.data.length);
    // Both are float64 values rounded to float32 once: equal up to the last bit of sin/cos.
    expectClose(key, ours, official.data, 1e-7, 1e-6);
  });
});

describeEachBackend('tiny-gray golden position embeddings in the model', () => {
  it('a fresh model holds the official embeddings without loading them', () => {
    const model = new MaskedAutoencoder(config, { seed: 3 });
    try {
      expectClose('pos_embed', model.encoder.posEmbed.dataSync(), golden.get('pos_embed')!.data, 1e-7, 1e-6);
      expectClose('decoder_pos_embed', model.decoder.decoderPosEmbed.dataSync(), golden.get('decoder_pos_embed')!.data, 1e-7, 1e-6);
    } finally {
      model.dispose();
    }
  });
});
