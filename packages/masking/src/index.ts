export { checkMaskRatio, lenKeep, maskingNoise, randomMasking } from './masking.js';
export type { MaskingResult } from './masking.js';
