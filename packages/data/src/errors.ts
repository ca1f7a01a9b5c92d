/**
 * The one error class of the browser-safe core: a file, byte buffer or value is malformed,
 * unsupported or unsafe to read.
 */

/**
 * The message always starts with the source name (a file name, a URL or 'bytes'), then says what
 * is wrong and what was expected, e.g.
 * `train-images-idx3-ubyte: IDX header declares shape [60000, 28, 28] of uint8 (47040000 data bytes) but only 1000 bytes follow the 16-byte header (truncated file?)`.
 */
export class DataFormatError extends Error {
  /** The file name, URL or 'bytes' given to the reader. */
  readonly source: string;

  constructor(source: string, problem: string) {
    super(`${source}: ${problem}`);
    this.name = 'DataFormatError';
    this.source = source;
  }
}

/** `[a, b, c]` for messages. */
export function shapeText(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** Human-readable byte count for messages: `536870912 bytes (512 MiB)`. */
export function bytesText(n: number): string {
  const mib = n / (1024 * 1024);
  return mib >= 1 ? `${n} bytes (${Number.isInteger(mib) ? mib : mib.toFixed(1)} MiB)` : `${n} bytes`;
}
