/** The `mae` command: dispatch to subcommands. */
import * as tf from '@tensorflow/tfjs-core';
import { formatHelp, UsageError, wantsHelp, type CommandHelp } from './args.js';
import { backendsCommand, backendsHelp } from './commands/backends.js';
import { demoCommand, demoHelp } from './commands/demo.js';
import { forwardCommand, forwardHelp } from './commands/forward.js';
import { pretrainCommand, pretrainHelp } from './commands/pretrain.js';
import { visualizeCommand, visualizeHelp } from './commands/visualize.js';
import { evalCommand, evalHelp } from './commands/eval.js';
import { featuresCommand, featuresHelp } from './commands/features.js';

interface Command {
  summary: string;
  run: (argv: string[], log: (line: string) => void) => Promise<void>;
  /** What `mae <command> --help` prints (see {@link formatHelp}). */
  help: () => CommandHelp | Promise<CommandHelp>;
}

const COMMANDS: Record<string, Command> = {
  pretrain: { summary: 'MAE pre-training (no flags: the 28x28 preset on the bundled sample for a few minutes); --key value sets any model or training setting', run: pretrainCommand, help: pretrainHelp },
  visualize: { summary: 'reconstruction figure of a checkpoint: --checkpoint <run> --images <data> --out fig.png', run: visualizeCommand, help: () => visualizeHelp },
  eval: { summary: 'linear probe, kNN and fine-tuning of a checkpoint on fashion-mnist (--baseline: raw pixels too)', run: evalCommand, help: () => evalHelp },
  features: { summary: 'frozen encoder features of images as .npy (cls, mean or mean-norm pooling)', run: featuresCommand, help: () => featuresHelp },
  demo: { summary: 'parity check on the golden case (when present) and a short training run on the built-in sample', run: demoCommand, help: () => demoHelp },
  forward: { summary: 'one MAE forward pass: --weights <any checkpoint or hf:/name/URL> [--config] --images [--noise] --out', run: forwardCommand, help: () => forwardHelp },
  backends: { summary: 'which tfjs backends start here, and why the others do not', run: backendsCommand, help: () => backendsHelp },
  convert: { summary: 'checkpoints between official .pth/.safetensors, Hugging Face ViTMAE and tfjs: <in> <out> [--to official|hf|tfjs] [--preset|--config]', run: async (argv, log) => (await import('./commands/convert.js')).convertCommand(argv, log), help: async () => (await import('./commands/convert.js')).convertHelp },
  info: { summary: 'what a checkpoint holds: format, keys, shapes, inferred config, decoder absent, head present', run: async (argv, log) => (await import('./commands/info.js')).infoCommand(argv, log), help: async () => (await import('./commands/info.js')).infoHelp },
  download: { summary: 'fill the cache with a pretrained checkpoint: hf:<owner>/<name>[@revision], an official name (mae_visualize_vit_base, ...) or a URL; prints where', run: async (argv, log) => (await import('./commands/download.js')).downloadCommand(argv, log), help: async () => (await import('./commands/download.js')).downloadHelp },
};

function usage(): string {
  return `usage: mae <command> [--flags]   (mae <command> --help: its flags, defaults and an example)\n\n${Object.entries(COMMANDS)
    .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
    .join('\n')}`;
}

/** Runs one command line; returns the exit code. */
export async function main(argv: string[], log: (line: string) => void = console.log): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === 'help') {
    log(usage());
    return name ? 0 : 2;
  }
  const command = COMMANDS[name];
  if (!command) {
    console.error(`mae: unknown command '${name}'\n${usage()}`);
    return 2;
  }
  tf.enableProdMode();
  try {
    if (wantsHelp(rest)) {
      log(formatHelp(await command.help()));
      return 0;
    }
    await command.run(rest, log);
    return 0;
  } catch (error) {
    const message = (error as Error).message;
    console.error(message.startsWith(`mae ${name}:`) ? message : `mae ${name}: ${message}`); // one prefix, not two
    return error instanceof UsageError ? 2 : 1;
  }
}
