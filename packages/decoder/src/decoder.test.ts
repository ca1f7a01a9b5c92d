import * as tf from '@tensorflow/tfjs-core';
import { ParamRegistry, sincosPosEmbed2d } from '@maejs/vit';
import { describeEachBackend, expectClose } from '../../../testing/backends.js';
import { fixedMatrix, layerNormF64, linearF64, type Matrix } from '../../../testing/reference-f64.js';
import { MaeDecoder, type MaeDecoderOptions } from './index.js';

const options: MaeDecoderOptions = { numPatches: 4, embedDim: 8, patchDim: 6, decoderEmbedDim: 4, decoderDepth: 1, decoderNumHeads: 2, mlpRatio: 4, layerNormEps: 1e-6 };

describeEachBackend('MaeDecoder', () => {
  let params: ParamRegistry;
  beforeEach(() => {
    params = new ParamRegistry(5);
  });
  afterEach(() => params.dispose());

  it('predicts [N, L, p*p*C] from any number of visible tokens', () => {
    const decoder = new MaeDecoder(params, options);
    expect(decoder.decoderPosEmbed.shape).toEqual([1, 5, 4]);
    const ids = tf.tensor2d([[0, 1, 2, 3], [3, 2, 1, 0]], undefined, 'int32');
    for (const visible of [0, 1, 4]) {
      const pred = decoder.apply(tf.zeros([2, 1 + visible, 8]) as tf.Tensor3D, ids);
      expect(pred.shape).toEqual([2, 4, 6]);
    }
  });

  it('with no blocks: embed, mask tokens, un-shuffle by idsRestore, pos embed, norm, pred (float64 reference)', () => {
    const decoder = new MaeDecoder(params, { ...options, decoderDepth: 0 });
    const wEmbed = fixedMatrix(8, 4, 1);
    const bEmbed = fixedMatrix(1, 4, 2, 0.5)[0];
    const wPred = fixedMatrix(4, 6, 3);
    const bPred = fixedMatrix(1, 6, 4, 0.5)[0];
    const maskToken = [0.3, -0.2, 0.1, 0.7];
    decoder.decoderEmbed.weight.assign(tf.tensor2d(wEmbed));
    decoder.decoderEmbed.bias.assign(tf.tensor1d(bEmbed));
    decoder.pred.weight.assign(tf.tensor2d(wPred));
    decoder.pred.bias.assign(tf.tensor1d(bPred));
    decoder.maskToken.assign(tf.tensor3d([[maskToken]]));
    // Two visible tokens per image (shuffled order), plus cls first.
    const latent = [fixedMatrix(3, 8, 5), fixedMatrix(3, 8, 6)];
    const idsRestore = [[2, 0, 3, 1], [1, 3, 0, 2]];
    const pred = decoder.apply(tf.tensor3d(latent), tf.tensor2d(idsRestore, undefined, 'int32'));
    const pos = sincosPosEmbed2d(4, 2, true);
    const expected = latent.map((lat, n) => {
      const x = linearF64(lat, wEmbed, bEmbed); // [1+K, D']
      const shuffled = [...x.slice(1), maskToken, maskToken]; // visible, then mask tokens
      const seq: Matrix = [x[0], ...idsRestore[n].map((i) => shuffled[i])]; // official torch.gather(x_, 1, ids_restore)
      const withPos = seq.map((row, t) => row.map((v, k) => v + pos[t * 4 + k]));
      return linearF64(layerNormF64(withPos, [1, 1, 1, 1], [0, 0, 0, 0], 1e-6), wPred, bPred).slice(1); // cls removed
    });
    expectClose('decoder', pred.dataSync(), expected.flat(2), 1e-5, 1e-4);
  });

  it('rejects sizes and inputs that do not fit, naming the value and what was expected', () => {
    expect(() => new MaeDecoder(params, { ...options, numPatches: 5 })).toThrow('MaeDecoder: numPatches is 5: expected a square number (gridSize^2 patches, a square grid)');
    expect(() => new MaeDecoder(new ParamRegistry(), { ...options, patchDim: 0 })).toThrow('MaeDecoder: patchDim is 0: expected an integer >= 1');
    expect(() => new MaeDecoder(new ParamRegistry(), { ...options, decoderDepth: 1.5 })).toThrow('MaeDecoder: decoderDepth is 1.5: expected an integer >= 0');
    const decoder = new MaeDecoder(new ParamRegistry(), options);
    const ids = tf.tensor2d([[0, 1, 2, 3]], undefined, 'int32');
    expect(() => decoder.apply(tf.zeros([1, 2, 16]) as tf.Tensor3D, ids)).toThrow('MaeDecoder: latent has shape [1,2,16], expected [N, 1+K, 8] with cls first and 0 <= K <= 4 visible tokens');
    expect(() => decoder.apply(tf.zeros([1, 6, 8]) as tf.Tensor3D, ids)).toThrow('MaeDecoder: latent has shape [1,6,8], expected [N, 1+K, 8]');
    expect(() => decoder.apply(tf.zeros([1, 2, 8]) as tf.Tensor3D, tf.zeros([1, 5], 'int32') as tf.Tensor2D)).toThrow('MaeDecoder: idsRestore has shape [1,5], expected [N, L] = [1, 4]');
    expect(() => decoder.apply(tf.zeros([1, 2, 8]) as tf.Tensor3D, tf.zeros([1, 4]) as tf.Tensor2D)).toThrow('MaeDecoder: idsRestore must be int32, got float32');
  });
});
