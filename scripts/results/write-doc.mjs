// Writes docs/results.md from a finished run folder of scripts/results/fashion-mnist.sh:
// config.json, metrics.jsonl, loss.png, figures/, eval-*.json. Copies the images to docs/results/.
// Usage: node scripts/results/write-doc.mjs [runs/fmnist-e24]
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';

const run = process.argv[2] ?? 'runs/fmnist-e24';
const read = (f) => JSON.parse(readFileSync(join(run, f), 'utf8'));
const config = read('config.json');
const events = readFileSync(join(run, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const start = events.find((e) => e.type === 'train-start');
const end = events.findLast((e) => e.type === 'train-end');
const steps = events.filter((e) => e.type === 'step');
const epochs = events.filter((e) => e.type === 'epoch-end');
const seconds = (Date.parse(events.at(-1).time) - Date.parse(events[0].time)) / 1000;
const evalFiles = readdirSync(run).filter((f) => /^eval-.*\.json$/.test(f)).sort();
const evals = evalFiles.map((f) => read(f));
// Feature probes are labelled by pooling: a file that does not say what its pooling means cannot be placed.
evalFiles.forEach((f, i) => {
  const e = evals[i];
  const featureProbes = Object.keys(e.probes).some((k) => k.endsWith(`, ${e.pooling} features`));
  if (featureProbes && typeof e.poolingMeaning !== 'string') throw new Error(`${join(run, f)}: pooling '${e.pooling}' without poolingMeaning; write it with the current \`mae eval\` (scripts/results/fashion-mnist.sh)`);
});
const probes = Object.assign({}, ...evals.map((e) => Object.fromEntries(Object.entries(e.probes).map(([k, v]) => [k.includes('features') || k.includes('pixels') || k.includes('scratch') || k.includes('fine-tune') ? k : `${k} (${e.pooling})`, v]))));

mkdirSync('docs/results', { recursive: true });
copyFileSync(join(run, 'loss.png'), 'docs/results/loss.png');
const figures = readdirSync(join(run, 'figures')).sort();
copyFileSync(join(run, 'figures', figures.at(-1)), 'docs/results/reconstruction.png');
if (figures.length > 1) copyFileSync(join(run, 'figures', figures[0]), 'docs/results/reconstruction-first-epoch.png');

// The feature kinds (mae features --help, poolings), in the table's column order.
const FEATURE_KINDS = [
  ['mean', 'MAE features, mean: official global_pool (LayerNorm at weight 1, bias 0 of the mean of the patch tokens before the final norm)'],
  ['mean-norm', 'MAE features, mean-norm (mean of the final-normed patch tokens)'],
  ['cls', 'MAE features, cls token (after the final norm)'],
];
const linearKey = (pooling) => `linear probe, ${pooling} features`;
const knnKey = (pooling) => `kNN (k 20, T 0.07), ${pooling} features`;

// Optional: the linear probe rerun with other probe seeds (scripts/results/probe-seeds.sh), per feature kind.
const seedFiles = readdirSync(run).filter((f) => /^probe-seed-.+-\d+\.json$/.test(f)).sort();
const pp = (v) => (100 * v).toFixed(2);
function seedSpread(pooling) {
  const seedRuns = seedFiles.map((f) => read(f)).filter((r) => r.pooling === pooling).map((r) => r.probes);
  if (!seedRuns.length) return '';
  const all = [probes[linearKey(pooling)], ...seedRuns.map((p) => p[linearKey(pooling)])];
  const raw = [probes['linear probe, raw pixels'], ...seedRuns.map((p) => p['linear probe, raw pixels'])];
  const gaps = all.map((v, i) => 100 * (v - raw[i]));
  const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const range = (xs, f) => `${f(Math.min(...xs))}-${f(Math.max(...xs))}`;
  return `
Linear probe with ${all.length} probe seeds (head initialisation and SGD order; same encoder and features,
\`scripts/results/probe-seeds.sh\`): MAE ${pooling} features ${pp(mean(all))}% (${range(all, pp)}%), raw pixels
${pp(mean(raw))}% (${range(raw, pp)}%), difference ${mean(gaps).toFixed(2)} points (${range(gaps, (g) => g.toFixed(2))}) per seed.
`;
}

const pct = (v) => (v === undefined ? 'not run' : `${(100 * v).toFixed(2)}%`);
const rows = [
  ['linear probe (BatchNorm w/o affine + linear, SGD 90 ep)', ...FEATURE_KINDS.map(([p]) => probes[linearKey(p)]), probes['linear probe, raw pixels']],
  ['weighted kNN (k 20, cosine, T 0.07)', ...FEATURE_KINDS.map(([p]) => probes[knnKey(p)]), probes['kNN (k 20, T 0.07), raw pixels']],
];
const ft = Object.entries(probes).find(([k]) => k.startsWith('fine-tune'));
const scratch = probes['same ViT from scratch'];
const m = config.model;
const threads = config.run.threads === 'auto' || config.run.threads === undefined ? (config.run.threads === 'auto' ? cpus().length : 1) : config.run.threads;
const t = config.training;
const doc = `# Results: MAE pre-training on Fashion-MNIST

A real run of the main job on this project's machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), no GPU,
Node ${config.versions.node}, tfjs ${config.versions.tfjs}, backend \`${config.backend}\`.

Reproduce (about ${(seconds / 3600 + 0.55).toFixed(1)} h on ${cpus().length} cores: the pre-training time below plus about 35 min of features and probes of three feature kinds; needs \`apt-get install dataset-fashion-mnist\` and \`npm run build\`):

\`\`\`sh
RUN=${run} EPOCHS=${epochs.length} scripts/results/fashion-mnist.sh   # pre-training, features, probes; steps already done are skipped
RUN=${run} scripts/results/probe-seeds.sh   # optional, ~10 min: the linear probe with 4 more probe seeds (POOLINGS="mean mean-norm cls": every kind)
node scripts/results/write-doc.mjs ${run}
\`\`\`

## Pre-training

| | |
| --- | --- |
| model | \`${config.run.preset}\`: ${m.imgSize}x${m.imgSize}x${m.inChans}, patch ${m.patchSize} (${(m.imgSize / m.patchSize) ** 2} patches), encoder ${m.embedDim}x${m.depth} (${m.numHeads} heads), decoder ${m.decoderEmbedDim}x${m.decoderDepth} (${m.decoderNumHeads} heads), ${(start.parameters / 1e6).toFixed(2)} M parameters |
| objective | mask ratio ${m.maskRatio}, norm-pix loss ${m.normPixLoss} |
| data | ${config.data.name}: ${config.data.images} images, RandomResizedCrop (0.2-1) + flip, normalised with mean ${config.data.mean} / std ${config.data.std} |
| optimisation | AdamW (0.9, 0.95), weight decay ${t.weightDecay} (official groups), batch ${t.batchSize * t.accumIter}, blr ${t.blr} -> lr ${start.lr.toExponential(2)}, warmup ${t.warmupEpochs} epoch, half-cosine to ${t.minLr} |
| length | ${epochs.length} epochs, ${end.step} updates |
| wall time | ${(seconds / 60).toFixed(1)} min for pre-training (${(end.step * start.effectiveBatch / end.seconds).toFixed(1)} images/s on average, ${threads === 1 ? 'one thread' : `data-parallel over ${threads} threads`}) |
| loss | ${steps[0].loss.toFixed(4)} at the first update, ${epochs.map((e) => e.meanLoss.toFixed(4)).join(' / ')} mean per epoch, ${end.lastLoss.toFixed(4)} at the last |

![loss per update](results/loss.png)

Reconstructions of the first 8 test images after the last epoch (original | masked 75% |
reconstruction | reconstruction with the visible patches pasted), as the official demo draws them:

![reconstructions](results/reconstruction.png)

## Evaluation on the Fashion-MNIST test split (10 000 images)

Encoder frozen for the probes; features from the full 60 000-image train split. The raw-pixel
columns run the same probe code on the normalised 784 pixels. The official \`global_pool\` features
are pooling \`'mean'\` (\`fc_norm\` as main_linprobe creates it and keeps it frozen: weight 1, bias 0);
\`'cls'\` is main_linprobe's default; \`'mean-norm'\` has no official counterpart. Fine-tuning uses
the official global-pool classifier (its \`fc_norm\` trained with the rest), so its row is in the \`mean\` column.

| probe | ${FEATURE_KINDS.map(([, label]) => label).join(' | ')} | raw pixels |
| --- |${' --- |'.repeat(FEATURE_KINDS.length + 1)}
${rows.map(([name, ...cells]) => `| ${name} | ${cells.map(pct).join(' | ')} |`).join('\n')}
| ${ft ? ft[0] : 'fine-tuning'} (encoder + global-pool head, layer-wise lr decay 0.75) | ${pct(ft?.[1])} |${' |'.repeat(FEATURE_KINDS.length - 1)} same ViT from random init: ${pct(scratch)} |
${FEATURE_KINDS.map(([p]) => seedSpread(p)).join('')}`;
// The hand-written reading of the numbers (from its heading on) is kept from the current doc.
const NOTES = '## Reading the numbers';
const previous = existsSync('docs/results.md') ? readFileSync('docs/results.md', 'utf8') : '';
const notes = previous.includes(NOTES) ? `\n${previous.slice(previous.indexOf(NOTES))}` : '';
writeFileSync('docs/results.md', doc + notes);
console.log(doc);
