/**
 * Verified downloads (Node): fetch from a list of mirrors, check the SHA-256, write atomically.
 * Only ever called when the user opts in (`allowDownload: true`).
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { bytesText } from './errors.js';

/** The subset of `fetch` used here (inject a fake in tests). */
export type FetchLike = (url: string) => Promise<FetchedResponse>;

/** The subset of a fetch `Response` used here. */
export interface FetchedResponse {
  ok: boolean;
  status: number;
  statusText?: string;
  body?: ReadableStream<Uint8Array> | null;
  /** The whole body (read when `body` is absent). */
  arrayBuffer(): Promise<ArrayBuffer>;
}

/** One file to download. */
export interface DownloadSpec {
  /** Mirrors tried in order. */
  urls: readonly string[];
  /** Expected SHA-256, lowercase hex. */
  sha256: string;
  /** Refuse responses larger than this. */
  maxBytes: number;
}

/** A download failed on every mirror; `message` lists each mirror's failure. */
export class DownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DownloadError';
  }
}

/** SHA-256 of `bytes`, lowercase hex. */
export function sha256Hex(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Downloads `spec` to `destination` (via a temporary file renamed into place, so a partial
 * download never looks like a complete file). Tries each mirror until one returns bytes with
 * the expected SHA-256.
 */
export async function downloadVerified(spec: DownloadSpec, destination: string, fetchImpl: FetchLike = globalThis.fetch): Promise<void> {
  const failures: string[] = [];
  for (const url of spec.urls) {
    try {
      const bytes = await fetchChecked(url, spec, fetchImpl);
      await writeAtomically(destination, bytes);
      return;
    } catch (error) {
      failures.push(`  ${url}: ${(error as Error).message}`);
    }
  }
  throw new DownloadError(`could not download ${destination}:\n${failures.join('\n')}`);
}

async function fetchChecked(url: string, spec: DownloadSpec, fetchImpl: FetchLike): Promise<Uint8Array> {
  const response = await fetchImpl(url);
  if (!response.ok) throw new Error(`HTTP ${response.status} ${response.statusText ?? ''}`.trim());
  const bytes = await readBounded(response, spec.maxBytes);
  const actual = sha256Hex(bytes);
  if (actual !== spec.sha256) throw new Error(`SHA-256 mismatch: expected ${spec.sha256}, got ${actual}`);
  return bytes;
}

/** The response body, refused (and the transfer cancelled) once it passes `maxBytes`. */
async function readBounded(response: FetchedResponse, maxBytes: number): Promise<Uint8Array> {
  const tooLarge = (n: number): Error => new Error(`response is larger than the expected maximum of ${bytesText(maxBytes)} (${n} bytes received)`);
  if (!response.body) {
    const bytes = new Uint8Array(await response.arrayBuffer());
    if (bytes.length > maxBytes) throw tooLarge(bytes.length);
    return bytes;
  }
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      throw tooLarge(total);
    }
    chunks.push(value);
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, offset);
    offset += chunk.length;
  }
  return bytes;
}

async function writeAtomically(destination: string, bytes: Uint8Array): Promise<void> {
  await mkdir(dirname(destination), { recursive: true });
  const partial = `${destination}.partial-${process.pid}`;
  try {
    await writeFile(partial, bytes);
    await rename(partial, destination);
  } finally {
    await rm(partial, { force: true });
  }
}
