import { listBackends } from '@maejs/backend';
import { parseFlags } from '../args.js';

/** `mae backends`: which tfjs backends start here, and why the others do not. */
export async function backendsCommand(argv: string[], log: (line: string) => void): Promise<void> {
  parseFlags(argv, {}, 'backends');
  for (const s of await listBackends()) {
    log(`${s.available ? 'yes' : 'no '}  ${s.name.padEnd(10)} ${s.available ? s.packages.join(' or ') : s.reason}`);
  }
}
