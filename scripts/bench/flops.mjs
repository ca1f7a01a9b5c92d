#!/usr/bin/env node
// Analytic FLOP count of an MAE training step and of encoder inference (DESIGN.md,
// "Performance method"). Counts the matrix multiplications only, 2 FLOPs per multiply-add:
//
//   linear layer (din -> dout) on T tokens:       2 * T * din * dout
//   attention scores q k^T and weights @ v:       2 * 2 * T^2 * D           (per layer, all heads)
//
// Per image, with L = (imgSize/p)^2 patches, lenKeep = trunc(L * (1 - maskRatio)),
// Te = 1 + lenKeep encoder tokens, Td = 1 + L decoder tokens, P = p*p*C, H = trunc(D * mlpRatio):
//
//   patch embed (on all L patches, before masking)   2 * L * P * D
//   encoder block x depth                             2 * Te * (3D*D + D*D + 2*D*H) + 4 * Te^2 * D
//   decoder embed                                     2 * Te * D * Dd
//   decoder block x decoderDepth                      2 * Td * (4*Dd*Dd + 2*Dd*Hd) + 4 * Td^2 * Dd
//   decoder pred (cls row included, dropped after)    2 * Td * Dd * P
//
// That is "2 x matmul params x tokens" for every part, plus attention. A training step is
// forward + backward = 3 x forward (backward ~2x forward: one matmul for the input gradient,
// one for the weight gradient), times the batch. Encoder inference is the forward of the
// patch embed and encoder blocks on all 1 + L tokens, times the batch.
//
// Not counted (each well under a few % of the total here): biases, LayerNorm, GELU, softmax,
// position embeddings, masking/gather, the loss and the AdamW update (~10-15 FLOPs/param).
// The backward of the patch embed has no input gradient (images need none), so 3x slightly
// over-counts it; the convention is kept so the numbers are comparable with "6 x params x tokens".
//
//   node scripts/bench/flops.mjs '{"imgSize":28,"patchSize":4,"inChans":1,"embedDim":128,...}' [batch]

const DEFAULTS = { mlpRatio: 4, maskRatio: 0.75, inChans: 3 };

function blockFlops(tokens, dim, hidden) {
  const matmul = 2 * tokens * (3 * dim * dim + dim * dim + 2 * dim * hidden);
  const attention = 2 * 2 * tokens * tokens * dim;
  return { matmul, attention, total: matmul + attention };
}

/** Per-image forward FLOPs by part for a training step (masked) or encoder inference (all tokens). */
export function forwardBreakdown(partialConfig, mode = 'train') {
  const c = { ...DEFAULTS, ...partialConfig };
  const grid = c.imgSize / c.patchSize;
  const L = grid * grid;
  const P = c.patchSize * c.patchSize * c.inChans;
  const D = c.embedDim;
  const H = Math.trunc(D * c.mlpRatio);
  const lenKeep = mode === 'train' ? Math.trunc(L * (1 - c.maskRatio)) : L;
  const Te = 1 + lenKeep;
  const enc = blockFlops(Te, D, H);
  const parts = {
    patchEmbed: 2 * L * P * D,
    encoderBlocks: c.depth * enc.total,
    encoderAttention: c.depth * enc.attention,
  };
  const tokens = { L, lenKeep, encoderTokens: Te };
  if (mode === 'train') {
    const Dd = c.decoderEmbedDim;
    const Hd = Math.trunc(Dd * c.mlpRatio);
    const Td = 1 + L;
    const dec = blockFlops(Td, Dd, Hd);
    parts.decoderEmbed = 2 * Te * D * Dd;
    parts.decoderBlocks = c.decoderDepth * dec.total;
    parts.decoderAttention = c.decoderDepth * dec.attention;
    parts.decoderPred = 2 * Td * Dd * P;
    tokens.decoderTokens = Td;
  }
  // attention is already inside the block totals; listed separately for information only
  const total = Object.entries(parts)
    .filter(([k]) => !k.endsWith('Attention'))
    .reduce((s, [, v]) => s + v, 0);
  return { parts, tokens, forwardPerImage: total };
}

/** FLOPs of one step on a batch: train = 3 x forward (forward + backward), encoder = forward. */
export function stepFlops(config, batch, mode = 'train') {
  const b = forwardBreakdown(config, mode);
  const factor = mode === 'train' ? 3 : 1;
  return { ...b, factor, perImage: factor * b.forwardPerImage, perStep: factor * b.forwardPerImage * batch };
}

/** Human-readable GFLOP. */
export const gflop = (x) => x / 1e9;

if (import.meta.url === `file://${process.argv[1]}`) {
  const config = JSON.parse(process.argv[2] ?? '{}');
  const batch = Number(process.argv[3] ?? 1);
  const mode = process.argv[4] ?? 'train';
  console.log(JSON.stringify(stepFlops(config, batch, mode), null, 2));
}
