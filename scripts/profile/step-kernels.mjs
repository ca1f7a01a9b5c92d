// Profiles one MAE training step (forward + backward, no optimizer) of the mae_tiny_28 preset:
// time per step, peak tensor memory, kernel time by kernel name, and the slowest kernel shapes
// (name + input shapes, with ms and achieved GFLOP/s for BatchMatMul).
// Usage: node scripts/profile/step-kernels.mjs [backend=wasm] [batch=128] [model=A|B]   (after npm run build)
//   A: mae_tiny_28 (the bench's preset A); B: the bench's preset B (32x32x3, ViT-Tiny encoder)
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, isOpLevelKernel } from '@maejs/backend';
import { MaskedAutoencoder, maeTiny28 } from '@maejs/mae';

tf.enableProdMode();
const backend = process.argv[2] ?? 'wasm';
const batch = Number(process.argv[3] ?? 128);
await initBackend(backend);
const PRESET_B = { imgSize: 32, patchSize: 4, inChans: 3, embedDim: 192, depth: 12, numHeads: 3, decoderEmbedDim: 128, decoderDepth: 4, decoderNumHeads: 4, normPixLoss: true };
const model = new MaskedAutoencoder(process.argv[4] === 'B' ? PRESET_B : maeTiny28);
const { imgSize, inChans } = model.config;
const images = tf.randomNormal([batch, imgSize, imgSize, inChans]);
const vars = [...model.trainableVariables().values()];
const step = () => {
  const { value, grads } = tf.variableGrads(() => model.loss(images, { seed: 1 }), vars);
  value.dataSync();
  tf.dispose([value, ...Object.values(grads)]);
};
step();
const t = performance.now();
for (let i = 0; i < 3; i++) step();
console.log(`${backend} batch ${batch}: ${((performance.now() - t) / 3).toFixed(0)} ms/step`);
const prof = await tf.profile(step);
// A maejs kernel that runs as tfjs ops (an op-level kernel) is listed with the time of its ops, which are listed too.
prof.kernels = prof.kernels.filter((k) => !isOpLevelKernel(k.name, backend));
console.log(`peak tensor memory ${(prof.peakBytes / 1e6).toFixed(0)} MB, ${prof.kernels.length} kernel calls`);
const byKernel = {};
for (const k of prof.kernels) byKernel[k.name] = (byKernel[k.name] ?? 0) + k.kernelTimeMs;
for (const [name, ms] of Object.entries(byKernel).sort((a, b) => b[1] - a[1]).slice(0, 12)) console.log(`  ${name.padEnd(16)} ${ms.toFixed(0)} ms`);

const byShape = {};
for (const k of prof.kernels) {
  const key = `${k.name} ${k.inputShapes.map((s) => `[${s}]`).join(' ')}`;
  const entry = (byShape[key] ??= { ms: 0, calls: 0, flops: 0 });
  entry.ms += k.kernelTimeMs;
  entry.calls += 1;
  if (k.name === 'BatchMatMul') {
    const [a, b] = k.inputShapes;
    const out = k.outputShapes[0];
    const inner = a.length === b.length ? Math.max(...[a[a.length - 1], a[a.length - 2]].filter((d) => b.includes(d))) : 0;
    entry.flops += 2 * out.reduce((x, y) => x * y, 1) * inner;
  }
}
console.log('slowest kernel shapes:');
for (const [key, e] of Object.entries(byShape).sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(process.env.TOP ?? 25))) {
  const gflops = e.flops ? `  ${(e.flops / (e.ms / 1000) / 1e9).toFixed(1)} GFLOP/s` : '';
  console.log(`  ${e.ms.toFixed(0).padStart(5)} ms  ${String(e.calls).padStart(3)}x  ${key}${gflops}`);
}
