/**
 * AdamW with decoupled weight decay, numerically as `torch.optim.AdamW` (single-tensor path,
 * amsgrad off), over named parameters split into a 'decay' and a 'no_decay' group.
 */
import * as tf from '@tensorflow/tfjs-core';
import { adamwUpdate, argumentMessage, checkBetas, checkInteger, checkNonNegative, checkOneOf, sameShape, showShape, type AdamWScalars } from '@maejs/backend';
import { checkGradients, resolveVariables, type VariableSource } from './variables.js';

/** Weight-decay group of one parameter: 'no_decay' parameters get weight decay 0. */
export type ParamGroup = 'decay' | 'no_decay';

/** Assigns each named parameter to a weight-decay group (see `officialParamGroups`). */
export type GroupAssigner = (name: string, variable: tf.Variable) => ParamGroup;

/** Hyperparameters of AdamW. */
export interface AdamWOptions {
  /** Learning rate of the next step; change it any time through `optimizer.lr`. */
  lr: number;
  /** (beta1, beta2), each in [0, 1). Default (0.9, 0.95), as MAE's main_pretrain. */
  betas?: [number, number];
  /** Added to the bias-corrected sqrt(v). Default 1e-8. */
  eps?: number;
  /** Decoupled weight decay of the 'decay' group. Default 0.05, as MAE's main_pretrain. */
  weightDecay?: number;
  /** Group of each parameter. Default: every parameter in 'decay' (plain `AdamW(model.parameters())`). */
  groups?: GroupAssigner;
}

/** The saved state of one parameter. */
export interface AdamWParamState {
  name: string;
  group: ParamGroup;
  /** Number of updates this parameter has received (PyTorch keeps one counter per parameter). */
  step: number;
  /** Shape of the parameter in the layout the optimizer sees (maejs layout for a model). */
  shape: number[];
  /** First moment, row-major, `shape`. */
  m: Float32Array;
  /** Second moment, row-major, `shape`. */
  v: Float32Array;
}

/** A plain snapshot of an AdamW optimizer: hyperparameters and per-parameter moments. */
export interface AdamWState {
  /** Number of applyGradients calls. */
  step: number;
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  params: AdamWParamState[];
}

/** One optimized parameter with the moments the optimizer owns. */
interface Slot {
  variable: tf.Variable;
  group: ParamGroup;
  /** Updates received so far. */
  step: number;
  m: tf.Variable;
  v: tf.Variable;
}

/**
 * AdamW (Loshchilov & Hutter), as torch.optim.AdamW: for each parameter p with gradient g,
 * `p *= 1 - lr*wd` (decoupled decay, 'decay' group only), `m = b1*m + (1-b1)*g`,
 * `v = b2*v + (1-b2)*g*g`, `p -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps)`.
 *
 * Owns its moment variables; call dispose() when done.
 */
export class AdamW {
  private readonly slots = new Map<string, Slot>();
  private currentLr = 0;
  private betaPair: [number, number];
  private epsilon: number;
  private decay: number;
  private calls = 0;

  /**
   * @param source named trainable variables, or a model with `trainableVariables()`.
   * @param options hyperparameters; `lr` is required.
   */
  constructor(source: VariableSource, options: AdamWOptions) {
    if (!options || typeof options !== 'object') throw new TypeError('AdamW: options { lr, betas?, eps?, weightDecay?, groups? } are required');
    this.lr = options.lr;
    this.betaPair = checkedBetas(options.betas ?? [0.9, 0.95]);
    this.epsilon = checkedNonNegative('AdamW: eps', options.eps ?? 1e-8);
    this.decay = checkedNonNegative('AdamW: weightDecay', options.weightDecay ?? 0.05);
    const assign = options.groups ?? (() => 'decay');
    const variables = resolveVariables(source);
    if (variables.size === 0) throw new Error('AdamW: no parameters to optimize (the variable map is empty)');
    try {
      for (const [name, variable] of variables) this.slots.set(name, createSlot(name, variable, assign));
    } catch (err) {
      this.dispose(); // free the moments created before the bad parameter
      throw err;
    }
  }

  /** Learning rate used by the next applyGradients (set it every step for a schedule). */
  get lr(): number {
    return this.currentLr;
  }

  /** Sets the learning rate of the next applyGradients calls (>= 0). */
  set lr(value: number) {
    checkNonNegative('AdamW: lr', value);
    this.currentLr = value;
  }

  /** (beta1, beta2). */
  get betas(): [number, number] {
    return [...this.betaPair];
  }

  /** The epsilon added to the denominator of the update. */
  get eps(): number {
    return this.epsilon;
  }

  /** Weight decay of the 'decay' group. */
  get weightDecay(): number {
    return this.decay;
  }

  /** Number of applyGradients calls so far. */
  get step(): number {
    return this.calls;
  }

  /** Parameter names in optimizer order. */
  names(): string[] {
    return [...this.slots.keys()];
  }

  /** The weight-decay group of parameter `name`. */
  groupOf(name: string): ParamGroup {
    const slot = this.slots.get(name);
    if (!slot) throw new Error(`AdamW.groupOf: unknown parameter '${name}'`);
    return slot.group;
  }

  /**
   * One AdamW step at the current `lr`. `grads` maps parameter names to gradients of the
   * parameter's shape; a parameter without an entry is skipped (no decay, moments unchanged),
   * as a PyTorch parameter whose grad is None. The gradients stay owned by the caller.
   */
  applyGradients(grads: ReadonlyMap<string, tf.Tensor>): void {
    this.checkAlive('applyGradients');
    checkGradients('AdamW.applyGradients', this.variables(), grads);
    this.calls++;
    for (const [name, g] of grads) {
      const slot = this.slots.get(name)!;
      slot.step++;
      updateSlot(slot, g, this.scalarsFor(slot));
    }
  }

  /** A snapshot of the optimizer (moments copied to the CPU); `setState` restores it exactly. */
  async getState(): Promise<AdamWState> {
    this.checkAlive('getState');
    const params: AdamWParamState[] = [];
    for (const [name, slot] of this.slots) {
      const m = new Float32Array((await slot.m.data()) as Float32Array); // copy: never alias backend memory
      const v = new Float32Array((await slot.v.data()) as Float32Array);
      params.push({ name, group: slot.group, step: slot.step, shape: [...slot.variable.shape], m, v });
    }
    return { step: this.calls, lr: this.currentLr, betas: this.betas, eps: this.epsilon, weightDecay: this.decay, params };
  }

  /**
   * Restores a snapshot from `getState` (hyperparameters, step counters and moments), so the
   * following steps are bit-identical to those of the optimizer it was taken from. Checks
   * everything first and changes nothing when the snapshot does not fit: one error lists every
   * missing, unknown or misshapen parameter.
   */
  setState(state: AdamWState): void {
    this.checkAlive('setState');
    checkSnapshot(state, this.slots);
    for (const entry of state.params) {
      const slot = this.slots.get(entry.name)!;
      slot.step = entry.step;
      tf.tidy(() => {
        slot.m.assign(tf.tensor(new Float32Array(entry.m), slot.variable.shape, 'float32'));
        slot.v.assign(tf.tensor(new Float32Array(entry.v), slot.variable.shape, 'float32'));
      });
    }
    this.calls = state.step;
    this.currentLr = state.lr;
    this.betaPair = [state.betas[0], state.betas[1]];
    this.epsilon = state.eps;
    this.decay = state.weightDecay;
  }

  /** Frees the moment variables (the parameters belong to their owner and are left alone). */
  dispose(): void {
    for (const slot of this.slots.values()) tf.dispose([slot.m, slot.v]);
    this.slots.clear();
  }

  private checkAlive(method: string): void {
    if (this.slots.size === 0) throw new Error(`AdamW.${method}: the optimizer has been disposed`);
  }

  private variables(): Map<string, tf.Variable> {
    return new Map([...this.slots].map(([name, slot]) => [name, slot.variable]));
  }

  private scalarsFor(slot: Slot): AdamWScalars {
    const [b1, b2] = this.betaPair;
    const wd = slot.group === 'decay' ? this.decay : 0;
    return {
      decayFactor: 1 - this.currentLr * wd,
      stepSize: this.currentLr / (1 - b1 ** slot.step),
      bc2Sqrt: Math.sqrt(1 - b2 ** slot.step),
      b1,
      b2,
      eps: this.epsilon,
    };
  }
}

/** Moments (zeros) for one parameter, and its group. */
function createSlot(name: string, variable: tf.Variable, assign: GroupAssigner): Slot {
  if (!(variable instanceof tf.Variable)) throw new TypeError(`AdamW: parameter '${name}' is not a tf.Variable`);
  if (variable.dtype !== 'float32') throw new TypeError(`AdamW: parameter '${name}' has dtype ${variable.dtype}, expected float32`);
  const group = assign(name, variable);
  checkOneOf(`AdamW: groups('${name}')`, group, ['decay', 'no_decay'] as const);
  const m = tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
  const v = tf.tidy(() => tf.variable(tf.zerosLike(variable), false));
  return { variable, group, step: 0, m, v };
}

/** The torch.optim.AdamW update of one parameter (`_single_tensor_adamw`, amsgrad off). */
function updateSlot(slot: Slot, g: tf.Tensor, s: AdamWScalars): void {
  const next = adamwUpdate(slot.variable, g, slot.m, slot.v, s);
  slot.variable.assign(next[0]);
  slot.m.assign(next[1]);
  slot.v.assign(next[2]);
  tf.dispose(next);
}

function checkedBetas(betas: [number, number]): [number, number] {
  checkBetas('AdamW: betas', betas);
  return [betas[0], betas[1]];
}

function checkedNonNegative(what: string, value: number): number {
  checkNonNegative(what, value);
  return value;
}

/** Validates a snapshot against the optimizer's parameters; throws one error listing every problem. */
function checkSnapshot(state: AdamWState, slots: ReadonlyMap<string, Slot>): void {
  if (!state || typeof state !== 'object' || !Array.isArray(state.params)) {
    throw new TypeError('AdamW.setState: expected a snapshot from getState() ({ step, lr, betas, eps, weightDecay, params: [...] })');
  }
  checkInteger('AdamW.setState: step', state.step, 0);
  checkNonNegative('AdamW.setState: lr', state.lr);
  checkBetas('AdamW.setState: betas', state.betas);
  checkNonNegative('AdamW.setState: eps', state.eps);
  checkNonNegative('AdamW.setState: weightDecay', state.weightDecay);
  const problems = snapshotProblems(state.params, slots);
  if (problems.length) throw new Error(`AdamW.setState: the snapshot does not match this optimizer (${problems.length} problems):\n${problems.map((p) => `  ${p}`).join('\n')}`);
}

/** Every mismatch between the snapshot's parameter entries and the optimizer's parameters. */
function snapshotProblems(entries: AdamWParamState[], slots: ReadonlyMap<string, Slot>): string[] {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const entry of entries) {
    const slot = slots.get(entry?.name);
    if (!slot) {
      problems.push(`unknown parameter '${entry?.name}'`);
      continue;
    }
    if (seen.has(entry.name)) problems.push(`parameter '${entry.name}' appears twice`);
    seen.add(entry.name);
    problems.push(...entryProblems(entry, slot));
  }
  for (const name of slots.keys()) if (!seen.has(name)) problems.push(`missing parameter '${name}'`);
  return problems;
}

/** Mismatches of one parameter entry. */
function entryProblems(entry: AdamWParamState, slot: Slot): string[] {
  const problems: string[] = [];
  const shape = slot.variable.shape;
  const name = entry.name;
  if (!Array.isArray(entry.shape) || !sameShape(entry.shape, shape)) problems.push(argumentMessage(`'${name}'.shape`, entry.shape, showShape(shape)));
  for (const key of ['m', 'v'] as const) {
    const data = entry[key];
    if (!(data instanceof Float32Array)) problems.push(argumentMessage(`'${name}'.${key}`, data, 'a Float32Array'));
    else if (data.length !== slot.variable.size) problems.push(argumentMessage(`'${name}'.${key}.length`, data.length, `${slot.variable.size} (shape ${showShape(shape)})`));
  }
  if (!Number.isInteger(entry.step) || entry.step < 0) problems.push(argumentMessage(`'${name}'.step`, entry.step, 'an integer >= 0'));
  if (entry.group !== slot.group) problems.push(`'${name}' is in group '${entry.group}' in the snapshot but '${slot.group}' in this optimizer`);
  return problems;
}
