import { stateDictFromPth } from './pth.js';
import { parseSafetensors } from './safetensors.js';
import { type TensorRecord, WeightsFormatError } from './tensor-record.js';

/** Checkpoint formats maejs reads. */
export type CheckpointFormat = 'pth' | 'safetensors';

/**
 * Tells the format from the first bytes: a PyTorch .pth (zip) starts with `PK\x03\x04`; a
 * .safetensors file with a little-endian u64 header length followed by `{`.
 */
export function detectCheckpointFormat(bytes: Uint8Array, source = 'bytes'): CheckpointFormat {
  if (bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04) return 'pth';
  if (bytes.length >= 9 && bytes[8] === 0x7b) return 'safetensors';
  throw new WeightsFormatError(source, 'is neither a PyTorch .pth (zip) nor a .safetensors file (unrecognised first bytes)');
}

/**
 * The state dict in a .pth or .safetensors checkpoint, format detected from the bytes.
 * For .pth, `wrapper` names the dict it was found in ('model' for training checkpoints) and
 * `skipped` the non-tensor entries beside the tensors.
 */
export function parseStateDict(bytes: Uint8Array, source = 'bytes'): { format: CheckpointFormat; tensors: Map<string, TensorRecord>; wrapper: string | null; skipped: string[] } {
  const format = detectCheckpointFormat(bytes, source);
  if (format === 'safetensors') return { format, tensors: parseSafetensors(bytes, source).tensors, wrapper: null, skipped: [] };
  return { format, ...stateDictFromPth(bytes, source) };
}
