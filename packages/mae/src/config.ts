import { checkInteger, checkOneOf, checkPositive, describeMismatch, failArgument, type ArgumentErrorMaker } from '@maejs/backend';
import { checkMaskRatio } from '@maejs/masking';
import type { ViTEncoderOptions } from '@maejs/vit';

/**
 * Everything that defines an MAE model. Names follow the official code in camelCase; the encoder
 * fields (imgSize, patchSize, inChans, embedDim, depth, numHeads, mlpRatio, layerNormEps) are
 * documented on ViTEncoderOptions.
 */
export interface MaeConfig extends ViTEncoderOptions {
  decoderEmbedDim: number;
  decoderDepth: number;
  decoderNumHeads: number;
  /** Normalise each target patch (official norm_pix_loss). */
  normPixLoss: boolean;
  /** Fraction of patches removed, in [0, 1). */
  maskRatio: number;
}

/** Values used for fields a partial config leaves out (the official defaults). */
export const CONFIG_DEFAULTS: Pick<MaeConfig, 'mlpRatio' | 'normPixLoss' | 'maskRatio' | 'layerNormEps' | 'inChans'> = {
  inChans: 3,
  mlpRatio: 4,
  normPixLoss: false,
  maskRatio: 0.75,
  layerNormEps: 1e-6,
};

/** The fields of MaeConfig that have a default in {@link CONFIG_DEFAULTS}. */
export type MaeConfigDefaultedField = keyof typeof CONFIG_DEFAULTS;

/**
 * A config to build a model from: the architecture fields (imgSize, patchSize, embedDim, depth,
 * numHeads, decoderEmbedDim, decoderDepth, decoderNumHeads) are required, the fields with a
 * default ({@link CONFIG_DEFAULTS}: inChans, mlpRatio, normPixLoss, maskRatio, layerNormEps)
 * optional. A full MaeConfig (e.g. a preset) is one.
 */
export type MaeConfigInput = Omit<MaeConfig, MaeConfigDefaultedField> & Partial<Pick<MaeConfig, MaeConfigDefaultedField>>;

const INTEGER_FIELDS = ['imgSize', 'patchSize', 'inChans', 'embedDim', 'depth', 'numHeads', 'decoderEmbedDim', 'decoderDepth', 'decoderNumHeads'] as const;
const FIELDS = new Set<string>([...INTEGER_FIELDS, 'mlpRatio', 'normPixLoss', 'maskRatio', 'layerNormEps']);

/** Thrown for an invalid MaeConfig; `field` names the offending field. */
export class MaeConfigError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`MaeConfig.${field} ${message}`);
    this.name = 'MaeConfigError';
  }
}

/** The error of a failed field check: a {@link MaeConfigError} for `field` with the shared argument message. */
const configError: ArgumentErrorMaker = (field, value, expected) => new MaeConfigError(field, describeMismatch(value, expected));

/** Throws a {@link MaeConfigError}: `MaeConfig.<field> is <value>: expected <expected>`. */
export function failConfig(field: string, value: unknown, expected: string): never {
  return failArgument(field, value, expected, configError);
}

/**
 * Fills defaults and validates every field; throws {@link MaeConfigError} naming the field,
 * its value and what is allowed. Unknown fields are refused (a typo would otherwise be ignored).
 */
export function resolveConfig(partial: Partial<MaeConfig>): Readonly<MaeConfig> {
  if (partial === null || typeof partial !== 'object') failConfig('(root)', partial, 'an object');
  for (const key of Object.keys(partial)) {
    if (!FIELDS.has(key)) throw new MaeConfigError(key, `is not a config field: expected one of ${[...FIELDS].join(', ')}`);
  }
  const c = { ...CONFIG_DEFAULTS, ...partial } as MaeConfig;
  for (const field of INTEGER_FIELDS) checkInteger(field, c[field], field === 'depth' || field === 'decoderDepth' ? 0 : 1, Infinity, configError);
  if (c.imgSize % c.patchSize !== 0) failConfig('imgSize', c.imgSize, `a multiple of patchSize ${c.patchSize}`);
  if (c.embedDim % c.numHeads !== 0) failConfig('embedDim', c.embedDim, `divisible by numHeads ${c.numHeads}`);
  if (c.decoderEmbedDim % c.decoderNumHeads !== 0) failConfig('decoderEmbedDim', c.decoderEmbedDim, `divisible by decoderNumHeads ${c.decoderNumHeads}`);
  if (c.embedDim % 4 !== 0) failConfig('embedDim', c.embedDim, 'a multiple of 4 (2-D sin-cos position embedding)');
  if (c.decoderEmbedDim % 4 !== 0) failConfig('decoderEmbedDim', c.decoderEmbedDim, 'a multiple of 4 (2-D sin-cos position embedding)');
  checkPositive('mlpRatio', c.mlpRatio, configError);
  checkOneOf('normPixLoss', c.normPixLoss, [true, false], configError);
  if (c.normPixLoss && c.patchSize * c.patchSize * c.inChans < 2) failConfig('normPixLoss', c.normPixLoss, 'false when a patch holds a single value');
  checkMaskRatio(c.maskRatio, 'maskRatio', configError);
  checkPositive('layerNormEps', c.layerNormEps, configError);
  return Object.freeze(c);
}

/** Official keyword name -> MaeConfig field (as in models_mae.MaskedAutoencoderViT and main_pretrain). */
export const OFFICIAL_NAMES: Readonly<Record<string, keyof MaeConfig>> = {
  img_size: 'imgSize',
  patch_size: 'patchSize',
  in_chans: 'inChans',
  embed_dim: 'embedDim',
  depth: 'depth',
  num_heads: 'numHeads',
  decoder_embed_dim: 'decoderEmbedDim',
  decoder_depth: 'decoderDepth',
  decoder_num_heads: 'decoderNumHeads',
  mlp_ratio: 'mlpRatio',
  norm_pix_loss: 'normPixLoss',
  mask_ratio: 'maskRatio',
  layer_norm_eps: 'layerNormEps',
};

/**
 * Reads a config written with the official keyword names (`img_size`, `embed_dim`, ...), e.g.
 * the `config` object of a golden case.json. Keys that are not model settings are ignored;
 * missing ones take the defaults; the result is validated.
 */
export function configFromOfficial(official: Record<string, unknown>): Readonly<MaeConfig> {
  if (official === null || typeof official !== 'object' || Array.isArray(official)) {
    failConfig('(root)', official, 'a JSON object with official keyword names (img_size, patch_size, ...)');
  }
  const partial: Record<string, unknown> = {};
  for (const [key, field] of Object.entries(OFFICIAL_NAMES)) {
    if (key in official) partial[field] = official[key];
  }
  return resolveConfig(partial as Partial<MaeConfig>);
}
