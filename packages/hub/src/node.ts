/**
 * `@maejs/hub/node`: the file-system cache and the environment variables, plus everything of the
 * browser-safe entry. `fetchSource` here keeps files under `$MAEJS_CACHE/hub`, else
 * `$XDG_CACHE_HOME/maejs/hub`, else `~/.cache/maejs/hub`, and reads HF_ENDPOINT, HF_TOKEN,
 * HF_HUB_OFFLINE and MAEJS_OFFICIAL_BASE_URL for options not given.
 *
 * @module node
 */
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import type { HubCache } from './cache.js';
import { HubError } from './errors.js';
import { FileCache } from './file-cache.js';
import { type FetchedSource, fetchSourceWith, type HubOptions } from './hub.js';
import type { PretrainedSource } from './sources.js';

export * from './index.js';
export { FileCache } from './file-cache.js';

/** The environment the Node defaults are read from. */
export type Env = Record<string, string | undefined>;

/** Options of the Node entry: `cache` may also be a folder; `env` replaces `process.env`. */
export interface NodeHubOptions extends Omit<HubOptions, 'cache'> {
  /** A cache, a folder to keep files in, or false (nowhere). Default: {@link defaultHubCacheDir}. */
  cache?: HubCache | string | false;
  /** Where HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE, MAEJS_CACHE, ... are read; default `process.env`. */
  env?: Env;
}

/** maejs' cache root: `$MAEJS_CACHE`, else `$XDG_CACHE_HOME/maejs` (absolute only), else `~/.cache/maejs`. */
export function defaultCacheRoot(env: Env = process.env): string {
  if (env.MAEJS_CACHE) return resolve(env.MAEJS_CACHE);
  if (env.XDG_CACHE_HOME && isAbsolute(env.XDG_CACHE_HOME)) return join(env.XDG_CACHE_HOME, 'maejs');
  return join(env.HOME || homedir(), '.cache', 'maejs');
}

/** The folder of downloaded checkpoints: `<cache root>/hub`. */
export function defaultHubCacheDir(env: Env = process.env): string {
  return join(defaultCacheRoot(env), 'hub');
}

/** A yes/no environment variable (1/true/yes/on, 0/false/no/off, unset or empty: undefined). */
export function envFlag(env: Env, name: string): boolean | undefined {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return undefined;
  const value = raw.trim().toLowerCase();
  if (['1', 'true', 'yes', 'on'].includes(value)) return true;
  if (['0', 'false', 'no', 'off'].includes(value)) return false;
  throw new HubError('bad-source', name, undefined, `is '${raw}': expected 1, true, yes, on (or 0, false, no, off)`);
}

/** Options completed from the environment: what `options` leaves out is read from `env`. */
export function hubOptionsFromEnv(options: NodeHubOptions = {}): HubOptions {
  const env = options.env ?? process.env;
  const { cache, env: _env, ...rest } = options;
  return {
    ...rest,
    endpoint: options.endpoint ?? (env.HF_ENDPOINT || undefined),
    token: options.token ?? (env.HF_TOKEN || undefined),
    offline: options.offline ?? envFlag(env, 'HF_HUB_OFFLINE'),
    officialBaseUrl: options.officialBaseUrl ?? (env.MAEJS_OFFICIAL_BASE_URL || undefined),
    cache: cache === undefined ? new FileCache(defaultHubCacheDir(env)) : typeof cache === 'string' ? new FileCache(resolve(cache)) : cache,
  };
}

/**
 * The files of `source` (`hf:owner/name[@revision]`, an official checkpoint name, an http(s)
 * URL) from the file-system cache, downloaded into it when missing. Options not given are read
 * from the environment (see {@link hubOptionsFromEnv}).
 */
export async function fetchSource(source: string | PretrainedSource, options: NodeHubOptions = {}): Promise<FetchedSource> {
  const completed = hubOptionsFromEnv(options);
  return fetchSourceWith(source, completed, () => completed.cache as HubCache);
}
