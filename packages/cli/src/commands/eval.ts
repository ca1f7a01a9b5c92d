import { readFileSync, writeFileSync } from 'node:fs';
import { checkOneOf, initBackend, type BackendName } from '@maejs/backend';
import { extractFeatures, finetune, knnClassify, linearProbe, type FeatureSet } from '@maejs/eval';
import { FEATURE_POOLING_HELP, MaskedAutoencoder } from '@maejs/mae';
import { parseNpy } from '@maejs/formats';
import type { DataParallel } from '@maejs/trainer/node';
import { type CommandHelp, type FlagSpec, integerFlag, parseFlags, UsageError, usageError } from '../args.js';
import { DATA_HELP, loadImageSet } from '../data-source.js';
import { loadModel, MODEL_SOURCE_FLAGS } from '../model-source.js';
import { checkPooling, featureEngine, normalisedImages, POOLING_CHOICES, POOLING_FLAG_HELP, POOLING_NOTES, THREADS_FLAG } from './features.js';

export const evalFlags: FlagSpec = {
  ...MODEL_SOURCE_FLAGS,
  data: { type: 'string', description: `labelled data with a train and a test split: fashion-mnist, mnist, or sample (split 2000/1000)`, default: 'fashion-mnist' },
  probe: { type: 'string', description: 'comma list of linear, knn, finetune', default: 'linear,knn' },
  pooling: { type: 'string', description: `features of the linear and kNN probes: ${POOLING_FLAG_HELP}`, default: 'mean' },
  baseline: { type: 'boolean', description: 'also run each probe on raw pixels (finetune: the same ViT from random init)', default: false },
  'train-features': { type: 'string', description: 'precomputed train features: comma list of .npy from `mae features`, in order' },
  'test-features': { type: 'string', description: 'precomputed test features .npy' },
  'linear-epochs': { type: 'string', description: 'linear probe epochs', default: '90' },
  'finetune-epochs': { type: 'string', description: 'fine-tuning epochs', default: '2' },
  'finetune-samples': { type: 'string', description: 'train images used by fine-tuning (all: 0)', default: '5000' },
  seed: { type: 'string', description: 'seed of the probes', default: '0' },
  out: { type: 'string', description: 'write the results as JSON here' },
  backend: { type: 'string', description: 'auto | wasm | cpu | ...', default: 'auto' },
  threads: THREADS_FLAG,
};

export const evalHelp: CommandHelp = {
  usage: `mae eval (--checkpoint <run> | --weights <source>) [--data fashion-mnist|mnist|sample] [--probe linear,knn,finetune] [--pooling ${POOLING_CHOICES}] [--baseline] [--out results.json]`,
  summary: 'Evaluates the encoder of a checkpoint: linear probe, kNN and fine-tuning accuracy on the test split; --baseline adds the same probes on raw pixels (and fine-tuning from a random init).',
  flags: evalFlags,
  examples: ['mae eval --checkpoint runs/<run> --data fashion-mnist --probe linear,knn --out eval.json', 'mae eval --weights mae_visualize_vit_base --data sample --probe knn'],
  notes: `${POOLING_NOTES}\nFine-tuning (--probe finetune) always uses the official global_pool classifier: a trained fc_norm of the mean of the patch tokens, then the head.`,
};

const NUM_CLASSES = 10;

function readFeatureFiles(list: string): { features: Float32Array; labels: Int32Array; dim: number } {
  const parts = list.split(',').map((path) => ({ f: parseNpy(readFileSync(path), path), l: parseNpy(readFileSync(path.replace(/\.npy$/, '') + '.labels.npy'), path) }));
  const dim = parts[0].f.shape[1];
  if (parts.some((p) => p.f.shape.length !== 2 || p.f.shape[1] !== dim)) throw new UsageError(`feature files ${list} must all be [N, ${dim}]`);
  const features = new Float32Array(parts.reduce((s, p) => s + p.f.data.length, 0));
  const labels = new Int32Array(parts.reduce((s, p) => s + p.l.data.length, 0));
  let fo = 0;
  let lo = 0;
  for (const p of parts) {
    features.set(p.f.data as Float32Array, fo);
    labels.set(p.l.data as Int32Array, lo);
    fo += p.f.data.length;
    lo += p.l.data.length;
  }
  return { features, labels, dim };
}

/** `mae eval`: linear probe, kNN and fine-tuning of a pre-trained encoder, with raw-pixel baselines. */
export async function evalCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const flags = parseFlags(argv, evalFlags, 'eval');
  const probes = String(flags.probe).split(',');
  for (const p of probes) checkOneOf('mae eval: --probe', p, ['linear', 'knn', 'finetune'], usageError);
  const pooling = checkPooling(flags.pooling);
  const seed = integerFlag(flags, 'seed', 'eval', 0);
  const linearEpochs = integerFlag(flags, 'linear-epochs', 'eval', 1);
  const finetuneEpochs = integerFlag(flags, 'finetune-epochs', 'eval', 1);
  const finetuneSamples = integerFlag(flags, 'finetune-samples', 'eval', 0);
  await initBackend(flags.backend as BackendName | 'auto');
  const { model, source, normalization, notes } = await loadModel(flags, 'eval', log);
  for (const note of notes) log(`note: ${note}`);
  const results: Record<string, unknown> = { checkpoint: source, data: flags.data, pooling, poolingMeaning: FEATURE_POOLING_HELP[pooling], probes: {} as Record<string, number> };
  const record = (name: string, value: number, seconds: number) => {
    (results.probes as Record<string, number>)[name] = value;
    log(`${name.padEnd(28)} ${(100 * value).toFixed(2)}%   (${seconds.toFixed(0)} s)`);
  };
  let engine: Promise<DataParallel | undefined> | undefined;
  try {
    const spec = String(flags.data);
    const trainSet = await loadImageSet(spec, spec === 'sample' ? 'test' : 'train');
    const testSet = spec === 'sample' ? trainSet : await loadImageSet(spec, 'test');
    const { mean, std } = normalization ?? trainSet;
    const [trainStart, trainCount, testStart] = spec === 'sample' ? [0, 2000, 2000] : [0, trainSet.shape[0], 0];
    const train = await normalisedImages(trainSet, mean, std, trainStart, trainCount);
    const test = await normalisedImages(testSet, mean, std, testStart);
    log(`data ${spec}: ${train.shape[0]} train / ${test.shape[0]} test images; weights ${source}`);
    const timed = async <T>(f: () => Promise<T>): Promise<[T, number]> => {
      const t = Date.now();
      const r = await f();
      return [r, (Date.now() - t) / 1000];
    };
    const features = async (which: 'train' | 'test', images: typeof train): Promise<FeatureSet> => {
      const pre = flags[`${which}-features`];
      if (typeof pre === 'string') {
        const f = readFeatureFiles(pre);
        if (f.labels.length !== images.labels.length || f.labels.some((l, i) => l !== images.labels[i])) throw new UsageError(`--${which}-features ${pre}: its labels do not match the ${which} split of ${spec} in order`);
        return f;
      }
      engine ??= featureEngine(model, flags, 'eval', log); // started once, for the train and the test features
      const parallel = await engine;
      const [f, s] = await timed(() => extractFeatures(model, images.images, images.shape, { pooling, batchSize: 256, engine: parallel }));
      log(`extracted ${which} features in ${s.toFixed(0)} s (${(images.shape[0] / s).toFixed(1)} img/s)`);
      return { features: f, labels: images.labels, dim: model.config.embedDim };
    };
    const pixelDim = train.shape[1] * train.shape[2] * train.shape[3];
    if (probes.includes('linear') || probes.includes('knn')) {
      const trainF = await features('train', train);
      const testF = await features('test', test);
      const sets: [string, FeatureSet, FeatureSet][] = [[`${pooling} features`, trainF, testF]];
      if (flags.baseline) sets.push(['raw pixels', { features: train.images, labels: train.labels, dim: pixelDim }, { features: test.images, labels: test.labels, dim: pixelDim }]);
      for (const [name, tr, te] of sets) {
        if (probes.includes('linear')) {
          const [r, s] = await timed(() => linearProbe(tr, te, { numClasses: NUM_CLASSES, epochs: linearEpochs, seed }));
          record(`linear probe, ${name}`, r.testAccuracy, s);
        }
        if (probes.includes('knn')) {
          const [r, s] = await timed(() => knnClassify(tr, te, { numClasses: NUM_CLASSES }));
          record(`kNN (k 20, T 0.07), ${name}`, r.accuracy, s);
        }
      }
    }
    if (probes.includes('finetune')) {
      const samples = finetuneSamples || train.shape[0];
      const options = { numClasses: NUM_CLASSES, epochs: finetuneEpochs, maxTrainSamples: samples, seed };
      const trainSet2 = { images: train.images, labels: train.labels };
      const testSet2 = { images: test.images, labels: test.labels };
      const [r, s] = await timed(() => finetune(model, trainSet2, testSet2, options));
      record(`fine-tune (${samples} images, ${options.epochs} ep)`, r.testAccuracy, s);
      if (flags.baseline) {
        const scratch = new MaskedAutoencoder(model.config, { seed });
        const [b, bs] = await timed(() => finetune(scratch, trainSet2, testSet2, options));
        record(`same ViT from scratch`, b.testAccuracy, bs);
        scratch.dispose();
      }
    }
    if (typeof flags.out === 'string') writeFileSync(flags.out, JSON.stringify(results, null, 2) + '\n');
  } finally {
    await (await engine)?.close();
    model.dispose();
  }
}
