/** The one error type of @maejs/hub: names the source, the file and the cause. */

/** What went wrong, for code that reacts to it (the message says it for people). */
export type HubErrorCode =
  /** The source string is not hf:<owner>/<name>[@revision], a known name, a URL or a path. */
  | 'bad-source'
  /** HTTP 404: no such repository, revision or file. */
  | 'not-found'
  /** HTTP 401 / 403: private or gated; a token is missing or refused. */
  | 'unauthorized'
  /** Another HTTP status that retrying did not cure. */
  | 'http'
  /** The server could not be reached (DNS, refused, reset) after every retry. */
  | 'network'
  /** No response, or no data, within the per-request timeout, after every retry. */
  | 'timeout'
  /** The body ended before the size the server announced, after every retry. */
  | 'truncated'
  /** More bytes than announced, or sizes that contradict each other. */
  | 'size-mismatch'
  /** The SHA-256 of the bytes differs from the one the server gave. */
  | 'hash-mismatch'
  /** The body is not what the file must be (an HTML page, not a checkpoint or not JSON). */
  | 'not-a-checkpoint'
  /** Larger than the `maxBytes` accepted. */
  | 'too-large'
  /** Offline mode and the file is not in the cache. */
  | 'offline'
  /** Cancelled through the caller's AbortSignal. */
  | 'aborted'
  /** The cache could not be read or written. */
  | 'cache';

/**
 * A failed download or lookup. The message reads `<source>: <file>: <cause>`, e.g.
 * `hf:facebook/vit-mae-base@main: model.safetensors: not found (HTTP 404) at https://...`.
 */
export class HubError extends Error {
  constructor(
    readonly code: HubErrorCode,
    /** The source as given or normalised: `hf:owner/name@revision`, a name, a URL. */
    readonly source: string,
    /** The file of the source, when the error is about one. */
    readonly file: string | undefined,
    problem: string,
    /** The HTTP status and the hub's `X-Error-Code`, when a response caused the error. */
    readonly response?: { status: number; serverCode?: string },
  ) {
    super(`${source}${file ? `: ${file}` : ''}: ${problem}`);
    this.name = 'HubError';
  }
}

/** A byte count for messages: `1,234 bytes` below 10 kB, else `12.3 MB` (10^6). */
export function bytesText(n: number): string {
  if (n < 10_000) return `${n.toLocaleString('en')} bytes`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = n / 1000;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
