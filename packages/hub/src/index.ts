/**
 * `@maejs/hub`: pretrained checkpoints by name or URL, downloaded once (with progress, retries and
 * resume, size and SHA-256 checked) into a cache that works offline. This entry is
 * browser-safe: it uses the global `fetch` and, by default, the Cache API. `@maejs/hub/node`
 * adds the file-system cache and the environment variables (HF_ENDPOINT, HF_TOKEN,
 * HF_HUB_OFFLINE, MAEJS_CACHE).
 *
 * @module index
 */
import { defaultBrowserCache } from './cache.js';
import { type FetchedSource, fetchSourceWith, type HubOptions } from './hub.js';
import type { PretrainedSource } from './sources.js';

export { HubError, bytesText, type HubErrorCode } from './errors.js';
export {
  parseSource,
  sourceForms,
  hfFileUrl,
  checkEndpoint,
  fileNameOf,
  DEFAULT_HF_ENDPOINT,
  OFFICIAL_BASE_URL,
  OFFICIAL_CHECKPOINTS,
  type OfficialCheckpoint,
  type OfficialName,
  type PretrainedSource,
  type HfSource,
  type UrlSource,
  type OfficialSource,
  type PathSource,
  type SourceOptions,
} from './sources.js';
export { sniffProblem, SNIFF_BYTES, type ExpectedContent } from './sniff.js';
export { downloadFile, TRANSFER_DEFAULTS, type DownloadProgress, type FileRequest, type TransferOptions } from './download.js';
export {
  BrowserCache,
  MemoryCache,
  MemoryPartial,
  defaultBrowserCache,
  isPartial,
  sha256Hex,
  type CacheKey,
  type CachedFile,
  type HubCache,
  type PartialFile,
  type TransferInfo,
} from './cache.js';
export { fetchSourceWith, HF_WEIGHT_FILES, type FetchedSource, type HubFile, type HubOptions } from './hub.js';

/**
 * The files of `source` (`hf:owner/name[@revision]`, an official checkpoint name, an http(s)
 * URL), from the cache or downloaded into it. The cache is the Cache API where there is one,
 * else none (pass `cache` to choose).
 */
export function fetchSource(source: string | PretrainedSource, options: HubOptions = {}): Promise<FetchedSource> {
  return fetchSourceWith(source, options, defaultBrowserCache);
}
