import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import { initBackend, useWasmKernelVariant, wasmKernelVariant } from '@maejs/backend';
import { Rng } from '@maejs/random';
import { wasmKernelsBase64, wasmKernelsRelaxedBase64 } from '../generated/wasm-kernels.cjs';
import { choiceFromEnvironment, kernelModule, type KernelModule, loadKernelModule, RELAXED_SIMD_ENV, RELAXED_SIMD_PROBE, relaxedSimdSupport, type WasmKernelVariant } from './wasm-module.js';

const VARIANTS: WasmKernelVariant[] = ['simd', 'relaxed-simd'];
const nodeMajor = Number(process.versions.node.split('.')[0]);
/** float32 unit roundoff */
const U = 2 ** -24;

/** n float32 values uniform in [-scale, scale), widened to float64. */
const uniform = (n: number, seed: number, scale: number) => Float64Array.from(new Rng(seed).fillUniform(new Float32Array(n), -scale, scale));

/** Byte offsets of consecutive 16-byte-aligned float arrays in the module's memory, grown as needed. */
function place(module: KernelModule, arrays: (ArrayLike<number> | number)[]): number[] {
  let end = Math.ceil(module.heapBase / 16) * 16;
  const offsets = arrays.map((a) => {
    const offset = end;
    end += Math.ceil(((typeof a === 'number' ? a : a.length) * 4) / 16) * 16;
    return offset;
  });
  const missing = end - module.memory.buffer.byteLength;
  if (missing > 0) module.memory.grow(Math.ceil(missing / 65536));
  arrays.forEach((a, i) => typeof a !== 'number' && new Float32Array(module.memory.buffer, offsets[i], a.length).set(a));
  return offsets;
}

interface Product {
  batch: number;
  m: number;
  k: number;
  n: number;
  ta: boolean;
  tb: boolean;
  /** operands holding one matrix, broadcast over the batch */
  oneA?: boolean;
  oneB?: boolean;
}

/** Element [i, p] of the s-th matrix of an operand stored [rows, cols] (or transposed). */
const at = (x: ArrayLike<number>, s: number, i: number, p: number, rows: number, cols: number, transposed: boolean) => x[s * rows * cols + (transposed ? p * rows + i : i * cols + p)];

/** C = op(A) op(B) in float64, and sum |a||b| per element (the scale of the rounding error). */
function referenceProduct(a: ArrayLike<number>, b: ArrayLike<number>, { batch, m, k, n, ta, tb, oneA, oneB }: Product) {
  const c = new Float64Array(batch * m * n);
  const scale = new Float64Array(batch * m * n);
  for (let s = 0; s < batch; s++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let [sum, abs] = [0, 0];
        for (let p = 0; p < k; p++) {
          const product = at(a, oneA ? 0 : s, i, p, m, k, ta) * at(b, oneB ? 0 : s, p, j, k, n, tb);
          sum += product;
          abs += Math.abs(product);
        }
        c[(s * m + i) * n + j] = sum;
        scale[(s * m + i) * n + j] = abs;
      }
    }
  }
  return { c, scale };
}

function runProduct(module: KernelModule, a: ArrayLike<number>, b: ArrayLike<number>, { batch, m, k, n, ta, tb, oneA, oneB }: Product): Float32Array {
  const [aAt, bAt, cAt, workAt] = place(module, [a, b, batch * m * n, module.workFloats(m, k, n)]);
  module.batchMatmul(aAt, bAt, cAt, workAt, batch, m, k, n, ta ? 1 : 0, tb ? 1 : 0, oneA ? 0 : 1, oneB ? 0 : 1);
  return new Float32Array(module.memory.buffer, cAt, batch * m * n).slice();
}

/** Largest |c - reference| / (gamma_k sum|a||b| + u |reference|): at most 1 within the float32 dot-product error bound. */
function worstBoundRatio(c: ArrayLike<number>, reference: { c: Float64Array; scale: Float64Array }, k: number): number {
  const gamma = (k * U) / (1 - k * U);
  let worst = 0;
  for (let i = 0; i < c.length; i++) worst = Math.max(worst, Math.abs(c[i] - reference.c[i]) / (gamma * reference.scale[i] + U * Math.abs(reference.c[i]) + 1e-30));
  return worst;
}

const PRODUCTS: Product[] = [
  { batch: 3, m: 13, k: 37, n: 11, ta: false, tb: false },
  { batch: 2, m: 5, k: 129, n: 9, ta: true, tb: false },
  { batch: 4, m: 1, k: 7, n: 3, ta: false, tb: true, oneA: true },
  { batch: 2, m: 33, k: 300, n: 17, ta: true, tb: true, oneB: true },
  { batch: 1, m: 64, k: 64, n: 64, ta: false, tb: false },
  // more rows than one row group (MC 128) and more k than one slice (KC 256), with a partial last slice
  { batch: 2, m: 150, k: 600, n: 20, ta: true, tb: false },
  { batch: 1, m: 261, k: 513, n: 9, ta: false, tb: true },
];
const describeProduct = (p: Product) => `[${p.batch}${p.oneA ? '->1' : ''}, ${p.m}, ${p.k}] x [${p.batch}${p.oneB ? '->1' : ''}, ${p.k}, ${p.n}], transposeA ${p.ta}, transposeB ${p.tb}`;

function operands(p: Product, seed: number) {
  return [uniform((p.oneA ? 1 : p.batch) * p.m * p.k, seed, 1), uniform((p.oneB ? 1 : p.batch) * p.k * p.n, seed + 1, 1)];
}

/** Phi(x) in float64: erf's Taylor series for |x| / sqrt 2 < 3, else erfc's continued fraction. */
function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  let q: number; // 0.5 erfc(z)
  if (z < 3) {
    let [term, sum] = [z, z];
    for (let n = 1; n < 200 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= (-z * z) / n;
      sum += term / (2 * n + 1);
    }
    q = 0.5 * (1 - (2 / Math.sqrt(Math.PI)) * sum);
  } else {
    let fraction = z;
    for (let n = 60; n >= 1; n--) fraction = z + n / 2 / fraction;
    q = (0.5 * Math.exp(-z * z)) / Math.sqrt(Math.PI) / fraction;
  }
  return x < 0 ? q : 1 - q;
}

const gelu64 = (x: number, dy: number) => {
  const cdf = normalCdf(x);
  const pdf = Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
  return { y: x * cdf, cdf, dx: dy * (cdf + x * pdf) };
};

function runGelu(module: KernelModule, x: Float64Array, dy: Float64Array) {
  const n = x.length;
  const [xAt, yAt, cdfAt, dyAt, dxAt] = place(module, [x, n, n, dy, n]);
  module.geluForward(xAt, yAt, cdfAt, n);
  module.geluBackward(xAt, cdfAt, dyAt, dxAt, n);
  const read = (offset: number) => new Float32Array(module.memory.buffer, offset, n).slice();
  return { y: read(yAt), cdf: read(cdfAt), dx: read(dxAt) };
}

function geluInputs(n: number) {
  const x = uniform(n, 7, 6);
  const dy = uniform(n, 8, 1);
  if (n > 5) [x[0], x[1], x[2], x[3], x[4]] = [0, -40, 40, 1e-20, -1e-20];
  return { x, dy };
}

/** The plain build's product, emulated: each product and each sum rounded to float32, p ascending. */
function roundedProduct(a: ArrayLike<number>, b: ArrayLike<number>, { batch, m, k, n, ta, tb }: Product): Float32Array {
  const f = Math.fround;
  const c = new Float32Array(batch * m * n);
  for (let s = 0; s < batch; s++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let sum = 0;
        for (let p = 0; p < k; p++) sum = f(sum + f(at(a, s, i, p, m, k, ta) * at(b, s, p, j, k, n, tb)));
        c[(s * m + i) * n + j] = sum;
      }
    }
  }
  return c;
}

describe("maejs's 'simd' matMul slices k and rows without changing a bit", () => {
  it.each(PRODUCTS.slice(-2).map((p) => [describeProduct(p), p] as const))('batch_matmul %s equals the sum rounded step by step, p ascending', async (_, p) => {
    const module = await loadKernelModule('simd');
    const [a, b] = operands(p, 91).map((x) => Float32Array.from(x));
    expect(Array.from(runProduct(module, a, b, p))).toEqual(Array.from(roundedProduct(a, b, p)));
  });
});

describe.each(VARIANTS)("maejs's '%s' wasm kernel build", (variant) => {
  let module: KernelModule;
  beforeAll(async () => {
    module = await loadKernelModule(variant);
  });

  it('loads as that build', () => {
    expect(module.variant).toBe(variant);
  });

  it.each(PRODUCTS.map((p) => [describeProduct(p), p] as const))('batch_matmul %s is within the float32 error bound of the float64 product', (_, p) => {
    const [a, b] = operands(p, p.m * 7 + p.k);
    const c = runProduct(module, a, b, p);
    expect(worstBoundRatio(c, referenceProduct(a, b, p), p.k)).toBeLessThanOrEqual(1);
  });

  it.each([1003, 7, 1])('gelu forward and backward of %i values in +-6 are within 4e-7 (relative to max(1, |x|)) of float64', (n) => {
    const { x, dy } = geluInputs(n);
    const out = runGelu(module, x, dy);
    let worst = 0;
    for (let i = 0; i < n; i++) {
      const ref = gelu64(x[i], dy[i]);
      const size = Math.max(1, Math.abs(x[i]));
      worst = Math.max(worst, Math.abs(out.cdf[i] - ref.cdf), Math.abs(out.y[i] - ref.y) / size, Math.abs(out.dx[i] - ref.dx) / size);
    }
    expect(worst).toBeLessThan(4e-7);
    if (n > 5) expect(Array.from(out.y.slice(0, 3))).toEqual([0, -0, 40]);
  });
});

describe('the two builds', () => {
  it.each(PRODUCTS.map((p) => [describeProduct(p), p] as const))('agree on batch_matmul %s within twice the float32 error bound', async (_, p) => {
    const [plain, relaxed] = await Promise.all(VARIANTS.map(loadKernelModule));
    const [a, b] = operands(p, 99 + p.n);
    const reference = referenceProduct(a, b, p);
    const [cPlain, cRelaxed] = [runProduct(plain, a, b, p), runProduct(relaxed, a, b, p)];
    const gamma = (p.k * U) / (1 - p.k * U);
    for (let i = 0; i < cPlain.length; i++) expect(Math.abs(cPlain[i] - cRelaxed[i])).toBeLessThanOrEqual(2 * (gamma * reference.scale[i] + U * Math.abs(reference.c[i])));
  });

  it('agree on gelu within 6e-7 (relative to max(1, |x|))', async () => {
    const [plain, relaxed] = await Promise.all(VARIANTS.map(loadKernelModule));
    const { x, dy } = geluInputs(4099);
    const [a, b] = [runGelu(plain, x, dy), runGelu(relaxed, x, dy)];
    for (const key of ['y', 'cdf', 'dx'] as const) {
      let worst = 0;
      for (let i = 0; i < x.length; i++) worst = Math.max(worst, Math.abs(a[key][i] - b[key][i]) / Math.max(1, Math.abs(x[i])));
      expect(worst).toBeLessThan(6e-7);
    }
  });

  it('were both compiled from the current C sources (rebuild with clang-16 + lld-16 after editing kernels/*.c)', () => {
    const kernels = join(__dirname, '..', 'kernels');
    const sources = readdirSync(kernels).filter((f) => f.endsWith('.c')).sort();
    const hash = createHash('sha256');
    for (const f of sources) hash.update(`${f}\0`).update(readFileSync(join(kernels, f)));
    const digest = hash.digest('hex');
    const infos = ['kernels.wasm', 'kernels-relaxed.wasm'].map((file) => JSON.parse(readFileSync(join(kernels, `${file}.json`), 'utf8')));
    for (const info of infos) expect([info.sources, info.sourceSha256]).toEqual([sources, digest]);
    expect(infos[0].compiler).toBe(infos[1].compiler); // one toolchain for both
    expect(infos[1].flags).toEqual([...infos[0].flags, '-mrelaxed-simd', '-DMAEJS_RELAXED_SIMD']);
  });
});

describe('relaxed SIMD detection', () => {
  /** Runs in a fresh Node process (V8 flags are process-wide): validation of the probe and both builds, before and after the flag. */
  function validateInFreshNode(): Record<string, boolean> {
    const script = `
      const v = (b64) => WebAssembly.validate(Buffer.from(b64, 'base64'));
      const run = () => ({ probe: v(process.env.PROBE), plain: v(process.env.PLAIN), relaxed: v(process.env.RELAXED) });
      const before = run();
      require('node:v8').setFlagsFromString('--experimental-wasm-relaxed-simd');
      const after = run();
      console.log(JSON.stringify({ ...Object.fromEntries(Object.entries(before).map(([k, x]) => ['before_' + k, x])), ...Object.fromEntries(Object.entries(after).map(([k, x]) => ['after_' + k, x])) }));`;
    const env = { ...process.env, PROBE: Buffer.from(RELAXED_SIMD_PROBE).toString('base64'), PLAIN: wasmKernelsBase64, RELAXED: wasmKernelsRelaxedBase64 };
    return JSON.parse(execFileSync(process.execPath, ['-e', script], { env, encoding: 'utf8' }));
  }

  it('the probe and the relaxed build validate exactly where relaxed SIMD is on (Node 20: after the V8 flag), the plain build everywhere', () => {
    const defaultOn = nodeMajor >= 21; // V8 >= 11.4 ships relaxed SIMD
    expect(validateInFreshNode()).toEqual({
      before_probe: defaultOn,
      before_plain: true,
      before_relaxed: defaultOn,
      after_probe: true,
      after_plain: true,
      after_relaxed: true,
    });
  });

  it('reports relaxed SIMD as supported on Node, and whether it set the V8 flag for it', async () => {
    const support = await relaxedSimdSupport();
    expect(support.supported).toBe(true);
    if (nodeMajor >= 21) expect(support.nodeFlagSet).toBe(false);
    expect(await relaxedSimdSupport()).toBe(support); // computed once
  });
});

describe('build selection', () => {
  const saved = process.env[RELAXED_SIMD_ENV];
  afterEach(() => {
    if (saved === undefined) delete process.env[RELAXED_SIMD_ENV];
    else process.env[RELAXED_SIMD_ENV] = saved;
  });

  it.each([
    [undefined, 'auto'],
    ['', 'auto'],
    ['auto', 'auto'],
    ['0', 'simd'],
    ['1', 'relaxed-simd'],
  ])(`${RELAXED_SIMD_ENV}=%j asks for %s`, (value, choice) => {
    if (value === undefined) delete process.env[RELAXED_SIMD_ENV];
    else process.env[RELAXED_SIMD_ENV] = value;
    expect(choiceFromEnvironment()).toBe(choice);
  });

  it(`refuses any other ${RELAXED_SIMD_ENV} value, naming it`, () => {
    process.env[RELAXED_SIMD_ENV] = 'yes';
    expect(() => choiceFromEnvironment()).toThrow(`${RELAXED_SIMD_ENV}="yes": expected 0 (plain SIMD kernels), 1 (relaxed SIMD kernels) or auto (relaxed where supported)`);
  });

  /** wasmKernelVariant() after the first kernelModule() of a fresh copy of wasm-module.ts, with the env variable set to `value`. */
  async function firstLoad(value: string | undefined): Promise<WasmKernelVariant | null> {
    if (value === undefined) delete process.env[RELAXED_SIMD_ENV];
    else process.env[RELAXED_SIMD_ENV] = value;
    let fresh!: typeof import('./wasm-module.js');
    jest.isolateModules(() => {
      fresh = require('./wasm-module');
    });
    expect(fresh.wasmKernelVariant()).toBeNull();
    const module = await fresh.kernelModule();
    expect(module.variant).toBe(fresh.wasmKernelVariant());
    return fresh.wasmKernelVariant();
  }

  it(`${RELAXED_SIMD_ENV}=0 loads the plain build; unset loads the relaxed one (supported on Node)`, async () => {
    expect(await firstLoad('0')).toBe('simd');
    expect(await firstLoad(undefined)).toBe('relaxed-simd');
    expect(await firstLoad('1')).toBe('relaxed-simd');
  });

  it('refuses an unknown variant', async () => {
    await expect(useWasmKernelVariant('fma' as WasmKernelVariant)).rejects.toThrow(`useWasmKernelVariant: expected 'auto', 'relaxed-simd' or 'simd', got "fma"`);
    expect(() => loadKernelModule('fma' as WasmKernelVariant)).toThrow(`loadKernelModule: expected 'relaxed-simd' or 'simd', got "fma"`);
  });

  it('switches the installed tfjs kernels between the builds, both ways', async () => {
    await initBackend('wasm');
    expect(wasmKernelVariant()).toBe(choiceFromEnvironment() === 'simd' ? 'simd' : 'relaxed-simd');
    const module = await kernelModule();
    const p: Product = { batch: 2, m: 9, k: 70, n: 13, ta: false, tb: true };
    const [a, b] = operands(p, 3);
    const reference = referenceProduct(a, b, p);
    for (const variant of ['simd', 'relaxed-simd', 'simd'] as const) {
      expect(await useWasmKernelVariant(variant)).toBe(variant);
      expect([wasmKernelVariant(), module.variant]).toEqual([variant, variant]);
      expect(module.memory).toBe((await loadKernelModule(variant)).memory);
      const y = tf.matMul(tf.tensor(Float32Array.from(a), [2, 9, 70]), tf.tensor(Float32Array.from(b), [2, 13, 70]), false, true);
      const c = (await y.data()) as Float32Array;
      expect(worstBoundRatio(c, reference, p.k)).toBeLessThanOrEqual(1);
      expect(Array.from(c)).toEqual(Array.from(runProduct(await loadKernelModule(variant), a, b, p)));
      tf.dispose(y);
    }
    await useWasmKernelVariant('auto');
  });
});
