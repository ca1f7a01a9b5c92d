import * as tf from '@tensorflow/tfjs-core';
import type { Param, ParamRegistry } from '@maejs/vit';

/** A float32 tensor in the official PyTorch layout: row-major `data` of `shape`. */
export interface StateTensor {
  shape: number[];
  data: Float32Array;
}

/** Official (PyTorch) shape of a maejs parameter. */
export function officialShape(param: Param): number[] {
  const shape = param.variable.shape as number[];
  switch (param.layout) {
    case 'plain':
      return [...shape];
    case 'linear':
      return [shape[1], shape[0]]; // [in, out] -> [out, in]
    case 'patch-conv': {
      const { patchSize: p, channels: c } = param.patch!;
      return [shape[1], c, p, p]; // [p*p*C, D] -> [D, C, p, p]
    }
  }
}

/** maejs layout -> official layout. */
export function toOfficial(param: Param, value: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    switch (param.layout) {
      case 'plain':
        return tf.clone(value);
      case 'linear':
        return tf.transpose(value); // [in, out] -> [out, in]
      case 'patch-conv': {
        const { patchSize: p, channels: c } = param.patch!;
        const d = (value.shape as number[])[1];
        return tf.transpose(tf.reshape(value, [p, p, c, d]), [3, 2, 0, 1]); // [p, q, C, D] -> [D, C, p, q]
      }
    }
  });
}

/** official layout -> maejs layout. */
export function fromOfficial(param: Param, value: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    switch (param.layout) {
      case 'plain':
        return tf.clone(value);
      case 'linear':
        return tf.transpose(value); // [out, in] -> [in, out]
      case 'patch-conv': {
        const [d, c, p, q] = value.shape;
        return tf.reshape(tf.transpose(value, [2, 3, 1, 0]), [p * q * c, d]); // [D, C, p, q] -> [p*q*C, D]
      }
    }
  });
}

/**
 * Parameter names in the official state-dict order: PyTorch lists a module's own parameters
 * (names without a dot: cls_token, pos_embed, mask_token, decoder_pos_embed) before those of
 * its submodules; within each group, definition order.
 */
export function officialOrder(params: ParamRegistry): [string, Param][] {
  const entries = params.entries();
  return [...entries.filter(([n]) => !n.includes('.')), ...entries.filter(([n]) => n.includes('.'))];
}

/** Thrown by loadStateDict when keys or shapes do not match; lists every problem at once. */
export class StateDictMismatchError extends Error {
  constructor(
    readonly missing: string[],
    readonly unexpected: string[],
    readonly misshapen: { key: string; expected: number[]; got: number[] }[],
  ) {
    const lines = [
      ...missing.map((k) => `  missing key: ${k}`),
      ...unexpected.map((k) => `  unexpected key: ${k}`),
      ...misshapen.map((m) => `  wrong shape for ${m.key}: expected [${m.expected}], got [${m.got}]`),
    ];
    super(`state dict does not match the model (${missing.length} missing, ${unexpected.length} unexpected, ${misshapen.length} wrongly shaped):\n${lines.join('\n')}`);
    this.name = 'StateDictMismatchError';
  }
}

/**
 * Checks keys and shapes of `entries` against the model's parameters (or a subset of them);
 * throws one error naming every mismatch.
 */
export function checkStateDict(params: ParamRegistry | [string, Param][], entries: Map<string, { shape: number[] }>): void {
  const expected = new Map(Array.isArray(params) ? params : params.entries());
  const missing = [...expected.keys()].filter((k) => !entries.has(k));
  const unexpected = [...entries.keys()].filter((k) => !expected.has(k));
  const misshapen: StateDictMismatchError['misshapen'] = [];
  for (const [key, param] of expected) {
    const got = entries.get(key);
    if (!got) continue;
    const want = officialShape(param);
    if (want.length !== got.shape.length || want.some((s, i) => s !== got.shape[i])) misshapen.push({ key, expected: want, got: [...got.shape] });
  }
  if (missing.length || unexpected.length || misshapen.length) throw new StateDictMismatchError(missing, unexpected, misshapen);
}
