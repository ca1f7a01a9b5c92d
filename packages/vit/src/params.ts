import * as tf from '@tensorflow/tfjs-core';
import { tfSeed } from '@maejs/backend';

/**
 * How a parameter is stored in maejs relative to the official PyTorch layout:
 * - `plain`: the same shape and order;
 * - `linear`: maejs keeps [in, out] (so matMul needs no transpose), PyTorch [out, in];
 * - `patch-conv`: maejs keeps the patch embedding as [p*p*C, D] in the (p, q, c) patch
 *   layout, PyTorch keeps the Conv2d weight [D, C, p, p].
 */
export type ParamLayout = 'plain' | 'linear' | 'patch-conv';

/** One named parameter of a model. */
export interface Param {
  variable: tf.Variable;
  layout: ParamLayout;
  /** False for the fixed sin-cos position embeddings (requires_grad=False officially). */
  trainable: boolean;
  /** Patch-conv only: p and C, needed to convert to and from the Conv2d layout. */
  patch?: { patchSize: number; channels: number };
}

/**
 * The parameters of one model, keyed by their official state-dict names
 * (e.g. `blocks.0.attn.qkv.weight`). Owns the variables; dispose() frees them all.
 */
export class ParamRegistry {
  private readonly params = new Map<string, Param>();
  private seed: number;

  /** @param seed base seed of the random initialisation (each parameter gets the next seed). */
  constructor(seed = 0) {
    this.seed = seed;
  }

  /** Adds a parameter initialised to `value` (the registry takes ownership of `value`). */
  add(name: string, value: tf.Tensor, layout: ParamLayout = 'plain', trainable = true, patch?: Param['patch']): tf.Variable {
    if (this.params.has(name)) throw new Error(`parameter '${name}' is defined twice`);
    const variable = tf.variable(value, trainable);
    value.dispose();
    this.params.set(name, { variable, layout, trainable, patch });
    return variable;
  }

  /** A fresh seed for one random initialiser, so a model is reproducible from its seed. */
  nextSeed(): number {
    return this.seed++;
  }

  /** The parameter named `name`; throws when there is none. */
  get(name: string): Param {
    const p = this.params.get(name);
    if (!p) throw new Error(`no parameter '${name}'`);
    return p;
  }

  /** All parameters in definition order (the official state-dict order). */
  entries(): [string, Param][] {
    return [...this.params.entries()];
  }

  /** Trainable variables keyed by name, for optimizers and gradient checks. */
  trainable(): Map<string, tf.Variable> {
    return new Map(this.entries().filter(([, p]) => p.trainable).map(([name, p]) => [name, p.variable]));
  }

  /** Total number of scalar values. */
  count(): number {
    return this.entries().reduce((sum, [, p]) => sum + p.variable.size, 0);
  }

  /** Disposes every parameter's variable and empties the registry. */
  dispose(): void {
    for (const p of this.params.values()) p.variable.dispose();
    this.params.clear();
  }
}

/** Xavier/Glorot uniform init of a [fanIn, fanOut] matrix, as torch.nn.init.xavier_uniform_. */
export function xavierUniform(shape: [number, number], seed: number): tf.Tensor2D {
  const limit = Math.sqrt(6 / (shape[0] + shape[1]));
  return tf.randomUniform(shape, -limit, limit, 'float32', tfSeed(seed)) as tf.Tensor2D;
}
