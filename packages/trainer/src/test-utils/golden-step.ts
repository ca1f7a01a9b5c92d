/**
 * One AdamW training step on the tiny-gray golden case (official PyTorch MAE +
 * torch.optim.AdamW, procedure of case.json `train_step`), and its comparison with the golden
 * gradients and weights after the step. Shared by the golden AdamW test and the kernels-off test.
 */
import * as tf from '@tensorflow/tfjs-core';
import { MaskedAutoencoder, toOfficial } from '@maejs/mae';
import { expectClose } from '../../../../testing/backends.js';
import { tinyGray } from '../../../../testing/golden.js';
import { AdamW, variableGradsByName, type GroupAssigner } from '../index.js';

export const LOSS_RTOL = 1e-5;
const W_ATOL = 1e-5;
const W_RTOL = 1e-4;
const LR = 1e-3;
const EPS = 1e-8;
/**
 * Golden README: elements whose gradient is below ~1e-7 (the qkv key-bias thirds, true gradient
 * 0, hold only float rounding noise of ~1e-9) may move differently, by up to ~2e-4. A first Adam
 * step moves an element by lr * g / (|g| + eps), so for these elements we allow the most two
 * such steps, one driven by each gradient, can differ: lr * (s(g_torch) + s(g_ours)).
 */
export const TINY_GRAD = 1e-7;

/** |g| / (|g| + eps): the size of a first Adam step relative to lr. */
function stepFraction(g: number): number {
  return Math.abs(g) / (Math.abs(g) + EPS);
}

export interface WeightErrors {
  maxAbs: number;
  maxRel: number;
  tinyCount: number;
  tinyMaxAbs: number;
}

/** Compares one parameter (official layout) with the golden weights after the step; throws naming the first bad element. */
function compareParam(name: string, got: Float32Array, want: Float32Array, grad: Float32Array, ourGrad: Float32Array, acc: WeightErrors): void {
  for (let i = 0; i < want.length; i++) {
    const diff = Math.abs(got[i] - want[i]);
    const tiny = Math.min(Math.abs(grad[i]), Math.abs(ourGrad[i])) < TINY_GRAD;
    const tol = W_ATOL + (tiny ? LR * (stepFraction(grad[i]) + stepFraction(ourGrad[i])) : W_RTOL * Math.abs(want[i]));
    if (!(diff <= tol)) throw new Error(`weight ${name}[${i}] is ${got[i]}, expected ${want[i]} (torch grad ${grad[i]}, ours ${ourGrad[i]}; tolerance ${tol})`);
    if (tiny) {
      acc.tinyCount++;
      acc.tinyMaxAbs = Math.max(acc.tinyMaxAbs, diff);
    } else {
      acc.maxAbs = Math.max(acc.maxAbs, diff);
      if (want[i] !== 0) acc.maxRel = Math.max(acc.maxRel, diff / Math.abs(want[i]));
    }
  }
}

/** Every parameter after a step against state_dict_after_step.safetensors; fixed ones must be untouched. */
export function compareWeights(model: MaskedAutoencoder, step: StepResult): WeightErrors {
  const after = tinyGray.stateFromSafetensors('state_dict_after_step.safetensors');
  const grads = tinyGray.stateFromSafetensors('grads.safetensors');
  const before = tinyGray.stateFromSafetensors();
  const acc: WeightErrors = { maxAbs: 0, maxRel: 0, tinyCount: 0, tinyMaxAbs: 0 };
  for (const [name, param] of model.params.entries()) {
    const got = step.weights.get(name)!;
    expect(step.shapes.get(name)).toEqual(after.get(name)!.shape);
    if (!param.trainable) {
      expect(Array.from(got)).toEqual(Array.from(before.get(name)!.data)); // pos embeddings are fixed
      continue;
    }
    compareParam(name, got, after.get(name)!.data, grads.get(name)!.data, step.grads.get(name)!, acc);
  }
  return acc;
}

/** The weights after one step against those after another (`reference`), with the same tolerances as against the golden ones. */
export function compareSteps(step: StepResult, reference: StepResult): WeightErrors {
  const acc: WeightErrors = { maxAbs: 0, maxRel: 0, tinyCount: 0, tinyMaxAbs: 0 };
  for (const [name, want] of reference.weights) {
    const grad = reference.grads.get(name);
    if (grad) compareParam(name, step.weights.get(name)!, want, grad, step.grads.get(name)!, acc);
    else expect(Array.from(step.weights.get(name)!)).toEqual(Array.from(want)); // fixed
  }
  return acc;
}

/**
 * Our gradients against grads.safetensors with the golden README's tolerance
 * (`1e-5 max|g| + 1e-4 |g|` per parameter); returns the worst error relative to max|g|.
 */
export function compareGrads(step: StepResult): number {
  const golden = tinyGray.stateFromSafetensors('grads.safetensors');
  expect(new Set(golden.keys())).toEqual(new Set(step.grads.keys()));
  let worst = 0;
  for (const [name, want] of golden) {
    let scale = 0;
    for (const v of want.data) scale = Math.max(scale, Math.abs(v));
    const r = expectClose(`grad ${name}`, step.grads.get(name)!, want.data, 1e-5 * scale, 1e-4);
    worst = Math.max(worst, r.maxAbs / (scale || 1));
  }
  return worst;
}

/**
 * Tensors by name in the official layout, as arrays; `shapes` gets their official shapes.
 * Read asynchronously: webgpu in Node has no synchronous reads.
 */
async function official(model: MaskedAutoencoder, tensors: Iterable<[string, tf.Tensor]>, shapes?: Map<string, number[]>): Promise<Map<string, Float32Array>> {
  const out = new Map<string, Float32Array>();
  for (const [name, t] of tensors) {
    const o = toOfficial(model.params.get(name), t);
    out.set(name, (await o.data()) as Float32Array);
    shapes?.set(name, o.shape);
    o.dispose();
  }
  return out;
}

export interface StepResult {
  before: number;
  after: number;
  /** Our gradients at the golden weights, official layout. */
  grads: Map<string, Float32Array>;
  /** Every parameter after the step, official layout, and its official shape. */
  weights: Map<string, Float32Array>;
  shapes: Map<string, number[]>;
}

/** Loads the golden weights, takes one AdamW step (lr 1e-3, betas (0.9, 0.95), wd 0.05), returns the loss before and after, the gradients and the new weights. */
export async function goldenStep(model: MaskedAutoencoder, images: tf.Tensor4D, noise: tf.Tensor2D, groups?: GroupAssigner): Promise<StepResult> {
  model.loadStateDict(tinyGray.stateFromSafetensors());
  const vars = model.trainableVariables();
  const optimizer = new AdamW(vars, { lr: LR, betas: [0.9, 0.95], eps: EPS, weightDecay: 0.05, groups });
  const { value, grads } = variableGradsByName(() => model.loss(images, { noise }), vars);
  expect(grads.size).toBe(vars.size);
  const ours = await official(model, grads);
  optimizer.applyGradients(grads);
  const before = (await value.data())[0];
  tf.dispose([value, ...grads.values()]);
  optimizer.dispose();
  const shapes = new Map<string, number[]>();
  const weights = await official(model, [...model.params.entries()].map(([name, p]) => [name, p.variable]), shapes);
  const lossAfter = tf.tidy(() => model.loss(images, { noise }));
  const after = (await lossAfter.data())[0];
  lossAfter.dispose();
  return { before, after, grads: ours, weights, shapes };
}
