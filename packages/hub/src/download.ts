/**
 * One file over HTTP into a partial file of a cache: redirects (followed by hand in Node, so the
 * hub's X-Linked-Etag / X-Linked-Size on the redirect are seen), a timeout per request and per
 * pause in the body, bounded retries with exponential backoff, resuming with Range from the
 * bytes held (checked against the 206's Content-Range), a look at the first bytes, and the size
 * and SHA-256 checked before the file is committed.
 */
import { type CachedFile, type PartialFile } from './cache.js';
import { bytesText, HubError, type HubErrorCode } from './errors.js';
import { type ExpectedContent, SNIFF_BYTES, sniffProblem } from './sniff.js';

/** Progress of one file. Sent when a transfer starts, as bytes arrive (at most every 100 ms or 1 %), and at the end. */
export interface DownloadProgress {
  /** The source, e.g. `hf:facebook/vit-mae-base@main`. */
  source: string;
  /** The file, e.g. `model.safetensors`. */
  file: string;
  bytesDone: number;
  /** null while the server has not said the size. */
  bytesTotal: number | null;
  /** True when the file came from the cache (one event, bytesDone = bytesTotal). */
  cached: boolean;
}

/** How transfers behave. */
export interface TransferOptions {
  signal?: AbortSignal;
  /** Longest wait for a response, and for the next bytes of a body, in ms. Default 30000. */
  timeoutMs?: number;
  /** Further attempts after a network error, a timeout, a cut-off body or HTTP 408/429/5xx. Default 4. */
  retries?: number;
  /** Wait before the first retry, in ms; doubled for each further one, at most 30 s. Default 1000. */
  retryDelayMs?: number;
  /** Largest file accepted, in bytes. Default 16 GiB. */
  maxBytes?: number;
  /** Called when a response starts, as bytes arrive (at most every 100 ms or 1% of the file), and when the file is complete. */
  onProgress?: (event: DownloadProgress) => void;
}

/** One file to download. */
export interface FileRequest {
  /** The source id, for messages and progress. */
  source: string;
  file: string;
  url: string;
  expect: ExpectedContent;
  /** A token sent as `Authorization: Bearer` to this origin only (the hub's). */
  auth?: { origin: string; token?: string };
  /** True when a strong ETag of 64 hex digits is the SHA-256 of the content (the hub's LFS files). */
  etagIsSha256: boolean;
}

/** The {@link TransferOptions} used when not given: 30 s timeout, 4 retries from 1 s, files up to 16 GiB. */
export const TRANSFER_DEFAULTS = { timeoutMs: 30_000, retries: 4, retryDelayMs: 1000, maxBytes: 2 ** 34 } as const;
const MAX_RETRY_DELAY_MS = 30_000;
const MAX_REDIRECTS = 10;
/** Largest JSON file (config.json) accepted. */
const MAX_JSON_BYTES = 16 * 1024 * 1024;
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

/** Redirects are followed by hand where fetch shows them (Node); a browser follows them itself. */
const manualRedirects = typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

/** A failure worth another attempt. */
class Retry extends Error {
  constructor(readonly code: HubErrorCode, readonly problem: string) {
    super(problem);
  }
}

/** Aborts a request when no response or no bytes came for `ms`. */
class IdleTimer {
  private handle: ReturnType<typeof setTimeout> | undefined;
  fired = false;

  constructor(
    private readonly ms: number,
    private readonly controller: AbortController,
  ) {}

  arm(): void {
    clearTimeout(this.handle);
    this.handle = setTimeout(() => {
      this.fired = true;
      this.controller.abort();
    }, this.ms);
  }

  stop(): void {
    clearTimeout(this.handle);
  }
}

/** The SHA-256 in an ETag-like header (`"<64 hex>"`), or undefined (weak or other ETags). */
function sha256Of(header: string | null): string | undefined {
  const m = header ? /^"?([0-9a-fA-F]{64})"?$/.exec(header.trim()) : null;
  return m ? m[1].toLowerCase() : undefined;
}

/** A non-negative integer header, or undefined. */
function sizeOf(header: string | null): number | undefined {
  if (header === null || !/^\d{1,16}$/.test(header.trim())) return undefined;
  const n = Number(header.trim());
  return Number.isSafeInteger(n) ? n : undefined;
}

/** The cause of a fetch failure in a few words (undici puts the system error in `cause`). */
function causeOf(error: unknown): string {
  const e = error as { message?: string; cause?: { code?: string; message?: string } };
  return e?.cause?.code ?? e?.cause?.message ?? e?.message ?? String(error);
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(handle);
      reject(signal!.reason);
    };
    const handle = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

interface Answer {
  response: Response;
  url: string;
  linkedSha256?: string;
  linkedSize?: number;
}

/** GET with redirects; the token goes only to the hub's origin. */
async function request(req: FileRequest, headers: Record<string, string>, signal: AbortSignal): Promise<Answer> {
  let url = req.url;
  let linkedSha256: string | undefined;
  let linkedSize: number | undefined;
  for (let hop = 0; ; hop++) {
    const sent = { ...headers };
    if (req.auth?.token && new URL(url).origin === req.auth.origin) sent.Authorization = `Bearer ${req.auth.token}`;
    const response = await fetch(url, { headers: sent, signal, redirect: manualRedirects ? 'manual' : 'follow' });
    linkedSha256 ??= sha256Of(response.headers.get('x-linked-etag'));
    linkedSize ??= sizeOf(response.headers.get('x-linked-size'));
    if (!manualRedirects || !REDIRECT_STATUSES.has(response.status)) return { response, url, linkedSha256, linkedSize };
    const location = response.headers.get('location');
    await response.body?.cancel().catch(() => undefined);
    if (!location) throw new HubError('http', req.source, req.file, `HTTP ${response.status} redirect without a Location header at ${url}`, { status: response.status });
    if (hop >= MAX_REDIRECTS) throw new HubError('http', req.source, req.file, `more than ${MAX_REDIRECTS} redirects, starting at ${req.url}`, { status: response.status });
    let next: URL | undefined;
    try {
      next = new URL(location, url);
    } catch {
      next = undefined;
    }
    if (!next || (next.protocol !== 'https:' && next.protocol !== 'http:')) throw new HubError('http', req.source, req.file, `HTTP ${response.status} at ${url} redirects to '${location}', which is not an http(s) URL`, { status: response.status });
    url = next.href;
  }
}

/** The error for an unsuccessful status: terminal, or a Retry for statuses worth retrying. */
function statusError(req: FileRequest, answer: Answer): HubError | Retry {
  const { response, url } = answer;
  const status = response.status;
  const serverCode = response.headers.get('x-error-code') ?? undefined;
  const serverMessage = response.headers.get('x-error-message') ?? undefined;
  const said = serverCode || serverMessage ? `; the server says: ${[serverCode, serverMessage].filter(Boolean).join(': ')}` : '';
  const http = `HTTP ${status}${response.statusText ? ` ${response.statusText}` : ''}`;
  if (status === 404) {
    const what = serverCode === 'RepoNotFound' ? 'repository not found' : serverCode === 'RevisionNotFound' ? 'revision not found' : 'not found';
    return new HubError('not-found', req.source, req.file, `${what} (${http}) at ${url}${said}`, { status, serverCode });
  }
  if (status === 401 || status === 403) {
    const help = !req.auth
      ? 'the server refuses this file (a Hugging Face token is sent only to the hub endpoint)'
      : req.auth.token
        ? 'the token (HF_TOKEN or the token option) was refused or cannot read this repository: check it, and for a gated repository accept its conditions on the model page'
        : 'the repository does not exist, or it is private or gated: set HF_TOKEN (or pass the token option) to a Hugging Face access token that can read it';
    return new HubError('unauthorized', req.source, req.file, `access denied (${http}) at ${url}${said}: ${help}`, { status, serverCode });
  }
  if (status === 408 || status === 429 || status >= 500) return new Retry('http', `${http} at ${url}${said}`);
  return new HubError('http', req.source, req.file, `unexpected ${http} at ${url}${said}`, { status, serverCode });
}

/** State shared by the attempts of one download. */
interface Transfer {
  req: FileRequest;
  partial: PartialFile;
  options: Required<Omit<TransferOptions, 'signal' | 'onProgress'>> & TransferOptions;
  /** Total size, once known. */
  total?: number;
  /** The SHA-256 the server gave, and where it was. */
  sha256?: { hex: string; from: string };
  etag?: string;
  lastEvent: { at: number; bytes: number };
}

function progress(t: Transfer, force: boolean, done = t.partial.held): void {
  const { onProgress } = t.options;
  if (!onProgress) return;
  const now = Date.now();
  if (!force && now - t.lastEvent.at < 100 && !(t.total && done - t.lastEvent.bytes >= t.total / 100)) return;
  t.lastEvent = { at: now, bytes: done };
  onProgress({ source: t.req.source, file: t.req.file, bytesDone: done, bytesTotal: t.total ?? null, cached: false });
}

/** Sizes and hashes of a 200 / 206 response, checked against each other and the bytes held. */
async function acceptResponse(t: Transfer, answer: Answer): Promise<number> {
  const { response } = answer;
  const held = t.partial.held;
  let start = 0;
  let total: number | undefined;
  if (response.status === 206) {
    const range = response.headers.get('content-range') ?? '';
    const m = /^bytes (\d{1,16})-(\d{1,16})\/(\d{1,16}|\*)$/.exec(range.trim());
    const [first, last] = m ? [Number(m[1]), Number(m[2])] : [NaN, NaN];
    total = m && m[3] !== '*' ? Number(m[3]) : undefined;
    if (!m || first !== held || last < first || (total !== undefined && last >= total)) {
      await t.partial.reset();
      throw new Retry('http', `HTTP 206 with Content-Range '${range}' does not continue at byte ${held}; starting over`);
    }
    start = first;
  } else {
    if (held > 0) await t.partial.reset();
    // A compressed body's Content-Length is not the file's size; a config may come compressed.
    const encoded = (response.headers.get('content-encoding') ?? 'identity') !== 'identity';
    if (t.req.expect === 'checkpoint' && !encoded) total = sizeOf(response.headers.get('content-length'));
  }
  if (answer.linkedSize !== undefined) {
    if (total !== undefined && total !== answer.linkedSize) throw new HubError('size-mismatch', t.req.source, t.req.file, `the response is ${total} bytes but X-Linked-Size says ${answer.linkedSize} (${answer.url})`);
    total = answer.linkedSize;
  }
  const sha = answer.linkedSha256 ? { hex: answer.linkedSha256, from: 'X-Linked-Etag' } : t.req.etagIsSha256 && sha256Of(response.headers.get('etag')) ? { hex: sha256Of(response.headers.get('etag'))!, from: 'ETag' } : undefined;
  const before = t.partial.info;
  if (start > 0 && before && ((before.size !== undefined && total !== undefined && before.size !== total) || (before.sha256 && sha && before.sha256 !== sha.hex))) {
    await t.partial.reset();
    throw new Retry('http', 'the file on the server changed since the partial download began; starting over');
  }
  if (total !== undefined && total > t.options.maxBytes) throw new HubError('too-large', t.req.source, t.req.file, `is ${bytesText(total)}, more than the ${bytesText(t.options.maxBytes)} accepted (maxBytes)`);
  t.total = total ?? (start > 0 ? before?.size : undefined);
  t.sha256 = sha ?? (start > 0 && before?.sha256 ? { hex: before.sha256, from: 'the earlier response' } : undefined);
  t.etag = response.headers.get('etag') ?? undefined;
  if (start === 0 || !before) await t.partial.setInfo({ url: t.req.url, etag: t.etag, size: t.total, sha256: t.sha256?.hex });
  return start;
}

/** Appends one chunk, refusing bytes beyond the announced size. */
async function write(t: Transfer, chunk: Uint8Array): Promise<void> {
  const after = t.partial.held + chunk.length;
  if ((t.total !== undefined && after > t.total) || after > t.options.maxBytes) {
    const limit = t.total !== undefined && after > t.total ? `the ${t.total} bytes announced` : `the ${bytesText(t.options.maxBytes)} accepted (maxBytes)`;
    throw new HubError('size-mismatch', t.req.source, t.req.file, `the server sent more than ${limit}`);
  }
  await t.partial.append(chunk);
  progress(t, false);
}

/** Reads the body into the partial file; the first bytes of a fresh body are looked at first. */
async function readBody(t: Transfer, response: Response, start: number, timer: IdleTimer): Promise<void> {
  if (!response.body) return;
  const reader = response.body.getReader();
  let sniffed = start > 0;
  const head: Uint8Array[] = [];
  let headBytes = 0;
  const flushHead = async () => {
    sniffed = true;
    const bytes = new Uint8Array(headBytes);
    let at = 0;
    for (const c of head) {
      bytes.set(c, at);
      at += c.length;
    }
    const problem = sniffProblem(bytes, t.req.expect, response.headers.get('content-type'));
    if (problem) throw new HubError('not-a-checkpoint', t.req.source, t.req.file, `${problem} (${t.req.url})`);
    if (bytes.length) await write(t, bytes);
  };
  let finished = false;
  try {
    for (;;) {
      timer.arm();
      const { done, value } = await reader.read();
      if (done) break;
      if (!value?.length) continue;
      if (sniffed) await write(t, value);
      else {
        head.push(value);
        headBytes += value.length;
        if (headBytes >= SNIFF_BYTES) await flushHead();
      }
    }
    finished = true;
    if (!sniffed) await flushHead();
  } catch (error) {
    if (error instanceof HubError) throw error;
    if (timer.fired) throw new Retry('timeout', `no data for ${t.options.timeoutMs / 1000} s after ${t.partial.held} of ${t.total ?? '?'} bytes`);
    throw new Retry('truncated', `the connection broke after ${t.partial.held} of ${t.total ?? '?'} bytes (${causeOf(error)})`);
  } finally {
    if (!finished) await reader.cancel().catch(() => undefined);
  }
}

/** One attempt; resolves when the whole file is held. */
async function attempt(t: Transfer): Promise<void> {
  const controller = new AbortController();
  const signal = t.options.signal;
  const onAbort = () => controller.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  const timer = new IdleTimer(t.options.timeoutMs, controller);
  try {
    const headers: Record<string, string> = { 'Accept-Encoding': 'identity' };
    const held = t.partial.held;
    if (held > 0) {
      headers.Range = `bytes=${held}-`;
      // If-Range only where redirects are followed by hand: in a browser it would make a
      // cross-origin request need a CORS preflight; the Content-Range and the hash are checked anyway.
      const etag = t.partial.info?.etag;
      if (manualRedirects && etag && !etag.startsWith('W/')) headers['If-Range'] = etag;
    }
    timer.arm();
    let answer: Answer;
    try {
      answer = await request(t.req, headers, controller.signal);
    } catch (error) {
      if (error instanceof HubError) throw error;
      if (signal?.aborted) throw error;
      if (timer.fired) throw new Retry('timeout', `no response within ${t.options.timeoutMs / 1000} s from ${t.req.url}`);
      throw new Retry('network', `cannot reach ${new URL(t.req.url).host} (${causeOf(error)})`);
    }
    const status = answer.response.status;
    if (status === 416 && held > 0) {
      await answer.response.body?.cancel().catch(() => undefined);
      await t.partial.reset();
      throw new Retry('http', `HTTP 416 for bytes ${held}- of ${answer.url}; starting over`);
    }
    if (status !== 200 && status !== 206) {
      await answer.response.body?.cancel().catch(() => undefined);
      throw statusError(t.req, answer);
    }
    let start: number;
    try {
      start = await acceptResponse(t, answer);
    } catch (error) {
      await answer.response.body?.cancel().catch(() => undefined);
      throw error;
    }
    progress(t, true);
    await readBody(t, answer.response, start, timer);
    if (t.total !== undefined && t.partial.held < t.total) throw new Retry('truncated', `the body ended after ${t.partial.held} of ${t.total} bytes (the server announced ${t.total})`);
  } catch (error) {
    if (signal?.aborted) throw new HubError('aborted', t.req.source, t.req.file, `cancelled (${String(signal.reason?.message ?? signal.reason ?? 'aborted')}) after ${t.partial.held} bytes`);
    throw error;
  } finally {
    timer.stop();
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Checks the held bytes and commits them; a wrong hash deletes them. */
async function finish(t: Transfer): Promise<CachedFile> {
  const size = t.partial.held;
  const actual = await t.partial.sha256();
  if (t.sha256 && actual !== t.sha256.hex) {
    await t.partial.discard();
    throw new HubError('hash-mismatch', t.req.source, t.req.file, `the SHA-256 of the ${size} bytes received is ${actual}, but the server gave ${t.sha256.hex} (${t.sha256.from}); the download was deleted. Try again; if it happens again, the file on the server or something on the way is corrupt`);
  }
  const file = await t.partial.commit({ url: t.req.url, size, sha256: actual, etag: t.etag });
  t.total = size;
  progress(t, true, size);
  return file;
}

/**
 * Downloads `req` into `partial` and commits it, or throws a {@link HubError}. Failures that
 * may pass (network errors, timeouts, a cut-off body, HTTP 408/429/5xx) are retried up to
 * `retries` times, waiting `retryDelayMs`, then twice as long each time; a retry resumes from the
 * bytes held. The held bytes are kept in a resumable partial file after such failures and after
 * a cancel; they are deleted after any other failure (a wrong hash, a body that is not the file).
 */
export async function downloadFile(req: FileRequest, partial: PartialFile, options: TransferOptions = {}): Promise<CachedFile> {
  const t: Transfer = { req, partial, options: { ...TRANSFER_DEFAULTS, ...stripUndefined(options) }, lastEvent: { at: 0, bytes: 0 } };
  if (req.expect === 'json') t.options.maxBytes = Math.min(t.options.maxBytes, MAX_JSON_BYTES);
  const attempts = Math.max(0, Math.floor(t.options.retries)) + 1;
  try {
    const info = partial.info;
    if (info?.size !== undefined && partial.held > info.size) await partial.reset();
    if (info?.size !== undefined && partial.held === info.size && partial.held > 0) {
      // A complete partial file from an earlier run that stopped before committing it.
      t.total = info.size;
      t.sha256 = info.sha256 ? { hex: info.sha256, from: 'the earlier response' } : undefined;
      t.etag = info.etag;
      if (!info.sha256 || (await partial.sha256()) === info.sha256) return await finish(t);
      await partial.reset();
    }
    let last: Retry | undefined;
    for (let n = 1; n <= attempts; n++) {
      if (n > 1) {
        try {
          await sleep(Math.min(t.options.retryDelayMs * 2 ** (n - 2), MAX_RETRY_DELAY_MS), options.signal);
        } catch {
          throw new HubError('aborted', req.source, req.file, `cancelled after ${partial.held} bytes`);
        }
      }
      try {
        await attempt(t);
        return await finish(t);
      } catch (error) {
        if (!(error instanceof Retry)) throw error;
        last = error;
      }
    }
    const kept = partial.held > 0 && partial.resumable ? `; the ${partial.held} bytes received are kept in ${partial.location} and the next try resumes from there` : '';
    throw new HubError(last!.code, req.source, req.file, `${last!.problem}; gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}${kept}`);
  } catch (error) {
    const keep = error instanceof HubError && ['aborted', 'network', 'timeout', 'truncated', 'http'].includes(error.code);
    if (keep) await partial.close();
    else await partial.discard().catch(() => undefined);
    if (error instanceof HubError) throw error;
    throw new HubError('cache', req.source, req.file, `cannot write ${partial.location}: ${(error as Error).message}`);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
