export { maskedMse, normalizePatches } from './masked-mse.js';
export type { MaskedMseOptions } from './masked-mse.js';
