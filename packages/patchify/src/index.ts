export { patchify, unpatchify } from './patchify.js';
export type { PatchGrid } from './patchify.js';
