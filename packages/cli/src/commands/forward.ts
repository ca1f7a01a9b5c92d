import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@maejs/backend';
import { configFromOfficial, MaskedAutoencoder, type MaeConfig, type StateTensor } from '@maejs/mae';
import { analyzeCheckpoint, maeStateOf, type ImportedCheckpoint } from '@maejs/weights/node';
import { type CommandHelp, type FlagSpec, integerFlag, parseFlags, requireFlag } from '../args.js';
import { readImagesNpy, readNoiseNpy, writeNpy } from '../tensors-io.js';
import { fallbackConfig, OFFLINE_FLAG, readCheckpointSource, SOURCE_HELP } from '../weights-source.js';

export const forwardFlags: FlagSpec = {
  weights: { type: 'string', description: `the whole MAE (decoder included): ${SOURCE_HELP}` },
  config: { type: 'string', description: 'JSON file with official keyword names (img_size, patch_size, ...; a case.json works): the model config, instead of the one the checkpoint gives' },
  preset: { type: 'string', description: 'without --config: preset for the fields the checkpoint does not give (head counts)' },
  images: { type: 'string', description: '.npy float32 NCHW [N, C, H, W]' },
  noise: { type: 'string', description: '.npy float32 [N, L] masking noise (default: random from --seed)' },
  seed: { type: 'string', description: 'seed of the random masking when --noise is absent', default: '0' },
  out: { type: 'string', description: 'output folder for pred/mask/ids_restore/latent .npy and loss.json' },
  backend: { type: 'string', description: 'auto | tensorflow | wasm | cpu | ...', default: 'auto' },
  ...OFFLINE_FLAG,
};

export const forwardHelp: CommandHelp = {
  usage: 'mae forward --weights <source> [--config case.json | --preset <name>] --images x.npy [--noise noise.npy | --seed N] --out <folder>',
  summary: 'One MAE forward pass (encoder, decoder, loss) on float32 NCHW images; writes pred.npy, mask.npy, ids_restore.npy (int32), latent.npy and loss.json to --out.',
  flags: forwardFlags,
  examples: ['mae forward --weights state_dict.pth --config case.json --images inputs.npy --noise noise.npy --out out/'],
};

/** Reads --config: the object itself, or its `config` member (a golden case.json). */
export function readConfigFile(path: string): Readonly<MaeConfig> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`cannot read config ${path}: ${(error as Error).message}`);
  }
  const obj = json as Record<string, unknown>;
  const inner = obj && typeof obj === 'object' && !('img_size' in obj) && obj.config && typeof obj.config === 'object' ? (obj.config as Record<string, unknown>) : obj;
  return configFromOfficial(inner);
}

/** Every float tensor of a checkpoint (official names), for a strict load into a model of a given config. */
function floatState(c: ImportedCheckpoint): Map<string, StateTensor> {
  const state = new Map<string, StateTensor>();
  for (const [key, t] of c.tensors) {
    if (!(t.data instanceof Float32Array)) throw new Error(`${c.source}: tensor '${key}' is ${t.dtype}, expected a floating type`);
    state.set(key, { shape: t.shape, data: t.data });
  }
  return state;
}

/**
 * `mae forward`: one MAE forward pass on given weights, images and noise; writes every output.
 * The weights may be any checkpoint the loaders read (official .pth / .safetensors, Hugging Face
 * ViTMAE file or folder, tfjs, hf:, an official name, a URL). The config is `--config` when given
 * (the weights must then match it key for key), else the checkpoint's (HF config.json, maejs
 * metadata, an official name's preset, `--preset`).
 */
export async function forwardCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const flags = parseFlags(argv, forwardFlags, 'forward');
  const weights = requireFlag(flags, 'weights', 'forward');
  const out = requireFlag(flags, 'out', 'forward');
  const imagesPath = requireFlag(flags, 'images', 'forward');
  const given = typeof flags.config === 'string' ? readConfigFile(flags.config) : undefined;
  const seed = integerFlag(flags, 'seed', 'forward', 0);
  const backend = await initBackend(flags.backend as BackendName | 'auto');
  const source = await readCheckpointSource(weights, flags, log);
  let config: Readonly<MaeConfig>;
  let state: Map<string, StateTensor>;
  if (given) {
    config = given;
    state = floatState(source.checkpoint);
  } else {
    const analysis = analyzeCheckpoint(source.checkpoint, {}, fallbackConfig(source, flags.preset));
    if (!analysis.hasDecoder) throw new Error(`${source.checkpoint.source}: holds the encoder only (no mask_token, decoder_*): mae forward needs the whole MAE (e.g. mae_visualize_vit_base, or a ViTMAEForPreTraining repository); for encoder features use mae features`);
    config = analysis.config;
    state = maeStateOf(source.checkpoint, analysis).state;
  }
  const model = new MaskedAutoencoder(config);
  try {
    model.loadStateDict(state);
    const images = readImagesNpy(imagesPath, config);
    const noise = typeof flags.noise === 'string' ? readNoiseNpy(flags.noise) : undefined;
    const result = model.forward(images, { noise, seed });
    mkdirSync(out, { recursive: true });
    await writeNpy(out, 'pred.npy', result.pred);
    await writeNpy(out, 'mask.npy', result.mask);
    await writeNpy(out, 'ids_restore.npy', result.idsRestore);
    await writeNpy(out, 'latent.npy', result.latent);
    const loss = (await result.loss.data())[0];
    writeFileSync(join(out, 'loss.json'), JSON.stringify({ loss }) + '\n');
    log(`backend ${backend}: loss ${loss} on ${images.shape[0]} images; wrote pred.npy, mask.npy, ids_restore.npy, latent.npy, loss.json to ${out}`);
    tf.dispose([images, ...(noise ? [noise] : []), ...Object.values(result)]);
  } finally {
    model.dispose();
  }
}
