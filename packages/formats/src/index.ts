/**
 * `@maejs/formats`: safe readers and writers of tensor files (.npy, .safetensors, PyTorch .pth:
 * zip + pickle) with no dependencies. Bytes in, typed arrays out; malformed, truncated or hostile
 * files end in a {@link WeightsFormatError} naming the file and the problem.
 *
 * @module index
 */
export { type SourceDtype, type TensorRecord, WeightsFormatError } from './tensor-record.js';
export { parseNpy, encodeNpy } from './npy.js';
export { parseSafetensors, encodeSafetensors, type SafetensorsContents, type EncodableTensor } from './safetensors.js';
export { parsePth, stateDictFromPth, selectStateDict, encodePth, type PthContents, type PthOptions, type PthStateDict, type PthWriteOptions } from './pth.js';
export { detectCheckpointFormat, parseStateDict, type CheckpointFormat } from './state-dict-file.js';
export { PickledTensor, PickleGlobal, PickleStorage, isPickledTensor, type PickleValue } from './pickle-value.js';
export { unpickle, UNPICKLE_LIMITS, type PickleHooks } from './unpickle.js';
export { ALLOWED_TORCH_GLOBALS, TorchPickleHooks, type TorchArchive } from './torch-pickle.js';
export { readStoredZip, writeZip, type ZipEntry, type ZipReadOptions, type ZipWriteEntry, type ZipWriteOptions } from './zip.js';
export { crc32, crc32Update } from './crc32.js';
// Building blocks for readers of other tensor formats (the tfjs reader of @maejs/weights).
export { ITEM_SIZE, MAX_RANK, checkedNumel, decodeElements, littleEndianBytes, shapeText } from './dtypes.js';
export { parseJson, JsonSyntaxError, type JsonValue } from './json.js';
export { utf8 } from './bytes.js';
