/** The weight-decay parameter groups of the official MAE pre-training. */
import { officialShape } from '@maejs/mae';
import type { Param } from '@maejs/vit';
import type { GroupAssigner, ParamGroup } from './adamw.js';

/** A model whose parameters are registered by official name (e.g. `MaskedAutoencoder`). */
export interface ParamLookup {
  params: {
    /** The parameter named `name`, with its official shape. */
    get(name: string): Param;
  };
}

/**
 * The group rule of timm's `add_weight_decay` / `param_groups_weight_decay`: no decay for a
 * parameter whose official (PyTorch) shape has one dimension or whose name ends with `.bias`.
 */
export function officialGroupOf(name: string, officialShapeOfParam: readonly number[]): ParamGroup {
  return officialShapeOfParam.length === 1 || name.endsWith('.bias') ? 'no_decay' : 'decay';
}

/**
 * The parameter groups of the official `main_pretrain`: `AdamW` gets weight decay only on
 * parameters with more than one (official) dimension that are not biases, so LayerNorm weights
 * and all biases are not decayed, while `cls_token` and `mask_token` ([1, 1, D]) are.
 *
 * Use as `new AdamW(model, { lr, groups: officialParamGroups(model) })`.
 */
export function officialParamGroups(model: ParamLookup): GroupAssigner {
  if (!model || typeof model !== 'object' || !model.params || typeof model.params.get !== 'function') {
    throw new TypeError('officialParamGroups: expected a model with a params registry (e.g. a MaskedAutoencoder)');
  }
  return (name) => officialGroupOf(name, officialShape(model.params.get(name)));
}
