/**
 * Layer-wise learning-rate decay for fine-tuning a ViT, as the official `util/lr_decay.py`
 * (`param_groups_lrd`, from BEiT/ELECTRA), and an AdamW that applies one lr scale per layer.
 */
import * as tf from '@tensorflow/tfjs-core';
import { AdamW, type ParamGroup } from '@maejs/trainer';
import { checkBetas, checkInRange, checkInteger, checkNonNegative, failArgument } from '@maejs/backend';

/** Parameters without weight decay besides the 1-D ones: the official `VisionTransformer.no_weight_decay()`. */
export const NO_WEIGHT_DECAY: readonly string[] = ['pos_embed', 'cls_token', 'dist_token'];

/** Layer id, lr scale and weight-decay group of one parameter. */
export interface LayerDecayAssignment {
  /** 0 for cls_token / pos_embed / patch_embed, i + 1 for blocks.i, depth + 1 for the rest (norms, head). */
  layerId: number;
  /** layerDecay ^ (depth + 1 - layerId): the factor on the scheduled lr. */
  lrScale: number;
  /** 'no_decay' for 1-D parameters, biases and {@link NO_WEIGHT_DECAY}; else 'decay'. */
  group: ParamGroup;
}

/**
 * Layer id of a parameter, as the official `get_layer_id_for_vit(name, num_layers)` with
 * num_layers = depth + 1: cls_token, pos_embed and patch_embed.* -> 0; blocks.i.* -> i + 1;
 * anything else (norm, fc_norm, head) -> depth + 1.
 */
export function layerIdForVit(name: string, depth: number): number {
  if (name === 'cls_token' || name === 'pos_embed' || name.startsWith('patch_embed')) return 0;
  if (name.startsWith('blocks.')) {
    const part = name.split('.')[1];
    const index = Number(part);
    if (!Number.isInteger(index) || index < 0 || index >= depth) failArgument(`layerIdForVit: the block index of '${name}'`, Number.isNaN(index) ? part : index, `an integer in [0, ${depth}) (depth ${depth})`);
    return index + 1;
  }
  return depth + 1;
}

/**
 * The official `param_groups_lrd` assignment of every parameter: layer id, lr scale
 * layerDecay^(depth + 1 - layerId), and weight-decay group (no decay for 1-D parameters,
 * biases, pos_embed and cls_token).
 *
 * @param shapes parameter name -> shape (any layout: only "1-D or not" matters).
 * @param options depth = number of transformer blocks; layerDecay in (0, 1] (official 0.75).
 */
export function paramGroupsLrd(shapes: ReadonlyMap<string, readonly number[]>, options: { depth: number; layerDecay: number }): Map<string, LayerDecayAssignment> {
  const { depth, layerDecay } = options;
  checkInteger('paramGroupsLrd: depth (number of blocks)', depth, 0);
  checkInRange('paramGroupsLrd: layerDecay', layerDecay, 0, 1, '(]');
  const out = new Map<string, LayerDecayAssignment>();
  for (const [name, shape] of shapes) {
    const layerId = layerIdForVit(name, depth);
    const noDecay = shape.length === 1 || name.endsWith('.bias') || NO_WEIGHT_DECAY.includes(name);
    out.set(name, { layerId, lrScale: layerDecay ** (depth + 1 - layerId), group: noDecay ? 'no_decay' : 'decay' });
  }
  return out;
}

/** Options of {@link LayerwiseAdamW}. */
export interface LayerwiseAdamWOptions {
  /** Weight decay of the 'decay' group; default 0.05 (official fine-tuning). */
  weightDecay?: number;
  /** Default [0.9, 0.999]: main_finetune builds torch.optim.AdamW with the torch default betas. */
  betas?: [number, number];
  /** Default 1e-8. */
  eps?: number;
}

/**
 * AdamW with one learning rate per parameter group, as torch.optim.AdamW over the groups of
 * `param_groups_lrd` with `group["lr"] = lr * group["lr_scale"]` (official lr_sched).
 * It holds one @maejs/trainer `AdamW` per layer id, each with lr = base lr x that layer's scale;
 * the decoupled weight decay of a group also uses its scaled lr, exactly as in torch.
 * Owns the optimizer moments; call dispose() when done.
 */
export class LayerwiseAdamW {
  private readonly optimizers = new Map<number, { optimizer: AdamW; scale: number; names: Set<string> }>();
  private readonly known: Set<string>;
  private baseLr = 0;

  /**
   * @param variables the parameters to optimize, by name.
   * @param assignments from {@link paramGroupsLrd}; must cover every variable.
   */
  constructor(variables: ReadonlyMap<string, tf.Variable>, assignments: ReadonlyMap<string, LayerDecayAssignment>, options: LayerwiseAdamWOptions = {}) {
    const weightDecay = options.weightDecay ?? 0.05;
    checkNonNegative('LayerwiseAdamW: weightDecay', weightDecay);
    const betas = options.betas ?? [0.9, 0.999];
    checkBetas('LayerwiseAdamW: betas', betas);
    const byLayer = new Map<number, Map<string, tf.Variable>>();
    for (const [name, variable] of variables) {
      const a = assignments.get(name);
      if (!a) throw new Error(`LayerwiseAdamW: no layer-decay assignment for parameter '${name}', expected one for every variable (see paramGroupsLrd)`);
      checkNonNegative(`LayerwiseAdamW: lrScale of '${name}'`, a.lrScale);
      const first = byLayer.get(a.layerId)?.keys().next().value;
      if (first !== undefined && assignments.get(first)!.lrScale !== a.lrScale) {
        throw new Error(`LayerwiseAdamW: '${name}' has lrScale ${a.lrScale} but '${first}' in the same layer ${a.layerId} has ${assignments.get(first)!.lrScale}, expected one scale per layer id`);
      }
      if (!byLayer.has(a.layerId)) byLayer.set(a.layerId, new Map());
      byLayer.get(a.layerId)!.set(name, variable);
    }
    try {
      for (const [layerId, vars] of [...byLayer].sort((p, q) => p[0] - q[0])) {
        const optimizer = new AdamW(vars, { lr: 0, betas, eps: options.eps ?? 1e-8, weightDecay, groups: (name) => assignments.get(name)!.group });
        this.optimizers.set(layerId, { optimizer, scale: assignments.get(vars.keys().next().value as string)!.lrScale, names: new Set(vars.keys()) });
      }
    } catch (err) {
      this.dispose(); // free the moments created before the failure
      throw err;
    }
    this.known = new Set(variables.keys());
  }

  /** The base (unscaled) learning rate; setting it sets every layer's lr to base x scale. */
  get lr(): number {
    return this.baseLr;
  }

  /** Sets the base learning rate; every layer group gets base x its scale. */
  set lr(value: number) {
    checkNonNegative('LayerwiseAdamW: lr', value);
    this.baseLr = value;
    for (const { optimizer, scale } of this.optimizers.values()) optimizer.lr = value * scale;
  }

  /** The lr the parameter `name` is updated with (base lr x its layer's scale). */
  lrOf(name: string): number {
    for (const { optimizer, names } of this.optimizers.values()) if (names.has(name)) return optimizer.lr;
    throw new Error(`LayerwiseAdamW.lrOf: unknown parameter '${name}'`);
  }

  /** One AdamW step; `grads` by parameter name (a missing name is skipped). The caller owns the gradients. */
  applyGradients(grads: ReadonlyMap<string, tf.Tensor>): void {
    for (const name of grads.keys()) if (!this.known.has(name)) throw new Error(`LayerwiseAdamW.applyGradients: gradient for unknown parameter '${name}'`);
    for (const { optimizer, names } of this.optimizers.values()) {
      const subset = new Map([...grads].filter(([name]) => names.has(name)));
      if (subset.size > 0) optimizer.applyGradients(subset);
    }
  }

  /** Frees the moments of every layer's optimizer. */
  dispose(): void {
    for (const { optimizer } of this.optimizers.values()) optimizer.dispose();
    this.optimizers.clear();
  }
}
