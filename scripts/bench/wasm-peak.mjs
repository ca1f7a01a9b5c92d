#!/usr/bin/env node
// The arithmetic ceiling of 128-bit wasm SIMD on this CPU: how many float32 FLOP/s a loop of
// independent f32x4 multiply-adds reaches, with nothing else in it (no loads, no stores).
//
//   node scripts/bench/wasm-peak.mjs [--iterations 50000000] [--rounds 5]
//
// Two forms of the multiply-add, as maejs's two kernel builds use them:
// - `relaxed`: f32x4.relaxed_madd (a fused multiply-add on x86 with FMA3), kernels-relaxed.wasm;
// - `plain`: f32x4.mul then f32x4.add, kernels.wasm.
// Each iteration updates 12 independent accumulators (enough chains to cover the multiply-add
// latency on two ports): 12 x 4 lanes x 2 FLOP = 96 FLOP. The module is assembled below byte by
// byte (no compiler needed). Prints a markdown table and a `BENCH_JSON` line.
import { setFlagsFromString } from 'node:v8';
import { parseArgs } from 'node:util';

const { values: flags } = parseArgs({ options: { iterations: { type: 'string', default: '50000000' }, rounds: { type: 'string', default: '5' } } });
const iterations = Number(flags.iterations);
const rounds = Number(flags.rounds);
for (const [name, v] of [['--iterations', iterations], ['--rounds', rounds]]) {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} is ${v}: expected a positive integer`);
}

const ACCUMULATORS = 12;
const FLOP_PER_ITERATION = ACCUMULATORS * 4 * 2;

// LEB128 encodings and the opcodes used (WebAssembly core spec, SIMD and relaxed-SIMD proposals).
const uleb = (n) => {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return out;
};
const simd = (op) => [0xfd, ...uleb(op)];
const OP = {
  localGet: (i) => [0x20, ...uleb(i)],
  localSet: (i) => [0x21, ...uleb(i)],
  i32Const: (v) => [0x41, ...uleb(v)], // small non-negative values only
  i32Sub: [0x6b],
  f32Add: [0x92],
  v128ConstF32: (v) => [...simd(0x0c), ...new Uint8Array(new Float32Array([v, v, v, v]).buffer)],
  f32x4ExtractLane0: [...simd(0x1f), 0],
  f32x4Add: simd(0xe4),
  f32x4Mul: simd(0xe6),
  f32x4RelaxedMadd: simd(0x105),
  loop: [0x03, 0x40],
  brIf: (depth) => [0x0d, depth],
  end: [0x0b],
};

/** A module exporting `run(n: i32) -> f32`: n iterations of the 12 multiply-adds. */
function peakModule(relaxed) {
  // locals: 0 = n (param), 1..12 accumulators, 13 = multiplier, 14 = addend
  const [mul, add] = [ACCUMULATORS + 1, ACCUMULATORS + 2];
  const body = [];
  for (let i = 1; i <= ACCUMULATORS; i++) body.push(...OP.v128ConstF32(i / 1000), ...OP.localSet(i));
  body.push(...OP.v128ConstF32(0.999), ...OP.localSet(mul), ...OP.v128ConstF32(0.001), ...OP.localSet(add));
  body.push(...OP.loop);
  for (let i = 1; i <= ACCUMULATORS; i++) {
    if (relaxed) body.push(...OP.localGet(i), ...OP.localGet(mul), ...OP.localGet(add), ...OP.f32x4RelaxedMadd);
    else body.push(...OP.localGet(i), ...OP.localGet(mul), ...OP.f32x4Mul, ...OP.localGet(add), ...OP.f32x4Add);
    body.push(...OP.localSet(i));
  }
  body.push(...OP.localGet(0), ...OP.i32Const(1), ...OP.i32Sub, ...OP.localSet(0), ...OP.localGet(0), ...OP.brIf(0), ...OP.end);
  // the sum of every accumulator's lane 0, so no chain is dead code
  body.push(...OP.localGet(1), ...OP.f32x4ExtractLane0);
  for (let i = 2; i <= ACCUMULATORS; i++) body.push(...OP.localGet(i), ...OP.f32x4ExtractLane0, ...OP.f32Add);
  body.push(...OP.end);
  const locals = [1, ...uleb(ACCUMULATORS + 2), 0x7b]; // one group of v128 locals
  const code = [...uleb(locals.length + body.length), ...locals, ...body];
  const section = (id, bytes) => [id, ...uleb(bytes.length), ...bytes];
  const name = [...new TextEncoder().encode('run')];
  return new Uint8Array([
    ...[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    ...section(1, [1, 0x60, 1, 0x7f, 1, 0x7d]), // type: (i32) -> f32
    ...section(3, [1, 0]), // function 0 has type 0
    ...section(7, [1, name.length, ...name, 0x00, 0]), // export "run" = function 0
    ...section(10, [1, ...code]),
  ]);
}

const median = (xs) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function measure(relaxed) {
  const bytes = peakModule(relaxed);
  if (!WebAssembly.validate(bytes)) return null;
  const { instance } = await WebAssembly.instantiate(bytes);
  const run = instance.exports.run;
  run(1000); // tier up
  const rates = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    run(iterations);
    rates.push((iterations * FLOP_PER_ITERATION) / ((performance.now() - t0) / 1000) / 1e9);
  }
  return { median: median(rates), max: Math.max(...rates) };
}

setFlagsFromString('--experimental-wasm-relaxed-simd'); // Node 20; on by default in newer V8
const relaxed = await measure(true);
const plain = await measure(false);
const row = (label, m) => `| ${label} | ${m ? m.median.toFixed(1) : 'not supported'} | ${m ? m.max.toFixed(1) : ''} |`;
console.log(`| f32x4 multiply-add loop (${iterations} iterations x ${FLOP_PER_ITERATION} FLOP) | GFLOP/s median of ${rounds} | max |`);
console.log('| --- | --- | --- |');
console.log(row('relaxed_madd (fused)', relaxed));
console.log(row('mul + add', plain));
console.log(`BENCH_JSON ${JSON.stringify({ kind: 'wasm-peak', iterations, rounds, flopPerIteration: FLOP_PER_ITERATION, relaxed, plain, node: process.version })}`);
