/**
 * `@maejs/weights/node`: checkpoints on disk (files, Hugging Face folders, tfjs folders and the
 * tfjs file handler) and pretrained MAEs with Node's defaults: files kept under
 * `$MAEJS_CACHE/hub` (else `$XDG_CACHE_HOME/maejs/hub`, else `~/.cache/maejs/hub`),
 * HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE and MAEJS_OFFICIAL_BASE_URL read for options not given,
 * and local paths as sources. Also re-exports everything from `@maejs/weights`.
 *
 * @module node
 */
import { statSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { HubFile } from '@maejs/hub';
import { hubOptionsFromEnv, type NodeHubOptions } from '@maejs/hub/node';
import { readCheckpointPath, readFileChecked } from './files-node.js';
import { importPretrainedWith, type LocalReader, modelFromPretrained, type Pretrained, type PretrainedCheckpoint, type PretrainedOptions } from './pretrained.js';

export * from './index.js';
export { fileSystemHandler, readCheckpointPath, readFileChecked, type LocalCheckpoint } from './files-node.js';

/** {@link PretrainedOptions} in Node: `cache` may be a folder, `env` replaces `process.env`. */
export type NodePretrainedOptions = Omit<PretrainedOptions, 'cache'> & Pick<NodeHubOptions, 'cache' | 'env'>;

/** Reads a local path as a pretrained source; its files are reported as local (fromCache: true). */
const readLocal: LocalReader = async (path) => {
  const { checkpoint, paths } = await readCheckpointPath(path);
  const files: HubFile[] = paths.map((p) => ({
    name: basename(p),
    url: pathToFileURL(resolve(p)).href,
    location: resolve(p),
    size: statSync(p).size,
    fromCache: true,
    read: async () => readFileChecked(p, 'checkpoint'),
  }));
  return { checkpoint, files };
};

/**
 * The checkpoint of `source` (`hf:owner/name[@revision]`, an official checkpoint name, an http(s)
 * URL, or a local file or folder in any layout the loaders read) in the official layout, with its
 * files and fallback config. Remote files are downloaded once into the file-system cache.
 */
export function importPretrained(source: string, options: NodePretrainedOptions = {}): Promise<PretrainedCheckpoint> {
  return Promise.resolve().then(() => importPretrainedWith(source, { ...options, ...hubOptionsFromEnv(options) } as PretrainedOptions, readLocal));
}

/**
 * A MaskedAutoencoder with the weights of `source`, as `loadPretrained` of `@maejs/weights`,
 * with Node's defaults: the file-system cache, the environment variables, and local paths.
 */
export async function loadPretrained(source: string, options: NodePretrainedOptions = {}): Promise<Pretrained> {
  return modelFromPretrained(await importPretrained(source, options), options);
}
