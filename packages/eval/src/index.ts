/**
 * @maejs/eval: evaluation of MAE encoders. Frozen features, a linear probe (as the official
 * main_linprobe), weighted kNN (InstDisc / DINO), and fine-tuning with layer-wise lr decay (as
 * main_finetune). The probes take plain arrays, so they run on raw pixels too (the baselines).
 */
export { extractFeatures, type ExtractFeaturesOptions, type FeatureEngine, type FeatureModel, type Pooling } from './features.js';
export { FEATURE_POOLING_HELP, FEATURE_POOLINGS, isFeaturePooling } from '@maejs/mae'; // the Pooling choices, for callers that check a user's value
export { knnClassify, l2Normalize, type KnnOptions, type KnnResult } from './knn.js';
export { linearProbe, probePredict, PROBE_BN_EPS, PROBE_BN_MOMENTUM, type LinearProbeOptions, type LinearProbeResult, type ProbeHead } from './linear-probe.js';
export { LayerwiseAdamW, layerIdForVit, NO_WEIGHT_DECAY, paramGroupsLrd, type LayerDecayAssignment, type LayerwiseAdamWOptions } from './lr-decay.js';
export { finetune, type FinetuneHead, type FinetuneModel, type FinetuneOptions, type FinetunePooling, type FinetuneResult } from './finetune.js';
export { crossEntropy, type EpochRecord } from './classify.js';
export type { FeatureSet, ImageSet } from './labelled-sets.js';
