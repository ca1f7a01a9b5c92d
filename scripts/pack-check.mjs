// Packs every published @maejs package with `npm pack`, installs the tarballs into an empty
// project (with tfjs-core and the wasm backend from the registry), and runs a real forward pass
// through the public entry points, in Node ESM and CommonJS. Proves the packages work as users
// get them: exports, types, files lists and dependencies.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const packagesDir = join(root, 'packages');
const published = readdirSync(packagesDir)
  .map((d) => ({ dir: join(packagesDir, d), pkg: JSON.parse(readFileSync(join(packagesDir, d, 'package.json'), 'utf8')) }))
  .filter(({ pkg }) => !pkg.private);

/**
 * Every source map in a tarball must be usable where the package is installed: each source is
 * either inlined (sourcesContent) or a file of the tarball. src/ is not published, so maps carry
 * their sources inline and no declaration maps are emitted (tsconfig.base.json).
 */
function checkSourceMaps(name, dir, files) {
  const shipped = new Set(files);
  for (const file of files.filter((f) => f.endsWith('.map'))) {
    const map = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    map.sources.forEach((source, i) => {
      const target = relative(dir, resolve(dir, dirname(file), map.sourceRoot ?? '', source)).split(sep).join('/');
      if (typeof map.sourcesContent?.[i] !== 'string' && !shipped.has(target)) {
        throw new Error(`${name}: ${file} points at ${target}, which is not in the tarball and not inlined (sourcesContent)`);
      }
    });
  }
}

const work = mkdtempSync(join(tmpdir(), 'maejs-pack-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
try {
  const tarballs = published.map(({ dir }) => {
    const [info] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], dir));
    const files = info.files.map((f) => f.path);
    if (files.some((f) => f.includes('.test.'))) throw new Error(`${info.name}: the tarball ships test files`);
    if (!files.includes('README.md')) throw new Error(`${info.name}: the tarball has no README.md`);
    checkSourceMaps(info.name, dir, files);
    return join(work, info.filename);
  });
  const app = join(work, 'app');
  run('mkdir', ['-p', app], work);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-check', private: true, type: 'module' }));
  const core = JSON.parse(readFileSync(join(root, 'node_modules/@tensorflow/tfjs-core/package.json'), 'utf8')).version;
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs, `@tensorflow/tfjs-core@${core}`, `@tensorflow/tfjs-backend-wasm@${core}`], app);
  writeFileSync(
    join(app, 'check.mjs'),
    `import * as tf from '@tensorflow/tfjs-core';
import { initBackend } from '@maejs/backend';
import { MaskedAutoencoder } from '@maejs/mae';
import { patchify } from '@maejs/patchify';
import { randomMasking } from '@maejs/masking';
import { maskedMse } from '@maejs/loss';
import { ViTEncoder } from '@maejs/vit';
import { MaeDecoder } from '@maejs/decoder';
import { parseNpy, encodeNpy } from '@maejs/weights';
import { main } from '@maejs/cli';
for (const f of [patchify, randomMasking, maskedMse, ViTEncoder, MaeDecoder, parseNpy, encodeNpy, main]) if (typeof f !== 'function') throw new Error('missing export');
tf.enableProdMode();
console.log('backend', await initBackend('auto'));
const model = new MaskedAutoencoder({ imgSize: 8, patchSize: 4, inChans: 1, embedDim: 16, depth: 1, numHeads: 2, decoderEmbedDim: 8, decoderDepth: 1, decoderNumHeads: 2 });
const { value, grads } = tf.variableGrads(() => model.loss(tf.randomNormal([2, 8, 8, 1])), [...model.trainableVariables().values()]);
const loss = value.dataSync()[0];
if (!Number.isFinite(loss) || Object.keys(grads).length !== model.trainableVariables().size) throw new Error('forward/backward failed');
console.log('ESM import, forward and backward OK, loss', loss.toFixed(4));
const { loadBundledSample } = await import('@maejs/data/node');
const sample = await loadBundledSample();
if (sample.n !== 3000) throw new Error('bundled sample: expected 3000 images, got ' + sample.n);
console.log('bundled Fashion-MNIST sample loads from the installed @maejs/data:', sample.n, 'images');
const { exportSafetensors } = await import('@maejs/weights');
const { loadPretrained } = await import('@maejs/weights/node');
const { fetchSource: fetchInBrowser } = await import('@maejs/hub');
const { fetchSource: fetchInNode, FileCache } = await import('@maejs/hub/node');
if (typeof fetchInBrowser !== 'function' || typeof fetchInNode !== 'function' || typeof FileCache !== 'function') throw new Error('@maejs/hub: missing export');
const { mkdirSync, writeFileSync } = await import('node:fs');
mkdirSync('hf-model', { recursive: true });
for (const f of exportSafetensors(await model.stateDict(), model.config, 'hf')) writeFileSync('hf-model/' + f.name, f.bytes);
const pretrained = await loadPretrained('./hf-model');
if (pretrained.config.embedDim !== 16 || !pretrained.hasDecoder) throw new Error('loadPretrained from @maejs/weights/node read the wrong model');
pretrained.model.dispose();
console.log('loadPretrained (@maejs/weights/node, on @maejs/hub) reads an HF folder written by exportSafetensors');
const installed = tf.getKernel('MaejsGelu', 'wasm') && tf.getKernel('MaejsAdamWUpdate', 'wasm');
if (!installed) throw new Error('the maejs wasm kernels are not registered');
const { DataParallel } = await import('@maejs/trainer/node');
const parallel = await DataParallel.start(model, { threads: 2 });
const split = await parallel.lossAndGradients(new Float32Array(4 * 64).fill(0.5), [4, 8, 8, 1], 3);
await parallel.close();
const splitLoss = (await split.loss.data())[0];
if (!Number.isFinite(splitLoss) || split.grads.size !== model.trainableVariables().size) throw new Error(\`DataParallel step failed: loss \${splitLoss}, \${split.grads.size} gradients\`);
console.log('maejs wasm kernels registered; a DataParallel step with a worker thread from the installed @maejs/trainer: loss', splitLoss.toFixed(4));
`,
  );
  console.log(run('node', ['check.mjs'], app).trim());
  writeFileSync(join(app, 'check.cjs'), "const { resolveConfig } = require('@maejs/mae');\nconsole.log('CommonJS require OK, embedDim', resolveConfig({ imgSize: 8, patchSize: 4, embedDim: 16, depth: 1, numHeads: 2, decoderEmbedDim: 8, decoderDepth: 1, decoderNumHeads: 2 }).embedDim);\n");
  console.log(run('node', ['check.cjs'], app).trim());
  const backends = run('npx', ['--no-install', 'mae', 'backends'], app).trim();
  console.log(backends);
  // The optional peer `webgpu` (Dawn) is not installed here: webgpu must say what to install.
  if (!/^no\s+webgpu\s+in Node it needs the npm package webgpu \(Dawn, WebGPU for Node\), which is not installed: npm install webgpu@\d/m.test(backends)) {
    throw new Error('mae backends, without the npm package webgpu installed, does not name it and its install command');
  }
  console.log(`pack-check: ${tarballs.length} packages packed, installed and imported in an empty project`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
