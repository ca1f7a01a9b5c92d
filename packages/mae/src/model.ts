import * as tf from '@tensorflow/tfjs-core';
import { MaeDecoder } from '@maejs/decoder';
import { maskedMse } from '@maejs/loss';
import { checkMaskRatio, randomMasking } from '@maejs/masking';
import { patchify } from '@maejs/patchify';
import { ParamRegistry, ViTEncoder } from '@maejs/vit';
import { resolveConfig, type MaeConfig, type MaeConfigInput } from './config.js';
import { checkFeaturePooling, poolTokens, type FeaturePooling } from './pooling.js';
import { checkStateDict, fromOfficial, officialOrder, toOfficial, type StateTensor } from './state-dict.js';

/** Options of one forward pass. */
export interface ForwardOptions {
  /** Overrides config.maskRatio for this pass. */
  maskRatio?: number;
  /** [N, L] float32 masking noise (deterministic masking); default uniform noise from `seed`. */
  noise?: tf.Tensor2D;
  /** Seed of the default noise. */
  seed?: number;
}

/** Everything one forward pass computes. The caller owns (and disposes) every tensor. */
export interface MaeOutput {
  /** Masked MSE on the removed patches. */
  loss: tf.Scalar;
  /** [N, L, p*p*C] decoder prediction, original patch order. */
  pred: tf.Tensor3D;
  /** [N, L] 0 = kept, 1 = removed. */
  mask: tf.Tensor2D;
  /** int32 [N, L] */
  idsRestore: tf.Tensor2D;
  /** int32 [N, lenKeep] */
  idsKeep: tf.Tensor2D;
  /** [N, 1+lenKeep, D] encoder output after the final norm, cls token first. */
  latent: tf.Tensor3D;
}

/** Options of the model constructor. */
export interface ModelOptions {
  /**
   * Model seed (a safe integer, default 0) of the official initialize_weights scheme: parameter
   * `name` is drawn from `seedFor(seed, name)` of @maejs/random, the same values on every backend.
   */
  seed?: number;
}

/**
 * Masked Autoencoder (He et al. 2021) with a ViT encoder, as the official MaskedAutoencoderViT.
 * Owns its parameters (official state-dict names); call dispose() when done.
 */
export class MaskedAutoencoder {
  readonly config: Readonly<MaeConfig>;
  readonly params: ParamRegistry;
  readonly encoder: ViTEncoder;
  readonly decoder: MaeDecoder;
  /** Patches per image, L. */
  readonly numPatches: number;
  /** Values per patch, p*p*C. */
  readonly patchDim: number;

  constructor(config: MaeConfigInput, options: ModelOptions = {}) {
    this.config = resolveConfig(config);
    const c = this.config;
    this.params = new ParamRegistry(options.seed ?? 0);
    this.encoder = new ViTEncoder(this.params, c);
    this.numPatches = this.encoder.numPatches;
    this.patchDim = c.patchSize * c.patchSize * c.inChans;
    this.decoder = new MaeDecoder(this.params, { ...c, numPatches: this.numPatches, patchDim: this.patchDim });
  }

  /**
   * Validates an image batch: NHWC [N, imgSize, imgSize, inChans] float32. Only the shape and
   * dtype are checked, never the values: reading them back would make a GPU wait for the CPU.
   * Values are checked where they are still in CPU memory (`batchIterator` refuses NaN and
   * Infinity in a sample), and a non-finite loss stops training when it is read.
   */
  checkImages(images: tf.Tensor): asserts images is tf.Tensor4D {
    this.encoder.checkImages(images);
  }


  /**
   * Encoder with masking (official forward_encoder). images: [N, H, W, C] ->
   * latent [N, 1+lenKeep, D], mask [N, L], idsRestore [N, L], idsKeep [N, lenKeep].
   */
  forwardEncoder(images: tf.Tensor4D, options: ForwardOptions = {}) {
    const maskRatio = options.maskRatio ?? this.config.maskRatio;
    checkMaskRatio(maskRatio, 'MaskedAutoencoder.forward: maskRatio');
    this.checkImages(images);
    return tf.tidy(() => {
      const tokens = this.encoder.embed(images); // [N, L, D]
      const { kept, mask, idsRestore, idsKeep } = randomMasking(tokens, maskRatio, options.noise, options.seed);
      const latent = this.encoder.encodeTokens(kept); // [N, 1+lenKeep, D]
      return { latent, mask, idsRestore, idsKeep };
    });
  }

  /** Full MAE forward: encoder, decoder and loss. images: [N, H, W, C]. */
  forward(images: tf.Tensor4D, options: ForwardOptions = {}): MaeOutput {
    const encoded = this.forwardEncoder(images, options);
    return tf.tidy(() => {
      const pred = this.decoder.apply(encoded.latent, encoded.idsRestore); // [N, L, p*p*C]
      const target = patchify(images, this.config.patchSize); // [N, L, p*p*C]
      const loss = maskedMse(pred, target, encoded.mask, { normPixLoss: this.config.normPixLoss });
      return { loss, pred, ...encoded };
    });
  }

  /** Only the loss, for optimizer.minimize / tf.variableGrads. Must run inside a tape (no tidy of its own needed). */
  loss(images: tf.Tensor4D, options: ForwardOptions = {}): tf.Scalar {
    const out = this.forward(images, options);
    tf.dispose([out.pred, out.mask, out.idsRestore, out.idsKeep, out.latent]);
    return out.loss;
  }

  /**
   * Encoder features on unmasked images, images [N, H, W, C] -> [N, D] (see {@link FeaturePooling}):
   * 'cls' the cls token after the final norm (official global_pool=False); 'mean' the official
   * global_pool features, LayerNorm (weight 1, bias 0: a fresh fc_norm) of the mean of the patch
   * tokens before the final norm; 'mean-norm' the mean of the patch tokens after the final norm.
   */
  features(images: tf.Tensor4D, pooling: FeaturePooling = 'cls'): tf.Tensor2D {
    checkFeaturePooling('MaskedAutoencoder.features', pooling);
    this.checkImages(images);
    return tf.tidy(() => poolTokens(this.encoder.forwardBlocks(this.encoder.embed(images)), this.encoder.norm, pooling));
  }

  /** Trainable variables by official name (pos embeddings are fixed and left out). */
  trainableVariables(): Map<string, tf.Variable> {
    return this.params.trainable();
  }

  /** Parameters in the official layout and order (PyTorch state_dict). */
  async stateDict(): Promise<Map<string, StateTensor>> {
    const out = new Map<string, StateTensor>();
    for (const [name, param] of officialOrder(this.params)) {
      const t = toOfficial(param, param.variable);
      out.set(name, { shape: t.shape, data: (await t.data()) as Float32Array });
      t.dispose();
    }
    return out;
  }

  /**
   * Loads an official-layout state dict. Every key must be present with the official shape;
   * otherwise nothing is changed and one StateDictMismatchError lists all problems.
   */
  loadStateDict(entries: Map<string, StateTensor>): void {
    checkStateDict(this.params, entries);
    for (const [name, param] of this.params.entries()) {
      const { shape, data } = entries.get(name)!;
      tf.tidy(() => param.variable.assign(fromOfficial(param, tf.tensor(data, shape, 'float32'))));
    }
  }

  /** Frees every parameter. */
  dispose(): void {
    this.params.dispose();
  }
}
