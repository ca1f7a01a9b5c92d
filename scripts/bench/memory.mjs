#!/usr/bin/env node
// Memory of a preset A training step over many steps: maejs (wasm, one thread) with the tensor
// bytes and RSS after every step and the peak tensor bytes within it, against PyTorch's peak RSS
// on the same step (its fastest correct OpenBLAS core type, scripts/bench/blas-coretypes.mjs).
//
//   node scripts/bench/memory.mjs [--steps 100] [--batch 128] [--torch-steps 20] [--no-torch]
//
// Uses the built packages (`npm run build`). Prints a markdown table and a `BENCH_JSON` line.
// "Flat" means: tensor count and tensor bytes after step 1 and after the last step are equal,
// and RSS over the last half of the steps grows by less than 1%.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeChoice, probeCoreTypes } from './blas-coretypes.mjs';
import { PRESET_A } from './presets.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const OPENBLAS_PTHREAD = '/usr/lib/x86_64-linux-gnu/openblas-pthread';
const { values: flags } = parseArgs({
  options: {
    steps: { type: 'string', default: '100' },
    batch: { type: 'string', default: '128' },
    'torch-steps': { type: 'string', default: '20' },
    'no-torch': { type: 'boolean', default: false },
    python: { type: 'string', default: '/usr/bin/python3' },
  },
});
const steps = Number(flags.steps);
const batch = Number(flags.batch);
const torchSteps = Number(flags['torch-steps']);
for (const [name, v] of [['--steps', steps], ['--batch', batch], ['--torch-steps', torchSteps]]) {
  if (!Number.isInteger(v) || v < 2) throw new Error(`${name} is ${v}: expected an integer >= 2`);
}

function benchJson(out) {
  const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
  if (!line) throw new Error(`no BENCH_JSON line in:\n${out.slice(-2000)}`);
  return JSON.parse(line.slice(11));
}

const config = JSON.stringify(PRESET_A);
const mib = (b) => (b / 2 ** 20).toFixed(1);

const maejs = benchJson(
  execFileSync(process.execPath, [join(HERE, 'maejs_step.mjs'), '--backend', 'wasm', '--config', config, '--batch', String(batch), '--warmup', '2', '--repeats', String(steps), '--memory-trace', '--no-profile', '--no-probe'], { encoding: 'utf8', maxBuffer: 64 << 20 }),
);
const t = maejs.memoryTrace;
const half = Math.floor(steps / 2);
const rssGrowth = (t.rssBytes[steps - 1] - t.rssBytes[half]) / t.rssBytes[half];
const flat = t.numTensors[0] === t.numTensors[steps - 1] && t.tensorBytes[0] === t.tensorBytes[steps - 1] && rssGrowth < 0.01;

let torch = null;
let coreTypes = null;
if (!flags['no-torch']) {
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  if (existsSync(OPENBLAS_PTHREAD)) env.LD_LIBRARY_PATH = [OPENBLAS_PTHREAD, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  coreTypes = probeCoreTypes({ python: flags.python, env, threads: 1, rounds: 1 });
  if (coreTypes.chosen?.coreType) env.OPENBLAS_CORETYPE = coreTypes.chosen.coreType;
  torch = benchJson(execFileSync(flags.python, [join(HERE, 'torch_mae.py'), '--threads', '1', '--config', config, '--batch', String(batch), '--warmup', '2', '--repeats', String(torchSteps), '--no-probe'], { encoding: 'utf8', env }));
}

const rows = [
  ['maejs wasm, 1 thread', `${mib(maejs.peakRssBytes)} MiB`, `${mib(Math.max(...t.peakBytes))} MiB (min ${mib(Math.min(...t.peakBytes))})`, `${t.numTensors[0]} -> ${t.numTensors[steps - 1]} tensors, ${mib(t.tensorBytes[0])} -> ${mib(t.tensorBytes[steps - 1])} MiB; RSS ${mib(t.rssBytes[0])} -> ${mib(t.rssBytes[half])} -> ${mib(t.rssBytes[steps - 1])} MiB (${flat ? 'flat' : 'NOT flat'})`],
];
if (torch) rows.push([`PyTorch ${torch.versions?.torch ?? ''}, 1 thread`, `${mib(torch.peakRssBytes)} MiB`, '', '']);
console.log(`Preset A training step, batch ${batch}: maejs over ${steps} steps, PyTorch over ${torchSteps} steps${coreTypes ? ` (${describeChoice(coreTypes)})` : ''}`);
console.log('');
console.log('| | peak RSS | peak tensor bytes within a step | after step 1 -> after the last |');
console.log('| --- | --- | --- | --- |');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
if (torch) console.log(`\nPeak RSS ratio maejs / PyTorch: ${(maejs.peakRssBytes / torch.peakRssBytes).toFixed(2)}`);
console.log(`\nBENCH_JSON ${JSON.stringify({ kind: 'memory', batch, steps, maejs: { peakRssBytes: maejs.peakRssBytes, trace: t, flat, rssGrowthLastHalf: rssGrowth }, torch: torch && { peakRssBytes: torch.peakRssBytes, coreType: coreTypes?.chosen?.coreType ?? null } })}`);
