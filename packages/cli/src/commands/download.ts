/**
 * `mae download <source>`: fills the cache with the files of a pretrained checkpoint (a Hugging
 * Face repository, an official checkpoint by name, a URL) and prints where they are, so that
 * later commands (and `--offline`) find them there.
 */
import { fetchSource, OFFICIAL_CHECKPOINTS } from '@maejs/hub/node';
import { formatHelp, parseCommandLine, UsageError, type CommandHelp, type FlagSpec } from '../args.js';
import { downloadReporter } from '../progress.js';
import { fileLine } from './info.js';

const FLAGS = {
  offline: { type: 'boolean', description: 'only check that the files are in the cache (also HF_HUB_OFFLINE=1)' },
} satisfies FlagSpec;

export const downloadHelp: CommandHelp = {
  usage: 'mae download <source> [--offline]',
  summary: 'Fills the cache with the files of a pretrained checkpoint and prints where they are, so that later commands (and --offline) find them there.',
  arguments: [['<source>', `hf:<owner>/<name>[@revision]: a Hugging Face ViTMAE repository (config.json, then model.safetensors or pytorch_model.bin; revision: a branch, tag or commit, default main); an official checkpoint (dl.fbaipublicfiles.com): ${Object.keys(OFFICIAL_CHECKPOINTS).join(', ')}; https://...: any checkpoint file (.pth, .safetensors)`]],
  flags: FLAGS,
  examples: ['mae download hf:facebook/vit-mae-base', 'mae download mae_visualize_vit_base', 'mae download mae_visualize_vit_base --offline'],
  notes: 'Files go to $MAEJS_CACHE/hub, else $XDG_CACHE_HOME/maejs/hub, else ~/.cache/maejs/hub. A second download of the same source makes no request. HF_ENDPOINT sets the hub (default https://huggingface.co), HF_TOKEN the access token for private and gated repositories.',
};

/** `mae download`. */
export async function downloadCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const { values, positionals } = parseCommandLine(argv, FLAGS, 'download');
  if (positionals.length !== 1) throw new UsageError(`mae download: expected one source, got ${positionals.length}\n${formatHelp(downloadHelp)}`);
  const got = await fetchSource(positionals[0], { offline: values.offline ? true : undefined, onProgress: downloadReporter(process.stderr, log) });
  const s = got.source;
  const about = s.kind === 'official' ? ` (preset ${s.checkpoint.preset}, ${s.checkpoint.decoder ? 'encoder and decoder' : 'encoder only'})` : '';
  log(`${s.id}${about}:`);
  for (const f of got.files) log(`  ${f.name}: ${fileLine(f)}`);
  log(`cache: ${got.cache}`);
}
