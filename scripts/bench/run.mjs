#!/usr/bin/env node
// `npm run bench`: maejs (every tfjs backend that starts in Node) against PyTorch CPU on the
// same MAE configs, in one run on one machine. Each measurement runs in its own child process,
// one at a time (never concurrently), alternating maejs and PyTorch; samples of all rounds are
// pooled. See docs/benchmarks.md for the method and the FLOP formula (scripts/bench/flops.mjs).
//
//   node scripts/bench/run.mjs [--presets A,B,C] [--repeats N] [--rounds R] [--warmup W]
//        [--quick] [--sweep] [--backends tensorflow,webgpu,wasm,cpu] [--torch-threads 1,2]
//        [--maejs-threads 1,2]   (2: data-parallel over this thread + a worker thread)
//        [--out docs/benchmarks.md] [--json docs/benchmarks.json] [--label NAME]
//        [--python /usr/bin/python3] [--timeout-min M] [--sweep-img-batch B|B1,B2,..] [--no-torch]
//        [--note TEXT]   (a line of context printed at the top of the section)
//        [--openblas-coretype probe|auto|NAME]   (PyTorch's BLAS kernels: probe = try every core
//        type the CPU allows and use the fastest correct one, scripts/bench/blas-coretypes.mjs;
//        auto = OpenBLAS's own detection; NAME = that core type)
//   node scripts/bench/run.mjs --render --out docs/benchmarks.md   (re-writes the markdown from
//        docs/benchmarks.json without running anything)
//
// Presets (scripts/bench/presets.mjs): A 28x28x1 p4, enc 128x6 h4, dec 64x2 h4, batch 128, training step;
//          B 32x32x3 p4, ViT-Tiny 192x12 h3, dec 128x4 h4, batch 64, training step;
//          C official ViT-B/16 at 224 (768x12 h12), encoder inference on unmasked images, batch 8.
// The `cpu` tfjs backend is run for preset A only, with few repeats (it is ~30x slower).
import { spawn, execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { describeChoice, probeCoreTypes } from './blas-coretypes.mjs';
import { stepFlops } from './flops.mjs';
import { PRESET_A, PRESETS } from './presets.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
const MAEJS_STEP = join(HERE, 'maejs_step.mjs');
const TORCH_STEP = join(HERE, 'torch_mae.py');
const OPENBLAS_PTHREAD = '/usr/lib/x86_64-linux-gnu/openblas-pthread';

// ------------------------------------------------------------------------------------------
// Flags

const argv = process.argv.slice(2);
const { values: flags } = parseArgs({
  args: argv,
  options: {
    presets: { type: 'string', default: 'A,B,C' },
    repeats: { type: 'string' },
    rounds: { type: 'string' },
    warmup: { type: 'string' },
    quick: { type: 'boolean', default: false },
    sweep: { type: 'boolean', default: false },
    backends: { type: 'string', default: 'tensorflow,webgpu,wasm,cpu' },
    'torch-threads': { type: 'string', default: '1,2' },
    'maejs-threads': { type: 'string', default: '1,2' },
    out: { type: 'string' },
    json: { type: 'string' },
    label: { type: 'string', default: 'latest' },
    python: { type: 'string', default: '/usr/bin/python3' },
    'timeout-min': { type: 'string', default: '30' },
    'sweep-img-batch': { type: 'string', default: '16,16,8,1' },
    'no-torch': { type: 'boolean', default: false },
    render: { type: 'boolean', default: false },
    note: { type: 'string' },
    'openblas-coretype': { type: 'string', default: 'probe' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
  const header = lines.slice(0, lines.findIndex((l) => !l.startsWith('//')));
  process.stdout.write(`${header.map((l) => l.slice(3)).join('\n')}\n`);
  process.exit(0);
}

const quick = flags.quick;
const rounds = Number(flags.rounds ?? (quick ? 1 : 2));
const totalRepeats = Number(flags.repeats ?? (quick ? 2 : 6));
const repeatsPerRound = Math.max(1, Math.ceil(totalRepeats / rounds));
const warmup = Number(flags.warmup ?? (quick ? 1 : 2));
const cpuWarmup = quick ? 0 : 1;
const cpuRepeats = quick ? 1 : Math.min(2, totalRepeats);
const timeoutMs = Number(flags['timeout-min']) * 60_000;
const presetNames = flags.presets.split(',').map((s) => s.trim().toUpperCase()).filter(Boolean);
for (const p of presetNames) if (!PRESETS[p]) throw new Error(`unknown preset '${p}': expected A, B or C`);
const wantedBackends = flags.backends.split(',').map((s) => s.trim()).filter(Boolean);
const maejsThreads = flags['maejs-threads'].split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0);
if (!maejsThreads.length) throw new Error(`--maejs-threads: expected positive integers like 1,2, got ${flags['maejs-threads']}`);
const torchThreads = flags['no-torch'] ? [] : flags['torch-threads'].split(',').map(Number).filter((n) => n > 0);
if (!Number.isInteger(rounds) || rounds < 1 || !Number.isInteger(totalRepeats) || totalRepeats < 1 || !Number.isInteger(warmup) || warmup < 0) {
  throw new Error('--rounds and --repeats must be positive integers, --warmup a non-negative integer');
}

const log = (msg) => process.stderr.write(`[bench] ${msg}\n`);

// ------------------------------------------------------------------------------------------
// Child processes (strictly sequential)

/** Result key of a maejs run: `maejs-wasm` on one thread, `maejs-wasm-2t` data-parallel over two. */
const maejsKey = (backend, threads) => (threads === 1 ? `maejs-${backend}` : `maejs-${backend}-${threads}t`);

function runChild(cmd, args, env, label) {
  return new Promise((resolvePromise) => {
    const started = Date.now();
    const child = spawn(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL'); // the child this script started, by its handle
    }, timeoutMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
      let result = null;
      if (line) {
        try {
          result = JSON.parse(line.slice('BENCH_JSON '.length));
        } catch {
          result = null;
        }
      }
      const seconds = (Date.now() - started) / 1000;
      if (!result || (code !== 0 && code !== 3)) {
        const reason = timedOut ? `timed out after ${flags['timeout-min']} min` : `exit ${code ?? signal}: ${lastLines(err, 3) || 'no output'}`;
        log(`${label}: FAILED (${reason})`);
        resolvePromise({ failed: reason, seconds });
        return;
      }
      resolvePromise({ ...result, seconds });
    });
  });
}

function lastLines(text, n) {
  return text.trim().split('\n').filter(Boolean).slice(-n).join(' | ').slice(0, 400);
}

function maejsRun(backend, config, batch, mode, { warmup: w, repeats, profile = true, probe = true, threads = 1 }) {
  const args = [MAEJS_STEP, '--backend', backend, '--config', JSON.stringify(config), '--batch', String(batch), '--mode', mode, '--warmup', String(w), '--repeats', String(repeats), '--threads', String(threads)];
  if (!profile) args.push('--no-profile');
  if (!probe) args.push('--no-probe');
  return runChild(process.execPath, args, {}, `maejs ${backend} ${threads}t b${batch} ${config.imgSize}px`);
}

/** The OpenBLAS core type the PyTorch rows use (null: OpenBLAS's own detection); set in main(). */
let torchCoreType = null;

function torchEnv(threads) {
  const env = { OMP_NUM_THREADS: String(threads), OPENBLAS_NUM_THREADS: String(threads), MKL_NUM_THREADS: String(threads) };
  if (existsSync(OPENBLAS_PTHREAD)) env.LD_LIBRARY_PATH = [OPENBLAS_PTHREAD, process.env.LD_LIBRARY_PATH].filter(Boolean).join(':');
  if (torchCoreType) env.OPENBLAS_CORETYPE = torchCoreType;
  return env;
}

/** Applies --openblas-coretype: probes the core types, or takes the one given. */
function chooseCoreType() {
  const wanted = flags['openblas-coretype'];
  if (wanted === 'auto') return { threads: 1, probed: [], chosen: null, given: 'auto' };
  if (wanted !== 'probe') {
    torchCoreType = wanted;
    return { threads: 1, probed: [], chosen: null, given: wanted };
  }
  const result = probeCoreTypes({ python: flags.python, env: torchEnv(1), threads: 1, log });
  torchCoreType = result.chosen?.coreType ?? null;
  return result;
}

function coreTypeLine(result) {
  if (result.given === 'auto') return "OpenBLAS's own core detection (--openblas-coretype auto; not probed)";
  if (result.given) return `OPENBLAS_CORETYPE=${result.given} (given with --openblas-coretype; not probed)`;
  return describeChoice(result);
}

function torchRun(threads, config, batch, mode, { warmup: w, repeats, probe = true }) {
  const args = [TORCH_STEP, '--threads', String(threads), '--config', JSON.stringify(config), '--batch', String(batch), '--mode', mode, '--warmup', String(w), '--repeats', String(repeats)];
  if (!probe) args.push('--no-probe');
  return runChild(flags.python, args, torchEnv(threads), `torch ${threads}t b${batch} ${config.imgSize}px`);
}

// ------------------------------------------------------------------------------------------
// Aggregation

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Pools the timed steps of several child runs of one (case, implementation). */
function aggregate(key, runs, batch, flops) {
  const ok = runs.filter((r) => !r.failed && !r.unavailable);
  const failed = runs.find((r) => r.failed)?.failed;
  if (!ok.length) return { key, failed: failed ?? 'no successful run', runs: runs.length };
  const samples = ok.flatMap((r) => r.stepMs);
  const med = median(samples);
  const first = ok[0];
  return {
    key,
    impl: first.impl,
    backend: first.backend,
    threads: first.threads,
    batch,
    runs: ok.length,
    failedRuns: runs.length - ok.length,
    samples,
    perRunMedianMs: ok.map((r) => r.medianMs),
    medianMs: med,
    minMs: Math.min(...samples),
    maxMs: Math.max(...samples),
    imagesPerSec: batch / (med / 1000),
    gflops: flops / (med / 1000) / 1e9,
    peakRssBytes: Math.max(...ok.map((r) => r.peakRssBytes ?? 0)),
    tfPeakBytesInStep: ok.map((r) => r.tfPeakBytesInStep).find((v) => v != null) ?? null,
    tfBytesSteady: ok.map((r) => r.tfBytesSteady).find((v) => v != null) ?? null,
    leakedTensorsPerRun: ok.map((r) => r.leakedTensorsPerRun).find((v) => v != null) ?? null,
    params: first.params,
    firstLoss: first.firstValue,
    matmulProbeGflops: median(ok.map((r) => r.matmulProbe?.gflops).filter((v) => v != null)) || null,
    versions: first.versions,
    childSeconds: ok.reduce((s, r) => s + r.seconds, 0),
  };
}

// ------------------------------------------------------------------------------------------
// One case: alternating maejs and torch child runs over `rounds` rounds

async function runCase({ id, title, config, batch, mode, backends, cpuBackend, torch, repeats: caseRepeats, rounds: caseRounds, warmup: caseWarmup, profile = true, probe = true }) {
  const flops = stepFlops(config, batch, mode);
  log(`case ${id}: ${title}, batch ${batch}, ${mode}; ${(flops.perStep / 1e9).toFixed(2)} GFLOP/step`);
  const runs = new Map();
  const add = (key, r) => {
    if (!runs.has(key)) runs.set(key, []);
    runs.get(key).push(r);
  };
  for (let round = 0; round < caseRounds; round++) {
    const threadCounts = maejsThreads;
    const maejsJobs = backends.flatMap((b) => threadCounts.map((t) => ({ key: maejsKey(b, t), run: () => maejsRun(b, config, batch, mode, { warmup: caseWarmup, repeats: caseRepeats, profile, probe, threads: t }) })));
    if (cpuBackend && round === 0) {
      maejsJobs.push({ key: 'maejs-cpu', run: () => maejsRun('cpu', config, batch, mode, { warmup: cpuWarmup, repeats: cpuRepeats, profile: false, probe }) });
    }
    const torchJobs = torch.map((t) => ({ key: `torch-${t}t`, run: () => torchRun(t, config, batch, mode, { warmup: caseWarmup, repeats: caseRepeats, probe }) }));
    // interleave maejs / torch; odd rounds start with torch, so neither side always goes first
    const [firstSide, secondSide] = round % 2 === 0 ? [maejsJobs, torchJobs] : [torchJobs, maejsJobs];
    const order = [];
    for (let i = 0; i < Math.max(firstSide.length, secondSide.length); i++) {
      if (firstSide[i]) order.push(firstSide[i]);
      if (secondSide[i]) order.push(secondSide[i]);
    }
    for (const job of order) {
      const r = await job.run();
      if (!r.failed) log(`  ${id} round ${round + 1}/${caseRounds} ${job.key}: median ${r.medianMs?.toFixed(1)} ms [${r.stepMs?.map((t) => t.toFixed(0)).join(', ')}] (${r.seconds.toFixed(0)} s)`);
      add(job.key, r);
    }
  }
  const rank = (key) => {
    if (!key.startsWith('maejs-')) return 100 + parseInt(key.slice(6), 10);
    const [, backend, threads = '1t'] = key.split('-');
    return 10 * ['tensorflow', 'webgpu', 'wasm', 'cpu'].indexOf(backend) + parseInt(threads, 10);
  };
  const results = [...runs.entries()].sort((a, b) => rank(a[0]) - rank(b[0])).map(([key, rs]) => aggregate(key, rs, batch, flops.perStep));
  // throughput ratios maejs / torch
  const torchResults = results.filter((r) => r.impl === 'torch' && !r.failed);
  for (const r of results) {
    if (r.impl !== 'maejs' || r.failed) continue;
    r.ratioVsTorch = Object.fromEntries(torchResults.map((t) => [t.key, r.imagesPerSec / t.imagesPerSec]));
  }
  const params = [...new Set(results.filter((r) => !r.failed).map((r) => r.params))];
  return { id, title, config, batch, mode, flops, params, paramsAgree: params.length <= 1, results };
}

// ------------------------------------------------------------------------------------------
// Environment

function probeOnce(cmd, args, env) {
  try {
    const out = execFileSync(cmd, args, { cwd: ROOT, env: { ...process.env, ...env }, encoding: 'utf8', timeout: 120_000, stdio: ['ignore', 'pipe', 'pipe'] });
    const line = out.split('\n').find((l) => l.startsWith('BENCH_JSON '));
    return line ? JSON.parse(line.slice(11)) : { error: 'no BENCH_JSON line' };
  } catch (error) {
    return { error: lastLines(String(error.stderr ?? error.message), 2) };
  }
}

function cpuInfo() {
  let model = os.cpus()[0]?.model ?? 'unknown';
  let flagsLine = '';
  try {
    const text = readFileSync('/proc/cpuinfo', 'utf8');
    model = text.match(/^model name\s*:\s*(.*)$/m)?.[1] ?? model;
    flagsLine = text.match(/^flags\s*:\s*(.*)$/m)?.[1] ?? '';
  } catch {
    /* not Linux */
  }
  const have = new Set(flagsLine.split(/\s+/));
  const simd = ['avx2', 'fma', 'avx512f', 'avx512_bf16', 'avx512_vnni', 'amx_tile'].filter((f) => have.has(f));
  return { model, logicalCores: os.cpus().length, simd, memGiB: +(os.totalmem() / 2 ** 30).toFixed(1) };
}

function debVersion(pkg) {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() || null;
  } catch {
    return null;
  }
}

// ------------------------------------------------------------------------------------------
// Report

const fmt = (x, d = 1) => (x == null || Number.isNaN(x) ? '–' : x.toFixed(d));
const mb = (b) => (b == null ? '–' : (b / 2 ** 20).toFixed(0));
const implName = (r) => (r.impl === 'torch' ? `PyTorch CPU ${r.threads} thr` : `maejs ${r.backend}${r.threads > 1 ? ` ${r.threads} thr` : ''}`);

function caseTable(c, torchKeys) {
  const lines = [];
  const ratioHeads = torchKeys.map((k) => `maejs/PyTorch ${k.replace('torch-', '').replace('t', ' thr')}`);
  lines.push(`| implementation | steps (runs) | median ms | min–max ms | images/s | GFLOP/s | 512³ matMul GFLOP/s | peak RSS MB | tfjs peak MB in step | ${ratioHeads.join(' | ')} |`);
  lines.push(`|---|---|---|---|---|---|---|---|---|${ratioHeads.map(() => '---').join('|')}|`);
  for (const r of c.results) {
    if (r.failed) {
      lines.push(`| ${r.key} | failed: ${r.failed.replace(/\|/g, '/')} | | | | | | | | ${ratioHeads.map(() => '').join(' | ')} |`);
      continue;
    }
    const ratios = torchKeys.map((k) => (r.ratioVsTorch?.[k] != null ? `${r.ratioVsTorch[k].toFixed(2)}x` : ''));
    lines.push(`| ${implName(r)} | ${r.samples.length} (${r.runs}) | ${fmt(r.medianMs)} | ${fmt(r.minMs)}–${fmt(r.maxMs)} | ${fmt(r.imagesPerSec)} | ${fmt(r.gflops, 2)} | ${fmt(r.matmulProbeGflops)} | ${mb(r.peakRssBytes)} | ${mb(r.tfPeakBytesInStep)} | ${ratios.join(' | ')} |`);
  }
  return lines;
}

function sweepTable(s, torchKeys) {
  const wasmKeys = maejsThreads.map((t) => maejsKey('wasm', t));
  const best = wasmKeys[wasmKeys.length - 1]; // the most threads
  const uniq = [...new Set([...wasmKeys, ...s.extraKeys, ...torchKeys])];
  const showBatch = s.axis !== 'batch';
  const lines = [];
  lines.push(`| ${s.axis} | L |${showBatch ? ' batch |' : ''} GFLOP/step | ${uniq.map((k) => `${k} ms (img/s, GFLOP/s)`).join(' | ')} | ${torchKeys.map((k) => `${best}/${k}`).join(' | ')} |`);
  lines.push(`|---|---|${showBatch ? '---|' : ''}---|${uniq.map(() => '---').join('|')}|${torchKeys.map(() => '---').join('|')}|`);
  for (const c of s.cases) {
    const byKey = Object.fromEntries(c.results.map((r) => [r.key, r]));
    const cells = uniq.map((k) => {
      const r = byKey[k];
      if (!r) return '–';
      if (r.failed) return `failed: ${r.failed.slice(0, 80).replace(/\|/g, '/')}`;
      return `${fmt(r.medianMs, 0)} (${fmt(r.imagesPerSec)}, ${fmt(r.gflops, 1)})`;
    });
    const w = byKey[best];
    const ratios = torchKeys.map((k) => (w?.ratioVsTorch?.[k] != null ? `${w.ratioVsTorch[k].toFixed(2)}x` : '–'));
    lines.push(`| ${c.axisValue} | ${c.flops.tokens.L} |${showBatch ? ` ${c.batch} |` : ''} ${fmt(c.flops.perStep / 1e9, 2)} | ${cells.join(' | ')} | ${ratios.join(' | ')} |`);
  }
  return lines;
}

const INTRO_BEGIN = '<!-- bench:intro:begin (written by scripts/bench/run.mjs; edits here are replaced) -->';
const INTRO_END = '<!-- bench:intro:end -->';

function introText() {
  return [
    INTRO_BEGIN,
    '# Benchmarks',
    '',
    'maejs on the tfjs backends that run in Node against PyTorch CPU (Debian `python3-torch` with',
    'the pthread OpenBLAS, on its fastest OpenBLAS core type whose products agree with float64:',
    '`scripts/bench/blas-coretypes.mjs`) on the same MAE configurations, timed in one run on one machine.',
    'Each section below is written by `node scripts/bench/run.mjs --out docs/benchmarks.md --label NAME`',
    '(`npm run bench -- ...`) and replaced only by a run with the same label, so e.g. `before` and',
    '`after` sections live side by side. The raw numbers (every timed step) are in `docs/benchmarks.json`.',
    '',
    '## Method',
    '',
    '- What is timed: one full **training step** (forward, masked-MSE loss with `norm_pix_loss`,',
    '  backward, AdamW update with betas (0.9, 0.95), eps 1e-8, weight decay 0.05) on a fixed batch of',
    '  random N(0,1) images, mask ratio 0.75, a new mask every step; or, for preset C, **encoder',
    '  inference** on all patches (no masking, no gradients). maejs: `variableGradsByName(model.loss)`,',
    '  `AdamW.applyGradients`, loss read back; PyTorch: `zero_grad`, `loss.backward()`, `AdamW.step()`,',
    '  `loss.item()` (`scripts/bench/torch_mae.py` is an independent PyTorch MAE of the same structure:',
    '  Conv2d patch embed, fixed 2-D sin-cos position embedding, argsort masking, pre-norm blocks with a',
    '  fused qkv, exact GELU, LayerNorm eps 1e-6; the parameter counts are checked to agree).',
    '- How: every measurement is a fresh child process (`scripts/bench/maejs_step.mjs` or',
    '  `torch_mae.py`) with its own warm-up steps, then N timed steps. Child processes run one at a time,',
    '  alternating maejs and PyTorch, over several rounds (odd rounds start with PyTorch); the timed steps',
    '  of all rounds are pooled: median, min and max. images/s = batch / median step time.',
    '- Ratio `maejs/PyTorch` = maejs images/s divided by PyTorch images/s (1.00x = parity, 0.25x = 4x slower).',
    '- Threads: tfjs runs wasm on one thread in Node. `maejs wasm 2 thr` is data-parallel training',
    '  (`DataParallel` from `@maejs/trainer/node`, what `mae pretrain --threads 2` does): the batch is',
    '  split between the main thread and a worker thread, each with its own tfjs, and the gradients are',
    '  combined before the AdamW step (weights sent to the worker every step, gradients sent back).',
    '  PyTorch `N thr` sets torch, OpenMP and OpenBLAS to N threads. Encoder inference (preset C,',
    '  `model.features(images, \'cls\')`) splits the batch the same way (`DataParallel.features`, what',
    '  `mae features --threads 2` does; the weights cross to the worker once). Compare the best row of',
    '  each side: two threads share the machine\'s memory bandwidth and caches, so they give less than',
    '  2x (the ratio of the 1- and 2-thread rows below), and PyTorch is often faster with 1 thread than',
    '  with 2.',
    '- Memory: peak RSS of the child process (`process.resourceUsage().maxRSS`, `ru_maxrss`); for maejs',
    '  also the peak of `tf.memory().numBytes` within one step (`tf.profile` on one extra, untimed step).',
    '  The wasm heap never shrinks, so maejs RSS is at least its peak tensor bytes.',
    '- `512³ matMul GFLOP/s`: one plain 512x512x512 matMul in the same child, for the ceiling of the backend.',
    '- The tfjs `cpu` backend runs only for preset A, with few steps (it is ~30x slower than wasm).',
    '',
    '## FLOP count (`scripts/bench/flops.mjs`)',
    '',
    'Matrix multiplications only, 2 FLOPs per multiply-add. With L = (img/p)² patches, lenKeep =',
    'trunc(L x (1 - mask ratio)), Te = 1 + lenKeep encoder tokens, Td = 1 + L decoder tokens,',
    'P = p²C values per patch, H = 4D the MLP width, per image:',
    '',
    '| part | forward FLOPs |',
    '|---|---|',
    '| patch embed (all L patches, before masking) | 2 · L · P · D |',
    '| each encoder block | 2 · Te · (3D² + D² + 2DH) + 2 · 2 · Te² · D |',
    '| decoder embed | 2 · Te · D · Dd |',
    '| each decoder block | 2 · Td · (3Dd² + Dd² + 2Dd·Hd) + 2 · 2 · Td² · Dd |',
    '| decoder pred (cls row included) | 2 · Td · Dd · P |',
    '',
    'i.e. 2 x (matmul parameters) x (tokens they see), plus the attention matmuls q·kᵀ and',
    'softmax·v (2 · 2 · T² · D per layer). A training step = 3 x forward (the backward is ~2x the',
    'forward: one matmul for the input gradient and one for the weight gradient) x batch.',
    'Encoder inference = forward of the patch embed and the encoder blocks on all 1 + L tokens x batch.',
    'Not counted: biases, LayerNorm, GELU, softmax, masking/gather, the loss and the optimizer',
    '(each a few % or less here); the patch embed needs no input gradient, which 3x slightly over-counts.',
    'Achieved GFLOP/s = FLOPs per step / median step time.',
    INTRO_END,
  ].join('\n');
}

function sectionMarkers(label) {
  return [`<!-- bench:section:begin label=${label} -->`, `<!-- bench:section:end label=${label} -->`];
}

function replaceBlock(text, begin, end, block) {
  const i = text.indexOf(begin);
  const j = i >= 0 ? text.indexOf(end, i) : -1;
  if (i >= 0 && j >= 0) return text.slice(0, i) + block + text.slice(j + end.length);
  return null;
}

function sectionMarkdown(report) {
  const [begin, end] = sectionMarkers(report.label);
  const e = report.environment;
  const L = [];
  L.push(begin);
  L.push(`## ${report.label}: ${report.date.slice(0, 10)}`);
  L.push('');
  if (report.quick) L.push('> **Smoke test (`--quick`): too few steps for reliable numbers.**');
  if (report.note) L.push(`> ${report.note}`);
  if (report.quick || report.note) L.push('');
  L.push(`- Date: ${report.date}`);
  L.push(`- Command: \`${report.command}\``);
  L.push(`- CPU: ${e.cpu.model}, ${e.cpu.logicalCores} logical cores (${e.cpu.simd.join(', ')}), ${e.cpu.memGiB} GiB RAM; load average at start ${e.loadStart.map((x) => x.toFixed(2)).join(' / ')}, at end ${e.loadEnd.map((x) => x.toFixed(2)).join(' / ')}`);
  L.push(`- Node ${e.node}, tfjs-core ${e.tfjsCore ?? '?'}, tfjs-backend-wasm ${e.tfjsBackendWasm ?? '?'}, tfjs-backend-cpu ${e.tfjsBackendCpu ?? '?'}`);
  if (e.torch) {
    const ob = e.torch.blas?.openblas;
    L.push(`- PyTorch ${e.torch.version} (Debian python3-torch ${e.torch.deb ?? '?'}), Python ${e.torch.python}, BLAS ${ob ? `${ob.config} (core ${ob.core})` : (e.torch.blas?.torchBlasInfo ?? '?')}; loaded: ${(e.torch.blas?.loaded ?? []).map((p) => p.split('/').slice(-2).join('/')).join(', ')}`);
    if (e.torch.coreTypes) {
      L.push(`- PyTorch's BLAS kernels: ${coreTypeLine(e.torch.coreTypes)}`);
      for (const p of e.torch.coreTypes.probed) {
        L.push(`  - ${p.coreType ?? 'auto'}${p.core && p.core !== p.coreType ? ` (ran ${p.core})` : ''}: ${p.rejected ? `rejected, ${p.rejected}` : `${p.gflops.toFixed(1)} GFLOP/s on the step's shapes, ${p.gflops512.toFixed(1)} on 512³, error ${p.worstErrorOverBound.toFixed(3)} of the float32 bound`}`);
      }
    }
  } else if (e.torchSkipped) {
    L.push(`- PyTorch: skipped (${e.torchSkipped})`);
  }
  L.push(`- Steps: warm-up ${report.settings.warmup}, ${report.settings.repeatsPerRound} timed per run, ${report.settings.rounds} round(s) (tfjs cpu: warm-up ${report.settings.cpuWarmup}, ${report.settings.cpuRepeats} timed, 1 round)`);
  for (const s of report.skipped) L.push(`- Skipped backend \`${s.name}\`: ${s.reason}`);
  L.push('');
  for (const c of report.cases) {
    L.push(`### Preset ${c.id}: ${c.title}, batch ${c.batch}, ${c.mode === 'train' ? 'training step' : 'encoder inference'}`);
    L.push('');
    const t = c.flops.tokens;
    L.push(`${(c.flops.perStep / 1e9).toFixed(2)} GFLOP per ${c.mode === 'train' ? 'step' : 'batch'} (L ${t.L}, encoder tokens ${t.encoderTokens}${t.decoderTokens ? `, decoder tokens ${t.decoderTokens}` : ''}); ${c.params.map((p) => p.toLocaleString('en-US')).join(' / ')} trainable parameters${c.paramsAgree ? '' : ' (**maejs and PyTorch disagree**)'}.`);
    L.push('');
    L.push(...caseTable(c, report.torchKeys));
    L.push('');
  }
  for (const s of report.sweeps) {
    L.push(`### Sweep: ${s.title}`);
    L.push('');
    L.push(...sweepTable(s, report.torchKeys));
    L.push('');
  }
  L.push(end);
  return L.join('\n');
}

function writeMarkdown(path, report) {
  const block = sectionMarkdown(report);
  let text = existsSync(path) ? readFileSync(path, 'utf8') : '';
  const intro = introText();
  text = replaceBlock(text, INTRO_BEGIN, INTRO_END, intro) ?? (text ? `${intro}\n\n${text}` : `${intro}\n`);
  const [begin, end] = sectionMarkers(report.label);
  text = replaceBlock(text, begin, end, block) ?? `${text.replace(/\s*$/, '')}\n\n${block}\n`;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, text);
}

function writeJson(path, report) {
  let all = { format: 'maejs-bench', version: 1, sections: {} };
  if (existsSync(path)) {
    try {
      const old = JSON.parse(readFileSync(path, 'utf8'));
      if (old && old.sections) all = old;
    } catch {
      /* replace an unreadable file */
    }
  }
  all.sections[report.label] = report;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(all, null, 1)}\n`);
}

// ------------------------------------------------------------------------------------------
// Main

/** --render: rewrites the markdown of every section stored in the JSON file, running nothing. */
function render() {
  if (!flags.out) throw new Error('--render needs --out docs/benchmarks.md');
  const mdPath = resolve(process.cwd(), flags.out);
  const jsonPath = flags.json ? resolve(process.cwd(), flags.json) : join(dirname(mdPath), 'benchmarks.json');
  const all = JSON.parse(readFileSync(jsonPath, 'utf8'));
  for (const report of Object.values(all.sections)) writeMarkdown(mdPath, report);
  log(`re-rendered ${Object.keys(all.sections).length} section(s) of ${relative(process.cwd(), mdPath)} from ${relative(process.cwd(), jsonPath)}`);
}

async function main() {
  if (flags.render) return render();
  const startedAt = new Date();
  const loadStart = os.loadavg();
  if (loadStart[0] > 0.5) log(`warning: load average ${loadStart[0].toFixed(2)} at start: other processes are using the CPU, numbers will be noisy`);

  // which backends start (one child), and whether PyTorch loads
  const listed = probeOnce(process.execPath, [MAEJS_STEP, '--list-backends'], {});
  if (listed.error) throw new Error(`cannot load maejs (run \`npm run build\` first?): ${listed.error}`);
  const status = new Map(listed.backends.map((b) => [b.name, b]));
  const skipped = [];
  const backends = [];
  for (const name of wantedBackends) {
    const s = status.get(name);
    if (!s) skipped.push({ name, reason: 'not a maejs backend name' });
    else if (!s.available) skipped.push({ name, reason: s.reason });
    else if (name !== 'cpu') backends.push(name);
  }
  const cpuAvailable = wantedBackends.includes('cpu') && status.get('cpu')?.available;

  let torchInfo = null;
  let torchSkipped = null;
  let threads = torchThreads;
  if (threads.length) {
    const probe = probeOnce(flags.python, [TORCH_STEP, '--threads', '1', '--config', JSON.stringify({ ...PRESET_A, depth: 1, decoderDepth: 1 }), '--batch', '2', '--warmup', '0', '--repeats', '1', '--no-probe'], torchEnv(1));
    if (probe.error) {
      torchSkipped = `${flags.python} with torch did not run: ${probe.error}`;
      threads = [];
      log(`PyTorch skipped: ${torchSkipped}`);
    } else {
      const coreTypes = chooseCoreType();
      const blas = probeOnce(flags.python, [TORCH_STEP, '--threads', '1', '--config', JSON.stringify({ ...PRESET_A, depth: 1, decoderDepth: 1 }), '--batch', '2', '--warmup', '0', '--repeats', '1', '--no-probe'], torchEnv(1));
      torchInfo = { version: probe.versions.torch, python: probe.versions.python, blas: (blas.versions ?? probe.versions).blas, deb: debVersion('python3-torch'), coreTypes };
    }
  } else if (flags['no-torch']) {
    torchSkipped = '--no-torch';
  }
  const torchKeys = threads.map((t) => `torch-${t}t`);
  log(`backends: ${[...backends, ...(cpuAvailable ? ['cpu (preset A only)'] : [])].join(', ') || 'none'}; skipped: ${skipped.map((s) => s.name).join(', ') || 'none'}; PyTorch threads: ${threads.join(', ') || 'none'}`);

  const cases = [];
  for (const id of presetNames) {
    const p = PRESETS[id];
    cases.push(await runCase({ id, title: p.title, config: p.config, batch: p.batch, mode: p.mode, backends, cpuBackend: p.cpu && cpuAvailable, torch: threads, repeats: repeatsPerRound, rounds, warmup }));
  }

  const sweeps = [];
  if (flags.sweep) {
    const sweepRepeats = quick ? 1 : Math.max(2, Math.ceil(repeatsPerRound / 2));
    const sweepWarmup = quick ? 1 : Math.max(1, warmup - 1);
    const sweepBackends = backends; // no tfjs cpu in sweeps
    const batchSizes = quick ? [16, 64] : [16, 32, 64, 128, 256];
    const batchSweep = { title: `preset A training step vs batch size (${batchSizes.join(', ')})`, axis: 'batch', cases: [], extraKeys: sweepBackends.filter((b) => b !== 'wasm').map((b) => `maejs-${b}`) };
    for (const b of batchSizes) {
      const c = await runCase({ id: `A-b${b}`, title: 'preset A', config: PRESET_A, batch: b, mode: 'train', backends: sweepBackends, cpuBackend: false, torch: threads, repeats: sweepRepeats, rounds: 1, warmup: sweepWarmup, probe: false });
      c.axisValue = b;
      batchSweep.cases.push(c);
    }
    sweeps.push(batchSweep);
    const sizes = quick ? [28, 32] : [28, 32, 64, 224];
    // batch per image size: one number for all, or a list matched to the sizes (the default keeps
    // tokens per batch moderate and maejs's wasm heap, at most 4 GiB, large enough at 224 px)
    const batchList = flags['sweep-img-batch'].split(',').map(Number);
    const imgBatches = sizes.map((_, i) => batchList[Math.min(i, batchList.length - 1)]);
    const sizeSweep = { title: `preset A model (patch 4 kept, so L = (img/4)²) training step vs image size (${sizes.map((s, i) => `${s} px batch ${imgBatches[i]}`).join(', ')})`, axis: 'image', cases: [], extraKeys: batchSweep.extraKeys };
    for (const [i, size] of sizes.entries()) {
      const config = { ...PRESET_A, imgSize: size };
      const c = await runCase({ id: `A-img${size}`, title: `preset A at ${size}px`, config, batch: imgBatches[i], mode: 'train', backends: sweepBackends, cpuBackend: false, torch: threads, repeats: sweepRepeats, rounds: 1, warmup: sweepWarmup, probe: false });
      c.axisValue = size;
      sizeSweep.cases.push(c);
    }
    sweeps.push(sizeSweep);
  }

  const first = cases.flatMap((c) => c.results).find((r) => r.impl === 'maejs' && r.versions)?.versions ?? listed.versions;
  const report = {
    label: flags.label,
    date: startedAt.toISOString(),
    quick,
    note: null,
    command: `node ${relative(ROOT, fileURLToPath(import.meta.url))} ${argv.join(' ')}`.trim(),
    settings: { warmup, repeatsPerRound, rounds, cpuWarmup, cpuRepeats, timeoutMin: Number(flags['timeout-min']) },
    environment: {
      cpu: cpuInfo(),
      loadStart,
      loadEnd: os.loadavg(),
      node: process.version,
      tfjsCore: first.tfjsCore,
      tfjsBackendWasm: first.tfjsBackendWasm,
      tfjsBackendCpu: first.tfjsBackendCpu,
      torch: torchInfo,
      torchSkipped,
      platform: `${os.type()} ${os.release()} ${os.arch()}`,
    },
    skipped,
    torchKeys,
    cases,
    sweeps,
    seconds: (Date.now() - startedAt.getTime()) / 1000,
  };
  const notes = [];
  if (flags.note) notes.push(flags.note);
  if (loadStart[0] > 0.5) {
    notes.push(`Load average was ${loadStart[0].toFixed(2)} at the start: other processes shared the CPU, so these numbers are noisy (PyTorch with ${Math.max(...threads, 1)} threads suffers most: its threads wait for each other whenever another process holds a core).`);
  }
  report.note = notes.join(' ') || null;

  // stdout: the section as markdown
  process.stdout.write(`${sectionMarkdown(report)}\n`);
  if (flags.out) {
    const mdPath = resolve(process.cwd(), flags.out);
    const jsonPath = flags.json ? resolve(process.cwd(), flags.json) : join(dirname(mdPath), 'benchmarks.json');
    writeMarkdown(mdPath, report);
    writeJson(jsonPath, report);
    log(`wrote ${relative(process.cwd(), mdPath)} (section '${report.label}') and ${relative(process.cwd(), jsonPath)}`);
  }
  log(`done in ${report.seconds.toFixed(0)} s`);
}

main().catch((error) => {
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exitCode = 1;
});
