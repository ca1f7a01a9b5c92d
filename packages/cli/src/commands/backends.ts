import { formatAdapter, listBackends, type BackendStatus } from '@maejs/backend';
import { parseFlags, type CommandHelp } from '../args.js';

/** What a backend runs on, or why it does not start (one line). */
function detail(s: BackendStatus): string {
  if (!s.available) return s.reason ?? 'not available';
  const packages = s.packages.join(' or ');
  // The CLI runs in Node, where webgpu is Dawn (the npm package `webgpu`).
  return s.adapter ? `${packages} on Dawn (npm package webgpu); adapter ${formatAdapter(s.adapter)}` : packages;
}

export const backendsHelp: CommandHelp = {
  usage: 'mae backends',
  summary: 'Lists the tfjs backends (cpu, wasm, webgpu, tensorflow, ...): yes and what each runs on, or no and why it does not start here (with what to install).',
  flags: {},
  examples: ['mae backends'],
};

/** `mae backends`: which tfjs backends start here, and why the others do not. */
export async function backendsCommand(argv: string[], log: (line: string) => void): Promise<void> {
  parseFlags(argv, {}, 'backends');
  for (const s of await listBackends()) {
    log(`${s.available ? 'yes' : 'no '}  ${s.name.padEnd(10)} ${detail(s)}`);
  }
}
