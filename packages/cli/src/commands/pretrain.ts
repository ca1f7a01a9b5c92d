import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { checkInteger, failArgument, initBackend, isGpuBackend, registeredMaejsKernels, replacedTfjsKernels, resolveThreads, type BackendName } from '@maejs/backend';
import { createAugmentation } from '@maejs/data';
import { CONFIG_DEFAULTS, MaskedAutoencoder, preset, resolveConfig, type MaeConfig } from '@maejs/mae';
import { availableParallelism } from 'node:os';
import { DataParallel, FileCheckpointStore, jsonlMetrics, lineChart, pretrain, PRETRAIN_DEFAULTS, readCheckpoint, reconstructionGrid, resolvePretrainConfig, resumeMetrics, writeFileAtomic, writePng, type PretrainConfig, type TrainEvent } from '@maejs/trainer/node';
import { UsageError, usageError, type CommandHelp, type FlagSpec } from '../args.js';
import { describeKernels } from './backends.js';
import { DATA_HELP, loadImageSet, type ImageSet } from '../data-source.js';
import { parseOverrides } from '../overrides.js';
import { progressReporter } from '../progress.js';

const MODEL_KEYS = ['imgSize', 'patchSize', 'inChans', 'embedDim', 'depth', 'numHeads', 'decoderEmbedDim', 'decoderDepth', 'decoderNumHeads', 'mlpRatio', 'normPixLoss', 'maskRatio', 'layerNormEps'];
const TRAIN_KEYS = Object.keys(PRETRAIN_DEFAULTS);
const RUN_KEYS = ['preset', 'config', 'data', 'dataDir', 'out', 'resume', 'backend', 'threads', 'figureImages'];

/** What `mae pretrain` runs when given no flags: a few minutes on the bundled sample. */
export const PRETRAIN_CLI_DEFAULTS = { preset: 'mae_tiny_28', data: 'sample', backend: 'auto', threads: 'auto', figureImages: 8 };
const TRAIN_CLI_DEFAULTS: Partial<PretrainConfig> = { epochs: 4, batchSize: 128, blr: 1e-3, warmupEpochs: 1 };
const MODEL_CLI_DEFAULTS: Partial<MaeConfig> = { normPixLoss: true };

export interface RunSettings {
  model: MaeConfig;
  training: PretrainConfig;
  run: { preset: string | null; data: string; dataDir: string | null; out: string; backend: string; threads: number | 'auto'; figureImages: number; resume: string | null };
}

function readJson(path: string, what: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new UsageError(`cannot read ${what} ${path}: ${(error as Error).message}`);
  }
}

/** Splits a flat object of settings into model, training and run settings, rejecting unknown keys. */
function splitSettings(values: Record<string, unknown>, where: string) {
  const model: Record<string, unknown> = {};
  const training: Record<string, unknown> = {};
  const run: Record<string, unknown> = {};
  for (const [raw, value] of Object.entries(values)) {
    const key = raw.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
    if (MODEL_KEYS.includes(key)) model[key] = value;
    else if (TRAIN_KEYS.includes(key)) training[key] = value;
    else if (RUN_KEYS.includes(key)) run[key] = value;
    else throw new UsageError(`${where}: unknown setting '${raw}'; model settings: ${MODEL_KEYS.join(', ')}; training settings: ${TRAIN_KEYS.join(', ')}`);
  }
  return { model, training, run };
}

/**
 * Resolves the settings of a run, lowest priority first: CLI defaults, the resumed run's
 * config.json, --preset, --config file, then --key value flags.
 */
export function resolveRunSettings(argv: string[]): RunSettings {
  const flags = Object.fromEntries(parseOverrides(argv, new Set([...MODEL_KEYS, ...TRAIN_KEYS, ...RUN_KEYS]), 'pretrain'));
  const fromFlags = splitSettings(flags, 'flags');
  const resume = typeof flags.resume === 'string' ? flags.resume : null;
  let base = { model: {} as Record<string, unknown>, training: {} as Record<string, unknown>, run: {} as Record<string, unknown> };
  if (resume && existsSync(join(resume, 'config.json'))) {
    const saved = readJson(join(resume, 'config.json'), 'run config');
    base = { model: saved.model as Record<string, unknown>, training: saved.training as Record<string, unknown>, run: { ...(saved.run as Record<string, unknown>), preset: null } };
  }
  const presetName = (fromFlags.run.preset as string | undefined) ?? (base.run.preset as string | undefined) ?? (resume || flags.config ? undefined : PRETRAIN_CLI_DEFAULTS.preset);
  const fromFile = typeof flags.config === 'string' ? splitSettings(readJson(flags.config, 'config'), flags.config) : { model: {}, training: {}, run: {} };
  const model = resolveConfig({ ...CONFIG_DEFAULTS, ...MODEL_CLI_DEFAULTS, ...base.model, ...(presetName ? preset(presetName) : {}), ...fromFile.model, ...fromFlags.model } as Partial<MaeConfig>);
  const trainingIn = { ...TRAIN_CLI_DEFAULTS, ...base.training, ...fromFile.training, ...fromFlags.training } as Partial<PretrainConfig>;
  const warmupGiven = 'warmupEpochs' in base.training || 'warmupEpochs' in fromFile.training || 'warmupEpochs' in fromFlags.training;
  if (!warmupGiven && typeof trainingIn.epochs === 'number' && trainingIn.epochs <= (trainingIn.warmupEpochs ?? 0)) trainingIn.warmupEpochs = trainingIn.epochs / 4; // short runs: warm up for a quarter
  const training = resolvePretrainConfig(trainingIn);
  const run: Record<string, unknown> = { ...PRETRAIN_CLI_DEFAULTS, ...base.run, ...fromFile.run, ...fromFlags.run };
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const out = resume && existsSync(join(resume, 'config.json')) ? resume : ((run.out as string | undefined) ?? join('runs', `${presetName ?? 'mae'}-${stamp}`));
  if (run.threads !== 'auto' && !(Number.isInteger(run.threads) && (run.threads as number) >= 1)) failArgument('mae pretrain: --threads', run.threads, '"auto" (one per core) or an integer >= 1', usageError);
  // A GPU backend named up front is checked before anything starts; 'auto' once it is resolved.
  if (run.backend !== 'auto') runThreads(String(run.backend), run.threads as number | 'auto');
  checkInteger('mae pretrain: --figure-images', run.figureImages, 0, Infinity, usageError);
  return {
    model,
    training,
    run: { preset: presetName ?? null, data: String(run.data), dataDir: (run.dataDir as string | undefined) ?? null, out, backend: String(run.backend), threads: run.threads as number | 'auto', figureImages: run.figureImages as number, resume },
  };
}

/**
 * Threads that compute on `backend` (`resolveThreads`): 'auto' is one per core on cpu and wasm and
 * one on a GPU backend; more than one on a GPU backend is a usage error.
 */
export function runThreads(backend: string, threads: number | 'auto', command = 'pretrain'): number {
  try {
    return resolveThreads(backend, threads, availableParallelism(), '--threads');
  } catch (error) {
    throw new UsageError(`mae ${command}: ${(error as Error).message}`);
  }
}

/** Fixed images for the per-epoch reconstruction figure: the first of the test split (or of the data). */
async function figureImages(settings: RunSettings, train: ImageSet): Promise<tf.Tensor4D | null> {
  const count = settings.run.figureImages;
  if (!count) return null;
  const source = ['fashion-mnist', 'mnist'].includes(settings.run.data) ? await loadImageSet(settings.run.data, 'test', settings.run.dataDir ?? undefined) : train;
  const [, h, w, c] = source.shape;
  const values = new Float32Array(count * h * w * c);
  for (let i = 0; i < count; i++) {
    const { image } = await source.dataset.get(i % source.shape[0]);
    for (let k = 0; k < image.length; k++) values[i * image.length + k] = (image[k] - source.mean[k % c]) / source.std[k % c];
  }
  return tf.tensor4d(values, [count, h, w, c]);
}

const SETTING_HELP: Record<string, string> = {
  preset: 'model preset (mae_tiny_28, mae_vit_base_patch16, ...)',
  config: 'JSON file of settings (any of the flags below, camelCase or snake_case)',
  data: DATA_HELP,
  dataDir: 'folder of downloaded datasets',
  out: 'run folder (config.json, metrics, checkpoints, figures)',
  resume: 'run folder to continue from its latest checkpoint',
  backend: 'auto | wasm | cpu | webgpu | ...',
  threads: "'auto' (one per core on cpu and wasm) or an integer",
  figureImages: 'images in the per-epoch reconstruction figure (0: none)',
  imgSize: 'image side in pixels',
  patchSize: 'patch side in pixels',
  inChans: 'image channels',
  embedDim: 'encoder width',
  depth: 'encoder blocks',
  numHeads: 'encoder attention heads',
  decoderEmbedDim: 'decoder width',
  decoderDepth: 'decoder blocks',
  decoderNumHeads: 'decoder attention heads',
  mlpRatio: 'MLP hidden size / width',
  normPixLoss: 'loss on per-patch normalised pixels',
  maskRatio: 'fraction of patches removed',
  layerNormEps: 'LayerNorm epsilon',
  epochs: 'passes over the data',
  batchSize: 'images per micro-batch',
  accumIter: 'micro-batches per update (effective batch = batchSize * accumIter)',
  blr: 'base learning rate: lr = blr * effective batch / 256',
  lr: 'absolute learning rate (overrides blr)',
  minLr: 'learning rate at the end of the cosine schedule',
  warmupEpochs: 'linear warm-up (a quarter of --epochs when --epochs is not larger)',
  weightDecay: 'AdamW weight decay (not on 1-D parameters and biases)',
  clipGrad: 'clip the gradient norm to this value',
  seed: 'seed of initialisation, shuffling, masking and augmentation',
  checkpointEvery: 'also write a checkpoint every N updates (0: at epoch ends only)',
  keepCheckpoints: 'checkpoints kept in the run folder',
  maxSteps: 'stop after this many updates',
  logEvery: 'log the loss every N updates',
};

/** `mae pretrain --help`: every setting with its default (the resolved defaults of a run with no flags). */
export function pretrainHelp(): CommandHelp {
  const defaults = resolveRunSettings([]);
  const kebab = (k: string) => k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
  const flags: FlagSpec = {};
  const add = (keys: string[], values: Record<string, unknown>) => {
    for (const key of keys) {
      const value = values[key];
      flags[kebab(key)] = { type: 'string', description: SETTING_HELP[key] ?? key, default: value === null || value === undefined ? undefined : String(value) };
    }
  };
  add(RUN_KEYS, { ...defaults.run, out: `runs/${PRETRAIN_CLI_DEFAULTS.preset}-<date>-<time>`, resume: null });
  add(MODEL_KEYS, defaults.model as unknown as Record<string, unknown>);
  add(TRAIN_KEYS, defaults.training as unknown as Record<string, unknown>);
  return {
    usage: 'mae pretrain [--preset <name> | --config run.json] [--data <data>] [--key value ...] [--resume runs/<run>]',
    summary: `MAE pre-training with a run folder of config.json, metrics.jsonl, checkpoints, loss.png and reconstruction figures. With no flags: the ${PRETRAIN_CLI_DEFAULTS.preset} preset on the bundled sample for a few minutes. Settings, lowest priority first: these defaults, the resumed run's config.json, --preset, --config, then the flags.`,
    flags,
    examples: ['mae pretrain', 'mae pretrain --data fashion-mnist --epochs 24 --out runs/fm24', 'mae pretrain --resume runs/fm24'],
  };
}

/** `mae pretrain`: MAE pre-training with a run folder of config, metrics, checkpoints and figures. */
export async function pretrainCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const settings = resolveRunSettings(argv);
  const backend = await initBackend(settings.run.backend as BackendName | 'auto');
  const data = await loadImageSet(settings.run.data, 'train', settings.run.dataDir ?? undefined);
  const [, h, w, c] = data.shape;
  const m = settings.model;
  if (h !== w || h !== m.imgSize || c !== m.inChans) {
    throw new UsageError(`data ${data.name} has images ${h}x${w}x${c}, but the model expects ${m.imgSize}x${m.imgSize}x${m.inChans} (imgSize, inChans); pick another --preset or set --img-size / --in-chans`);
  }
  const out = settings.run.out;
  mkdirSync(out, { recursive: true });
  const replaced = replacedTfjsKernels(backend);
  const kernels = { maejs: registeredMaejsKernels(backend).filter((name) => !replaced.includes(name)), replacesTfjs: replaced };
  const resolved = { ...settings, backend, kernels, data: { name: data.name, images: data.shape[0], mean: data.mean, std: data.std }, versions: { tfjs: tf.version_core, node: process.version } };
  // Atomic: a run stopped while writing it still resumes.
  writeFileAtomic(join(out, 'config.json'), new TextEncoder().encode(JSON.stringify(resolved, null, 2) + '\n'));
  log(`resolved config (also in ${join(out, 'config.json')}):\n${JSON.stringify({ model: settings.model, training: settings.training, run: settings.run, backend }, null, 2)}`);
  log(`${backend}: ${describeKernels(kernels.maejs, kernels.replacesTfjs)}`);

  const resume = settings.run.resume ? readCheckpoint(settings.run.resume) : null;
  if (resume) log(`resuming from ${resume.path} (update ${resume.checkpoint.meta.step})`);
  const model = new MaskedAutoencoder(settings.model, { seed: settings.training.seed });
  const threads = runThreads(backend, settings.run.threads);
  const engine = threads > 1 ? await DataParallel.start(model, { threads, backend }) : undefined;
  if (settings.run.threads === 'auto' && isGpuBackend(backend)) log(`one thread: '${backend}' is a GPU backend (--threads auto means 1 there)`);
  if (engine) log(`data-parallel over ${threads} threads (this one and ${threads - 1} worker${threads > 2 ? 's' : ''}; --threads 1 for one)`);
  const fixed = await figureImages(settings, data);
  // A resumed run's metrics continue from its checkpoint: what a stopped run logged after it goes.
  const kept = resume ? resumeMetrics(join(out, 'metrics.jsonl'), resume.checkpoint.meta.step) : [];
  const losses = kept.filter((r) => r.type === 'step').map((r) => r.loss as number);
  const metrics = jsonlMetrics(join(out, 'metrics.jsonl'));
  const progress = progressReporter(process.stdout, log);
  const figure = async (epoch: number) => {
    if (!fixed) return;
    const grid = await reconstructionGrid(model, fixed, { seed: 1, mean: data.mean, std: data.std });
    writePng(join(out, 'figures', `reconstruction-epoch-${String(epoch).padStart(3, '0')}.png`), grid);
  };
  const onEvent = async (e: TrainEvent) => {
    metrics(e);
    progress(e);
    if (e.type === 'step') losses.push(e.loss);
    if (e.type === 'epoch-end') await figure(e.epoch);
  };
  try {
    await pretrain({
      model,
      dataset: data.dataset,
      config: settings.training,
      augment: createAugmentation({ size: m.imgSize, mean: data.mean, std: data.std }),
      store: new FileCheckpointStore(join(out, 'checkpoints')),
      resume: resume?.checkpoint,
      onEvent,
      engine,
    });
    writePng(join(out, 'loss.png'), lineChart(losses));
    log(`run folder: ${out} (config.json, metrics.jsonl, checkpoints/, figures/, loss.png)`);
  } finally {
    await engine?.close();
    fixed?.dispose();
    model.dispose();
  }
}
