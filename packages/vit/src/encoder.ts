import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, expandTo, failArgument, linear } from '@maejs/backend';
import { patchify } from '@maejs/patchify';
import { Block, LayerNorm } from './layers.js';
import { ParamRegistry, tokenInit, xavierUniform } from './params.js';
import { sincosPosEmbed2d } from './pos-embed.js';

/** Sizes of a ViT encoder (a subset of MaeConfig; see @maejs/mae for validation). */
export interface ViTEncoderOptions {
  /** Image side in pixels (square images). */
  imgSize: number;
  /** Patch side in pixels; imgSize must be a multiple. */
  patchSize: number;
  /** Image channels (1 gray, 3 RGB, any count). */
  inChans: number;
  /** Token width D. */
  embedDim: number;
  /** Number of transformer blocks. */
  depth: number;
  /** Attention heads per block; embedDim must be a multiple. */
  numHeads: number;
  /** MLP hidden size = trunc(dim * mlpRatio). */
  mlpRatio: number;
  /** LayerNorm epsilon: 1e-6 in the official MAE models (HF ViTMAE uses 1e-12). */
  layerNormEps: number;
}

/**
 * Patch embedding as a matMul: patchify(x) [N, L, p*p*C] times [p*p*C, D] plus bias. It is the
 * official Conv2d(C, D, kernel p, stride p) with its weight [D, C, p, p] permuted to (p, q, c).
 */
export class PatchEmbed {
  readonly weight: tf.Variable; // [p*p*C, D]
  readonly bias: tf.Variable; // [D]

  constructor(
    params: ParamRegistry,
    readonly patchSize: number,
    readonly inChans: number,
    readonly embedDim: number,
  ) {
    const patchDim = patchSize * patchSize * inChans;
    // xavier_uniform over the Conv2d weight viewed as [D, C*p*p] (official initialize_weights): fanIn p*p*C, fanOut D.
    const weightName = 'patch_embed.proj.weight';
    this.weight = params.add(weightName, xavierUniform([patchDim, embedDim], params.initSeed(weightName)), 'patch-conv', true, { patchSize, channels: inChans });
    this.bias = params.add('patch_embed.proj.bias', tf.zeros([embedDim]));
  }

  /** imgs: [N, H, W, C] -> [N, L, D] */
  apply(imgs: tf.Tensor4D): tf.Tensor3D {
    const patches = patchify(imgs, this.patchSize); // [N, L, p*p*C]
    const [n, l, k] = patches.shape;
    const flat = linear(tf.reshape(patches, [n * l, k]) as tf.Tensor2D, this.weight as tf.Tensor2D, this.bias as tf.Tensor1D); // [N*L, D]
    return tf.reshape(flat, [n, l, this.embedDim]);
  }
}

/**
 * The ViT encoder of MAE: patch embedding, fixed 2-D sin-cos position embedding, cls token,
 * pre-norm blocks and a final LayerNorm. Masking happens between the position embedding and
 * the cls token (see {@link ViTEncoder.embed} and {@link ViTEncoder.encodeTokens}).
 */
export class ViTEncoder {
  readonly patchEmbed: PatchEmbed;
  readonly clsToken: tf.Variable; // [1, 1, D]
  readonly posEmbed: tf.Variable; // [1, 1+L, D], fixed
  readonly blocks: Block[];
  readonly norm: LayerNorm;
  readonly numPatches: number;

  constructor(
    params: ParamRegistry,
    readonly options: ViTEncoderOptions,
  ) {
    const o = options;
    for (const key of ['imgSize', 'patchSize', 'inChans', 'embedDim'] as const) checkInteger(`ViTEncoder: ${key}`, o[key], 1);
    checkInteger('ViTEncoder: depth', o.depth, 0);
    if (o.imgSize % o.patchSize !== 0) failArgument('ViTEncoder: imgSize', o.imgSize, `a multiple of patchSize ${o.patchSize} (a whole grid of patches)`);
    const grid = o.imgSize / o.patchSize;
    this.numPatches = grid * grid;
    // Definition order follows the official state dict: cls_token, pos_embed, (mask_token), patch_embed, blocks, norm.
    this.clsToken = params.add('cls_token', tokenInit([1, 1, o.embedDim], params.initSeed('cls_token')));
    this.posEmbed = params.add('pos_embed', tf.tensor3d(sincosPosEmbed2d(o.embedDim, grid, true), [1, 1 + this.numPatches, o.embedDim]), 'plain', false);
    this.patchEmbed = new PatchEmbed(params, o.patchSize, o.inChans, o.embedDim);
    this.blocks = Array.from({ length: o.depth }, (_, i) => new Block(params, `blocks.${i}`, { dim: o.embedDim, numHeads: o.numHeads, mlpRatio: o.mlpRatio, layerNormEps: o.layerNormEps }));
    this.norm = new LayerNorm(params, 'norm', o.embedDim, o.layerNormEps);
  }

  /**
   * Validates an image batch: NHWC [N, imgSize, imgSize, inChans] float32. Only the shape and
   * dtype are checked, never the values: reading them back would make a GPU wait for the CPU.
   */
  checkImages(images: tf.Tensor): asserts images is tf.Tensor4D {
    const { imgSize, inChans } = this.options;
    if (images.rank !== 4) throw new Error(`images must be NHWC [N, ${imgSize}, ${imgSize}, ${inChans}], got rank ${images.rank} shape [${images.shape}]`);
    const [n, h, w, c] = images.shape;
    if (n < 1) throw new Error('images: the batch is empty');
    if (h !== imgSize || w !== imgSize) throw new Error(`images are ${h}x${w}, but the model expects ${imgSize}x${imgSize} (imgSize)`);
    if (c !== inChans) throw new Error(`images have ${c} channels, but the model expects ${inChans} (inChans); images are NHWC`);
    if (images.dtype !== 'float32') throw new Error(`images must be float32, got ${images.dtype}`);
  }

  /** Patch tokens with position embedding, before masking. imgs: [N, H, W, C] -> [N, L, D] */
  embed(imgs: tf.Tensor4D): tf.Tensor3D {
    this.checkImages(imgs);
    const tokens = this.patchEmbed.apply(imgs); // [N, L, D]
    const patchPos = tf.slice(this.posEmbed, [0, 1, 0], [1, this.numPatches, this.options.embedDim]); // [1, L, D]
    return tf.add(tokens, patchPos) as tf.Tensor3D;
  }

  /**
   * Prepends the cls token (plus pos_embed[0]) and runs the blocks and final norm.
   * x: [N, T, D] (visible tokens) -> [N, 1+T, D].
   */
  encodeTokens(x: tf.Tensor3D): tf.Tensor3D {
    return this.norm.apply(this.runBlocks(x, 'encodeTokens')) as tf.Tensor3D;
  }

  /**
   * Prepends the cls token (plus pos_embed[0]) and runs the blocks, without the final norm: the
   * tokens the official global-pool ViT averages (models_vit.py, where `norm` is deleted and
   * `fc_norm` follows the mean). x: [N, T, D] (visible tokens) -> [N, 1+T, D].
   */
  forwardBlocks(x: tf.Tensor3D): tf.Tensor3D {
    return this.runBlocks(x, 'forwardBlocks');
  }

  /** cls token, then the blocks. x: [N, T, D] -> [N, 1+T, D]; `caller` names the method in errors. */
  private runBlocks(x: tf.Tensor3D, caller: string): tf.Tensor3D {
    const { embedDim } = this.options;
    if (x.rank !== 3 || x.shape[2] !== embedDim) throw new Error(`ViTEncoder.${caller}: tokens have shape [${x.shape}], expected [N, T, ${embedDim}]`);
    const [n, , d] = x.shape;
    const clsPos = tf.slice(this.posEmbed, [0, 0, 0], [1, 1, d]); // [1, 1, D]
    const cls = expandTo(tf.add(this.clsToken, clsPos), [n, 1, d]); // [N, 1, D]
    let h: tf.Tensor = tf.concat([cls, x], 1); // [N, 1+T, D]
    for (const block of this.blocks) h = block.apply(h);
    return h as tf.Tensor3D;
  }

  /** Encoder on all patches, no masking (features for downstream tasks). imgs: [N, H, W, C] -> [N, 1+L, D] */
  apply(imgs: tf.Tensor4D): tf.Tensor3D {
    return tf.tidy(() => this.encodeTokens(this.embed(imgs)));
  }
}
