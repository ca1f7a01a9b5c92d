/** Reading and writing the .npy / checkpoint files the CLI takes, as tfjs tensors. */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { MaeConfig, StateTensor } from '@maejs/mae';
import { encodeNpy, parseNpy, parseStateDict } from '@maejs/formats';

function readBytes(path: string, what: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new Error(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
}

/** A float32 .npy of images NCHW [N, C, H, W] (the PyTorch layout) -> NHWC tensor for maejs. */
export function readImagesNpy(path: string, config: MaeConfig): tf.Tensor4D {
  const r = parseNpy(readBytes(path, 'images'), basename(path));
  const { imgSize: s, inChans: c } = config;
  if (r.dtype !== 'float32') throw new Error(`${basename(path)}: images must be float32, got ${r.dtype}`);
  if (r.shape.length !== 4 || r.shape[1] !== c || r.shape[2] !== s || r.shape[3] !== s) {
    throw new Error(`${basename(path)}: images must be NCHW [N, ${c}, ${s}, ${s}] for this config, got [${r.shape}]`);
  }
  return tf.tidy(() => tf.transpose(tf.tensor4d(r.data as Float32Array, r.shape as [number, number, number, number]), [0, 2, 3, 1]));
}

/** A float32 .npy of masking noise [N, L]. */
export function readNoiseNpy(path: string): tf.Tensor2D {
  const r = parseNpy(readBytes(path, 'noise'), basename(path));
  if (r.dtype !== 'float32' || r.shape.length !== 2) throw new Error(`${basename(path)}: noise must be float32 [N, L], got ${r.dtype} [${r.shape}]`);
  return tf.tensor2d(r.data as Float32Array, r.shape as [number, number]);
}

/** An official-layout state dict from a .pth or .safetensors file. */
export function readStateDict(path: string): Map<string, StateTensor> {
  const { tensors } = parseStateDict(readBytes(path, 'weights'), basename(path));
  const state = new Map<string, StateTensor>();
  for (const [key, t] of tensors) {
    if (!(t.data instanceof Float32Array)) throw new Error(`${basename(path)}: tensor '${key}' is ${t.dtype}, expected a floating type`);
    state.set(key, { shape: t.shape, data: t.data });
  }
  return state;
}

/** Writes a tensor as .npy (float32 or int32) into dir. */
export async function writeNpy(dir: string, name: string, t: tf.Tensor): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const raw = await t.data();
  // Backends may hand back another typed array (bool data stays Uint8Array on cpu): convert.
  const record = t.dtype === 'int32' ? { dtype: 'int32' as const, data: Int32Array.from(raw as Int32Array) } : { dtype: 'float32' as const, data: Float32Array.from(raw as Float32Array) };
  writeFileSync(join(dir, name), encodeNpy({ ...record, shape: t.shape }));
}
