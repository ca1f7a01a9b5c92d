export { MaeDecoder } from './decoder.js';
export type { MaeDecoderOptions } from './decoder.js';
