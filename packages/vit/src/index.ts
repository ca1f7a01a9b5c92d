export { Attention, Block, LayerNorm, Linear, Mlp } from './layers.js';
export { gelu, layerNorm2d, layerNormBackward, layerNormForward } from './fused.js';
export type { LayerNormParts } from './fused.js';
export type { AttentionParts, BlockOptions } from './layers.js';
export { PatchEmbed, ViTEncoder } from './encoder.js';
export type { ViTEncoderOptions } from './encoder.js';
export { ParamRegistry, tokenInit, xavierUniform } from './params.js';
export type { Param, ParamLayout } from './params.js';
export { sincosPosEmbed2d } from './pos-embed.js';
