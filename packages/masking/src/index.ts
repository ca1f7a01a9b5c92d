export { checkMaskRatio, lenKeep, randomMasking } from './masking.js';
export type { MaskingResult } from './masking.js';
