#!/usr/bin/env node
// Browser tests of maejs: the built example app (examples/browser/dist, `vite build` first) served
// on 127.0.0.1 by a tiny static server, driven in Debian's Chromium by playwright-core.
//
//   npm run test:browser -w examples/browser          (builds the app, then runs this)
//
// Needs `apt-get install chromium` (/usr/bin/chromium, or set CHROMIUM_PATH) and the golden cases
// made with the official PyTorch code beside the repository (../shared/golden, or MAEJS_GOLDEN);
// their absence is an error. Writes reports, timings and screenshots to
// examples/browser/test-results/ and the app screenshot after training to docs/browser-app.png.
// Ends with a line "N passed, N failed, N skipped"; exit code 1 if anything failed.
//
// MAEJS_BROWSER_STEPS (default 20), MAEJS_BROWSER_BATCH (default 8): the webgl training test.
// MAEJS_BROWSER_BENCH=0 leaves out the step timings of webgl / wasm / cpu (batch MAEJS_BENCH_BATCH, default 16).
// MAEJS_BROWSER_ONLY=<regular expression> runs only the tests whose names match (the others are skipped).
import { createHash } from 'node:crypto';
import { createServer } from 'node:http';
import { builtinModules } from 'node:module';
import { createReadStream, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const root = resolve(import.meta.dirname, '..');
const app = join(root, 'examples', 'browser');
const dist = join(app, 'dist');
const out = join(app, 'test-results');
const goldenRoot = process.env.MAEJS_GOLDEN ?? resolve(root, '..', 'shared', 'golden');
const executablePath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const STEPS = Number(process.env.MAEJS_BROWSER_STEPS ?? 20);
const BATCH = Number(process.env.MAEJS_BROWSER_BATCH ?? 8);
const BENCH = process.env.MAEJS_BROWSER_BENCH !== '0';
const BENCH_BATCH = Number(process.env.MAEJS_BENCH_BATCH ?? 16);
// The flags from docs/browser.md: software WebGL through SwiftShader, no background networking
// (this machine's network is closed), no sandbox (root in CI). playwright adds a fresh profile.
const CHROMIUM_ARGS = ['--no-sandbox', '--enable-unsafe-swiftshader', '--disable-quic', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'];

mkdirSync(out, { recursive: true });
const started = Date.now();
const results = [];
const log = (...args) => console.log(`[${((Date.now() - started) / 1000).toFixed(1).padStart(6)} s]`, ...args);

const ONLY = process.env.MAEJS_BROWSER_ONLY ? new RegExp(process.env.MAEJS_BROWSER_ONLY) : null;

async function test(name, body) {
  if (ONLY && !ONLY.test(name)) {
    results.push({ name, status: 'skipped', reason: 'MAEJS_BROWSER_ONLY' });
    return;
  }
  const t0 = Date.now();
  try {
    const note = await body();
    if (note && typeof note === 'object' && note.skip) {
      results.push({ name, status: 'skipped', reason: note.skip });
      log(`SKIP ${name}: ${note.skip}`);
      return;
    }
    results.push({ name, status: 'passed', seconds: (Date.now() - t0) / 1000 });
    log(`PASS ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)${note ? ` — ${note}` : ''}`);
  } catch (error) {
    results.push({ name, status: 'failed', error: error.stack ?? String(error) });
    log(`FAIL ${name}\n${error.stack ?? error}`);
  }
}

function assert(condition, message) {
  if (!condition) throw new Error(message);
}

// ---------------------------------------------------------------------------------------
// A Hugging Face-like hub under /hub/ (same origin: the app must fetch nothing from elsewhere).
// /hub/<owner>/<name>/resolve/<revision>/<file>: small files directly, large ones (LFS) with a
// 302 to /hub/cdn/<sha256> carrying X-Linked-Etag and X-Linked-Size, as the hub does; the CDN
// answers with the SHA-256 as ETag. /hub/files/<name> serves plain files. Every request is logged.

const hub = { files: new Map(), blobs: new Map(), hits: [] };
const sha256Hex = (bytes) => createHash('sha256').update(bytes).digest('hex');

/** The tiny-gray golden checkpoint as an HF ViTMAE repository and as a maejs .safetensors, made with the built packages. */
async function hubFiles() {
  const weights = await import(pathToFileURL(join(root, 'packages', 'weights', 'dist', 'index.js')).href);
  const { configFromOfficial } = await import(pathToFileURL(join(root, 'packages', 'mae', 'dist', 'index.js')).href);
  const caseJson = JSON.parse(readFileSync(join(goldenRoot, 'tiny-gray', 'case.json'), 'utf8'));
  const config = configFromOfficial(caseJson.config);
  const imported = weights.importCheckpoint(readFileSync(join(goldenRoot, 'tiny-gray', 'state_dict.safetensors')), 'state_dict.safetensors');
  const state = weights.maeStateOf(imported, weights.analyzeCheckpoint(imported, config)).state;
  for (const f of weights.exportSafetensors(state, config, 'hf')) hub.files.set(`facebook/vit-mae-tiny/main/${f.name}`, Buffer.from(f.bytes));
  hub.files.set('files/tiny.safetensors', Buffer.from(weights.exportSafetensors(state, config, 'official')[0].bytes));
  hub.files.set('files/sign-in.pth', Buffer.from('<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Please sign in</body></html>\n'));
  for (const bytes of hub.files.values()) hub.blobs.set(sha256Hex(bytes), bytes);
  return imported.tensors.get('blocks.0.attn.qkv.weight');
}

function serveHub(path, res) {
  hub.hits.push(path);
  const resolveMatch = /^\/hub\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(path);
  const cdn = /^\/hub\/cdn\/([0-9a-f]{64})$/.exec(path);
  const plain = /^\/hub\/(files\/.+)$/.exec(path);
  const bytes = resolveMatch ? hub.files.get(`${resolveMatch[1]}/${resolveMatch[2]}/${resolveMatch[3]}`) : cdn ? hub.blobs.get(cdn[1]) : plain ? hub.files.get(plain[1]) : undefined;
  if (!bytes) {
    res.writeHead(404, { 'Content-Type': 'application/json', 'X-Error-Code': 'EntryNotFound', 'X-Error-Message': 'Entry not found' });
    res.end('{"error": "Entry not found"}');
    return;
  }
  const sha = sha256Hex(bytes);
  if (resolveMatch && bytes.length >= 1000) {
    res.writeHead(302, { Location: `/hub/cdn/${sha}`, 'X-Linked-Etag': `"${sha}"`, 'X-Linked-Size': String(bytes.length), 'Content-Length': '0' });
    res.end();
    return;
  }
  const html = path.endsWith('sign-in.pth');
  res.writeHead(200, { 'Content-Type': html ? 'text/html' : 'application/octet-stream', 'Content-Length': String(bytes.length), ETag: `"${sha}"`, 'Cache-Control': 'no-store' });
  res.end(bytes);
}

// ---------------------------------------------------------------------------------------
// Static server: the built app at /, the golden cases at /golden/, the hub at /hub/

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png', '.svg': 'image/svg+xml' };

function serve() {
  const server = createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    let base = dist;
    let path = decodeURIComponent(url.pathname);
    if (path.startsWith('/hub/')) return serveHub(path, res);
    if (path.startsWith('/golden/')) {
      base = goldenRoot;
      path = path.slice('/golden'.length);
    }
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(base, path));
    if (!file.startsWith(base + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404, { 'Content-Type': 'text/plain' });
      res.end(`not found: ${url.pathname}`);
      return;
    }
    // No Content-Encoding for .gz: the page gets the gzip bytes and @maejs/data inflates them.
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-store' });
    createReadStream(file).pipe(res);
  });
  return new Promise((resolveServer) => server.listen(0, '127.0.0.1', () => resolveServer(server)));
}

// ---------------------------------------------------------------------------------------
// Helpers in the page

async function openPage(browser, base, query = '') {
  const context = await browser.newContext({ viewport: { width: 1100, height: 1400 }, acceptDownloads: true });
  const page = await context.newPage();
  const consoleErrors = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('pageerror', (e) => consoleErrors.push(String(e)));
  page.on('request', (r) => requested.add(new URL(r.url()).origin));
  await page.goto(`${base}/${query}`);
  await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.status), null, { timeout: 60_000 });
  page.consoleErrors = consoleErrors;
  return page;
}

/** Waits until no action of the page (a button, a file input, the slider) is still running. */
const settled = (page) => page.waitForFunction(() => (document.body.dataset.busy ?? '0') === '0', null, { timeout: 60_000 });
const pageError = (page) => page.evaluate(() => (document.getElementById('error').hidden ? '' : document.getElementById('error').textContent));

async function useBackend(page, name) {
  return page.evaluate((n) => window.maejsApp.useBackend(n), name);
}

async function conformance(page, backend, { golden = true } = {}) {
  await useBackend(page, backend);
  const report = await page.evaluate((g) => window.maejsApp.conformance({ goldenBase: g ? 'golden/tiny-gray/' : null }), golden);
  writeFileSync(join(out, `conformance-${backend}-browser.json`), JSON.stringify(report, null, 1));
  const text = await page.textContent('#conformance-out');
  writeFileSync(join(out, `conformance-${backend}-browser.txt`), text);
  console.log(text);
  return report;
}

function failedChecks(report) {
  return report.checks.filter((c) => c.status === 'fail').map((c) => `${c.name}: ${c.error}`);
}

/** Asserts that a kit report ran on `backend`, has the 6 golden rows at the backend's tolerance, and passed every check without leaking; returns a one-line note. */
function assertKitPassed(report, backend) {
  const gpu = backend === 'webgl' || backend === 'webgpu';
  assert(report.backend === backend, `ran on ${report.backend}`);
  const golden = report.checks.filter((c) => c.group === 'model');
  assert(golden.length === 6, `expected 6 golden model rows, got ${golden.length}: ${golden.map((c) => `${c.name} ${c.error ?? ''}`).join('; ')}`);
  const loss = golden.find((c) => c.name.includes('loss'));
  assert(loss.tolerance.rtol === (gpu ? 1e-3 : 1e-5), `loss tolerance ${loss.tolerance.rtol}`);
  const failed = failedChecks(report);
  assert(failed.length === 0, `failed checks:\n  ${failed.join('\n  ')}`);
  assert(report.leakedTensors === 0, `leaked ${report.leakedTensors} tensors`);
  return `${report.counts.pass} checks passed in ${report.seconds.toFixed(1)} s; golden loss rel err ${loss.maxRelError.toExponential(2)}`;
}

/** What summary.json keeps of a kit report. */
const reportSummary = (report) => ({ passed: report.passed, counts: report.counts, seconds: report.seconds, leakedTensors: report.leakedTensors, checks: report.checks.map(({ name, status, maxAbsError, maxRelError, error }) => ({ name, status, maxAbsError, maxRelError, error })) });

/** Whether a canvas holds a picture (not blank): number of distinct gray levels. */
const canvasLevels = (page, id) =>
  page.evaluate((canvasId) => {
    const c = document.getElementById(canvasId);
    const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
    const levels = new Set();
    for (let i = 0; i < d.length; i += 4) levels.add(d[i]);
    return { levels: levels.size, width: c.width, height: c.height };
  }, id);

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};

// ---------------------------------------------------------------------------------------
// The tests

/** Origins of every request any page made (the app must need nothing but its own server). */
const requested = new Set();
const summary = { date: new Date().toISOString(), chromium: '', conformance: {}, timings: {}, training: null, reads: {} };

await test('the built bundle imports no Node built-ins and no maejs Node entry', async () => {
  const assets = join(dist, 'assets');
  assert(existsSync(assets), `no build at ${dist}: run \`npm run build:app -w examples/browser\` (npm run test:browser does)`);
  const { modules, externalizedBy } = JSON.parse(readFileSync(join(dist, 'bundle-modules.json'), 'utf8'));
  const builtins = new Set([...builtinModules, ...builtinModules.map((m) => `node:${m}`)]);
  const bad = modules.filter((id) => builtins.has(id) || id.startsWith('node:') || /packages\/[a-z-]+\/(dist|src)\/node\.(js|ts)$/.test(id));
  assert(bad.length === 0, `modules that must not be in a browser bundle: ${bad.join(', ')}`);
  // Vite swaps a Node built-in that a module requires for an empty stub. Only tfjs's own guarded
  // Node paths may do that (the emscripten glue of the wasm backend: fs, path, worker_threads
  // under ENVIRONMENT_IS_NODE; seedrandom: crypto under a try); never maejs code.
  const knownGuarded = /^node_modules\/(@tensorflow\/tfjs-backend-wasm\/wasm-out\/|seedrandom\/)/;
  const unexpected = externalizedBy.filter((id) => !knownGuarded.test(id));
  assert(unexpected.length === 0, `these modules import Node built-ins (Vite stubbed them out): ${unexpected.join(', ')}`);
  for (const pkg of ['backend', 'mae', 'data', 'trainer', 'weights', 'hub']) assert(modules.some((id) => id.startsWith(`packages/${pkg}/dist/`)), `@maejs/${pkg} is not in the bundle (module list looks wrong)`);
  const js = readFileSync(join(assets, readdirJs(assets)), 'utf8');
  const names = builtinModules.filter((m) => !m.startsWith('_')).map((m) => m.replace(/[/]/g, '\\/'));
  const importRe = new RegExp(`(?:\\bfrom\\s*|\\bimport\\s*\\(?\\s*)["'\`](?:node:)?(${names.join('|')})["'\`]`, 'g');
  const imports = [...js.matchAll(importRe)].map((m) => m[1]);
  assert(imports.length === 0, `the bundle imports Node built-ins: ${[...new Set(imports)].join(', ')}`);
  // tfjs itself carries guarded `require` calls for Node (tfjs-core's PlatformNode: util,
  // node-fetch; the wasm backend's worker source, a string: worker_threads, fs). They never run
  // in a browser. Anything else, and fs / path / zlib outside the worker string, is a leak.
  const worker = js.indexOf('wasmWorkerContents=`');
  const workerEnd = worker >= 0 ? js.indexOf('`', worker + 'wasmWorkerContents=`'.length) : -1;
  const requires = [...js.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)].map((m) => ({ name: m[1], inWorkerString: m.index > worker && m.index < workerEnd }));
  const allowed = (r) => (r.inWorkerString ? ['worker_threads', 'fs'] : ['util', 'node-fetch']).includes(r.name);
  const leaks = requires.filter((r) => !allowed(r));
  assert(leaks.length === 0, `unexpected require() in the bundle: ${leaks.map((r) => r.name).join(', ')}`);
  return `${modules.length} modules, none from a Node entry; Node built-ins stubbed only for tfjs's guarded paths (${externalizedBy.map((id) => id.split('/').slice(-1)[0]).join(', ')}); guarded require()s left in the text: ${requires.map((r) => r.name).join(', ') || 'none'}`;
});

/** The app's main chunk (index-<hash>.js). */
function readdirJs(dir) {
  const js = readdirSync(dir).filter((f) => /^index-.*\.js$/.test(f));
  assert(js.length === 1, `expected one index-*.js in ${dir}, found ${js.join(', ') || 'none'}`);
  return js[0];
}

const goldenQkv = await hubFiles();
const server = await serve();
const base = `http://127.0.0.1:${server.address().port}`;
log(`serving ${dist} and ${goldenRoot} at ${base}`);
let browser;
try {
  browser = await chromium.launch({ executablePath, headless: true, args: CHROMIUM_ARGS });
  summary.chromium = browser.version();
  log(`Chromium ${summary.chromium} (${executablePath})`);
  const page = await openPage(browser, base, '?backend=webgl');

  await test('webgl is the active backend, on a real WebGL2 context with float32 textures', async () => {
    assert((await pageError(page)) === '', `the page shows an error: ${await pageError(page)}`);
    const info = await page.evaluate(() => window.maejsApp.backendInfo());
    summary.webgl = info;
    assert(info.name === 'webgl', `active backend is ${info.name}`);
    assert((await page.evaluate(() => window.maejsApp.tf.getBackend())) === 'webgl', 'tf.getBackend() is not webgl');
    assert(info.renderer && !/no WebGL/.test(info.renderer), `no WebGL renderer: '${info.renderer}'`);
    assert(info.flags.WEBGL_VERSION === 2, `WEBGL_VERSION is ${info.flags.WEBGL_VERSION}`);
    assert(info.flags.WEBGL_RENDER_FLOAT32_ENABLED === true, 'float32 render targets are not available (f16 textures would give ~1e-2 errors)');
    const shown = await page.textContent('#backend-name');
    assert(shown === 'webgl', `the page shows backend '${shown}'`);
    const renderer = await page.textContent('#backend-renderer');
    assert(renderer.includes(info.renderer), 'the page does not show the renderer string');
    return info.renderer;
  });

  for (const backend of ['webgl', 'wasm', 'cpu']) {
    await test(`conformance kit on ${backend} in the browser, golden tiny-gray forward + gradients (${backend === 'webgl' ? '1e-3' : '1e-5'})`, async () => {
      const report = await conformance(page, backend);
      summary.conformance[`${backend} (browser)`] = reportSummary(report);
      return assertKitPassed(report, backend);
    });
  }

  await test(`${STEPS} training updates on webgl (batch ${BATCH}) lower the loss, keep tf.memory().numTensors flat and draw the reconstruction grid`, async () => {
    await useBackend(page, 'webgl');
    await page.fill('#batch', String(BATCH));
    await page.fill('#steps', String(STEPS));
    await page.fill('#refresh', '5');
    await page.click('#train-btn');
    await page.waitForFunction(() => document.body.dataset.train === 'done', null, { timeout: 300_000 });
    assert((await pageError(page)) === '', `the page shows an error: ${await pageError(page)}`);
    const t = await page.evaluate(() => window.maejsApp.state.lastTraining);
    summary.training = { backend: t.backend, batch: t.batchSize, losses: t.losses, stepMs: t.stepMs, numTensors: t.numTensors, checkpoint: t.checkpoint };
    assert(t.backend === 'webgl' && t.losses.length === STEPS, `ran ${t.losses.length} updates on ${t.backend}`);
    assert(t.losses.every(Number.isFinite), `non-finite loss: ${t.losses}`);
    const k = Math.max(1, Math.floor(STEPS / 4));
    const first = t.losses.slice(0, k).reduce((a, b) => a + b, 0) / k;
    const last = t.losses.slice(-k).reduce((a, b) => a + b, 0) / k;
    assert(last < first, `loss did not go down: mean of the first ${k} updates ${first}, of the last ${k} ${last} (${t.losses.map((l) => l.toFixed(4)).join(' ')})`);
    const counts = new Set(t.numTensors.slice(1));
    assert(counts.size === 1, `numTensors changed across updates: ${t.numTensors.join(' ')}`);
    assert(t.checkpoint, 'no checkpoint was written to IndexedDB');
    const grid = await canvasLevels(page, 'recon');
    assert(grid.width >= 400 && grid.levels > 20, `the reconstruction canvas looks blank: ${JSON.stringify(grid)}`);
    const chart = await canvasLevels(page, 'loss-chart');
    assert(chart.levels > 2, 'the loss chart is blank');
    await page.locator('#recon').screenshot({ path: join(out, 'reconstruction-webgl.png') });
    await page.locator('#loss-chart').screenshot({ path: join(out, 'loss-chart-webgl.png') });
    await page.evaluate(() => window.maejsApp.reconstructUser());
    await page.locator('#train-section').screenshot({ path: join(out, 'train-section.png') });
    await page.screenshot({ path: join(root, 'docs', 'browser-app.png'), fullPage: false, clip: { x: 0, y: 0, width: 1100, height: 1250 } });
    const ms = median(t.stepMs.slice(1));
    return `loss ${first.toFixed(4)} -> ${last.toFixed(4)}; ${t.numTensors[1]} tensors after every update; median ${(ms / 1000).toFixed(2)} s/update; screenshots in test-results/ and docs/browser-app.png`;
  });

  await test('a training step on webgl makes no synchronous read and one asynchronous read per logged step', async () => {
    await useBackend(page, 'webgl');
    const lines = [];
    for (const logEvery of [1, 2]) {
      const w = await page.evaluate((o) => window.maejsApp.countTrainingWork(o), { batchSize: 8, steps: 4, logEvery });
      summary.reads[`webgl logEvery ${logEvery}`] = w;
      assert(w.losses.length === 4 && w.losses.every(Number.isFinite), `losses: ${w.losses}`);
      assert(w.counts.syncReads === 0, `${w.counts.syncReads} synchronous reads in 4 updates (logEvery ${logEvery})`);
      assert(w.counts.asyncReads === 4 / logEvery, `${w.counts.asyncReads} asynchronous reads in 4 updates with logEvery ${logEvery}, expected ${4 / logEvery}`);
      lines.push(`logEvery ${logEvery}: ${w.counts.asyncReads} async reads, ${w.counts.kernels / 4} kernels and ${w.counts.programs / 4} GPU programs per update`);
    }
    for (const other of ['wasm', 'cpu']) {
      await useBackend(page, other);
      summary.reads[`${other} logEvery 1`] = await page.evaluate((o) => window.maejsApp.countTrainingWork(o), { batchSize: 8, steps: 2, logEvery: 1 });
    }
    await useBackend(page, 'webgl');
    return lines.join('; ');
  });

  await test('IndexedDB save/restore round-trips the weights bit-exactly; download gives a .safetensors file', async () => {
    const digest = () => page.evaluate(async () => Array.from(new Uint8Array(await crypto.subtle.digest('SHA-256', await window.maejsApp.encodeWeights()))).map((b) => b.toString(16).padStart(2, '0')).join(''));
    const before = await digest();
    await page.click('#save-idb');
    await page.waitForFunction(() => document.getElementById('model-info').textContent.includes('saved to IndexedDB'));
    await page.reload();
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.status));
    await page.click('#restore-idb');
    await page.waitForFunction(() => document.getElementById('model-info').textContent.includes('restored from IndexedDB'), null, { timeout: 60_000 });
    assert((await pageError(page)) === '', `the page shows an error: ${await pageError(page)}`);
    const after = await digest();
    assert(before.length === 64 && before === after, `restored weights differ from the saved ones (sha256 ${before} vs ${after})`);
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
    const file = join(out, download.suggestedFilename());
    await download.saveAs(file);
    const bytes = readFileSync(file);
    const headerLength = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8'));
    assert(header['patch_embed.proj.weight']?.shape.join(',') === '128,1,4,4', `downloaded header: ${Object.keys(header).slice(0, 5)}`);
    assert(JSON.parse(header.__metadata__.maejs_config).embedDim === 128, 'no maejs_config metadata');
    return `${download.suggestedFilename()} (${bytes.length} bytes)`;
  });

  await test('a bare .pth without head counts is refused with the library\'s error; with the heads fields it loads and reconstructs; the mask-ratio slider redraws', async () => {
    const pth = join(goldenRoot, 'tiny-gray', 'state_dict.pth');
    await page.fill('#enc-heads', '');
    await page.fill('#dec-heads', '');
    await page.evaluate(() => {
      document.getElementById('error').hidden = true;
    });
    await page.setInputFiles('#weights-file', pth);
    await page.waitForSelector('#error:not([hidden])', { timeout: 60_000 });
    const refusal = await page.textContent('#error');
    assert(/^Could not load the weights: state_dict\.pth: .*numHeads is not determined by the tensors/.test(refusal), `error without head counts: '${refusal}'`);
    assert(!(await page.textContent('#model-info')).includes('loaded from state_dict.pth'), 'a .pth without head counts was loaded');
    await page.evaluate(() => {
      document.getElementById('error').hidden = true;
    });
    await page.fill('#enc-heads', '4');
    await page.fill('#dec-heads', '4');
    await page.setInputFiles('#weights-file', []);
    await page.setInputFiles('#weights-file', pth);
    await page.waitForFunction(() => document.getElementById('model-info').textContent.includes('loaded from state_dict.pth') || !document.getElementById('error').hidden, null, { timeout: 60_000 });
    assert((await pageError(page)) === '', `the page shows an error: ${await pageError(page)}`);
    const info = await page.textContent('#model-info');
    assert(/encoder 64x2 \(4 heads\), decoder 32x1 \(4 heads\)/.test(info), `model info: ${info}`);
    await settled(page);
    const before = await page.evaluate(() => document.getElementById('user-recon').toDataURL());
    await page.locator('#mask-ratio').fill('0.5');
    await page.waitForFunction((b) => document.getElementById('user-recon').toDataURL() !== b, before, { timeout: 30_000 });
    await settled(page);
    const grid = await canvasLevels(page, 'user-recon');
    assert(grid.levels > 20, 'the reconstruction of user images is blank');
    await page.fill('#enc-heads', '');
    await page.fill('#dec-heads', '');
    return `${info}; without heads: ${refusal.slice(0, 160)}`;
  });

  await test('a corrupted weights file shows a readable error in the page, not a blank screen', async () => {
    const good = readFileSync(join(goldenRoot, 'tiny-gray', 'state_dict.safetensors'));
    const cases = [
      { name: 'truncated.safetensors', buffer: good.subarray(0, 100_000), expect: /truncated\.safetensors/ },
      { name: 'garbage.pth', buffer: Buffer.from('this is not a checkpoint at all, just text'), expect: /garbage\.pth: is neither a PyTorch \.pth \(zip\) nor a \.safetensors file/ },
      { name: 'broken-zip.pth', buffer: Buffer.concat([Buffer.from('PK\x03\x04'), Buffer.alloc(200, 7)]), expect: /broken-zip\.pth/ },
    ];
    const shown = [];
    await settled(page);
    for (const c of cases) {
      await page.evaluate(() => {
        document.getElementById('error').hidden = true;
      });
      await page.setInputFiles('#weights-file', { name: c.name, mimeType: 'application/octet-stream', buffer: c.buffer });
      await page.waitForSelector('#error:not([hidden])', { timeout: 30_000 });
      const text = await page.textContent('#error');
      assert(/^Could not load the weights: /.test(text) && c.expect.test(text), `error for ${c.name}: '${text}'`);
      assert(!/undefined|\[object Object\]/.test(text), `unreadable error: ${text}`);
      shown.push(text);
    }
    assert(await page.isVisible('#train-section'), 'the page went blank');
    assert((await page.textContent('#model-info')).includes('loaded from state_dict.pth'), 'a failed load replaced the model');
    await page.locator('#error').screenshot({ path: join(out, 'corrupted-weights-error.png') });
    writeFileSync(join(out, 'corrupted-weights-errors.txt'), shown.join('\n'));
    return shown[0].slice(0, 160);
  });

  await test('a pretrained model by URL (input + button) and by hub id: a progress bar, downloaded once into the Cache API, loaded from there after a reload with no request; an HTML page is a readable error', async () => {
    const qkvOfModel = () => page.evaluate(async () => {
      const t = (await window.maejsApp.state.model.stateDict()).get('blocks.0.attn.qkv.weight');
      return { shape: t.shape, head: Array.from(t.data.slice(0, 6)), sum: t.data.reduce((a, b) => a + b, 0) };
    });
    const want = { shape: goldenQkv.shape, head: Array.from(goldenQkv.data.slice(0, 6)), sum: goldenQkv.data.reduce((a, b) => a + b, 0) };
    const sameWeights = (got) => JSON.stringify(got.shape) === JSON.stringify(want.shape) && got.head.every((v, i) => v === want.head[i]) && Math.abs(got.sum - want.sum) < 1e-3;

    await page.fill('#hub-source', `${base}/hub/files/tiny.safetensors`);
    await page.click('#hub-load');
    await page.waitForFunction(() => document.getElementById('model-info').textContent.includes('loaded from http') || !document.getElementById('error').hidden, null, { timeout: 60_000 });
    assert((await pageError(page)) === '', `the page shows an error: ${await pageError(page)}`);
    const info = await page.textContent('#model-info');
    assert(/encoder 64x2 \(4 heads\), decoder 32x1 \(4 heads\)/.test(info), `model info: ${info}`);
    const bar = await page.evaluate(() => ({ hidden: document.getElementById('hub-progress').hidden, value: document.getElementById('hub-progress').value, max: document.getElementById('hub-progress').max }));
    assert(!bar.hidden && bar.value === bar.max, `progress bar after the load: ${JSON.stringify(bar)}`);
    assert(/tiny\.safetensors \([\d.]+ MB, downloaded\)/.test(await page.textContent('#hub-status')), `status: ${await page.textContent('#hub-status')}`);
    assert(sameWeights(await qkvOfModel()), 'the weights loaded from the URL are not the golden ones');
    await page.locator('#weights-section').screenshot({ path: join(out, 'pretrained-load.png') });

    const endpoint = `${base}/hub`;
    const first = await page.evaluate((e) => window.maejsApp.loadFromSource('hf:facebook/vit-mae-tiny', { endpoint: e }), endpoint);
    assert(first.source === 'hf:facebook/vit-mae-tiny@main', `source ${first.source}`);
    assert(first.files.map((f) => `${f.name} ${f.fromCache}`).join(', ') === 'config.json false, model.safetensors false', `files: ${JSON.stringify(first.files)}`);
    const weightsFile = hub.files.get('facebook/vit-mae-tiny/main/model.safetensors');
    assert(first.files[1].sha256 === sha256Hex(weightsFile) && first.files[1].size === weightsFile.length, `model.safetensors: ${JSON.stringify(first.files[1])}`);
    assert(first.files[1].location.startsWith('Cache API "maejs-hub" '), `kept in ${first.files[1].location}`);
    const progress = first.events.filter((e) => e.file === 'model.safetensors');
    assert(progress.length >= 2 && progress[0].bytesDone === 0 && progress[progress.length - 1].bytesDone === weightsFile.length, `progress events: ${JSON.stringify(progress)}`);
    assert(hub.hits.some((h) => h.startsWith('/hub/cdn/')), 'the weights did not come through the 302 to the CDN path');
    assert(sameWeights(await qkvOfModel()), 'the weights loaded from the hub (HF layout, q/k/v fused) are not the golden ones');

    await page.reload();
    await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.status));
    const hits = hub.hits.length;
    const second = await page.evaluate((e) => window.maejsApp.loadFromSource('hf:facebook/vit-mae-tiny', { endpoint: e }), endpoint);
    assert(hub.hits.length === hits, `the second load made requests: ${hub.hits.slice(hits).join(', ')}`);
    assert(second.files.every((f) => f.fromCache) && second.events.every((e) => e.cached), `second load: ${JSON.stringify(second.files)}`);
    assert((await page.textContent('#model-info')).includes('loaded from hf:facebook/vit-mae-tiny@main (browser cache)'), 'model info after the cached load');
    assert(sameWeights(await qkvOfModel()), 'the weights loaded from the Cache API are not the golden ones');

    await page.evaluate(() => (document.getElementById('error').hidden = true));
    await page.fill('#hub-source', `${base}/hub/files/sign-in.pth`);
    await page.click('#hub-load');
    await page.waitForSelector('#error:not([hidden])', { timeout: 30_000 });
    const text = await page.textContent('#error');
    const expected = `Could not load the pretrained model: ${base}/hub/files/sign-in.pth: sign-in.pth: is an HTML page (Content-Type text/html), not a checkpoint: the URL leads to a web page or an error page, not to the file (${base}/hub/files/sign-in.pth)`;
    assert(text === expected, `error shown: '${text}'`);
    assert((await page.textContent('#model-info')).includes('loaded from hf:facebook/vit-mae-tiny@main'), 'a failed load replaced the model');
    return `${weightsFile.length} bytes through the 302; ${progress.length} progress events; second load from the Cache API with 0 requests`;
  });

  if (BENCH) {
    await test(`step time of the 28x28 preset (mae_tiny_28) at batch ${BENCH_BATCH} on webgl, wasm and cpu in the browser (measurement, not asserted)`, async () => {
      const lines = [];
      for (const backend of ['webgl', 'wasm', 'cpu']) {
        await page.reload();
        await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.status));
        await useBackend(page, backend);
        const steps = 4; // the first two updates compile shaders / warm up: time updates 3 and 4
        const t = await page.evaluate(({ batchSize, steps: n }) => window.maejsApp.train({ batchSize, steps: n, lr: 1e-3, refreshEvery: 1000 }), { batchSize: BENCH_BATCH, steps });
        const warm = t.stepMs.slice(2);
        const ms = warm.reduce((a, b) => a + b, 0) / warm.length;
        summary.timings[backend] = { batch: BENCH_BATCH, stepMs: t.stepMs, secondsPerUpdate: ms / 1000, imagesPerSec: (1000 * BENCH_BATCH) / ms };
        lines.push(`${backend}: ${(ms / 1000).toFixed(2)} s/update (${((1000 * BENCH_BATCH) / ms).toFixed(1)} images/s; first two updates ${(t.stepMs[0] / 1000).toFixed(1)} s, ${(t.stepMs[1] / 1000).toFixed(1)} s)`);
      }
      return lines.join('; ');
    });
  }
  await test('the app fetched nothing from outside its own origin (works offline once built)', async () => {
    const others = [...requested].filter((o) => o !== base && !o.startsWith('blob:') && o !== 'null' && !o.startsWith('data:'));
    assert(others.length === 0, `requests to other origins: ${others.join(', ')}`);
    return [...requested].join(', ');
  });
  await page.context().close();

  // WebGPU needs its own browser: only with --enable-unsafe-webgpu does Chromium give an adapter
  // here (SwiftShader's fallback adapter). No adapter is a failure, not a skip.
  await test('conformance kit on webgpu in the browser (Chromium --enable-unsafe-webgpu), golden tiny-gray forward + gradients (1e-3)', async () => {
    const gpuBrowser = await chromium.launch({ executablePath, headless: true, args: [...CHROMIUM_ARGS, '--enable-unsafe-webgpu'] });
    try {
      const gpuPage = await openPage(gpuBrowser, base, '?backend=cpu');
      const info = await gpuPage.evaluate(() => window.maejsApp.backendInfo());
      assert(info.webgpuAvailable, 'navigator.gpu.requestAdapter() returned no adapter in Chromium started with --enable-unsafe-webgpu');
      const report = await conformance(gpuPage, 'webgpu');
      const adapter = (await gpuPage.evaluate(() => window.maejsApp.backendInfo())).renderer;
      summary.conformance['webgpu (browser)'] = { adapter, ...reportSummary(report) };
      return `${assertKitPassed(report, 'webgpu')}; adapter ${adapter}`;
    } finally {
      await gpuBrowser.close();
    }
  });
} finally {
  await browser?.close();
  server.close();
}

writeFileSync(join(out, 'summary.json'), JSON.stringify({ ...summary, results, seconds: (Date.now() - started) / 1000 }, null, 1));
const count = (s) => results.filter((r) => r.status === s).length;
log(`results in ${out}`);
console.log(`${count('passed')} passed, ${count('failed')} failed, ${count('skipped')} skipped`);
process.exitCode = count('failed') ? 1 : 0;
