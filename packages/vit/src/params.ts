import * as tf from '@tensorflow/tfjs-core';
import { Rng, seedFor } from '@maejs/random';

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
  /** The model seed (a safe integer). */
  readonly seed: number;

  /** @param seed the model seed: parameter `name` is initialised from {@link ParamRegistry.initSeed}(name). */
  constructor(seed = 0) {
    if (!Number.isSafeInteger(seed)) throw new Error(`ParamRegistry: seed is ${String(seed)}: expected a safe integer`);
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

  /**
   * The seed of the random initialiser of parameter `name`: `seedFor(seed, name)` of
   * @maejs/random. It depends on the model seed and the name only, so adding a layer, or another
   * model seed, never hands one parameter's values to another.
   */
  initSeed(name: string): number {
    return seedFor(this.seed, name);
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

/**
 * Xavier/Glorot uniform init of a [fanIn, fanOut] matrix, as torch.nn.init.xavier_uniform_:
 * U(-a, a) with a = sqrt(6 / (fanIn + fanOut)). Drawn in JavaScript from `Rng(seed)` of
 * @maejs/random, so every backend gets the same values.
 */
export function xavierUniform(shape: [number, number], seed: number): tf.Tensor2D {
  const [fanIn, fanOut] = shape;
  const limit = Math.sqrt(6 / (fanIn + fanOut));
  return tf.tensor2d(new Rng(seed).fillUniform(new Float32Array(fanIn * fanOut), -limit, limit), shape);
}

/**
 * Normal init with std 0.02, as torch.nn.init.normal_(std=.02) on the cls and mask tokens. Drawn
 * in JavaScript from `Rng(seed)` of @maejs/random, so every backend gets the same values.
 */
export function tokenInit(shape: number[], seed: number): tf.Tensor {
  const size = shape.reduce((a, b) => a * b, 1);
  return tf.tensor(new Rng(seed).fillNormal(new Float32Array(size), 0, 0.02), shape);
}
