#!/usr/bin/env node
// Packs the GPU benchmark kit (scripts/bench/gpu-kit.sh runs this): one .tar.gz that benchmarks
// maejs on WebGPU against PyTorch CUDA on an NVIDIA Linux machine that has python3 with torch but
// no Node and no registry. See scripts/bench/README.md.
//
//   node scripts/bench/gpu-kit/pack.mjs [--out dist/gpu-kit] [--xz-level 0]
//
// The kit (maejs-gpu-kit/):
//   run.sh, README.txt, manifest.json       the entry, how to run it, what is inside
//   node/node.xz                            this machine's Node binary, xz-compressed
//   debs/*.deb                              the Vulkan loader and GL dispatch libraries (apt-get download)
//   tools/deb_extract.py                    dpkg -x for machines without dpkg
//   app/node_modules/                       the built maejs packages and only what the runner loads:
//                                           tfjs-core, tfjs-backend-webgpu, webgpu (linux-x64 dawn.node only)
//   app/bench/                              maejs_step.mjs, torch_mae.py, flops.mjs, presets.mjs, gpu-kit/runner.mjs
// Needs `npm run build` first. The compressed Node and the .deb files are cached in
// node_modules/.cache/maejs-gpu-kit, so a second pack takes seconds.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, createWriteStream, existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const HERE = dirname(fileURLToPath(import.meta.url));
const BENCH = resolve(HERE, '..');
const ROOT = resolve(HERE, '..', '..', '..');
const CACHE = join(ROOT, 'node_modules', '.cache', 'maejs-gpu-kit');
const NAME = 'maejs-gpu-kit';
const LIMIT_MIB = 60;
/** What the runner loads: maejs (model, trainer, backend), tfjs-core, the webgpu backend and Dawn. */
const ROOT_PACKAGES = ['@maejs/backend', '@maejs/mae', '@maejs/trainer', '@tensorflow/tfjs-core', '@tensorflow/tfjs-backend-webgpu', 'webgpu'];
/** The Vulkan loader, and the GL dispatch libraries NVIDIA's Vulkan driver may need (docs: /work/shared/notes). */
const DEBS = ['libvulkan1', 'libglvnd0', 'libegl1', 'libgles2', 'libgl1', 'libglx0', 'libopengl0'];
const TYPES_ONLY = (name) => name.startsWith('@types/') || name === '@webgpu/types';

const { values: flags } = parseArgs({
  options: {
    out: { type: 'string', default: join(ROOT, 'dist', 'gpu-kit') },
    'xz-level': { type: 'string', default: '0' },
    help: { type: 'boolean', short: 'h', default: false },
  },
});
if (flags.help) {
  const lines = readFileSync(fileURLToPath(import.meta.url), 'utf8').split('\n').slice(1);
  process.stdout.write(`${lines.slice(0, lines.findIndex((l) => !l.startsWith('//'))).map((l) => l.slice(3)).join('\n')}\n`);
  process.exit(0);
}
const xzLevel = Number(flags['xz-level']);
if (!Number.isInteger(xzLevel) || xzLevel < 0 || xzLevel > 9) throw new Error(`--xz-level must be an integer from 0 to 9, got ${flags['xz-level']}`);
const log = (msg) => process.stderr.write(`[gpu-kit] ${msg}\n`);

// ------------------------------------------------------------------------------------------
// node_modules: the dependency closure of ROOT_PACKAGES, each package with only the files it runs

/** The folder of package `name` as Node would resolve it from `fromDir` (workspace links followed). */
function packageDir(name, fromDir) {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate);
    if (dir === dirname(dir)) throw new Error(`package ${name} (needed from ${relative(ROOT, fromDir) || '.'}) is not installed: run npm ci`);
  }
}

function dependencyClosure() {
  const found = new Map(); // name -> { dir, pkg }
  const queue = ROOT_PACKAGES.map((name) => ({ name, from: ROOT }));
  while (queue.length) {
    const { name, from } = queue.shift();
    const dir = packageDir(name, from);
    const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
    const seen = found.get(name);
    if (seen) {
      if (seen.pkg.version !== pkg.version) throw new Error(`the kit's flat node_modules would need ${name} ${seen.pkg.version} and ${pkg.version}`);
      continue;
    }
    found.set(name, { dir, pkg });
    for (const dep of Object.keys(pkg.dependencies ?? {})) if (!TYPES_ONLY(dep)) queue.push({ name: dep, from: dir });
  }
  return found;
}

/** Whether a file of package `name` (path relative to the package) goes into the kit. */
function keep(name, pkg, rel) {
  if (rel === 'package.json' || /^LICENSE/i.test(rel)) return true;
  if (/\.map$|\.d\.[cm]?ts$|\.test\./.test(rel) || rel.split('/').includes('node_modules')) return false;
  if (name.startsWith('@maejs/')) return /^(dist|generated)\//.test(rel); // the built code (dist imports ../generated)
  if (name.startsWith('@tensorflow/')) return rel === pkg.main; // the Node bundle, self-contained
  if (name === 'webgpu') return rel === 'index.js' || rel === 'dist/linux-x64/dawn.node';
  return !/\.(md|markdown|ts)$/i.test(rel);
}

function walk(dir, base = dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : walk(path, base);
    return [relative(base, path).split('\\').join('/')];
  });
}

function copyModules(appDir) {
  const modules = dependencyClosure();
  for (const [name, { dir, pkg }] of modules) {
    const target = join(appDir, 'node_modules', name);
    for (const rel of walk(dir)) {
      if (!keep(name, pkg, rel)) continue;
      mkdirSync(dirname(join(target, rel)), { recursive: true });
      copyFileSync(join(dir, rel), join(target, rel));
    }
    if (name.startsWith('@maejs/') && !existsSync(join(target, 'dist', 'index.js'))) throw new Error(`${name} is not built (${relative(ROOT, dir)}/dist/index.js missing): run npm run build`);
  }
  if (!existsSync(join(appDir, 'node_modules/webgpu/dist/linux-x64/dawn.node'))) throw new Error('webgpu has no dist/linux-x64/dawn.node: the kit needs the linux-x64 Dawn binary of the npm package webgpu');
  return Object.fromEntries([...modules].map(([name, { pkg }]) => [name, pkg.version]).sort());
}

// ------------------------------------------------------------------------------------------
// Node (xz) and the .deb files, cached

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', ...options });
  if (r.error) throw new Error(`${command} could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (exit ${r.status}): ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`);
  return r.stdout;
}

async function compressedNode() {
  const node = process.execPath;
  const stat = statSync(node);
  const cached = join(CACHE, `node-${process.version}-${stat.size}-${Math.round(stat.mtimeMs)}-xz${xzLevel}.xz`);
  if (existsSync(cached)) return cached;
  mkdirSync(CACHE, { recursive: true });
  log(`compressing ${node} (${(stat.size / 2 ** 20).toFixed(0)} MiB) with xz -${xzLevel} (cached for later packs) ...`);
  const part = `${cached}.part`;
  // Resolves once the child has exited with 0 and every byte it wrote is in `part` (the file
  // stream finishes after the child closes; renaming or copying before that truncates the file).
  const compress = (command, args) =>
    new Promise((done, fail) => {
      const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      const written = pipeline(child.stdout, createWriteStream(part));
      written.catch(() => {}); // reported below, with the child's own error first
      child.stderr.on('data', (d) => (err += d));
      child.on('error', (e) => fail(Object.assign(new Error(`${command} could not run: ${e.message}`), { code: e.code })));
      child.on('close', (code) => (code === 0 ? written.then(done, fail) : fail(new Error(`${command} failed (exit ${code}): ${err.trim()}`))));
    });
  try {
    await compress('xz', ['-T0', `-${xzLevel}`, '-c', node]);
  } catch (error) {
    if (error.code !== 'ENOENT') throw error;
    log('no xz here: compressing with python3 (lzma) instead');
    await compress('python3', ['-c', 'import lzma, shutil, sys; o = lzma.open(sys.stdout.buffer, "wb", preset=int(sys.argv[2])); shutil.copyfileobj(open(sys.argv[1], "rb"), o); o.close()', node, String(xzLevel)]);
  }
  renameSync(part, cached);
  return cached;
}

function debFiles() {
  const dir = join(CACHE, 'debs');
  mkdirSync(dir, { recursive: true });
  const present = () => DEBS.map((name) => readdirSync(dir).find((f) => f.startsWith(`${name}_`) && f.endsWith('.deb')));
  if (present().some((f) => !f)) {
    log(`apt-get download ${DEBS.join(' ')} ...`);
    run('apt-get', ['download', ...DEBS], { cwd: dir });
  }
  const files = present();
  const missing = DEBS.filter((_, i) => !files[i]);
  if (missing.length) throw new Error(`apt-get download gave no .deb for ${missing.join(', ')}`);
  return files.map((f) => join(dir, f));
}

// ------------------------------------------------------------------------------------------

function gitState() {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: ROOT, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: ROOT, encoding: 'utf8' }).trim() !== '';
    return { commit, dirty };
  } catch {
    return null;
  }
}

const README = `maejs GPU benchmark kit
=======================

  ./run.sh                 benchmark on this machine's NVIDIA GPU (it stops within 8 minutes)
  ./run.sh --smoke         tiny models on a software GPU (SwiftShader), PyTorch on the CPU
  ./run.sh --out FILE      where the JSON goes (default: ./maejs-gpu-bench.json)
  ./run.sh --help          all options

It runs maejs (TensorFlow.js webgpu backend, Node + Dawn + Vulkan) and PyTorch (CUDA, eager
fp32) on presets A (28x28x1 tiny MAE, train step, batch 128), B (32x32x3 ViT-Tiny MAE, train
step, batch 64, 256, 1024) and C (ViT-B/16 224 encoder inference, batch 8), profiles one B step
kernel by kernel, and writes one JSON file, re-written after every result.

Needs: Linux x86-64, glibc >= 2.34, bash, python3 with torch (CUDA build) for the PyTorch rows,
and an NVIDIA driver with its Vulkan driver (in a container NVIDIA_DRIVER_CAPABILITIES must
include graphics, or be all). The Vulkan loader comes with the kit (debs/) when the system has
none. If the driver is not found, set VK_DRIVER_FILES=/path/to/nvidia_icd.json.
manifest.json lists what is inside.
`;

async function main() {
  const started = Date.now();
  const outDir = resolve(flags.out);
  const kit = join(outDir, NAME);
  rmSync(kit, { recursive: true, force: true });
  mkdirSync(join(kit, 'app', 'bench', 'gpu-kit'), { recursive: true });

  const packages = copyModules(join(kit, 'app'));
  for (const f of ['maejs_step.mjs', 'torch_mae.py', 'flops.mjs', 'presets.mjs']) copyFileSync(join(BENCH, f), join(kit, 'app', 'bench', f));
  copyFileSync(join(HERE, 'runner.mjs'), join(kit, 'app', 'bench', 'gpu-kit', 'runner.mjs'));
  writeFileSync(join(kit, 'app', 'package.json'), `${JSON.stringify({ name: NAME, private: true, type: 'module', dependencies: Object.fromEntries(ROOT_PACKAGES.map((n) => [n, packages[n]])) }, null, 2)}\n`);

  copyFileSync(join(HERE, 'run.sh'), join(kit, 'run.sh'));
  chmodSync(join(kit, 'run.sh'), 0o755);
  mkdirSync(join(kit, 'tools'));
  copyFileSync(join(HERE, 'deb_extract.py'), join(kit, 'tools', 'deb_extract.py'));
  writeFileSync(join(kit, 'README.txt'), README);

  mkdirSync(join(kit, 'node'));
  copyFileSync(await compressedNode(), join(kit, 'node', 'node.xz'));
  mkdirSync(join(kit, 'debs'));
  const debs = debFiles().map((path) => {
    copyFileSync(path, join(kit, 'debs', path.split('/').pop()));
    return path.split('/').pop();
  });

  const manifest = {
    name: NAME,
    createdAt: new Date().toISOString(),
    git: gitState(),
    node: { version: process.version, arch: process.arch, file: 'node/node.xz', xzLevel },
    packages,
    dawn: 'node_modules/webgpu/dist/linux-x64/dawn.node (linux-x64 only)',
    debs,
    requirements: 'Linux x86-64, glibc >= 2.34 (dawn.node), bash; python3 with torch for the PyTorch rows; NVIDIA Vulkan driver for the GPU',
  };
  writeFileSync(join(kit, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const tarball = join(outDir, `${NAME}.tar.gz`);
  run('tar', ['-C', outDir, '-czf', tarball, NAME]);
  const mib = statSync(tarball).size / 2 ** 20;
  if (mib >= LIMIT_MIB) throw new Error(`${tarball} is ${mib.toFixed(1)} MiB: the kit must stay under ${LIMIT_MIB} MiB`);
  log(`${relative(process.cwd(), tarball) || tarball}: ${mib.toFixed(1)} MiB (${Object.keys(packages).length} packages, ${debs.length} .debs, Node ${process.version}) in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.stdout.write(`${tarball}\n`);
}

main().catch((error) => {
  process.stderr.write(`gpu-kit: ${error.message}\n`);
  process.exitCode = 1;
});
