/**
 * The Node cache: a folder. Layout below it:
 *
 *   hf/<owner>/<name>/<revision>/<file>               a Hugging Face file (revision URL-encoded)
 *   url/<host>/<first 16 hex of sha256(url)>/<file>   a URL (official checkpoints included)
 *
 * Beside each file: `<file>.meta.json` (URL, size, SHA-256, ETag, date). While a download runs:
 * `<file>.incomplete` (the bytes so far), `<file>.incomplete.json` (what the server said, for
 * resuming) and `<file>.lock` (pid of the downloading process). A file reaches its final name only
 * by a rename after its size and hash were checked and its bytes synced to disk, so a crash never
 * leaves a half file under the final name; the next download resumes from `.incomplete`.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, utimes, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CachedFile, CacheKey, HubCache, PartialFile, TransferInfo } from './cache.js';
import { HubError } from './errors.js';

/** A lock not refreshed for this long belongs to a process that is gone or stuck. */
const STALE_LOCK_MS = 120_000;
/** How often a downloading process refreshes its lock. */
const LOCK_REFRESH_MS = 5_000;
const LOCK_POLL_MS = 200;

/** A folder or file name part, safe on every file system (no separators, no `.`/`..`). */
function safePart(part: string): string {
  const encoded = encodeURIComponent(part).replace(/[*]/g, '%2A');
  return /^\.+$/.test(encoded) ? encoded.replace(/\./g, '%2E') : encoded;
}

function sha256Text(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

async function readJson(path: string): Promise<Record<string, unknown> | null> {
  try {
    const value = JSON.parse(await readFile(path, 'utf8')) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

/** Writes JSON through a temporary file and a rename. */
async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const temp = `${path}.tmp-${process.pid}`;
  await writeFile(temp, `${JSON.stringify(value, null, 1)}\n`);
  await rename(temp, path);
}

/** TransferInfo from a JSON record, or null when it does not look like one. */
function transferInfo(json: Record<string, unknown> | null): TransferInfo | null {
  if (!json || typeof json.url !== 'string') return null;
  const size = typeof json.size === 'number' && Number.isSafeInteger(json.size) && json.size >= 0 ? json.size : undefined;
  const sha256 = typeof json.sha256 === 'string' && /^[0-9a-f]{64}$/.test(json.sha256) ? json.sha256 : undefined;
  const etag = typeof json.etag === 'string' ? json.etag : undefined;
  return { url: json.url, size, sha256, etag };
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function wait(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new Error('cancelled'));
    const handle = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(handle), reject(new Error('cancelled'))), { once: true });
  });
}

/** Takes `<file>.lock`, waiting while a live process holds it; returns its release and refresh. */
async function acquireLock(path: string, signal: AbortSignal | undefined, what: string): Promise<{ release: () => Promise<void>; refresh: () => void }> {
  for (;;) {
    try {
      const handle = await open(path, 'wx');
      await handle.writeFile(String(process.pid));
      await handle.close();
      let last = Date.now();
      return {
        release: () => rm(path, { force: true }),
        refresh: () => {
          if (Date.now() - last < LOCK_REFRESH_MS) return;
          last = Date.now();
          const now = new Date();
          utimes(path, now, now).catch(() => undefined);
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const [holder, info] = await Promise.all([readFile(path, 'utf8').catch(() => ''), stat(path).catch(() => null)]);
    const pid = Number(holder.trim());
    const age = info ? Date.now() - info.mtimeMs : Number.POSITIVE_INFINITY;
    const stale = age > STALE_LOCK_MS || (holder.trim() !== '' && (!Number.isSafeInteger(pid) || !alive(pid)));
    if (stale) {
      await rm(path, { force: true });
      continue;
    }
    try {
      await wait(LOCK_POLL_MS, signal);
    } catch {
      throw new HubError('aborted', what, undefined, `cancelled while waiting for another download of it (lock ${path})`);
    }
  }
}

/** SHA-256 state of a file's bytes, read as a stream. */
async function hashFile(path: string, hash: Hash): Promise<void> {
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
}

/** A download in progress: `<file>.incomplete` plus its transfer info. */
class FilePartial implements PartialFile {
  readonly resumable = true;
  private closed = false;

  private constructor(
    private readonly path: string,
    private readonly handle: FileHandle,
    private hash: Hash,
    public held: number,
    public info: TransferInfo | null,
    private readonly lock: { release: () => Promise<void>; refresh: () => void },
  ) {}

  get location(): string {
    return `${this.path}.incomplete`;
  }

  private get infoPath(): string {
    return `${this.path}.incomplete.json`;
  }

  /** Opens (or creates) the partial file of `path`; bytes without transfer info are dropped. */
  static async open(path: string, lock: { release: () => Promise<void>; refresh: () => void }): Promise<FilePartial> {
    const handle = await open(`${path}.incomplete`, 'a+');
    try {
      let held = (await handle.stat()).size;
      const info = transferInfo(await readJson(`${path}.incomplete.json`));
      const hash = createHash('sha256');
      if (held > 0 && info) await hashFile(`${path}.incomplete`, hash);
      else if (held > 0) {
        await handle.truncate(0);
        held = 0;
      }
      return new FilePartial(path, handle, hash, held, held > 0 ? info : null, lock);
    } catch (error) {
      await handle.close();
      throw error;
    }
  }

  async setInfo(info: TransferInfo): Promise<void> {
    this.info = info;
    await writeJsonAtomic(this.infoPath, info);
  }

  async append(chunk: Uint8Array): Promise<void> {
    await this.handle.write(chunk);
    this.hash.update(chunk);
    this.held += chunk.length;
    this.lock.refresh();
  }

  async reset(): Promise<void> {
    await this.handle.truncate(0);
    this.hash = createHash('sha256');
    this.held = 0;
    this.info = null;
    await rm(this.infoPath, { force: true });
  }

  async sha256(): Promise<string> {
    return this.hash.copy().digest('hex');
  }

  private async release(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.handle.close().catch(() => undefined);
    await this.lock.release();
  }

  async commit(meta: { url: string; size: number; sha256: string; etag?: string }): Promise<CachedFile> {
    try {
      await this.handle.datasync();
      await this.handle.close();
      this.closed = true;
      await writeJsonAtomic(`${this.path}.meta.json`, { url: meta.url, size: meta.size, sha256: meta.sha256, etag: meta.etag ?? null, downloaded: new Date().toISOString() });
      await rename(this.location, this.path);
      await rm(this.infoPath, { force: true });
    } finally {
      await this.lock.release();
    }
    const path = this.path;
    return { location: path, size: meta.size, sha256: meta.sha256, read: () => readBytes(path) };
  }

  async discard(): Promise<void> {
    await this.release();
    await rm(this.location, { force: true });
    await rm(this.infoPath, { force: true });
  }

  async close(): Promise<void> {
    await this.release();
  }
}

/** A whole file, read in 64 MiB pieces into one array (fs.readFile stops at 2 GiB; ViT-H checkpoints are larger). */
export async function readBytes(path: string): Promise<Uint8Array> {
  const handle = await open(path, 'r');
  try {
    const size = (await handle.stat()).size;
    const bytes = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const { bytesRead } = await handle.read(bytes, at, Math.min(64 * 1024 * 1024, size - at), at);
      if (bytesRead === 0) throw new Error(`${path} ended after ${at} of ${size} bytes while being read`);
      at += bytesRead;
    }
    return bytes;
  } finally {
    await handle.close();
  }
}

/** A cache in a folder (see the file comment for the layout). */
export class FileCache implements HubCache {
  constructor(
    /** The folder, e.g. `~/.cache/maejs/hub`. */
    readonly dir: string,
  ) {}

  get description(): string {
    return this.dir;
  }

  /** The folder of a key's files. */
  folder(key: CacheKey): string {
    if (key.scope[0] === 'hf') return join(this.dir, 'hf', ...key.scope.slice(1).map(safePart));
    const url = new URL(key.scope[1] ?? key.url);
    return join(this.dir, 'url', safePart(url.host.replace(/:/g, '_')), sha256Text(url.href).slice(0, 16));
  }

  locate(key: CacheKey): string {
    return join(this.folder(key), safePart(key.file));
  }

  async lookup(key: CacheKey): Promise<CachedFile | null> {
    const path = this.locate(key);
    let size: number;
    try {
      const info = await stat(path);
      if (!info.isFile()) return null;
      size = info.size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
    const meta = await readJson(`${path}.meta.json`);
    if (meta && (meta.size !== size || (key.scope[0] === 'url' && meta.url !== key.url))) return null;
    const sha256 = typeof meta?.sha256 === 'string' ? meta.sha256 : undefined;
    return { location: path, size, sha256, read: () => readBytes(path) };
  }

  async begin(key: CacheKey, signal?: AbortSignal): Promise<CachedFile | PartialFile> {
    const path = this.locate(key);
    await mkdir(dirname(path), { recursive: true });
    const lock = await acquireLock(`${path}.lock`, signal, key.url);
    try {
      const done = await this.lookup(key);
      if (done) {
        await lock.release();
        return done;
      }
      return await FilePartial.open(path, lock);
    } catch (error) {
      await lock.release();
      throw error;
    }
  }
}
