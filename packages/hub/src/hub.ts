/**
 * The files of a source, from the cache or downloaded into it: `config.json` and
 * `model.safetensors` (else `pytorch_model.bin`) of a Hugging Face ViTMAE repository, or the one
 * file of an official checkpoint or a URL.
 */
import { type CachedFile, type CacheKey, type HubCache, isPartial, MemoryCache } from './cache.js';
import { type DownloadProgress, downloadFile, type FileRequest, type TransferOptions } from './download.js';
import { HubError } from './errors.js';
import { type ExpectedContent } from './sniff.js';
import { DEFAULT_HF_ENDPOINT, hfFileUrl, parseSource, type HfSource, type PretrainedSource, type SourceOptions, sourceForms } from './sources.js';

/** Everything that shapes a fetch. */
export interface HubOptions extends SourceOptions, TransferOptions {
  /** Hugging Face access token, sent as `Authorization: Bearer` to the hub endpoint only. */
  token?: string;
  /** Use the cache only: a file that is not there is an error naming it. */
  offline?: boolean;
  /** Where files are kept; `false`: nowhere (every load downloads). */
  cache?: HubCache | false;
  /** Download progress of each file; a file found in the cache gives one event with `cached: true`. */
  onProgress?: (event: DownloadProgress) => void;
}

/** One file of a source, in the cache (or in memory with `cache: false`). */
export interface HubFile extends CachedFile {
  /** The file's name, e.g. `config.json`. */
  name: string;
  /** The URL it is downloaded from. */
  url: string;
  /** True when no download was needed. */
  fromCache: boolean;
}

/** The files of a source. */
export interface FetchedSource {
  source: PretrainedSource;
  /** hf: `config.json`, then `model.safetensors` or `pytorch_model.bin`; other sources: the one file. */
  files: HubFile[];
  /** Where the files are kept (a folder, the Cache API, nowhere). */
  cache: string;
}

/** The weight files of a Hugging Face ViTMAE repository, in order of preference. */
export const HF_WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin'] as const;

interface Plan {
  req: FileRequest;
  key: CacheKey;
}

function planFor(source: Exclude<PretrainedSource, { kind: 'path' }>, file: string, expect: ExpectedContent, options: HubOptions): Plan {
  if (source.kind === 'hf') {
    const url = hfFileUrl(source, file);
    const [owner, name] = source.repo.split('/');
    return {
      req: { source: source.id, file, url, expect, auth: { origin: new URL(source.endpoint).origin, token: options.token }, etagIsSha256: true },
      key: { url, scope: ['hf', owner, name, source.revision], file },
    };
  }
  const hubOrigin = source.kind === 'url' ? safeOrigin(options.endpoint ?? DEFAULT_HF_ENDPOINT) : undefined;
  const onHub = hubOrigin !== undefined && new URL(source.url).origin === hubOrigin;
  return {
    req: { source: source.id, file, url: source.url, expect, auth: onHub ? { origin: hubOrigin, token: options.token } : undefined, etagIsSha256: onHub },
    key: { url: source.url, scope: ['url', source.url], file },
  };
}

function safeOrigin(url: string): string | undefined {
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

/** Runs a cache operation, turning its failures into HubErrors naming the source and file. */
async function cacheOp<T>(plan: Plan, cache: HubCache, what: string, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof HubError) throw error;
    throw new HubError('cache', plan.req.source, plan.req.file, `cannot ${what} ${cache.locate(plan.key)}: ${(error as Error).message}`);
  }
}

function hubFile(plan: Plan, file: CachedFile, fromCache: boolean): HubFile {
  return { ...file, name: plan.req.file, url: plan.req.url, fromCache };
}

/** The cached file of a plan, or null. */
async function lookup(plan: Plan, cache: HubCache, options: HubOptions): Promise<HubFile | null> {
  const hit = await cacheOp(plan, cache, 'read', () => cache.lookup(plan.key));
  if (!hit) return null;
  options.onProgress?.({ source: plan.req.source, file: plan.req.file, bytesDone: hit.size, bytesTotal: hit.size, cached: true });
  return hubFile(plan, hit, true);
}

function offlineError(plan: Plan, cache: HubCache, alternatives?: readonly string[]): HubError {
  const hint = `offline mode is on (HF_HUB_OFFLINE=1 or the offline option): download it once while online (e.g. mae download ${plan.req.source})`;
  if (!alternatives) return new HubError('offline', plan.req.source, plan.req.file, `not in the cache (looked for ${cache.locate(plan.key)}) and ${hint}`);
  const where = cache.locate(plan.key);
  const folder = where.slice(0, Math.max(where.lastIndexOf('/'), where.lastIndexOf('\\')) + 1) || where;
  return new HubError('offline', plan.req.source, undefined, `neither ${alternatives.join(' nor ')} is in the cache (looked in ${folder}) and ${hint}`);
}

/** The file of a plan from the cache, or downloaded into it. */
async function obtain(plan: Plan, cache: HubCache, options: HubOptions): Promise<HubFile> {
  const hit = await lookup(plan, cache, options);
  if (hit) return hit;
  if (options.offline) throw offlineError(plan, cache);
  const slot = await cacheOp(plan, cache, 'write', () => cache.begin(plan.key, options.signal));
  if (!isPartial(slot)) return hubFile(plan, slot, true);
  return hubFile(plan, await downloadFile(plan.req, slot, options), false);
}

/** config.json, then model.safetensors, else pytorch_model.bin (cached ones first, with no request). */
async function fetchHf(source: HfSource, cache: HubCache, options: HubOptions): Promise<HubFile[]> {
  const config = await obtain(planFor(source, 'config.json', 'json', options), cache, options);
  const plans = HF_WEIGHT_FILES.map((f) => planFor(source, f, 'checkpoint', options));
  for (const plan of plans) {
    const hit = await lookup(plan, cache, options);
    if (hit) return [config, hit];
  }
  if (options.offline) throw offlineError(plans[0], cache, HF_WEIGHT_FILES);
  const misses: HubError[] = [];
  for (const plan of plans) {
    try {
      return [config, await obtain(plan, cache, options)];
    } catch (error) {
      const repoGone = error instanceof HubError && (error.response?.serverCode === 'RepoNotFound' || error.response?.serverCode === 'RevisionNotFound');
      if (!(error instanceof HubError) || error.code !== 'not-found' || repoGone) throw error;
      misses.push(error);
    }
  }
  throw new HubError('not-found', source.id, undefined, `the repository has neither ${HF_WEIGHT_FILES.join(' nor ')} (HTTP 404 for both under ${hfFileUrl(source, '')})`, misses[0].response);
}

/**
 * The files of `source` (a source string or a parsed source), from `cache` or downloaded into
 * it; `fallbackCache` when `options.cache` is not given. A local path is an error here (read it
 * from disk instead).
 */
export async function fetchSourceWith(source: string | PretrainedSource, options: HubOptions, fallbackCache: () => HubCache): Promise<FetchedSource> {
  const parsed = typeof source === 'string' ? parseSource(source, options) : source;
  const cache = options.cache === false ? new MemoryCache() : (options.cache ?? fallbackCache());
  if (parsed.kind === 'path') throw new HubError('bad-source', parsed.id, undefined, `is a local path, so there is nothing to download: give ${sourceForms().replace(', or a local path', '')}`);
  if (options.signal?.aborted) throw new HubError('aborted', parsed.id, undefined, 'cancelled before it started');
  const files = parsed.kind === 'hf' ? await fetchHf(parsed, cache, options) : [await obtain(planFor(parsed, parsed.file, 'checkpoint', options), cache, options)];
  return { source: parsed, files, cache: cache.description };
}
