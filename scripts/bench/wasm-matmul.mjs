#!/usr/bin/env node
// GFLOP/s of maejs's wasm matMul kernel, its two builds side by side (packages/backend/kernels/
// kernels.wasm: SIMD128, multiply and add separate; kernels-relaxed.wasm: the same with
// f32x4.relaxed_madd), and of tfjs-backend-wasm's own BatchMatMul (tfjs without maejs, i.e. what
// `useMaejsKernels(false)` runs), and of @jax-js/jax's wasm backend (a jit-compiled np.matmul,
// result read with dataSync(); a dev dependency of this repository), on the products of a preset
// A training step. Also the GELU kernels of both builds, forward + backward, in ns per value.
//
//   node scripts/bench/wasm-matmul.mjs [--rounds 5] [--ms 300] [--no-tfjs] [--no-jax] [--no-gelu]
//       [--shapes '[[1664,128,384],[512,512,512]]']        (each [m, k, n]: [m, k] x [k, n])
//
// The maejs kernels are called directly (operands already in the module's memory: no tfjs
// dispatch, no copies); tfjs's kernel through tf.matMul (dispatch and output allocation
// included, small next to these products). Every round runs every (shape, variant) for about
// --ms milliseconds, one after the other, so load from other processes spreads over all of
// them; the table gives the median over rounds and the best round. Single thread throughout.
// Node 20 runs relaxed SIMD only with V8's --experimental-wasm-relaxed-simd, which this script
// sets (process-wide) before compiling anything.
import { readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import v8 from 'node:v8';

const { values: flags } = parseArgs({
  options: {
    rounds: { type: 'string', default: '5' },
    ms: { type: 'string', default: '300' },
    shapes: { type: 'string' },
    'no-tfjs': { type: 'boolean', default: false },
    'no-jax': { type: 'boolean', default: false },
    'no-gelu': { type: 'boolean', default: false },
  },
});
const ROUNDS = Number(flags.rounds);
const MS = Number(flags.ms);
if (!(ROUNDS >= 1 && MS > 0)) throw new Error(`--rounds must be >= 1 and --ms > 0, got ${flags.rounds} and ${flags.ms}`);
/** [m, k, n] of the matMuls of a preset A step (mae_tiny_28 at batch 128: tokens x dims) and a square reference. */
const SHAPES = flags.shapes ? JSON.parse(flags.shapes) : [[1664, 128, 384], [1664, 512, 128], [6400, 64, 256], [6400, 256, 64], [512, 512, 512]];
const GELU_VALUES = 1664 * 512; // the MLP hidden activation of a preset A encoder block

const kernelsDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'backend', 'kernels');
const PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 8, 1, 96, 3, 123, 123, 123, 1, 123, 3, 2, 1, 0, 10, 13, 1, 11, 0, 32, 0, 32, 1, 32, 2, 253, 133, 2, 11]);
const relaxedByDefault = WebAssembly.validate(PROBE);
if (!relaxedByDefault) v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
if (!WebAssembly.validate(PROBE)) throw new Error(`this Node (${process.version}) runs no relaxed SIMD, even with --experimental-wasm-relaxed-simd`);

async function instantiate(file) {
  const { instance } = await WebAssembly.instantiate(readFileSync(join(kernelsDir, file)));
  return instance.exports;
}

/** Byte offsets of consecutive 16-byte-aligned float arrays in a module's memory, grown as needed. */
function reserve(e, floatCounts) {
  let end = Math.ceil(e.__heap_base.value / 16) * 16;
  const offsets = floatCounts.map((count) => {
    const offset = end;
    end += Math.ceil((count * 4) / 16) * 16;
    return offset;
  });
  const missing = end - e.memory.buffer.byteLength;
  if (missing > 0) e.memory.grow(Math.ceil(missing / 65536));
  return offsets;
}

const fill = (array, seed) => {
  for (let i = 0; i < array.length; i++) array[i] = Math.sin(seed + i * 0.7);
  return array;
};

/** A function running one [m, k] x [k, n] product with a maejs build (operands placed once). */
function maejsMatMul(e, [m, k, n]) {
  const [a, b, c, work] = reserve(e, [m * k, k * n, m * n, e.work_floats(m, k, n)]);
  fill(new Float32Array(e.memory.buffer, a, m * k), 1);
  fill(new Float32Array(e.memory.buffer, b, k * n), 2);
  return () => e.batch_matmul(a, b, c, work, 1, m, k, n, 0, 0, 1, 1);
}

function maejsGelu(e, n) {
  const [x, y, cdf, dy, dx] = reserve(e, [n, n, n, n, n]);
  fill(new Float32Array(e.memory.buffer, x, n), 3).forEach((v, i, xs) => (xs[i] = 4 * v));
  fill(new Float32Array(e.memory.buffer, dy, n), 4);
  return () => {
    e.gelu_forward(x, y, cdf, n);
    e.gelu_backward(x, cdf, dy, dx, n);
  };
}

async function tfjsMatMul() {
  const tf = await import('@tensorflow/tfjs-core');
  const wasm = await import('@tensorflow/tfjs-backend-wasm');
  await tf.setBackend('wasm');
  await tf.ready();
  return {
    threads: wasm.getThreadsCount?.() ?? 1,
    product: ([m, k, n]) => {
      const a = tf.tensor2d(fill(new Float32Array(m * k), 1), [m, k]);
      const b = tf.tensor2d(fill(new Float32Array(k * n), 2), [k, n]);
      return () => tf.matMul(a, b).dispose();
    },
  };
}

/** @jax-js/jax on its wasm device: a jit-compiled matmul, forced by reading the result. */
async function jaxMatMul() {
  const jax = await import('@jax-js/jax');
  const devices = await jax.init('wasm');
  if (!devices.includes('wasm')) throw new Error(`@jax-js/jax started no wasm device (got ${devices.join(', ')})`);
  jax.defaultDevice('wasm');
  const matmul = jax.jit((a, b) => jax.numpy.matmul(a, b));
  return {
    product: ([m, k, n]) => {
      const a = jax.numpy.array(fill(new Float32Array(m * k), 1)).reshape([m, k]);
      const b = jax.numpy.array(fill(new Float32Array(k * n), 2)).reshape([k, n]);
      return () => {
        matmul(a.ref, b.ref).dataSync(); // dataSync() takes ownership of the result and frees it
      };
    },
  };
}

/** Calls per second of `run` over about MS milliseconds (after one warm-up call). */
function rate(run) {
  run();
  const start = performance.now();
  let calls = 0;
  let elapsed = 0;
  do {
    run();
    calls++;
    elapsed = performance.now() - start;
  } while (elapsed < MS);
  return (calls * 1000) / elapsed;
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const builds = { simd: await instantiate('kernels.wasm'), 'relaxed-simd': await instantiate('kernels-relaxed.wasm') };
const tfjs = flags['no-tfjs'] ? null : await tfjsMatMul();
const jaxjs = flags['no-jax'] ? null : await jaxMatMul();
const cases = [];
for (const shape of SHAPES) {
  const flops = 2 * shape[0] * shape[1] * shape[2];
  for (const [variant, e] of Object.entries(builds)) cases.push({ kind: 'matmul', shape, variant, run: maejsMatMul(e, shape), perSecond: (r) => (r * flops) / 1e9 });
  if (tfjs) cases.push({ kind: 'matmul', shape, variant: 'tfjs-wasm', run: tfjs.product(shape), perSecond: (r) => (r * flops) / 1e9 });
  if (jaxjs) cases.push({ kind: 'matmul', shape, variant: 'jax-js-wasm', run: jaxjs.product(shape), perSecond: (r) => (r * flops) / 1e9 });
}
if (!flags['no-gelu']) {
  for (const [variant, e] of Object.entries(builds)) cases.push({ kind: 'gelu', shape: [GELU_VALUES], variant, run: maejsGelu(e, GELU_VALUES), perSecond: (r) => 1e9 / (r * GELU_VALUES) });
}

const load = loadavg()[0];
console.log(`node ${process.version} (V8 ${process.versions.v8}), ${cpus()[0]?.model ?? 'unknown CPU'}, load average ${load.toFixed(2)}${load > 0.5 ? ' (not idle: numbers are lower and noisier than on an idle machine)' : ''}`);
console.log(`relaxed SIMD: ${relaxedByDefault ? 'on by default' : 'on after --experimental-wasm-relaxed-simd'}; tfjs-backend-wasm threads: ${tfjs ? tfjs.threads : 'not measured'}`);
console.log(`${ROUNDS} rounds x ~${MS} ms per case, alternating`);
const results = cases.map(() => []);
for (let round = 0; round < ROUNDS; round++) cases.forEach((c, i) => results[i].push(c.perSecond(rate(c.run))));

const rows = cases.map((c, i) => {
  const best = c.kind === 'gelu' ? Math.min(...results[i]) : Math.max(...results[i]);
  return { kind: c.kind, shape: c.shape.join('x'), variant: c.variant, median: median(results[i]), best };
});
console.log('\nmatMul [m, k] x [k, n], GFLOP/s (median of rounds / best round):');
console.log(['m x k x n'.padEnd(16), ...[...Object.keys(builds), ...(tfjs ? ['tfjs-wasm'] : []), ...(jaxjs ? ['jax-js-wasm'] : [])].map((v) => v.padStart(16))].join(' '), '  relaxed / simd (median)');
for (const shape of SHAPES) {
  const key = shape.join('x');
  const byVariant = Object.fromEntries(rows.filter((r) => r.kind === 'matmul' && r.shape === key).map((r) => [r.variant, r]));
  const cells = Object.values(byVariant).map((r) => `${r.median.toFixed(1)} / ${r.best.toFixed(1)}`.padStart(16));
  console.log([key.padEnd(16), ...cells].join(' '), `  ${(byVariant['relaxed-simd'].median / byVariant.simd.median).toFixed(2)}`);
}
for (const r of rows.filter((row) => row.kind === 'gelu')) console.log(`GELU forward + backward of ${GELU_VALUES} values, ${r.variant}: ${r.median.toFixed(2)} ns/value (median), ${r.best.toFixed(2)} (best)`);
console.log(`\nBENCH_JSON ${JSON.stringify({ kind: 'wasm-matmul', node: process.version, load, rounds: ROUNDS, ms: MS, rows })}`);
