export { configFromOfficial, CONFIG_DEFAULTS, MaeConfigError, resolveConfig } from './config.js';
export type { MaeConfig } from './config.js';
export { MaskedAutoencoder } from './model.js';
export type { ForwardOptions, MaeOutput, ModelOptions } from './model.js';
export { maeTiny28, maeTiny32, maeVitBasePatch16, maeVitHugePatch14, maeVitLargePatch16, preset, PRESETS } from './presets.js';
export { checkStateDict, fromOfficial, officialOrder, officialShape, StateDictMismatchError, toOfficial } from './state-dict.js';
export type { StateTensor } from './state-dict.js';
