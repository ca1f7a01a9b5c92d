#!/usr/bin/env node
// The GPU benchmark kit's runner (in the kit: app/bench/gpu-kit/runner.mjs, started by run.sh, which
// has already unpacked Node and chosen the Vulkan loader and driver). Runs presets A, B, C and a
// batch sweep of B on maejs webgpu (Node, Dawn) and on PyTorch CUDA eager fp32, with one B step
// profiled kernel by kernel, and writes ONE JSON file, re-written after every result so that a stage that fails or
// times out loses only itself.
//
//   node runner.mjs [--smoke] [--out FILE] [--budget-s S] [--python PY] [--presets A,B,C]
//        [--torch-device cuda|cpu] [--warmup W] [--repeats R]
//
// --smoke: tiny models, one timed step each, PyTorch on the CPU (a check that the kit works on a
// machine without a GPU; see scripts/bench/README.md). Each stage is a child process
// (scripts/bench/maejs_step.mjs or torch_mae.py) with its own time limit, all inside --budget-s.
import { spawn } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stepFlops } from '../flops.mjs';
import { PRESETS } from '../presets.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
const { values: flags } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    out: { type: 'string', default: 'maejs-gpu-bench.json' },
    'budget-s': { type: 'string' },
    python: { type: 'string', default: 'python3' },
    presets: { type: 'string', default: 'A,B,C' },
    'torch-device': { type: 'string' },
    warmup: { type: 'string' },
    repeats: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
  process.stdout.write(`${lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).map((l) => l.slice(3)).join('\n')}\n`);
  process.exit(0);
}

const smoke = flags.smoke;
const integer = (name, fallback, min) => {
  const raw = flags[name] ?? String(fallback);
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be an integer >= ${min}, got ${raw}`);
  return value;
};
const budgetS = integer('budget-s', smoke ? 120 : 420, 10);
const warmup = integer('warmup', smoke ? 0 : 2, 0);
const repeats = integer('repeats', smoke ? 1 : 5, 1);
const torchDevice = flags['torch-device'] ?? (smoke ? 'cpu' : 'cuda');
const presetNames = flags.presets.split(',').map((p) => p.trim().toUpperCase()).filter(Boolean);
for (const p of presetNames) if (!PRESETS[p]) throw new Error(`--presets: unknown preset '${p}': expected A, B or C`);
const outPath = resolve(flags.out);
const deadline = Date.now() + budgetS * 1000;
const log = (msg) => process.stderr.write(`[kit] ${msg}\n`);

// ------------------------------------------------------------------------------------------
// What runs: the presets of scripts/bench, B also at batch 256 and 1024; in smoke mode models
// small enough for a software GPU (SwiftShader) and PyTorch on one CPU core.

const TINY = { embedDim: 16, depth: 1, numHeads: 2, decoderEmbedDim: 8, decoderDepth: 1, decoderNumHeads: 2 };
const PLAN = {
  A: { batches: [PRESETS.A.batch], limitS: 90, smoke: { ...TINY, imgSize: 8 }, smokeBatches: [2] },
  B: { batches: [PRESETS.B.batch, 256, 1024], limitS: 180, smoke: { ...TINY, imgSize: 8 }, smokeBatches: [2, 3] },
  C: { batches: [PRESETS.C.batch], limitS: 120, smoke: { ...TINY, imgSize: 32 }, smokeBatches: [1] },
};
const TORCH_LIMIT_S = 90;
/** CPU implementations of Vulkan / WebGPU. */
const SOFTWARE_ADAPTER = /swiftshader|llvmpipe|lavapipe|softpipe/i;

function caseOf(name) {
  const preset = PRESETS[name];
  const plan = PLAN[name];
  const config = smoke ? { ...preset.config, ...plan.smoke } : preset.config;
  return { name, title: smoke ? `${preset.title} (smoke: tiny ${JSON.stringify(plan.smoke)})` : preset.title, mode: preset.mode, config, batches: smoke ? plan.smokeBatches : plan.batches, limitS: plan.limitS };
}

// ------------------------------------------------------------------------------------------
// The report, written after every change

// run.sh sets KIT_DIR; run from a checkout (node scripts/bench/gpu-kit/runner.mjs) there is no manifest
const kitManifest = process.env.KIT_DIR ? readJson(join(process.env.KIT_DIR, 'manifest.json')) : null;
const report = {
  format: 'maejs-gpu-bench/1',
  status: 'running',
  smoke,
  startedAt: new Date().toISOString(),
  finishedAt: null,
  seconds: null,
  settings: { budgetS, warmup, repeats, torchDevice, presets: presetNames, python: flags.python },
  kit: kitManifest,
  machine: machineInfo(),
  vulkan: {
    loader: process.env.KIT_VULKAN_LOADER ?? null,
    icd: process.env.KIT_ICD ?? null,
    icdSource: process.env.KIT_ICD_SOURCE ?? null,
    VK_DRIVER_FILES: process.env.VK_DRIVER_FILES ?? null,
    VK_ICD_FILENAMES: process.env.VK_ICD_FILENAMES ?? null,
    LD_LIBRARY_PATH: process.env.LD_LIBRARY_PATH ?? null,
  },
  webgpu: { available: null },
  torch: { available: null },
  results: [],
  kernelProfile: null,
  stages: [],
};

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    return { error: `cannot read ${path}: ${error.message}` };
  }
}

function writeReport() {
  const temp = `${outPath}.tmp-${process.pid}`;
  writeFileSync(temp, `${JSON.stringify(report, null, 2)}\n`);
  renameSync(temp, outPath);
}

function machineInfo() {
  const cpu = os.cpus()[0]?.model ?? 'unknown';
  let osName = `${os.type()} ${os.release()}`;
  try {
    osName = readFileSync('/etc/os-release', 'utf8').match(/^PRETTY_NAME="?([^"\n]*)"?/m)?.[1] ?? osName;
  } catch {
    /* not Linux */
  }
  return { hostname: os.hostname(), os: osName, kernel: os.release(), arch: os.arch(), cpu, logicalCores: os.cpus().length, memGiB: +(os.totalmem() / 2 ** 30).toFixed(1), glibc: process.report?.getReport?.().header?.glibcVersionRuntime ?? null, node: process.version, gpus: null };
}

/** One result row per preset and batch: both sides, and maejs images/s over PyTorch images/s. */
function row(c, batch) {
  let r = report.results.find((x) => x.preset === c.name && x.batch === batch);
  if (!r) {
    const flops = stepFlops(c.config, batch, c.mode);
    r = { preset: c.name, title: c.title, mode: c.mode, batch, config: c.config, gflopPerStep: flops.perStep / 1e9, maejs: null, torch: null, ratio: null };
    report.results.push(r);
  }
  return r;
}

function summary(line) {
  return {
    status: 'ok',
    backend: line.backend,
    medianMs: line.medianMs,
    minMs: line.minMs,
    maxMs: line.maxMs,
    stepMs: line.stepMs,
    imagesPerSec: line.imagesPerSec,
    params: line.params,
    firstValue: line.firstValue,
    lastValue: line.lastValue,
    peakRssBytes: line.peakRssBytes,
    ...(line.impl === 'maejs' ? { tfPeakBytesInStep: line.tfPeakBytesInStep, tfBytesSteady: line.tfBytesSteady, leakedTensorsPerRun: line.leakedTensorsPerRun } : { gpuPeakBytes: line.gpuPeakBytes }),
    matmulProbeGflops: line.matmulProbe?.gflops ?? null,
  };
}

function record(c, line) {
  const r = row(c, line.batch);
  const side = line.impl === 'maejs' ? 'maejs' : 'torch';
  r[side] = summary(line);
  r[side].gflops = r.gflopPerStep / (line.medianMs / 1000);
  if (r.maejs?.status === 'ok' && r.torch?.status === 'ok') r.ratio = r.maejs.imagesPerSec / r.torch.imagesPerSec;
  log(`${c.name} batch ${line.batch} ${side}: ${line.medianMs.toFixed(1)} ms/step, ${line.imagesPerSec.toFixed(1)} images/s${r.ratio != null ? `, maejs/PyTorch ${r.ratio.toPrecision(3)}x` : ''}`);
}

/** Marks the rows of `c` that `side` did not fill, e.g. after a timeout, with why. */
function markMissing(c, side, status, reason) {
  for (const batch of c.batches) {
    const r = row(c, batch);
    if (!r[side]) r[side] = { status, reason };
  }
}

// ------------------------------------------------------------------------------------------
// Child processes, one at a time, each bounded by its limit and by the budget

const NOISE = /XDG_RUNTIME_DIR|^\s*$/;
let current = null; // the child process running now

// Stopped from outside (run.sh's timeout, Ctrl-C): stop the child, keep what was measured.
for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => {
    current?.kill('SIGKILL');
    report.status = 'partial';
    report.stoppedBy = `${signal} after ${((Date.now() - (deadline - budgetS * 1000)) / 1000).toFixed(0)} s`;
    report.finishedAt = new Date().toISOString();
    writeReport();
    process.exit(124);
  });
}

function runChild(command, args, { limitS, onJson }) {
  const timeoutMs = Math.min(limitS * 1000, deadline - Date.now() - 2000);
  if (timeoutMs < 5000) return Promise.resolve({ status: 'skipped', reason: `the time budget (--budget-s ${budgetS}) is spent`, seconds: 0 });
  return new Promise((done) => {
    const started = Date.now();
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], env: process.env });
    current = child;
    let pending = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (chunk) => {
      pending += chunk;
      let nl;
      while ((nl = pending.indexOf('\n')) >= 0) {
        const text = pending.slice(0, nl);
        pending = pending.slice(nl + 1);
        if (text.startsWith('BENCH_JSON ')) {
          try {
            onJson(JSON.parse(text.slice('BENCH_JSON '.length)));
          } catch (error) {
            stderr += `\nunreadable result line: ${error.message}`;
          }
        }
      }
    });
    child.stderr.on('data', (chunk) => {
      stderr = (stderr + chunk).slice(-20000);
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL'); // the child this runner started, by its handle
    }, timeoutMs);
    child.on('error', (error) => {
      stderr += `\n${error.message}`;
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      current = null;
      const seconds = (Date.now() - started) / 1000;
      const tail = stderr.split('\n').filter((l) => !NOISE.test(l)).slice(-4).join(' | ').slice(0, 800);
      if (timedOut) done({ status: 'timeout', reason: `stopped after ${(timeoutMs / 1000).toFixed(0)} s${tail ? `: ${tail}` : ''}`, seconds });
      else if (code === 0) done({ status: 'ok', seconds });
      else if (code === 3) done({ status: 'unavailable', seconds });
      else done({ status: 'failed', reason: `exit ${code ?? signal}${tail ? `: ${tail}` : ''}`, seconds });
    });
  });
}

async function stage(name, limitS, command, args, onJson) {
  log(`${name} ...`);
  const result = await runChild(command, args, { limitS, onJson });
  report.stages.push({ name, limitS, ...result });
  writeReport();
  if (result.status !== 'ok') log(`${name}: ${result.status}${result.reason ? ` (${result.reason})` : ''}`);
  return result;
}

const MAEJS_STEP = join(HERE, '..', 'maejs_step.mjs');
const TORCH_STEP = join(HERE, '..', 'torch_mae.py');

function maejsArgs(c, batches, extra = []) {
  return [MAEJS_STEP, '--backend', 'webgpu', '--config', JSON.stringify(c.config), '--batch', batches.join(','), '--mode', c.mode, '--warmup', String(warmup), '--repeats', String(repeats), '--no-profile', '--emit-device', ...extra];
}

async function maejsCase(c) {
  if (report.webgpu.available === false) {
    markMissing(c, 'maejs', 'unavailable', report.webgpu.reason);
    return;
  }
  // B also profiles one step at its first batch size, after all its timed batches
  // the 512^3 matMul probe runs once, with A (not in smoke runs: it takes ~10 s on a software GPU)
  const extra = [...(c.name === 'A' && !smoke ? [] : ['--no-probe']), ...(c.name === 'B' ? ['--kernel-profile', String(c.batches[0])] : [])];
  const result = await stage(`maejs webgpu ${c.name} (batch ${c.batches.join(', ')}${c.name === 'B' ? `; kernel profile at ${c.batches[0]}` : ''})`, c.limitS, process.execPath, maejsArgs(c, c.batches, extra), (line) => {
    if (line.unavailable) {
      report.webgpu = { available: false, reason: line.unavailable };
      return;
    }
    if (line.device && report.webgpu.available !== true) {
      const a = line.device.adapter ?? {};
      const software = a.isFallbackAdapter === true || SOFTWARE_ADAPTER.test(`${a.vendor} ${a.architecture} ${a.device} ${a.description}`);
      report.webgpu = { available: true, software, ...line.device, versions: line.versions };
      log(`webgpu adapter: ${[a.vendor, a.architecture, a.device, a.description].filter(Boolean).join(' / ')}${software ? ' (a software adapter)' : ''}`);
      if (software && !smoke) log('warning: this is a software adapter, not a GPU: its numbers say nothing about GPUs (see vulkan in the JSON for the driver chosen)');
    }
    if (line.kind === 'device') return writeReport();
    if (line.kind === 'kernel-profile') report.kernelProfile = { status: 'ok', preset: c.name, batch: line.batch, timestampQuery: line.device?.timestampQuery ?? null, ...line.profile.byKernel, peakBytes: line.profile.peakBytes };
    else record(c, line);
    writeReport();
  });
  if (result.status === 'unavailable') markMissing(c, 'maejs', 'unavailable', report.webgpu.reason);
  else if (result.status !== 'ok') markMissing(c, 'maejs', result.status, result.reason);
  if (c.name === 'B' && !report.kernelProfile) report.kernelProfile = { status: result.status === 'ok' ? 'failed' : result.status, reason: result.reason ?? 'no profile line' };
}

async function torchCase(c) {
  if (report.torch.available === false) {
    markMissing(c, 'torch', 'unavailable', report.torch.reason);
    return;
  }
  const args = [TORCH_STEP, '--device', torchDevice, '--threads', String(torchDevice === 'cpu' ? 1 : Math.min(os.cpus().length, 16)), '--config', JSON.stringify(c.config), '--batch', c.batches.join(','), '--mode', c.mode, '--warmup', String(warmup), '--repeats', String(repeats)];
  if (c.name !== 'A' || smoke) args.push('--no-probe');
  const result = await stage(`torch ${torchDevice} ${c.name} (batch ${c.batches.join(', ')})`, TORCH_LIMIT_S, flags.python, args, (line) => {
    if (line.gpu) report.torch.gpuDetails ??= line.gpu;
    report.torch.blas ??= line.versions?.blas ?? null;
    record(c, line);
    writeReport();
  });
  if (result.status !== 'ok') markMissing(c, 'torch', result.status, result.reason);
}

// ------------------------------------------------------------------------------------------
// Probes: the GPUs (nvidia-smi) and PyTorch

function capture(command, args, limitS) {
  return new Promise((done) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), limitS * 1000);
    child.on('error', (error) => {
      clearTimeout(timer);
      done({ ok: false, error: error.message });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      done(code === 0 ? { ok: true, out } : { ok: false, error: `exit ${code}: ${err.trim().split('\n').slice(-2).join(' | ')}` });
    });
  });
}

async function probeGpus() {
  const r = await capture('nvidia-smi', ['--query-gpu=name,driver_version,memory.total,compute_cap', '--format=csv,noheader'], 20);
  report.machine.gpus = r.ok ? r.out.trim().split('\n').map((l) => l.split(',').map((s) => s.trim())).map(([name, driver, memory, computeCap]) => ({ name, driver, memory, computeCap })) : { error: `nvidia-smi: ${r.error}` };
}

const TORCH_PROBE = `
import json, platform
try:
    import torch
    info = {"torch": torch.__version__, "python": platform.python_version(), "cuda": torch.version.cuda, "cudaAvailable": torch.cuda.is_available()}
    if torch.cuda.is_available():
        info.update(gpu=torch.cuda.get_device_name(0), deviceCount=torch.cuda.device_count(), cudnn=torch.backends.cudnn.version())
except Exception as e:
    info = {"error": "%s: %s" % (type(e).__name__, e)}
print(json.dumps(info))
`;

async function probeTorch() {
  const r = await capture(flags.python, ['-c', TORCH_PROBE], 60);
  let info;
  try {
    info = r.ok ? JSON.parse(r.out.trim().split('\n').pop()) : { error: r.error };
  } catch {
    info = { error: `unreadable output: ${r.out.slice(0, 200)}` };
  }
  if (info.error) report.torch = { available: false, reason: `${flags.python} cannot import torch (${info.error})` };
  else if (torchDevice.startsWith('cuda') && !info.cudaAvailable) report.torch = { available: false, reason: `torch ${info.torch} (CUDA ${info.cuda}) sees no CUDA device`, ...info };
  else report.torch = { available: true, device: torchDevice, ...info };
  writeReport();
}

// ------------------------------------------------------------------------------------------

async function main() {
  const t0 = Date.now();
  writeReport();
  log(`${smoke ? 'smoke run' : 'benchmark'}: presets ${presetNames.join(', ')}; budget ${budgetS} s; results in ${outPath}`);
  await probeGpus();
  await probeTorch();
  log(`PyTorch: ${report.torch.available ? `${report.torch.torch} on ${torchDevice}${report.torch.gpu ? ` (${report.torch.gpu})` : ''}` : report.torch.reason}`);
  for (const name of presetNames) {
    const c = caseOf(name);
    await maejsCase(c);
    await torchCase(c);
  }
  const complete = report.results.every((r) => r.maejs?.status === 'ok' && (r.torch?.status === 'ok' || report.torch.available === false)) && (!presetNames.includes('B') || report.kernelProfile?.status === 'ok');
  report.status = complete ? 'complete' : 'partial';
  report.finishedAt = new Date().toISOString();
  report.seconds = (Date.now() - t0) / 1000;
  writeReport();
  for (const r of report.results) {
    const side = (s) => (s?.status === 'ok' ? `${s.medianMs.toFixed(1)} ms (${s.imagesPerSec.toFixed(1)} img/s)` : (s?.status ?? '-'));
    log(`${r.preset} b${r.batch}: maejs webgpu ${side(r.maejs)} | torch ${torchDevice} ${side(r.torch)}${r.ratio != null ? ` | ${r.ratio.toPrecision(3)}x` : ''}`);
  }
  log(`${report.status} in ${report.seconds.toFixed(0)} s: ${outPath}`);
}

main().catch((error) => {
  report.status = 'failed';
  report.error = String(error.stack ?? error);
  writeReport();
  process.stderr.write(`${error.stack ?? error}\n`);
  process.exitCode = 1;
});
