/**
 * `@maejs/weights`: MAE checkpoints in and out. Maps official, Hugging Face ViTMAE and tfjs
 * layouts onto the maejs model, and loads pretrained MAEs by name or URL. The tensor file
 * formats themselves (.npy, .safetensors, .pth) are read and written by `@maejs/formats`; only
 * the types and error class that appear in this package's signatures are re-exported here.
 *
 * @module index
 */
export { type SourceDtype, type TensorRecord, WeightsFormatError } from '@maejs/formats';
export { hfNamePairs, hfToOfficial, officialToHf, isHfVitMaeLayout, maeConfigFromHf, hfConfigFromMae, HF_VITMAE_DEFAULTS } from './hf-vitmae.js';
export {
  TFJS_STATE_FORMAT,
  TFJS_SHARD_BYTES,
  MAX_MODEL_JSON_BYTES,
  tfjsArtifactsFromState,
  stateFromTfjsArtifacts,
  tfjsFilesFromArtifacts,
  tfjsArtifactsFromFiles,
  parseTfjsModelJson,
  parseTfjsModel,
  checkShardPath,
  type ShardReader,
  type TfjsStateContents,
  type TfjsWritableTensor,
} from './tfjs-format.js';
export { saveStateDictTfjs, loadStateDictTfjs } from './tfjs-io.js';
export {
  importCheckpoint,
  importTfjsArtifacts,
  analyzeCheckpoint,
  maeStateOf,
  exportSafetensors,
  exportTfjsArtifacts,
  checkpointFileKind,
  parseJsonFile,
  shapesOf,
  CheckpointError,
  type CheckpointLayout,
  type CheckpointFileFormat,
  type ImportedCheckpoint,
  type ExportedFile,
} from './checkpoint.js';
export { importPretrained, loadPretrained, modelFromPretrained, type Pretrained, type PretrainedCheckpoint, type PretrainedOptions } from './pretrained.js';
export { HubError, OFFICIAL_CHECKPOINTS, type DownloadProgress, type HubFile } from '@maejs/hub';
