#!/usr/bin/env node
// `npm test` step: packs the GPU benchmark kit, unpacks it into a temporary folder, runs its
// run.sh in smoke mode (tiny models on SwiftShader, PyTorch on the CPU when Debian's
// python3-torch is installed) and checks the JSON it writes; then runs it once more with no Vulkan
// driver and no PyTorch and checks that both are reported unavailable, with why. Needs the built
// packages, Debian's chromium (SwiftShader) and apt-get download (or the kit cache).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = dirname(fileURLToPath(import.meta.url));
const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';
const DEBIAN_PYTHON = '/usr/bin/python3';
const started = Date.now();
const seconds = () => ((Date.now() - started) / 1000).toFixed(1);
const log = (msg) => process.stdout.write(`[gpu-kit smoke] ${msg}\n`);

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', timeout: 240_000, ...options });
  if (r.error) throw new Error(`${command} could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited ${r.status}:\n${r.stderr.slice(-3000)}`);
  return r;
}

function torchInstalled(python) {
  return existsSync(python) && spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

assert.ok(existsSync(SWIFTSHADER), `${SWIFTSHADER} is missing: install Debian's chromium (it ships SwiftShader's Vulkan driver)`);
const work = mkdtempSync(join(tmpdir(), 'maejs-gpu-kit-'));
try {
  // 1. pack
  const tarball = run('bash', [join(HERE, '..', 'gpu-kit.sh'), '--out', join(work, 'out')]).stdout.trim();
  const mib = statSync(tarball).size / 2 ** 20;
  assert.ok(mib < 60, `kit is ${mib.toFixed(1)} MiB, over 60`);
  const entries = run('tar', ['-tzf', tarball], { maxBuffer: 64 * 2 ** 20 }).stdout.split('\n');
  for (const f of ['run.sh', 'node/node.xz', 'app/node_modules/webgpu/dist/linux-x64/dawn.node', 'app/bench/torch_mae.py', 'app/bench/gpu-kit/runner.mjs', 'app/node_modules/@maejs/backend/dist/index.js']) {
    assert.ok(entries.includes(`maejs-gpu-kit/${f}`), `the kit has no ${f}`);
  }
  assert.deepEqual(entries.filter((e) => e.endsWith('.node')), ['maejs-gpu-kit/app/node_modules/webgpu/dist/linux-x64/dawn.node'], 'only the linux-x64 dawn.node');
  assert.ok(entries.some((e) => /^maejs-gpu-kit\/debs\/libvulkan1_.*\.deb$/.test(e)), 'the kit has the Vulkan loader .deb');
  const extra = entries.filter((e) => /tfjs-backend-wasm|@maejs\/[a-z-]+\/(src|sample|kernels)\/|\.test\.|\.map$|\.d\.ts$/.test(e));
  assert.deepEqual(extra, [], 'nothing the runner does not load');
  log(`packed ${mib.toFixed(1)} MiB, ${entries.filter(Boolean).length} entries (${seconds()} s)`);

  // 2. unpack and run in smoke mode
  const unpacked = join(work, 'run');
  run('mkdir', ['-p', unpacked]);
  run('tar', ['-xzf', tarball, '-C', unpacked]);
  const kit = join(unpacked, 'maejs-gpu-kit');
  const python = torchInstalled(DEBIAN_PYTHON) ? DEBIAN_PYTHON : 'python3';
  const out = join(work, 'smoke.json');
  run(join(kit, 'run.sh'), ['--smoke', '--out', out, '--python', python]);
  const r = JSON.parse(readFileSync(out, 'utf8'));
  assert.equal(r.status, 'complete', `status ${r.status}: ${JSON.stringify(r.stages)}`);
  assert.equal(r.smoke, true);
  assert.match(r.vulkan.loader, /^kit \(.*libvulkan1_/);
  assert.equal(r.vulkan.icd, SWIFTSHADER);
  assert.equal(r.webgpu.available, true);
  assert.equal(r.webgpu.adapter.architecture, 'swiftshader');
  assert.equal(r.webgpu.software, true, 'SwiftShader is reported as a software adapter');
  assert.ok(r.webgpu.adapterLimits.maxBufferSize > 0 && r.webgpu.adapterLimits.maxStorageBufferBindingSize > 0, 'adapter limits');
  assert.deepEqual(r.results.map((x) => `${x.preset}${x.batch}`), ['A2', 'B2', 'B3', 'C1']);
  for (const x of r.results) {
    assert.equal(x.maejs.status, 'ok', `${x.preset} batch ${x.batch}: maejs ${JSON.stringify(x.maejs)}`);
    assert.ok(x.maejs.medianMs > 0 && x.maejs.imagesPerSec > 0 && Number.isFinite(x.maejs.firstValue), `${x.preset}: maejs numbers`);
    if (r.torch.available) {
      assert.equal(x.torch.status, 'ok', `${x.preset} batch ${x.batch}: torch ${JSON.stringify(x.torch)}`);
      assert.equal(x.torch.params, x.maejs.params, `${x.preset}: PyTorch and maejs models have the same parameter count`);
      assert.ok(Math.abs(x.ratio - x.maejs.imagesPerSec / x.torch.imagesPerSec) < 1e-12, 'ratio = maejs images/s / PyTorch images/s');
    } else {
      assert.equal(x.torch.status, 'unavailable');
      assert.equal(x.ratio, null);
    }
  }
  const profile = r.kernelProfile;
  assert.equal(profile.status, 'ok', JSON.stringify(profile));
  assert.equal(profile.timing, 'per kernel');
  assert.ok(profile.kernelCalls > 100 && profile.kernels.some((k) => k.name === 'BatchMatMul' && k.count > 0 && k.totalMs > 0), 'kernel profile names BatchMatMul with its calls and time');
  assert.equal(profile.kernels.reduce((n, k) => n + k.count, 0), profile.kernelCalls);
  log(`smoke run: ${r.results.map((x) => `${x.preset} b${x.batch} maejs ${x.maejs.medianMs.toFixed(0)} ms, torch ${x.torch.status === 'ok' ? `${x.torch.medianMs.toFixed(1)} ms` : x.torch.status}`).join('; ')}; kernel profile ${profile.kernelCalls} calls, ${profile.kernels.length} kernels (${seconds()} s)`);

  // 3. no driver, no PyTorch: the run still ends with a JSON that says why
  const failedOut = join(work, 'unavailable.json');
  const failed = spawnSync(join(kit, 'run.sh'), ['--smoke', '--presets', 'A', '--icd', join(work, 'no-such-icd.json'), '--python', join(work, 'no-such-python3'), '--out', failedOut], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(failed.status, 0, failed.stderr);
  const f = JSON.parse(readFileSync(failedOut, 'utf8'));
  assert.equal(f.status, 'partial');
  assert.equal(f.webgpu.available, false);
  assert.match(f.webgpu.reason, /found no WebGPU adapter/);
  assert.equal(f.torch.available, false);
  assert.match(f.torch.reason, /no-such-python3 cannot import torch/);
  assert.deepEqual([f.results[0].maejs.status, f.results[0].torch.status], ['unavailable', 'unavailable']);
  log(`without a driver and PyTorch: webgpu '${f.webgpu.reason.slice(0, 80)}...'; torch '${f.torch.reason}' (${seconds()} s)`);
  log(`passed in ${seconds()} s`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
