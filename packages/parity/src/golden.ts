/** Loads the tiny-gray golden case (official PyTorch MAE outputs) as tfjs-ready arrays. */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs-core';
import { configFromOfficial, type MaeConfig, type StateTensor } from '@maejs/mae';
import { parseNpy, parseSafetensors, stateDictFromPth, type TensorRecord } from '@maejs/weights';
import { goldenFile } from '../../../testing/golden.js';

export const CASE = 'tiny-gray';

export function readCase(): { config: Readonly<MaeConfig>; raw: Record<string, any> } {
  const raw = JSON.parse(readFileSync(goldenFile(CASE, 'case.json'), 'utf8'));
  return { config: configFromOfficial(raw.config), raw };
}

export function npy(file: string): TensorRecord {
  return parseNpy(readFileSync(goldenFile(CASE, file)), file);
}

function asState(tensors: Map<string, TensorRecord>): Map<string, StateTensor> {
  return new Map([...tensors].map(([k, t]) => [k, { shape: t.shape, data: t.data as Float32Array }]));
}

export function stateFromSafetensors(file = 'state_dict.safetensors'): Map<string, StateTensor> {
  return asState(parseSafetensors(readFileSync(goldenFile(CASE, file)), file).tensors);
}

export function stateFromPth(file = 'state_dict.pth'): Map<string, StateTensor> {
  return asState(stateDictFromPth(readFileSync(goldenFile(CASE, file)), file).tensors);
}

/** inputs.npy is NCHW; maejs takes NHWC. */
export function goldenImages(): tf.Tensor4D {
  const r = npy('inputs.npy');
  return tf.tidy(() => tf.transpose(tf.tensor4d(r.data as Float32Array, r.shape as [number, number, number, number]), [0, 2, 3, 1]));
}

export function goldenNoise(): tf.Tensor2D {
  const r = npy('noise.npy');
  return tf.tensor2d(r.data as Float32Array, r.shape as [number, number]);
}
