#!/usr/bin/env node
// Training-step time of the browser example in headless Chromium, for one or more builds of the
// app measured in turn (A/B/A/B...), so that two versions are compared under the same load.
//
//   node scripts/bench/browser-step.mjs [--backend webgl] [--batch 16] [--steps 6] [--rounds 3] \
//     [--dist examples/browser/dist] [--dist /path/to/another/build/dist ...]
//
// Each build is served on 127.0.0.1 and trained with window.maejsApp.train (figures refreshed
// only at the end); the first two updates (shader compilation, warm-up) are left out. Prints
// one line per build with the median over rounds of the mean warm update time. Needs Debian's
// chromium (CHROMIUM_PATH to override) and a built app (`npm run build:app -w examples/browser`).
import { createServer } from 'node:http';
import { createReadStream, existsSync, statSync } from 'node:fs';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { parseArgs } from 'node:util';
import { chromium } from 'playwright-core';

const { values: flags } = parseArgs({
  options: {
    backend: { type: 'string', default: 'webgl' },
    batch: { type: 'string', default: '16' },
    steps: { type: 'string', default: '6' },
    rounds: { type: 'string', default: '3' },
    dist: { type: 'string', multiple: true, default: ['examples/browser/dist'] },
  },
});
const [batch, steps, rounds] = ['batch', 'steps', 'rounds'].map((k) => {
  const v = Number(flags[k]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${k} must be an integer >= 1, got ${flags[k]}`);
  return v;
});
if (steps < 3) throw new Error(`--steps must be at least 3 (the first two updates are warm-up), got ${steps}`);
const builds = flags.dist.map((d) => resolve(d));
for (const dir of builds) if (!existsSync(join(dir, 'index.html'))) throw new Error(`${dir}: no built app (index.html) there`);

const TYPES = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.wasm': 'application/wasm', '.json': 'application/json', '.png': 'image/png' };

/** A static server for one build folder on a free loopback port. */
function serveFolder(dir) {
  const server = createServer((req, res) => {
    let path = decodeURIComponent(new URL(req.url, 'http://localhost').pathname);
    if (path.endsWith('/')) path += 'index.html';
    const file = normalize(join(dir, path));
    if (!file.startsWith(dir + sep) || !existsSync(file) || !statSync(file).isFile()) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
    createReadStream(file).pipe(res);
  });
  return new Promise((done) => server.listen(0, '127.0.0.1', () => done(server)));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[(xs.length - 1) >> 1];
const browser = await chromium.launch({ executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--enable-unsafe-swiftshader', '--disable-quic', '--disable-background-networking'] });
const version = browser.version();
const servers = await Promise.all(builds.map(serveFolder));
const perBuild = builds.map(() => []);
try {
  for (let round = 0; round < rounds; round++) {
    for (const [i, server] of servers.entries()) {
      const page = await browser.newPage();
      await page.goto(`http://127.0.0.1:${server.address().port}/?backend=${flags.backend}`);
      await page.waitForFunction(() => ['ready', 'error'].includes(document.body.dataset.status), null, { timeout: 60_000 });
      const t = await page.evaluate((o) => window.maejsApp.train(o), { batchSize: batch, steps, lr: 1e-3, refreshEvery: 100_000 });
      if (t.backend !== flags.backend) throw new Error(`${builds[i]}: trained on ${t.backend}, not ${flags.backend}`);
      const warm = t.stepMs.slice(2);
      perBuild[i].push(warm.reduce((a, b) => a + b, 0) / warm.length);
      await page.close();
    }
  }
} finally {
  await browser.close();
  servers.forEach((s) => s.close());
}
console.log(`${flags.backend}, batch ${batch}, ${steps - 2} warm updates x ${rounds} rounds, Chromium ${version}:`);
builds.forEach((dir, i) => {
  const ms = median(perBuild[i]);
  console.log(`  ${dir}: ${(ms / 1000).toFixed(2)} s/update (${((1000 * batch) / ms).toFixed(1)} images/s); rounds ${perBuild[i].map((x) => (x / 1000).toFixed(2)).join(', ')} s`);
});
