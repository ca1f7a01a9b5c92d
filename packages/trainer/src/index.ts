/**
 * `@maejs/trainer`: MAE pre-training as the official main_pretrain/engine_pretrain: AdamW with
 * parameter groups, lr schedule, accumulation, clipping, checkpoints with exact resume.
 *
 * @module index
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
export { CHECKPOINT_FORMAT, CHECKPOINT_VERSION, CheckpointError, checkpointName, decodeCheckpoint, encodeCheckpoint, MemoryCheckpointStore, newestFirst } from './checkpoint.js';
export type { Checkpoint, CheckpointMeta, CheckpointStore } from './checkpoint.js';
export { checkResumable, localGradients, pretrain, PRETRAIN_DEFAULTS, resolvePretrainConfig, TrainingDivergedError } from './pretrain.js';
export type { GradientEngine, LossAndGradients, PretrainConfig, PretrainOptions, TrainEvent } from './pretrain.js';
export { lineChart, reconstructionGrid } from './figures.js';
export type { LineChartOptions } from './figures.js';
export type { ReconstructionOptions, RgbaImage } from './figures.js';
