/**
 * Where downloaded files are kept. A cache hands out complete, verified files, and partial
 * files that a download appends to and then commits (verified) or discards. Implementations:
 * {@link BrowserCache} (the Cache API), {@link MemoryCache} (nothing kept: `cache: false`), and
 * `FileCache` in `@maejs/hub/node` (a folder, with atomic writes and resumable partial files).
 */

/** Identifies one file of one source. */
export interface CacheKey {
  /** The URL the file is downloaded from (the browser cache's key). */
  url: string;
  /** Folder parts under the cache: `['hf', owner, name, revision]` or `['url', url]`. */
  scope: readonly string[];
  /** The file name, e.g. `model.safetensors`. */
  file: string;
}

/** What a transfer learned about the file from the server, kept with a partial file for resuming. */
export interface TransferInfo {
  url: string;
  /** The final response's ETag, sent back as If-Range when resuming. */
  etag?: string;
  /** The whole file's size, when the server said it. */
  size?: number;
  /** The SHA-256 the server gave (lowercase hex), when it gave one. */
  sha256?: string;
}

/** A complete file in a cache. */
export interface CachedFile {
  /** Where it is: a path (Node), a Cache API entry (browser), or `memory`. */
  location: string;
  size: number;
  /** SHA-256 of the bytes (lowercase hex), recorded when they were downloaded. */
  sha256?: string;
  /** The bytes. */
  read(): Promise<Uint8Array>;
}

/** A file being downloaded: appended to, then committed or discarded. */
export interface PartialFile {
  /** Where the partial bytes are (for messages). */
  readonly location: string;
  /** True when the held bytes outlive this process (a later download resumes from them). */
  readonly resumable: boolean;
  /** Bytes held already (from an interrupted download, or earlier attempts of this one). */
  readonly held: number;
  /** What was known about the file when the held bytes were fetched, if anything. */
  readonly info: TransferInfo | null;
  /** Records what the server said about the file, kept with the held bytes for a later resume. */
  setInfo(info: TransferInfo): Promise<void>;
  /** Adds the next bytes of the body. */
  append(chunk: Uint8Array): Promise<void>;
  /** Drops the held bytes (the server restarted from 0 or the file changed). */
  reset(): Promise<void>;
  /** SHA-256 (lowercase hex) of the bytes held. */
  sha256(): Promise<string>;
  /** Makes the held bytes the cached file (call after checking size and hash). */
  commit(meta: { url: string; size: number; sha256: string; etag?: string }): Promise<CachedFile>;
  /** Deletes the held bytes. */
  discard(): Promise<void>;
  /** Keeps the held bytes for a later resume and lets go of the file. */
  close(): Promise<void>;
}

/** A place for downloaded files. */
export interface HubCache {
  /** Where files go, for messages (a folder, the Cache API, nowhere). */
  readonly description: string;
  /** Where the file of `key` is (or would be) kept. */
  locate(key: CacheKey): string;
  /** The complete file of `key`, or null. */
  lookup(key: CacheKey): Promise<CachedFile | null>;
  /** A partial file to download `key` into, or the complete file when another download finished it meanwhile. */
  begin(key: CacheKey, signal?: AbortSignal): Promise<CachedFile | PartialFile>;
}

/** True for a partial file (as returned by {@link HubCache.begin}). */
export function isPartial(file: CachedFile | PartialFile): file is PartialFile {
  return typeof (file as PartialFile).append === 'function';
}

/** SHA-256 of bytes, lowercase hex, with Web Crypto (browsers in a secure context, Node >= 20). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const subtle = globalThis.crypto?.subtle;
  if (!subtle) throw new Error('cannot compute a SHA-256: crypto.subtle is not available (a page must be served over https or from localhost)');
  const digest = await subtle.digest('SHA-256', bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Chunks joined into one array of `total` bytes (the sum of the chunk lengths). */
function join(chunks: Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** A partial file in memory; `store` turns the verified bytes into a cached file. */
export class MemoryPartial implements PartialFile {
  private chunks: Uint8Array[] = [];
  private total = 0;
  info: TransferInfo | null = null;
  readonly resumable = false;

  constructor(
    readonly location: string,
    private readonly store: (bytes: Uint8Array, meta: { url: string; size: number; sha256: string; etag?: string }) => Promise<CachedFile>,
  ) {}

  get held(): number {
    return this.total;
  }

  /** Records what the server said about the file (kept in memory only). */
  async setInfo(info: TransferInfo): Promise<void> {
    this.info = info;
  }

  /** Adds the next bytes of the body. */
  async append(chunk: Uint8Array): Promise<void> {
    this.chunks.push(chunk);
    this.total += chunk.length;
  }

  async reset(): Promise<void> {
    this.chunks = [];
    this.total = 0;
    this.info = null;
  }

  private bytes(): Uint8Array {
    if (this.chunks.length !== 1) this.chunks = [join(this.chunks, this.total)];
    return this.chunks[0];
  }

  sha256(): Promise<string> {
    return sha256Hex(this.bytes());
  }

  async commit(meta: { url: string; size: number; sha256: string; etag?: string }): Promise<CachedFile> {
    const bytes = this.bytes();
    this.chunks = [];
    this.total = 0;
    return this.store(bytes, meta);
  }

  async discard(): Promise<void> {
    await this.reset();
  }

  async close(): Promise<void> {}
}

/** A cached file whose bytes are in memory. */
function inMemory(bytes: Uint8Array, sha256: string | undefined, location = 'memory'): CachedFile {
  return { location, size: bytes.length, sha256, read: async () => bytes };
}

/** No cache: every load downloads; the bytes live only as long as the result (`cache: false`). */
export class MemoryCache implements HubCache {
  readonly description = 'no cache (cache: false)';

  locate(): string {
    return 'memory';
  }

  async lookup(): Promise<CachedFile | null> {
    return null;
  }

  async begin(key: CacheKey): Promise<PartialFile> {
    return new MemoryPartial('memory', async (bytes, meta) => inMemory(bytes, meta.sha256));
  }
}

/**
 * The browser's Cache API (`caches`, secure contexts: https or localhost), keyed by the download
 * URL. A file is stored once it is complete and verified (Cache.put stores a whole response or
 * nothing). A transfer broken off within one load resumes from the bytes received so far; one
 * interrupted by closing the page starts again next time.
 */
export class BrowserCache implements HubCache {
  constructor(
    /** The Cache API cache to use. */
    readonly name = 'maejs-hub',
  ) {}

  get description(): string {
    return `the browser's Cache API (cache "${this.name}")`;
  }

  locate(key: CacheKey): string {
    return `Cache API "${this.name}" ${key.url}`;
  }

  private open(): Promise<Cache> {
    if (typeof caches === 'undefined') throw new Error('the Cache API is not available here: it needs a secure context (https or localhost); pass cache: false to download without keeping the files');
    return caches.open(this.name);
  }

  async lookup(key: CacheKey): Promise<CachedFile | null> {
    const cache = await this.open();
    const hit = await cache.match(key.url);
    const size = Number(hit?.headers.get('X-Maejs-Size'));
    if (!hit || !Number.isSafeInteger(size) || size < 0) return null;
    await hit.body?.cancel();
    const location = this.locate(key);
    return {
      location,
      size,
      sha256: hit.headers.get('X-Maejs-Sha256') ?? undefined,
      read: async () => {
        const again = await cache.match(key.url);
        if (!again) throw new Error(`${location} was removed from the cache`);
        const bytes = new Uint8Array(await again.arrayBuffer());
        if (bytes.length !== size) throw new Error(`${location} holds ${bytes.length} bytes; it was stored with ${size}`);
        return bytes;
      },
    };
  }

  async begin(key: CacheKey): Promise<PartialFile> {
    const location = this.locate(key);
    return new MemoryPartial(location, async (bytes, meta) => {
      const headers = { 'Content-Type': 'application/octet-stream', 'Content-Length': String(bytes.length), 'X-Maejs-Size': String(bytes.length), 'X-Maejs-Sha256': meta.sha256, 'X-Maejs-Url': meta.url };
      try {
        await (await this.open()).put(key.url, new Response(bytes as Uint8Array<ArrayBuffer>, { headers }));
      } catch (error) {
        // Over quota, private mode: the model still loads, from memory this time.
        return inMemory(bytes, meta.sha256, `memory (the Cache API did not keep it: ${(error as Error).message})`);
      }
      return inMemory(bytes, meta.sha256, location);
    });
  }
}

/** The cache a browser gets by default: the Cache API when there is one, else none. */
export function defaultBrowserCache(): HubCache {
  return typeof caches === 'undefined' ? new MemoryCache() : new BrowserCache();
}
