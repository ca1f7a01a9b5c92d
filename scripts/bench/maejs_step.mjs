#!/usr/bin/env node
// maejs side of `npm run bench`: times one MAE training step (forward, backward, AdamW step) or
// encoder-only inference on one tfjs backend and prints one JSON line prefixed `BENCH_JSON `
// (the same fields as scripts/bench/torch_mae.py, plus tfjs memory).
//
//   node scripts/bench/maejs_step.mjs --backend wasm --batch 128 --warmup 2 --repeats 5 \
//     --config '{"imgSize":28,"patchSize":4,"inChans":1,"embedDim":128,"depth":6,"numHeads":4,
//                "decoderEmbedDim":64,"decoderDepth":2,"decoderNumHeads":4}'
//
// `--batch 64,256,1024` measures each batch size in turn with the same model, one line each.
// `--emit-device` first prints the device (webgpu: adapter, features, limits) as a line
// `BENCH_JSON {"kind":"device",...}`, so it is known even if a measurement never ends.
// `--kernel-profile B` then profiles one more step at batch B (after every timed batch, so a
// failing profile loses no timing) and prints its kernels, grouped by name with their times, as a
// last line `BENCH_JSON {"kind":"kernel-profile",...}`.
// `--memory-trace` wraps every timed step in tf.profile and adds `memoryTrace` to the JSON: per
// step the peak tensor bytes within it, the tensor bytes and count after it and the process RSS
// (scripts/bench/memory.mjs; the step times then include the profiler's bookkeeping).
// Uses the built packages (run `npm run build` first). Exit code 3 = backend unavailable (the
// JSON line then holds `unavailable: reason`). `--list-backends` prints which backends start.
import { parseArgs } from 'node:util';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as tf from '@tensorflow/tfjs-core';
import { BackendUnavailableError, initBackend, listBackends } from '@maejs/backend';
import { MaskedAutoencoder } from '@maejs/mae';
import { AdamW, variableGradsByName } from '@maejs/trainer';
import { DataParallel } from '@maejs/trainer/node';

const { values: flags } = parseArgs({
  options: {
    backend: { type: 'string', default: 'wasm' },
    config: { type: 'string' },
    batch: { type: 'string' },
    warmup: { type: 'string', default: '2' },
    repeats: { type: 'string', default: '5' },
    mode: { type: 'string', default: 'train' },
    seed: { type: 'string', default: '1' },
    lr: { type: 'string', default: '1.5e-4' },
    threads: { type: 'string', default: '1' },
    'no-profile': { type: 'boolean', default: false },
    'no-probe': { type: 'boolean', default: false },
    'kernel-profile': { type: 'string' },
    'emit-device': { type: 'boolean', default: false },
    'list-backends': { type: 'boolean', default: false },
    'memory-trace': { type: 'boolean', default: false },
  },
});

function emit(result) {
  process.stdout.write(`BENCH_JSON ${JSON.stringify(result)}\n`);
}

function pkgVersion(name) {
  try {
    const require = createRequire(import.meta.url);
    return JSON.parse(readFileSync(require.resolve(`${name}/package.json`), 'utf8')).version;
  } catch {
    return null;
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** 512^3 matMul on the active backend: what one plain 2-D matMul reaches here. */
async function matmulProbe(n = 512, reps = 3) {
  const a = tf.randomNormal([n, n], 0, 1, 'float32', 7);
  const b = tf.randomNormal([n, n], 0, 1, 'float32', 8);
  const run = async () => {
    const c = tf.matMul(a, b);
    await c.data();
    c.dispose();
  };
  await run();
  const times = [];
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  tf.dispose([a, b]);
  return { n, gflops: (2 * n ** 3) / (median(times) / 1000) / 1e9 };
}

async function main() {
  if (flags['list-backends']) {
    tf.enableProdMode();
    emit({ backends: await listBackends(), versions: { node: process.version, tfjsCore: tf.version_core, tfjsBackendWasm: pkgVersion('@tensorflow/tfjs-backend-wasm'), tfjsBackendCpu: pkgVersion('@tensorflow/tfjs-backend-cpu') } });
    return;
  }
  if (!flags.config || !flags.batch) throw new Error('--config and --batch are required');
  const config = JSON.parse(flags.config);
  const batches = flags.batch.split(',').map(Number);
  if (!batches.every((b) => Number.isInteger(b) && b > 0)) throw new Error(`--batch: expected a positive integer or a comma-separated list of them, got ${flags.batch}`);
  const profileBatch = flags['kernel-profile'] === undefined ? null : Number(flags['kernel-profile']);
  if (profileBatch !== null && !(Number.isInteger(profileBatch) && profileBatch > 0)) throw new Error(`--kernel-profile: expected the batch size of the profiled step, got ${flags['kernel-profile']}`);
  const warmup = Number(flags.warmup);
  const repeats = Number(flags.repeats);
  const mode = flags.mode;
  if (mode !== 'train' && mode !== 'encoder') throw new Error(`--mode train|encoder, got ${mode}`);
  const baseSeed = Number(flags.seed);
  const threads = Number(flags.threads);
  if (!Number.isInteger(threads) || threads < 1) throw new Error(`--threads must be a positive integer, got ${flags.threads}`);

  tf.enableProdMode();
  let backend;
  try {
    backend = await initBackend(flags.backend);
  } catch (error) {
    if (error instanceof BackendUnavailableError) {
      emit({ impl: 'maejs', backend: flags.backend, unavailable: error.reason });
      process.exitCode = 3;
      return;
    }
    throw error;
  }

  const model = new MaskedAutoencoder(config, { seed: baseSeed });
  const vars = model.trainableVariables();
  let params = 0;
  for (const v of vars.values()) params += v.size;
  // threads > 1: each batch is split over this thread and worker threads (DataParallel), as
  // `mae pretrain --threads N` trains; the images then go in as an array, as the trainer's do.
  const parallel = threads > 1 ? await DataParallel.start(model, { threads }) : null;
  const device = await deviceInfo(backend);
  if (flags['emit-device']) emit({ kind: 'device', impl: 'maejs', backend, device, versions: { node: process.version, tfjsCore: tf.version_core, tfjsBackendWebgpu: pkgVersion('@tensorflow/tfjs-backend-webgpu'), webgpu: pkgVersion('webgpu') } });
  for (const [i, batch] of batches.entries()) {
    const result = await measure({ model, vars, parallel, batch, mode, warmup, repeats, baseSeed, profile: !flags['no-profile'] });
    const probe = i === 0 && !flags['no-probe'] ? await matmulProbe() : null;
    emit({
      impl: 'maejs',
      backend,
      mode,
      batch,
      config: model.config,
      params,
      threads,
      warmup,
      repeats,
      ...result,
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
      rssBytes: process.memoryUsage().rss,
      matmulProbe: probe,
      device,
      versions: {
        node: process.version,
        tfjsCore: tf.version_core,
        tfjsBackendWasm: pkgVersion('@tensorflow/tfjs-backend-wasm'),
        tfjsBackendCpu: pkgVersion('@tensorflow/tfjs-backend-cpu'),
        tfjsBackendWebgpu: pkgVersion('@tensorflow/tfjs-backend-webgpu'),
        webgpu: pkgVersion('webgpu'),
      },
    });
  }
  if (profileBatch !== null) {
    const warm = batches.includes(profileBatch) ? 0 : 1; // shaders and buffers of this shape exist already
    const { profile, firstValue } = await measure({ model, vars, parallel, batch: profileBatch, mode, warmup: warm, repeats: 0, baseSeed, profile: true, byKernel: true });
    emit({ kind: 'kernel-profile', impl: 'maejs', backend, mode, batch: profileBatch, warmup: warm, value: firstValue, profile, device });
  }
  await parallel?.close();
  model.dispose();
}

/** Warm-up and timed steps of one batch size; with `profile` tf.profile of one more step (`byKernel`: with per-kernel times). */
async function measure({ model, vars, parallel, batch, mode, warmup, repeats, baseSeed, profile: wantProfile, byKernel = false }) {
  const { imgSize, inChans } = model.config;
  const images = tf.randomNormal([batch, imgSize, imgSize, inChans], 0, 1, 'float32', baseSeed + 1);
  const optimizer = mode === 'train' ? new AdamW(vars, { lr: Number(flags.lr), betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.05 }) : null;
  const imageArray = parallel ? await images.data() : null;

  let stepIndex = 0;
  // One full step; returns the loss (train) or one output value (encoder). The read-back at the
  // end waits for every kernel (wasm and cpu run synchronously anyway; on a GPU it waits for the
  // queue) and costs microseconds.
  async function step() {
    stepIndex += 1;
    if (mode === 'train') {
      const maskSeed = 1000 + stepIndex; // tfjs treats seed 0 as unseeded
      if (parallel) {
        const { loss, grads } = await parallel.lossAndGradients(imageArray, images.shape, maskSeed);
        optimizer.applyGradients(grads);
        tf.dispose([...grads.values()]);
        return loss;
      }
      const { value, grads } = variableGradsByName(() => model.loss(images, { seed: maskSeed }), vars);
      optimizer.applyGradients(grads);
      tf.dispose([...grads.values()]);
      const loss = (await value.data())[0];
      value.dispose();
      return loss;
    }
    // encoder inference: the cls features of all patches (the encoder on every token, its final norm)
    if (parallel) return (await parallel.features(imageArray, images.shape, 'cls'))[0];
    const out = tf.tidy(() => tf.slice(model.features(images, 'cls'), [0, 0], [1, 1]));
    const v = (await out.data())[0];
    out.dispose();
    return v;
  }

  let first = null;
  for (let i = 0; i < warmup; i++) {
    const v = await step();
    if (first === null) first = v;
  }
  const times = [];
  let last = null;
  const tensorsBefore = tf.memory().numTensors;
  const trace = flags['memory-trace'] ? { peakBytes: [], tensorBytes: [], numTensors: [], rssBytes: [] } : null;
  for (let i = 0; i < repeats; i++) {
    const t0 = performance.now();
    if (trace) {
      const info = await tf.profile(async () => {
        last = await step();
      });
      trace.peakBytes.push(info.peakBytes);
      trace.tensorBytes.push(tf.memory().numBytes);
      trace.numTensors.push(tf.memory().numTensors);
      trace.rssBytes.push(process.memoryUsage().rss);
    } else {
      last = await step();
    }
    times.push(performance.now() - t0);
    if (first === null) first = last;
  }
  const leakedTensors = tf.memory().numTensors - tensorsBefore;
  const steadyBytes = tf.memory().numBytes;

  // Peak tensor bytes within one step: tf.profile on one extra, untimed step (with worker
  // threads: this thread's share only); with `byKernel` also the time of every kernel.
  let profile = null;
  if (wantProfile) {
    const info = await tf.profile(async () => {
      await step();
    });
    profile = { peakBytes: info.peakBytes, newBytes: info.newBytes, newTensors: info.newTensors, kernels: info.kernels.length };
    if (byKernel) profile.byKernel = kernelSummary(info.kernels);
  }
  optimizer?.dispose();
  images.dispose();

  const med = times.length ? median(times) : NaN;
  return {
    stepMs: times,
    medianMs: med,
    minMs: times.length ? Math.min(...times) : null,
    maxMs: times.length ? Math.max(...times) : null,
    imagesPerSec: times.length ? batch / (med / 1000) : null,
    firstValue: first,
    lastValue: last,
    tfBytesSteady: steadyBytes,
    tfPeakBytesInStep: profile ? profile.peakBytes : null,
    profile,
    leakedTensorsPerRun: leakedTensors,
    memoryTrace: trace,
  };
}

/**
 * Kernels of one profiled step grouped by name: calls and summed time, most time first. Times
 * come from the backend's timer (kernel timestamps on webgpu when the device has
 * 'timestamp-query'; wall time of each synchronous kernel on cpu and wasm); where the backend
 * gives none, `timing` says why and only the counts are meaningful.
 */
function kernelSummary(kernels) {
  const byName = new Map();
  let timed = 0;
  let totalMs = 0;
  let untimed = null;
  for (const k of kernels) {
    const ms = typeof k.kernelTimeMs === 'number' ? k.kernelTimeMs : null;
    if (ms === null) untimed ??= k.kernelTimeMs?.error ?? 'the backend reported no kernel time';
    const row = byName.get(k.name) ?? { name: k.name, count: 0, totalMs: 0 };
    row.count += 1;
    if (ms !== null) {
      row.totalMs += ms;
      totalMs += ms;
      timed += 1;
    }
    byName.set(k.name, row);
  }
  const rows = [...byName.values()].sort((a, b) => b.totalMs - a.totalMs || b.count - a.count);
  return { kernelCalls: kernels.length, timedCalls: timed, totalKernelMs: totalMs, timing: timed === kernels.length ? 'per kernel' : `${timed} of ${kernels.length} calls timed: ${untimed}`, kernels: rows };
}

/** The GPU behind the webgpu backend: adapter name, vendor, architecture, features and limits. */
async function deviceInfo(backend) {
  if (backend !== 'webgpu') return null;
  const adapter = await globalThis.navigator?.gpu?.requestAdapter({ powerPreference: 'high-performance' });
  const plain = (o) => {
    const out = {};
    for (const k in o ?? {}) if (typeof o[k] !== 'function') out[k] = o[k];
    return out;
  };
  const b = tf.backend();
  return {
    adapter: plain(adapter?.info),
    adapterFeatures: adapter ? [...adapter.features].sort() : [],
    adapterLimits: plain(adapter?.limits),
    deviceLimits: plain(b.device?.limits),
    timestampQuery: b.supportTimestampQuery ?? null,
  };
}

// Exits as soon as the results are out (stdout to a pipe is synchronous on Linux): a GPU runtime
// (Dawn) may keep threads alive that would hold the process open.
main()
  .catch((error) => {
    process.stderr.write(`${error.stack ?? error}\n`);
    process.exitCode = 1;
  })
  .finally(() => process.exit());
