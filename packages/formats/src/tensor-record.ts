/**
 * The common result type of every reader in this package, and its one error class.
 */

/** Element type as stored in the source file (before decoding to a JS typed array). */
export type SourceDtype =
  | 'float32'
  | 'float16'
  | 'bfloat16'
  | 'float64'
  | 'int32'
  | 'int64'
  | 'int16'
  | 'int8'
  | 'uint8'
  | 'bool';

/**
 * One tensor read from a file. Floating types decode to Float32Array (float64 too: values are cast),
 * integer/bool types to Int32Array (int64 must fit in int32 range, else a clear error).
 * `data` is row-major (C order) and holds exactly prod(shape) elements.
 */
export interface TensorRecord {
  dtype: SourceDtype;
  shape: number[];
  data: Float32Array | Int32Array;
}

/**
 * A file (or byte buffer) is malformed, unsupported or unsafe to read.
 *
 * The message always starts with the source name (a file name or 'bytes'), then says what is wrong
 * and what was expected, e.g.
 * `state_dict.safetensors: tensor 'pos_embed' spans 12800 bytes (data_offsets [256, 13056]) but shape [1, 50, 64] of F32 needs 12800`.
 */
export class WeightsFormatError extends Error {
  /** The file name (or 'bytes') given to the reader. */
  readonly source: string;

  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'WeightsFormatError';
    this.source = source;
  }
}
