// Packs every published @maejs package with `npm pack`, installs the tarballs into an empty
// project (with tfjs-core and the wasm backend from the registry), and runs a real forward pass
// through the public entry points, in Node ESM and CommonJS. Proves the packages work as users
// get them: exports, types, files lists and dependencies. Prints, per package, its dependencies
// and what installing it brings in (packages and bytes), and checks the layering: @maejs/formats
// installs nothing else (it is also installed alone into a second empty project), and @maejs/data
// installs neither @maejs/mae nor @maejs/weights.
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** The folder `name` resolves to from `fromDir`, as Node looks it up (nearest node_modules first, up to `app`). */
function resolvePackage(name, fromDir, app) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    if (dir === app || dir === dirname(dir)) throw new Error(`${name}, needed by ${relative(app, fromDir) || 'the app'}, is not installed`);
  }
}

/** What installing `name` brings in: the folders of it, its dependencies and its required peers, transitively. */
function installedClosure(name, app) {
  const folders = new Map(); // folder -> package name
  const visit = (pkgName, fromDir) => {
    const dir = resolvePackage(pkgName, fromDir, app);
    if (folders.has(dir)) return;
    folders.set(dir, pkgName);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const peers = Object.keys(pkg.peerDependencies ?? {}).filter((p) => !pkg.peerDependenciesMeta?.[p]?.optional);
    for (const dep of [...Object.keys(pkg.dependencies ?? {}), ...peers]) visit(dep, dir);
  };
  visit(name, app);
  return folders;
}

/** Bytes of the files under `dir`, leaving out nested node_modules (counted as packages of their own). */
function folderBytes(dir) {
  return readdirSync(dir, { withFileTypes: true }).reduce((sum, entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? sum : sum + folderBytes(path);
    return sum + (entry.isFile() ? lstatSync(path).size : 0);
  }, 0);
}

const kib = (bytes) => `${(bytes / 1024).toFixed(0)} KiB`;

/** Prints each package's dependencies and install footprint; returns the @maejs packages each one installs. */
function reportFootprints(names, app) {
  const maejsInstalled = new Map();
  for (const name of names) {
    const own = resolvePackage(name, app, app);
    const pkg = JSON.parse(readFileSync(join(own, 'package.json'), 'utf8'));
    const closure = installedClosure(name, app);
    const total = [...closure.keys()].reduce((sum, dir) => sum + folderBytes(dir), 0);
    const maejs = [...new Set(closure.values())].filter((n) => n.startsWith('@maejs/') && n !== name).sort();
    maejsInstalled.set(name, maejs);
    const deps = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {}).map((p) => `${p} (peer${pkg.peerDependenciesMeta?.[p]?.optional ? ', optional' : ''})`)];
    const count = closure.size === 1 ? '1 package' : `${closure.size} packages`;
    console.log(`${name}: ${kib(folderBytes(own))} itself; installing it installs ${count}, ${kib(total)} in all; dependencies: ${deps.join(', ') || 'none'}`);
  }
  return maejsInstalled;
}

/** Installing the @maejs/formats tarball alone into an empty project adds that one package. */
function checkFormatsAlone(tarball, work) {
  const alone = join(work, 'formats-alone');
  run('mkdir', ['-p', alone], work);
  writeFileSync(join(alone, 'package.json'), JSON.stringify({ name: 'formats-alone', private: true, type: 'module' }));
  run('npm', ['install', '--no-audit', '--no-fund', '--offline', tarball], alone);
  const modules = join(alone, 'node_modules');
  const installed = readdirSync(modules).filter((d) => !d.startsWith('.')).flatMap((d) => (d.startsWith('@') ? readdirSync(join(modules, d)).map((n) => `${d}/${n}`) : [d]));
  if (installed.join() !== '@maejs/formats') throw new Error(`installing @maejs/formats alone installed ${installed.join(', ')}; expected only @maejs/formats`);
  writeFileSync(join(alone, 'check.mjs'), "import { encodeNpy, parseNpy } from '@maejs/formats';\nconst r = parseNpy(encodeNpy({ dtype: 'float32', shape: [2], data: Float32Array.of(1, 2) }));\nif (r.data[1] !== 2) throw new Error('npy round trip');\n");
  run('node', ['check.mjs'], alone);
  console.log('@maejs/formats installed alone: node_modules holds only @maejs/formats, and it reads back an .npy it wrote');
}

const work = mkdtempSync(join(tmpdir(), 'maejs-pack-'));
const run = (cmd, args, cwd) => execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
try {
  const packed = published.map(({ dir }) => {
    const [info] = JSON.parse(run('npm', ['pack', '--json', '--pack-destination', work], dir));
    const files = info.files.map((f) => f.path);
    if (files.some((f) => f.includes('.test.'))) throw new Error(`${info.name}: the tarball ships test files`);
    if (files.some((f) => f.includes('test-utils/'))) throw new Error(`${info.name}: the tarball ships test helpers (test-utils/)`);
    if (!files.includes('README.md')) throw new Error(`${info.name}: the tarball has no README.md`);
    checkSourceMaps(info.name, dir, files);
    return { name: info.name, tarball: join(work, info.filename) };
  });
  const tarballs = packed.map((p) => p.tarball);
  const app = join(work, 'app');
  run('mkdir', ['-p', app], work);
  writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'pack-check', private: true, type: 'module' }));
  const core = JSON.parse(readFileSync(join(root, 'node_modules/@tensorflow/tfjs-core/package.json'), 'utf8')).version;
  run('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', ...tarballs, `@tensorflow/tfjs-core@${core}`, `@tensorflow/tfjs-backend-wasm@${core}`], app);
  const maejsInstalled = reportFootprints(packed.map((p) => p.name), app);
  if (maejsInstalled.get('@maejs/formats').length) throw new Error(`@maejs/formats installs ${maejsInstalled.get('@maejs/formats').join(', ')}; expected no other @maejs package`);
  const dataPulls = maejsInstalled.get('@maejs/data').filter((n) => n === '@maejs/mae' || n === '@maejs/weights');
  if (dataPulls.length) throw new Error(`@maejs/data installs ${dataPulls.join(' and ')}; expected neither @maejs/mae nor @maejs/weights (it reads files through @maejs/formats)`);
  checkFormatsAlone(packed.find((p) => p.name === '@maejs/formats').tarball, work);
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
import { parseNpy, encodeNpy } from '@maejs/formats';
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
