#!/usr/bin/env node
// Makes the bundled offline sample of @maejs/data: the first 3000 images and labels of the
// Fashion-MNIST TEST split, as gzip-compressed IDX files in packages/data/sample/.
//
//   node packages/data/scripts/make-sample.mjs [--from <dir>] [--count <n>]
//
// --from defaults to /usr/share/datasets/fashion-mnist (Debian: apt-get install dataset-fashion-mnist).
// Deterministic: the same input gives byte-identical output (gzip level 9, no file name, mtime 0).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync, constants } from 'node:zlib';
import { createHash } from 'node:crypto';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = resolve(here, '..', 'sample');

function argument(name, fallback) {
  const at = process.argv.indexOf(name);
  return at >= 0 ? process.argv[at + 1] : fallback;
}

const from = argument('--from', '/usr/share/datasets/fashion-mnist');
const count = Number(argument('--count', '3000'));
if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be a positive integer, got ${argument('--count')}`);

/** Reads a (gzip) IDX file of uint8 data; returns its dims and data bytes. */
function readIdx(path) {
  const raw = readFileSync(path);
  const bytes = raw[0] === 0x1f && raw[1] === 0x8b ? gunzipSync(raw) : raw;
  if (bytes[0] !== 0 || bytes[1] !== 0 || bytes[2] !== 0x08) throw new Error(`${path}: expected a uint8 IDX file (magic 00 00 08 ndim)`);
  const ndim = bytes[3];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const dims = Array.from({ length: ndim }, (_, i) => view.getUint32(4 + 4 * i, false));
  const start = 4 + 4 * ndim;
  const expected = dims.reduce((a, b) => a * b, 1);
  if (bytes.length - start !== expected) throw new Error(`${path}: dims [${dims}] need ${expected} bytes, found ${bytes.length - start}`);
  return { dims, data: bytes.subarray(start) };
}

/** The first `n` records of an IDX array, as a new gzip-compressed IDX file. */
function headIdx({ dims, data }, n, path) {
  if (dims[0] < n) throw new Error(`${path}: has ${dims[0]} records, fewer than the ${n} requested`);
  const recordBytes = dims.slice(1).reduce((a, b) => a * b, 1);
  const header = new Uint8Array(4 + 4 * dims.length);
  const view = new DataView(header.buffer);
  header.set([0, 0, 0x08, dims.length]);
  [n, ...dims.slice(1)].forEach((d, i) => view.setUint32(4 + 4 * i, d, false));
  const body = data.subarray(0, n * recordBytes);
  const idx = Buffer.concat([header, body]);
  return gzipSync(idx, { level: constants.Z_BEST_COMPRESSION });
}

mkdirSync(outDir, { recursive: true });
const outputs = [
  ['t10k-images-idx3-ubyte.gz', 'fashion-mnist-sample-images-idx3-ubyte.gz'],
  ['t10k-labels-idx1-ubyte.gz', 'fashion-mnist-sample-labels-idx1-ubyte.gz'],
];
for (const [input, output] of outputs) {
  const path = join(from, input);
  const gz = headIdx(readIdx(path), count, path);
  writeFileSync(join(outDir, output), gz);
  const sha = createHash('sha256').update(gz).digest('hex');
  console.log(`${output}: ${gz.length} bytes, sha256 ${sha} (first ${count} records of ${path})`);
}
