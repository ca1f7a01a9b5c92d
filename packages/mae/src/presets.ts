import { checkOneOf } from '@maejs/backend';
import type { MaeConfig } from './config.js';

type Preset = Omit<MaeConfig, 'normPixLoss' | 'maskRatio' | 'layerNormEps'> & Partial<MaeConfig>;

/** Official ViT-B/16 MAE (mae_vit_base_patch16_dec512d8b): 224x224 RGB, 768x12 heads 12, decoder 512x8 heads 16. */
export const maeVitBasePatch16: Preset = { imgSize: 224, patchSize: 16, inChans: 3, embedDim: 768, depth: 12, numHeads: 12, decoderEmbedDim: 512, decoderDepth: 8, decoderNumHeads: 16, mlpRatio: 4 };
/** Official ViT-L/16 MAE (mae_vit_large_patch16_dec512d8b): 1024x24 heads 16. */
export const maeVitLargePatch16: Preset = { ...maeVitBasePatch16, embedDim: 1024, depth: 24, numHeads: 16 };
/** Official ViT-H/14 MAE (mae_vit_huge_patch14_dec512d8b): patch 14, 1280x32 heads 16. */
export const maeVitHugePatch14: Preset = { ...maeVitBasePatch16, patchSize: 14, embedDim: 1280, depth: 32, numHeads: 16 };
/** Small model for 28x28 gray images (MNIST, Fashion-MNIST): patch 4 (49 patches), 128x6 heads 4, decoder 64x2 heads 4. */
export const maeTiny28: Preset = { imgSize: 28, patchSize: 4, inChans: 1, embedDim: 128, depth: 6, numHeads: 4, decoderEmbedDim: 64, decoderDepth: 2, decoderNumHeads: 4, mlpRatio: 4 };
/** Small model for 32x32 RGB images (CIFAR-sized): patch 4 (64 patches), ViT-Tiny 192x12 heads 3, decoder 128x4 heads 4. */
export const maeTiny32: Preset = { imgSize: 32, patchSize: 4, inChans: 3, embedDim: 192, depth: 12, numHeads: 3, decoderEmbedDim: 128, decoderDepth: 4, decoderNumHeads: 4, mlpRatio: 4 };

/** Presets by name, as accepted by `mae --preset`. */
export const PRESETS: Record<string, Preset> = {
  mae_vit_base_patch16: maeVitBasePatch16,
  mae_vit_large_patch16: maeVitLargePatch16,
  mae_vit_huge_patch14: maeVitHugePatch14,
  mae_tiny_28: maeTiny28,
  mae_tiny_32: maeTiny32,
};

/** The preset called `name`, or a RangeError listing the names. */
export function preset(name: string): Preset {
  checkOneOf('preset', name, Object.keys(PRESETS));
  return PRESETS[name];
}
