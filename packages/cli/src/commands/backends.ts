import { formatAdapter, KERNELS_ENV, listBackends, maejsKernelsEnabled, type BackendStatus } from '@maejs/backend';
import { parseFlags, type CommandHelp } from '../args.js';

/**
 * maejs's kernels on a backend: its backend kernels (the others run as tfjs ops) and the tfjs
 * kernels they replace, with the switch that keeps tfjs's own.
 */
export function describeKernels(maejs: string[], replacedTfjs: string[]): string {
  const own = maejs.length ? `maejs kernels ${maejs.join(', ')}` : 'maejs kernels as tfjs ops';
  return replacedTfjs.length ? `${own}; replaces tfjs's ${replacedTfjs.join(', ')} (${KERNELS_ENV}=off keeps tfjs's)` : own;
}

/** What a backend runs on and maejs's kernels there, or why it does not start (one line). */
function detail(s: BackendStatus): string {
  if (!s.available) return s.reason ?? 'not available';
  const packages = s.packages.join(' or ');
  // The CLI runs in Node, where webgpu is Dawn (the npm package `webgpu`).
  const runsOn = s.adapter ? `${packages} on Dawn (npm package webgpu); adapter ${formatAdapter(s.adapter)}` : packages;
  return `${runsOn}; ${describeKernels(s.maejsKernels ?? [], s.replacedTfjsKernels ?? [])}`;
}

export const backendsHelp: CommandHelp = {
  usage: 'mae backends',
  summary: `Lists the tfjs backends (cpu, wasm, webgpu, tensorflow, ...): yes, what each runs on and the maejs kernels it gets (on wasm they replace tfjs's BatchMatMul, GatherV2, Identity and Slice; ${KERNELS_ENV}=off keeps tfjs's), or no and why it does not start here (with what to install).`,
  flags: {},
  examples: ['mae backends'],
};

/** `mae backends`: which tfjs backends start here, and why the others do not. */
export async function backendsCommand(argv: string[], log: (line: string) => void): Promise<void> {
  parseFlags(argv, {}, 'backends');
  for (const s of await listBackends()) {
    log(`${s.available ? 'yes' : 'no '}  ${s.name.padEnd(10)} ${detail(s)}`);
  }
  if (!maejsKernelsEnabled()) log(`maejs kernels are switched off (${KERNELS_ENV}=off): every backend runs tfjs's ops and kernels only`);
}
