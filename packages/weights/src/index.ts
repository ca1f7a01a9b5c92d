/**
 * `@maejs/weights`: safe, dependency-free readers and writers of tensor files
 * (.npy, .safetensors, PyTorch .pth). Bytes in, typed arrays out.
 *
 * @module index
 */
export { type SourceDtype, type TensorRecord, WeightsFormatError } from './tensor-record.js';
export { parseNpy, encodeNpy } from './npy.js';
export { parseSafetensors, encodeSafetensors, type SafetensorsContents, type EncodableTensor } from './safetensors.js';
export { parsePth, stateDictFromPth, selectStateDict, encodePth, type PthContents, type PthOptions, type PthStateDict, type PthWriteOptions } from './pth.js';
export { PickledTensor, PickleGlobal, PickleStorage, isPickledTensor, type PickleValue } from './pickle-value.js';
export { unpickle, UNPICKLE_LIMITS, type PickleHooks } from './unpickle.js';
export { ALLOWED_TORCH_GLOBALS, TorchPickleHooks, type TorchArchive } from './torch-pickle.js';
export { readStoredZip, writeZip, type ZipEntry, type ZipReadOptions, type ZipWriteEntry, type ZipWriteOptions } from './zip.js';
export { crc32, crc32Update } from './crc32.js';
export { detectCheckpointFormat, parseStateDict, type CheckpointFormat } from './state-dict-file.js';
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
export { runFuzz, derivedSeeds, assembleSafetensors, type FuzzSeed, type FuzzKind, type FuzzOptions, type FuzzReport, type FuzzTally } from './fuzz-core.js';
export { importPretrained, loadPretrained, modelFromPretrained, type Pretrained, type PretrainedCheckpoint, type PretrainedOptions } from './pretrained.js';
export { HubError, OFFICIAL_CHECKPOINTS, type DownloadProgress, type HubFile } from '@maejs/hub';
