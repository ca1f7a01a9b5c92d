#!/usr/bin/env node
/**
 * Fuzzes every checkpoint loader of @maejs/formats and @maejs/weights with the golden files as
 * seeds: .pth (zip + pickle), .safetensors, .npy, tfjs model.json + shards, Hugging Face
 * model.safetensors + config.json. Byte flips, truncation, huge declared sizes, overlapping
 * offsets, zip bombs, deep pickle nesting, non-allow-listed globals, hostile shard paths (see
 * testing/fuzz-core.ts, the harness the jest run uses too).
 *
 * Each attempt must end in a clean error naming the file or in a correct parse. The fuzzing runs
 * in a worker with a heap limit and a watchdog, so a hang or a runaway allocation is caught and
 * reported instead of taking the machine down. Exit code 1 when anything else happened.
 *
 *   npm run build   (the harness imports the built @maejs/formats and @maejs/weights)
 *   node scripts/fuzz-loaders.mjs [--count 5000] [--seed 1] [--max-ms 5000] [--heap-mb 1024] [--rss-mb 2048]
 *
 * --heap-mb caps the worker's JS heap; --rss-mb caps the whole process (typed arrays live outside
 * the JS heap): going over either ends the run with a FAIL line naming the last attempt.
 *
 * MAEJS_GOLDEN points at the golden folder (default ../shared/golden beside the repository).
 *
 * testing/fuzz-core.ts is TypeScript, which Node 20 cannot load: esbuild bundles it (packages left
 * external, so they resolve to the built ones) into node_modules/.cache/maejs/fuzz-core.mjs first.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const builtPackages = ['formats', 'weights', 'mae', 'random'].map((name) => join(root, 'packages', name, 'dist', 'index.js'));
const harness = join(root, 'node_modules', '.cache', 'maejs', 'fuzz-core.mjs');

/** Bundles testing/fuzz-core.ts into `harness`, its package imports left to the built packages. */
async function bundleHarness() {
  const { build } = await import('esbuild');
  const entry = join(root, 'testing', 'fuzz-core.ts');
  await build({ entryPoints: [entry], outfile: harness, bundle: true, packages: 'external', platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning' });
}

/** Seeds: the golden files plus the tfjs and HF exports of the golden state dict. */
function seeds(fuzz, goldenDir) {
  const file = (name) => new Uint8Array(readFileSync(join(goldenDir, 'tiny-gray', name)));
  const base = [
    { name: 'state_dict.pth', kind: 'pth', bytes: file('state_dict.pth') },
    { name: 'state_dict.safetensors', kind: 'safetensors', bytes: file('state_dict.safetensors') },
    { name: 'grads.safetensors', kind: 'safetensors', bytes: file('grads.safetensors') },
    { name: 'inputs.npy', kind: 'npy', bytes: file('inputs.npy') },
    { name: 'ids_restore.npy', kind: 'npy', bytes: file('ids_restore.npy') },
    { name: 'noise.npy', kind: 'npy', bytes: file('noise.npy') },
  ];
  return [...base, ...fuzz.derivedSeeds(file('state_dict.safetensors'), { numHeads: 4, decoderNumHeads: 4 })];
}

/** Worker: runs the fuzz core, posting a heartbeat per attempt and the report at the end. */
async function work() {
  const fuzz = await import(pathToFileURL(harness).href);
  const { count, seed, maxMs, goldenDir } = workerData;
  const report = fuzz.runFuzz(seeds(fuzz, goldenDir), {
    count,
    seed,
    maxMs,
    onAttempt: (i, outcome, mutator) => parentPort.postMessage({ type: 'beat', i, outcome, mutator }),
  });
  parentPort.postMessage({ type: 'report', report });
}

function options() {
  const { values } = parseArgs({
    options: { count: { type: 'string', default: '5000' }, seed: { type: 'string', default: '1' }, 'max-ms': { type: 'string', default: '5000' }, 'heap-mb': { type: 'string', default: '1024' }, 'rss-mb': { type: 'string', default: '2048' } },
    strict: true,
  });
  const n = (k) => {
    const v = Number(values[k]);
    if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be a positive integer, got '${values[k]}'`);
    return v;
  };
  return { count: n('count'), seed: n('seed'), maxMs: n('max-ms'), heapMb: n('heap-mb'), rssMb: n('rss-mb') };
}

function printReport(report, peakRss, began) {
  console.log(`attempts: ${report.attempts}`);
  console.log(`clean errors (naming the file): ${report.cleanErrors}`);
  console.log(`correct loads: ${report.correctLoads}`);
  console.log(`other errors: ${report.otherErrors}`);
  console.log(`slowest attempt: ${report.maxMs} ms; total ${((Date.now() - began) / 1000).toFixed(1)} s; peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB`);
  console.log('by mutator (attempts / clean / loaded / other):');
  for (const [name, t] of Object.entries(report.byMutator).sort()) console.log(`  ${name.padEnd(28)} ${t.attempts} / ${t.cleanErrors} / ${t.correctLoads} / ${t.otherErrors}`);
  for (const f of report.failures) console.log(`FAIL ${f}`);
}

/** Main thread: starts the worker, watches for hangs and out-of-memory, prints the counts. */
async function main() {
  const opts = options();
  const missing = builtPackages.filter((file) => !existsSync(file));
  if (missing.length) throw new Error(`${missing.join(', ')} missing: run \`npm run build\` first`);
  await bundleHarness();
  const goldenDir = process.env.MAEJS_GOLDEN ?? resolve(root, '..', 'shared', 'golden');
  if (!existsSync(join(goldenDir, 'tiny-gray'))) throw new Error(`golden cases not found at ${goldenDir}: set MAEJS_GOLDEN`);
  console.log(`fuzzing the loaders: ${opts.count} attempts, seed ${opts.seed}, heap limit ${opts.heapMb} MiB, RSS limit ${opts.rssMb} MiB, watchdog ${4 * opts.maxMs + 30000} ms`);
  const began = Date.now();
  let peakRss = process.memoryUsage().rss;
  let last = { i: -1, mutator: '(starting)' };
  const worker = new Worker(fileURLToPath(import.meta.url), { workerData: { ...opts, goldenDir }, resourceLimits: { maxOldGenerationSizeMb: opts.heapMb } });
  let lastBeat = Date.now();
  const watchdog = setInterval(() => {
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if (peakRss > opts.rssMb * 2 ** 20) {
      console.log(`FAIL runaway allocation: RSS ${(peakRss / 2 ** 20).toFixed(0)} MiB above --rss-mb ${opts.rssMb} after attempt ${last.i} (${last.mutator})`);
      clearInterval(watchdog);
      worker.terminate();
    }
    if (Date.now() - lastBeat > 4 * opts.maxMs + 30000) {
      console.log(`FAIL hang: no progress for ${Date.now() - lastBeat} ms after attempt ${last.i} (${last.mutator})`);
      clearInterval(watchdog);
      worker.terminate();
    }
  }, 250);
  const code = await new Promise((done) => {
    worker.on('message', (m) => {
      lastBeat = Date.now();
      if (m.type === 'beat') {
        last = m;
        if ((m.i + 1) % 1000 === 0) console.log(`  ${m.i + 1} attempts...`);
      } else {
        printReport(m.report, peakRss, began);
        done(m.report.otherErrors === 0 ? 0 : 1);
      }
    });
    worker.on('error', (e) => {
      console.log(`FAIL the worker died after attempt ${last.i} (${last.mutator}): ${e.code ?? ''} ${e.message}`);
      done(1);
    });
    worker.on('exit', (c) => done(c === 0 ? 0 : 1));
  });
  clearInterval(watchdog);
  process.exitCode = code;
}

if (isMainThread) {
  main().catch((e) => {
    console.error(`fuzz-loaders: ${e.message}`);
    process.exitCode = 2;
  });
} else {
  await work();
}
