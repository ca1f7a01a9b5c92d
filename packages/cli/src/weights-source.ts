/**
 * The checkpoint of every command that takes weights (`--weights` of forward, eval, visualize,
 * features; the input of convert and info): a local file or folder in any layout, a Hugging Face
 * repository, an official checkpoint by name, or an http(s) URL, downloaded once into the cache
 * with a progress bar.
 */
import type { MaeConfig } from '@maejs/mae';
import { importPretrained, type PretrainedCheckpoint } from '@maejs/weights/node';
import type { FlagSpec } from './args.js';
import { readPresetFlag } from './commands/convert.js';
import { downloadReporter } from './progress.js';

/** What a checkpoint source may be, for help texts. */
export const SOURCE_HELP = 'a file or folder (official .pth/.safetensors, Hugging Face folder, tfjs model.json), hf:<owner>/<name>[@revision], an official name (mae_pretrain_vit_base, mae_visualize_vit_large, ...) or an http(s) URL';

/** The flag every command with a checkpoint source takes. */
export const OFFLINE_FLAG: FlagSpec = {
  offline: { type: 'boolean', description: 'use downloaded files only, no network (also HF_HUB_OFFLINE=1)' },
};

/**
 * Reads a checkpoint source: local paths from disk; hf:, official names and URLs from the cache
 * (`$MAEJS_CACHE/hub`, else `$XDG_CACHE_HOME/maejs/hub`, else `~/.cache/maejs/hub`), downloaded
 * into it when missing, with HF_ENDPOINT and HF_TOKEN from the environment. Progress goes to
 * stderr as a bar on a terminal, to `log` as lines otherwise.
 */
export function readCheckpointSource(source: string, flags: Record<string, unknown>, log: (line: string) => void): Promise<PretrainedCheckpoint> {
  return importPretrained(source, { offline: flags.offline === true ? true : undefined, onProgress: downloadReporter(process.stderr, log) });
}

/** The fallback config: `--preset` when given, else an official checkpoint's preset. */
export function fallbackConfig(imported: PretrainedCheckpoint, presetFlag: unknown): Partial<MaeConfig> {
  return typeof presetFlag === 'string' ? readPresetFlag(presetFlag) : imported.fallback;
}
