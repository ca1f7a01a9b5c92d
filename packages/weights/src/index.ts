/**
 * @maejs/weights: safe, dependency-free readers and writers of tensor files
 * (.npy, .safetensors, PyTorch .pth). Bytes in, typed arrays out.
 */
export { type SourceDtype, type TensorRecord, WeightsFormatError } from './tensor-record.js';
export { parseNpy, encodeNpy } from './npy.js';
export { parseSafetensors, encodeSafetensors, type SafetensorsContents, type EncodableTensor } from './safetensors.js';
export { parsePth, stateDictFromPth, selectStateDict, type PthContents, type PthOptions, type PthStateDict } from './pth.js';
export { PickledTensor, PickleGlobal, PickleStorage, isPickledTensor, type PickleValue } from './pickle-value.js';
export { unpickle, UNPICKLE_LIMITS, type PickleHooks } from './unpickle.js';
export { ALLOWED_TORCH_GLOBALS, TorchPickleHooks, type TorchArchive } from './torch-pickle.js';
export { readStoredZip, type ZipEntry, type ZipReadOptions } from './zip.js';
export { crc32, crc32Update } from './crc32.js';
export { detectCheckpointFormat, parseStateDict, type CheckpointFormat } from './state-dict-file.js';
