/**
 * Reading IDX files from disk (Node).
 */
import { readFile, stat } from 'node:fs/promises';
import { bytesText, DataFormatError } from './errors.js';
import { DEFAULT_MAX_BYTES } from './gzip.js';
import { type IdxArray, parseIdx, type ParseIdxOptions } from './idx.js';

/**
 * Reads and parses an IDX file (`.gz` or plain). Files larger than `maxBytes` (default 512 MiB)
 * are refused before reading. Errors name the path.
 */
export async function loadIdxFile(path: string, options: ParseIdxOptions = {}): Promise<IdxArray> {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_BYTES;
  const info = await stat(path);
  if (!info.isFile()) throw new DataFormatError(path, 'is not a regular file');
  if (info.size > maxBytes) throw new DataFormatError(path, `file of ${bytesText(info.size)} is above the limit of ${bytesText(maxBytes)}`);
  const bytes = new Uint8Array(await readFile(path));
  return parseIdx(bytes, path, { maxBytes });
}
