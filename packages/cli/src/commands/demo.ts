import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@maejs/backend';
import { MaskedAutoencoder, maeTiny28 } from '@maejs/mae';
import { AdamW, officialParamGroups, variableGradsByName } from '@maejs/trainer';
import { parseNpy } from '@maejs/formats';
import { type CommandHelp, type FlagSpec, integerFlag, parseFlags, UsageError } from '../args.js';
import { syntheticShapes } from '../sample.js';
import { readConfigFile } from './forward.js';
import { readImagesNpy, readNoiseNpy, readStateDict } from '../tensors-io.js';

export const demoFlags: FlagSpec = {
  golden: { type: 'string', description: 'golden case folder to check against (default: $MAEJS_GOLDEN or ../shared/golden/tiny-gray if present)' },
  steps: { type: 'string', description: 'training steps on the built-in sample', default: '40' },
  batch: { type: 'string', description: 'batch size on the built-in sample', default: '32' },
  backend: { type: 'string', description: 'auto | tensorflow | wasm | cpu | ...', default: 'auto' },
};

export const demoHelp: CommandHelp = {
  usage: 'mae demo [--golden <folder>] [--steps N] [--batch N] [--backend <name>]',
  summary: 'Checks maejs against the golden case of the official PyTorch code (when the folder is present), then trains the mae_tiny_28 preset for a few steps on synthetic 28x28 images with AdamW (@maejs/trainer, official parameter groups) and prints the loss before and after on held-out images.',
  flags: demoFlags,
  examples: ['mae demo', 'mae demo --golden ../shared/golden/tiny-gray --steps 20 --backend wasm'],
};

function maxErrors(a: ArrayLike<number>, b: ArrayLike<number>): string {
  let abs = 0;
  let rel = 0;
  for (let i = 0; i < a.length; i++) {
    const d = Math.abs(a[i] - b[i]);
    abs = Math.max(abs, d);
    if (b[i] !== 0) rel = Math.max(rel, d / Math.abs(b[i]));
  }
  return `max abs ${abs.toExponential(2)}, max rel ${rel.toExponential(2)}`;
}

function findGolden(flag: string | undefined): string | undefined {
  const candidates = flag ? [flag] : [process.env.MAEJS_GOLDEN && join(process.env.MAEJS_GOLDEN, 'tiny-gray'), resolve('..', 'shared', 'golden', 'tiny-gray')];
  const found = candidates.find((d) => d && existsSync(join(d, 'case.json')));
  if (flag && !found) throw new UsageError(`mae demo: --golden ${flag} holds no case.json`);
  return found;
}

/** Part 1: the official outputs reproduced from the official weights. */
async function checkGolden(dir: string, log: (line: string) => void): Promise<void> {
  const config = readConfigFile(join(dir, 'case.json'));
  const model = new MaskedAutoencoder(config);
  model.loadStateDict(readStateDict(join(dir, 'state_dict.safetensors')));
  const images = readImagesNpy(join(dir, 'inputs.npy'), config);
  const noise = readNoiseNpy(join(dir, 'noise.npy'));
  const out = model.forward(images, { noise });
  const golden = (f: string) => parseNpy(readFileSync(join(dir, f)), f).data;
  const officialLoss = JSON.parse(readFileSync(join(dir, 'case.json'), 'utf8')).values.loss as number;
  log(`golden case ${dir}:`);
  log(`  loss ${out.loss.dataSync()[0]} (official ${officialLoss})`);
  log(`  pred   ${maxErrors(out.pred.dataSync(), golden('pred.npy'))}`);
  log(`  latent ${maxErrors(out.latent.dataSync(), golden('latent.npy'))}`);
  const sameMask = out.mask.dataSync().every((v, i) => v === golden('mask.npy')[i]);
  log(`  mask and ids_restore ${sameMask ? 'identical' : 'DIFFERENT'} to the official ones`);
  tf.dispose([images, noise, ...Object.values(out)]);
  model.dispose();
}

/** Part 2: a small MAE learns to reconstruct masked patches of the built-in sample. */
async function trainOnSample(steps: number, batch: number, log: (line: string) => void): Promise<void> {
  const size = maeTiny28.imgSize;
  const model = new MaskedAutoencoder(maeTiny28, { seed: 0 });
  const images = tf.tensor4d(syntheticShapes(batch, size, 1), [batch, size, size, 1]);
  const heldOut = tf.tensor4d(syntheticShapes(batch, size, 2), [batch, size, size, 1]);
  const evalLoss = () => tf.tidy(() => model.loss(heldOut, { seed: 99 }).dataSync()[0]);
  log(`built-in sample: ${batch} synthetic 28x28 images, preset mae_tiny_28 (${(model.params.count() / 1e6).toFixed(2)} M params), mask ratio 0.75, AdamW lr 1e-3, betas (0.9, 0.95), weight decay 0.05 (none on 1-D parameters and biases)`);
  const before = evalLoss();
  const optimizer = new AdamW(model, { lr: 1e-3, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.05, groups: officialParamGroups(model) });
  const variables = model.trainableVariables();
  const start = Date.now();
  for (let step = 1; step <= steps; step++) {
    const { value, grads } = variableGradsByName(() => model.loss(images, { seed: step }), variables);
    optimizer.applyGradients(grads);
    const loss = value.dataSync()[0];
    tf.dispose([value, ...grads.values()]);
    if (step === 1 || step % 10 === 0 || step === steps) log(`  step ${String(step).padStart(3)}  loss ${loss.toFixed(4)}  ${(((Date.now() - start) / step) | 0)} ms/step`);
  }
  const after = evalLoss();
  log(`  held-out reconstruction loss (masked patches): ${before.toFixed(4)} before, ${after.toFixed(4)} after ${steps} steps`);
  optimizer.dispose();
  tf.dispose([images, heldOut]);
  model.dispose();
}

/** `mae demo`: the main job for now (parity on the golden case when present, then a short training run). */
export async function demoCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const flags = parseFlags(argv, demoFlags, 'demo');
  const steps = integerFlag(flags, 'steps', 'demo', 1);
  const batch = integerFlag(flags, 'batch', 'demo', 1);
  const backend = await initBackend(flags.backend as BackendName | 'auto');
  log(`maejs demo on tfjs backend '${backend}'`);
  const golden = findGolden(flags.golden as string | undefined);
  if (golden) await checkGolden(golden, log);
  else log('no golden case found (pass --golden <dir>); skipping the parity check');
  await trainOnSample(steps, batch, log);
}
