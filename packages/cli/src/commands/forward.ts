import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { initBackend, type BackendName } from '@maejs/backend';
import { configFromOfficial, MaskedAutoencoder, type MaeConfig } from '@maejs/mae';
import { type FlagSpec, integerFlag, parseFlags, requireFlag } from '../args.js';
import { readImagesNpy, readNoiseNpy, readStateDict, writeNpy } from '../tensors-io.js';

export const forwardFlags: FlagSpec = {
  weights: { type: 'string', description: 'official state dict (.pth or .safetensors)' },
  config: { type: 'string', description: 'JSON with official keyword names (img_size, patch_size, ...); a case.json works' },
  images: { type: 'string', description: '.npy float32 NCHW [N, C, H, W]' },
  noise: { type: 'string', description: '.npy float32 [N, L] masking noise (default: random from --seed)' },
  seed: { type: 'string', description: 'seed of the random masking when --noise is absent', default: '0' },
  out: { type: 'string', description: 'output folder for pred/mask/ids_restore/latent .npy and loss.json' },
  backend: { type: 'string', description: 'auto | tensorflow | wasm | cpu | ...', default: 'auto' },
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

/** `mae forward`: one MAE forward pass on given weights, images and noise; writes every output. */
export async function forwardCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const flags = parseFlags(argv, forwardFlags, 'forward');
  const out = requireFlag(flags, 'out', 'forward');
  const config = readConfigFile(requireFlag(flags, 'config', 'forward'));
  const seed = integerFlag(flags, 'seed', 'forward', 0);
  const backend = await initBackend(flags.backend as BackendName | 'auto');
  const model = new MaskedAutoencoder(config);
  try {
    model.loadStateDict(readStateDict(requireFlag(flags, 'weights', 'forward')));
    const images = readImagesNpy(requireFlag(flags, 'images', 'forward'), config);
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
