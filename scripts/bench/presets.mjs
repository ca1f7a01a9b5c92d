// The benchmark presets, shared by scripts/bench/run.mjs (CPU) and the GPU kit (gpu-kit/runner.mjs):
//   A 28x28x1 p4, enc 128x6 h4, dec 64x2 h4, batch 128, training step;
//   B 32x32x3 p4, ViT-Tiny 192x12 h3, dec 128x4 h4, batch 64, training step;
//   C official ViT-B/16 at 224 (768x12 h12), encoder inference on unmasked images, batch 8.
// `config` uses maejs's MaeConfig names; scripts/bench/torch_mae.py takes the same JSON.

export const PRESET_A = { imgSize: 28, patchSize: 4, inChans: 1, embedDim: 128, depth: 6, numHeads: 4, decoderEmbedDim: 64, decoderDepth: 2, decoderNumHeads: 4, mlpRatio: 4, normPixLoss: true, maskRatio: 0.75, layerNormEps: 1e-6 };

export const PRESETS = {
  A: { name: 'A', title: 'tiny 28x28x1 p4, enc 128x6 h4, dec 64x2 h4', mode: 'train', batch: 128, config: PRESET_A, cpu: true },
  B: {
    name: 'B',
    title: '32x32x3 p4, ViT-Tiny 192x12 h3, dec 128x4 h4',
    mode: 'train',
    batch: 64,
    config: { imgSize: 32, patchSize: 4, inChans: 3, embedDim: 192, depth: 12, numHeads: 3, decoderEmbedDim: 128, decoderDepth: 4, decoderNumHeads: 4, mlpRatio: 4, normPixLoss: true, maskRatio: 0.75, layerNormEps: 1e-6 },
  },
  C: {
    name: 'C',
    title: 'ViT-B/16 224x224x3 (768x12 h12), encoder inference, no masking',
    mode: 'encoder',
    batch: 8,
    config: { imgSize: 224, patchSize: 16, inChans: 3, embedDim: 768, depth: 12, numHeads: 12, decoderEmbedDim: 512, decoderDepth: 8, decoderNumHeads: 16, mlpRatio: 4, normPixLoss: true, maskRatio: 0.75, layerNormEps: 1e-6 },
  },
};
