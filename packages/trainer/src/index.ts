/**
 * @maejs/trainer: MAE pre-training pieces. AdamW as torch.optim.AdamW over named parameter
 * groups, the official weight-decay groups, the official learning-rate rules, global-norm
 * gradient clipping and gradient accumulation.
 */
export { AdamW } from './adamw.js';
export type { AdamWOptions, AdamWParamState, AdamWState, GroupAssigner, ParamGroup } from './adamw.js';
export { officialGroupOf, officialParamGroups } from './param-groups.js';
export type { ParamLookup } from './param-groups.js';
export { absoluteLr, checkLrSchedule, epochFraction, lrAt } from './lr-schedule.js';
export type { LrSchedule } from './lr-schedule.js';
export { clipGradNorm, GradientAccumulator } from './grad-utils.js';
export { resolveVariables, variableGradsByName } from './variables.js';
export type { VariableSource } from './variables.js';
