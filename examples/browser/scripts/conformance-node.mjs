#!/usr/bin/env node
// The conformance kit in Node, on cpu and wasm (or the backends named on the command line),
// with the golden tiny-gray model check that the page runs too (src/golden-check.js).
//
//   node examples/browser/scripts/conformance-node.mjs [cpu] [wasm] [webgpu] [tensorflow]
//
// webgpu runs on Dawn (npm package webgpu) and needs a Vulkan driver on Linux; without a GPU:
// VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json (SwiftShader, Debian's chromium).
//
// Uses the built packages (npm run build first). Golden cases: ../shared/golden beside the
// repository, or MAEJS_GOLDEN. Writes examples/browser/test-results/conformance-<backend>-node.{txt,json}.
// src/golden-check.js imports the golden parser shared with the tests (testing/golden-case.ts),
// which Node cannot load as TypeScript: esbuild bundles that file (packages left external, so
// they resolve to the built ones) into test-results/golden-check.node.mjs first.
// Exit code 1 if a check failed or a backend could not start.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build } from 'esbuild';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@maejs/backend';
import { formatReport, runConformance } from '@maejs/backend/conformance';

const here = import.meta.dirname;
const goldenDir = join(process.env.MAEJS_GOLDEN ?? resolve(here, '..', '..', '..', '..', 'shared', 'golden'), 'tiny-gray');
const out = join(here, '..', 'test-results');
mkdirSync(out, { recursive: true });
const bundled = join(out, 'golden-check.node.mjs');
await build({ entryPoints: [join(here, '..', 'src', 'golden-check.js')], outfile: bundled, bundle: true, packages: 'external', platform: 'node', format: 'esm', target: 'node20', logLevel: 'warning' });
const { loadGoldenCase, tinyGrayGoldenCheck } = await import(pathToFileURL(bundled).href);
tf.enableProdMode();
const golden = await loadGoldenCase(async (f) => new Uint8Array(readFileSync(join(goldenDir, f))));
let failed = false;
for (const backend of process.argv.slice(2).length ? process.argv.slice(2) : ['cpu', 'wasm']) {
  try {
    await initBackend(backend);
  } catch (error) {
    console.log(`backend ${backend}: FAIL — it did not start: ${error.message}`);
    failed = true;
    continue;
  }
  const report = await runConformance({ golden: tinyGrayGoldenCheck(golden) });
  const text = formatReport(report);
  console.log(text);
  writeFileSync(join(out, `conformance-${backend}-node.txt`), text);
  writeFileSync(join(out, `conformance-${backend}-node.json`), JSON.stringify(report, null, 1));
  failed ||= !report.passed;
}
process.exitCode = failed ? 1 : 0;
