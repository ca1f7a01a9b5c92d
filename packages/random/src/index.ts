/**
 * `@maejs/random`: the one seeded generator of maejs (xoshiro128**, state saveable as four
 * uint32) and the one seed derivation (`deriveSeed` from integers, `seedFor` from a name).
 * No dependencies; identical results in every JavaScript engine.
 *
 * @module index
 */
export { Rng, shuffledIndices, type RngState } from './rng.js';
export { deriveSeed, fnv1a32, mix32, seedFor } from './seeds.js';
