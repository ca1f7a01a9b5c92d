import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, expandTo, failArgument, permuteTokens } from '@maejs/backend';
import { Block, LayerNorm, Linear, ParamRegistry, sincosPosEmbed2d, tokenInit } from '@maejs/vit';

/** Sizes of the MAE decoder. */
export interface MaeDecoderOptions {
  /** Number of patches L (a square grid). */
  numPatches: number;
  /** Encoder width D (input of decoder_embed). */
  embedDim: number;
  /** Values per patch, p*p*C (output of decoder_pred). */
  patchDim: number;
  decoderEmbedDim: number;
  decoderDepth: number;
  decoderNumHeads: number;
  mlpRatio: number;
  layerNormEps: number;
}

/**
 * The MAE decoder (official `forward_decoder`): embed the encoded visible tokens, append mask
 * tokens, un-shuffle to the original order with idsRestore, add the fixed decoder position
 * embedding, run the blocks, norm, and predict p*p*C pixel values per patch.
 */
export class MaeDecoder {
  readonly decoderEmbed: Linear;
  readonly maskToken: tf.Variable; // [1, 1, D']
  readonly decoderPosEmbed: tf.Variable; // [1, 1+L, D'], fixed
  readonly blocks: Block[];
  readonly norm: LayerNorm;
  readonly pred: Linear;

  constructor(
    params: ParamRegistry,
    readonly options: MaeDecoderOptions,
  ) {
    const o = options;
    for (const key of ['numPatches', 'embedDim', 'patchDim', 'decoderEmbedDim'] as const) checkInteger(`MaeDecoder: ${key}`, o[key], 1);
    checkInteger('MaeDecoder: decoderDepth', o.decoderDepth, 0);
    const grid = Math.round(Math.sqrt(o.numPatches));
    if (grid * grid !== o.numPatches) failArgument('MaeDecoder: numPatches', o.numPatches, 'a square number (gridSize^2 patches, a square grid)');
    this.maskToken = params.add('mask_token', tokenInit([1, 1, o.decoderEmbedDim], params.initSeed('mask_token')));
    this.decoderPosEmbed = params.add('decoder_pos_embed', tf.tensor3d(sincosPosEmbed2d(o.decoderEmbedDim, grid, true), [1, 1 + o.numPatches, o.decoderEmbedDim]), 'plain', false);
    this.decoderEmbed = new Linear(params, 'decoder_embed', o.embedDim, o.decoderEmbedDim);
    this.blocks = Array.from(
      { length: o.decoderDepth },
      (_, i) => new Block(params, `decoder_blocks.${i}`, { dim: o.decoderEmbedDim, numHeads: o.decoderNumHeads, mlpRatio: o.mlpRatio, layerNormEps: o.layerNormEps }),
    );
    this.norm = new LayerNorm(params, 'decoder_norm', o.decoderEmbedDim, o.layerNormEps);
    this.pred = new Linear(params, 'decoder_pred', o.decoderEmbedDim, o.patchDim);
  }

  /**
   * latent: [N, 1+K, D] (cls first, then the K visible tokens in shuffled order);
   * idsRestore: int32 [N, L] -> prediction [N, L, p*p*C] (cls removed).
   */
  apply(latent: tf.Tensor3D, idsRestore: tf.Tensor2D): tf.Tensor3D {
    const { numPatches: l, decoderEmbedDim: d, embedDim } = this.options;
    if (latent.rank !== 3 || latent.shape[2] !== embedDim || latent.shape[1] < 1 || latent.shape[1] > l + 1) {
      throw new Error(`MaeDecoder: latent has shape [${latent.shape}], expected [N, 1+K, ${embedDim}] with cls first and 0 <= K <= ${l} visible tokens`);
    }
    const [n, t] = latent.shape;
    if (idsRestore.rank !== 2 || idsRestore.shape[0] !== n || idsRestore.shape[1] !== l) {
      throw new Error(`MaeDecoder: idsRestore has shape [${idsRestore.shape}], expected [N, L] = [${n}, ${l}]`);
    }
    if (idsRestore.dtype !== 'int32') throw new Error(`MaeDecoder: idsRestore must be int32, got ${idsRestore.dtype}`);
    const x = this.decoderEmbed.apply(latent) as tf.Tensor3D; // [N, 1+K, D']
    const cls = tf.slice(x, [0, 0, 0], [n, 1, d]); // [N, 1, D']
    const visible = tf.slice(x, [0, 1, 0], [n, t - 1, d]); // [N, K, D']
    const maskTokens = expandTo(this.maskToken, [n, l - (t - 1), d]); // [N, L-K, D']
    const shuffled = tf.concat([visible, maskTokens], 1) as tf.Tensor3D; // [N, L, D'], shuffled order
    const restored = permuteTokens(shuffled, idsRestore); // [N, L, D'], original order
    let h: tf.Tensor = tf.add(tf.concat([cls, restored], 1), this.decoderPosEmbed); // [N, 1+L, D']
    for (const block of this.blocks) h = block.apply(h);
    const out = this.pred.apply(this.norm.apply(h)) as tf.Tensor3D; // [N, 1+L, p*p*C]
    return tf.slice(out, [0, 1, 0], [n, l, this.options.patchDim]) as tf.Tensor3D;
  }
}
