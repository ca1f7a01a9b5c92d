/**
 * The architecture of a checkpoint, read from its tensor shapes.
 *
 * What the shapes determine: patch size and channels (patch_embed.proj.weight [D, C, p, p]),
 * embed dim, depth (blocks.N), image size (pos_embed [1, 1+L, D], L = (imgSize/p)^2), MLP ratio
 * (blocks.0.mlp.fc1.weight [H, D]), and the decoder's width and depth. What they do not: the
 * number of attention heads (encoder and decoder), normPixLoss, maskRatio and the LayerNorm
 * epsilon. Those come from the caller (a flag, a config file, a preset), and a missing head count
 * is an error that names the field.
 */
import { showShape } from '@maejs/backend';
import { CONFIG_DEFAULTS, failConfig, MaeConfigError, OFFICIAL_NAMES, resolveConfig, type MaeConfig } from './config.js';

/** Shapes of a state dict by key (official names). */
export type ShapeMap = ReadonlyMap<string, readonly number[]>;

/** Where a config field came from. */
export type ConfigFieldSource = 'tensors' | 'given' | 'fallback' | 'default';

/** What the tensor shapes say, without any outside help. */
export interface InferredFields {
  /** Fields the shapes determine. */
  fields: Partial<MaeConfig>;
  /** For each determined field, the tensor that shows it, e.g. `patch_embed.proj.weight [64, 1, 4, 4]`. */
  evidence: Partial<Record<keyof MaeConfig, string>>;
  /** True when any encoder key is present. */
  hasEncoder: boolean;
  /** True when any decoder key (mask_token, decoder_*) is present. */
  hasDecoder: boolean;
  /** Keys of a fine-tuned classifier (`head.*`) present in the checkpoint. */
  headKeys: string[];
  /** Keys of the global-pool norm of a fine-tuned model (`fc_norm.*`). */
  fcNormKeys: string[];
  /** Shapes that contradict each other or the MAE layout (not fatal here; loading will refuse). */
  problems: string[];
}

/** A complete config for a checkpoint and how it was put together. */
export interface InferredConfig {
  config: Readonly<MaeConfig>;
  /** The origin of every field. */
  sources: Record<keyof MaeConfig, ConfigFieldSource>;
  hasDecoder: boolean;
  /** Checkpoint keys that are not part of the MAE layout for this config (head.*, fc_norm.*, ...). */
  extraKeys: string[];
  /** MAE keys the checkpoint lacks (the decoder keys of an encoder-only checkpoint included). */
  missingKeys: string[];
  /** Present keys whose shape differs from the one the config implies. */
  misshapen: { key: string; expected: number[]; got: number[] }[];
  /** Plain-language remarks: decoder absent, head present, fields taken from defaults. */
  notes: string[];
}

/** Thrown when a checkpoint's config cannot be completed or contradicts what was given. */
export class CheckpointConfigError extends Error {
  constructor(
    /** The fields at fault. */
    readonly fields: string[],
    message: string,
  ) {
    super(message);
    this.name = 'CheckpointConfigError';
  }
}

const FIELD_NAMES: (keyof MaeConfig)[] = ['imgSize', 'patchSize', 'inChans', 'embedDim', 'depth', 'numHeads', 'decoderEmbedDim', 'decoderDepth', 'decoderNumHeads', 'mlpRatio', 'normPixLoss', 'maskRatio', 'layerNormEps'];

/** Decoder defaults of the official MaskedAutoencoderViT (decoder_embed_dim 512, depth 8, 16 heads). */
const OFFICIAL_DECODER_DEFAULTS: Pick<MaeConfig, 'decoderEmbedDim' | 'decoderDepth' | 'decoderNumHeads'> = { decoderEmbedDim: 512, decoderDepth: 8, decoderNumHeads: 16 };

/** True for keys of the MAE decoder: mask_token, decoder_pos_embed, decoder_embed/blocks/norm/pred. */
export function isDecoderKey(key: string): boolean {
  return key === 'mask_token' || key === 'decoder_pos_embed' || /^decoder_(embed|blocks|norm|pred)\./.test(key);
}

/** Keys and shapes of one pre-norm block in the official layout. */
function blockShapes(prefix: string, dim: number, hidden: number): [string, number[]][] {
  return [
    [`${prefix}.norm1.weight`, [dim]],
    [`${prefix}.norm1.bias`, [dim]],
    [`${prefix}.attn.qkv.weight`, [3 * dim, dim]],
    [`${prefix}.attn.qkv.bias`, [3 * dim]],
    [`${prefix}.attn.proj.weight`, [dim, dim]],
    [`${prefix}.attn.proj.bias`, [dim]],
    [`${prefix}.norm2.weight`, [dim]],
    [`${prefix}.norm2.bias`, [dim]],
    [`${prefix}.mlp.fc1.weight`, [hidden, dim]],
    [`${prefix}.mlp.fc1.bias`, [hidden]],
    [`${prefix}.mlp.fc2.weight`, [dim, hidden]],
    [`${prefix}.mlp.fc2.bias`, [dim]],
  ];
}

/**
 * Every key of the official state dict for `config`, in the official order, with its PyTorch
 * shape. Pure: builds no model. `decoder: false` leaves the decoder keys out.
 */
export function officialShapes(config: MaeConfig, options: { decoder?: boolean } = {}): Map<string, number[]> {
  const c = config;
  const decoder = options.decoder ?? true;
  const l = (c.imgSize / c.patchSize) ** 2;
  const out = new Map<string, number[]>([
    ['cls_token', [1, 1, c.embedDim]],
    ['pos_embed', [1, 1 + l, c.embedDim]],
  ]);
  if (decoder) {
    out.set('mask_token', [1, 1, c.decoderEmbedDim]);
    out.set('decoder_pos_embed', [1, 1 + l, c.decoderEmbedDim]);
  }
  out.set('patch_embed.proj.weight', [c.embedDim, c.inChans, c.patchSize, c.patchSize]);
  out.set('patch_embed.proj.bias', [c.embedDim]);
  for (let i = 0; i < c.depth; i++) for (const [k, s] of blockShapes(`blocks.${i}`, c.embedDim, Math.trunc(c.embedDim * c.mlpRatio))) out.set(k, s);
  out.set('norm.weight', [c.embedDim]);
  out.set('norm.bias', [c.embedDim]);
  if (!decoder) return out;
  out.set('decoder_embed.weight', [c.decoderEmbedDim, c.embedDim]);
  out.set('decoder_embed.bias', [c.decoderEmbedDim]);
  const dHidden = Math.trunc(c.decoderEmbedDim * c.mlpRatio);
  for (let i = 0; i < c.decoderDepth; i++) for (const [k, s] of blockShapes(`decoder_blocks.${i}`, c.decoderEmbedDim, dHidden)) out.set(k, s);
  out.set('decoder_norm.weight', [c.decoderEmbedDim]);
  out.set('decoder_norm.bias', [c.decoderEmbedDim]);
  out.set('decoder_pred.weight', [c.patchSize * c.patchSize * c.inChans, c.decoderEmbedDim]);
  out.set('decoder_pred.bias', [c.patchSize * c.patchSize * c.inChans]);
  return out;
}

/** Number of blocks `prefix.N.` present (max N + 1), and the indices missing below it. */
function countBlocks(keys: string[], prefix: string): { depth: number; gaps: number[] } {
  const pattern = new RegExp(`^${prefix}\\.(\\d+)\\.`);
  const seen = new Set<number>();
  for (const k of keys) {
    const m = pattern.exec(k);
    if (m && m[1].length < 5) seen.add(Number(m[1])); // at most 9999 blocks: bounds the work on hostile keys
  }
  const depth = seen.size ? Math.max(...seen) + 1 : 0;
  const gaps = Array.from({ length: depth }, (_, i) => i).filter((i) => !seen.has(i));
  return { depth, gaps };
}

/** hidden = trunc(dim * ratio) must give back `hidden`: the ratio maejs uses for an fc1 of [hidden, dim]. */
export function mlpRatioFor(hidden: number, dim: number): number {
  const ratio = hidden / dim;
  return Math.trunc(dim * ratio) === hidden ? ratio : (hidden + 0.5) / dim;
}

/** Reads patch size, channels and embed dim from patch_embed.proj.weight [D, C, p, p]. */
function inferPatch(shapes: ShapeMap, out: InferredFields): void {
  const w = shapes.get('patch_embed.proj.weight');
  if (!w) return;
  if (w.length !== 4 || w[2] !== w[3]) {
    out.problems.push(`patch_embed.proj.weight has shape ${showShape(w)}; expected [D, C, p, p] (square patches)`);
    return;
  }
  const ev = `patch_embed.proj.weight ${showShape(w)}`;
  Object.assign(out.fields, { embedDim: w[0], inChans: w[1], patchSize: w[2] });
  Object.assign(out.evidence, { embedDim: ev, inChans: ev, patchSize: ev });
}

/** Reads the image size from a [1, 1+L, D] position embedding, L = (imgSize / p)^2. */
function gridOf(key: string, shapes: ShapeMap, out: InferredFields): number | undefined {
  const s = shapes.get(key);
  if (!s) return undefined;
  const l = s.length === 3 ? s[1] - 1 : -1;
  const g = Math.round(Math.sqrt(Math.max(l, 0)));
  if (s.length !== 3 || s[0] !== 1 || l < 1 || g * g !== l) {
    out.problems.push(`${key} has shape ${showShape(s)}; expected [1, 1 + g*g, D] (a cls row and a square grid of patches)`);
    return undefined;
  }
  return g;
}

/** Encoder depth and MLP ratio from blocks.N.* and blocks.0.mlp.fc1.weight [H, D]. */
function inferBlocks(keys: string[], shapes: ShapeMap, prefix: string, out: InferredFields): { depth: number; ratio?: number; ev?: string } {
  const { depth, gaps } = countBlocks(keys, prefix);
  if (gaps.length) out.problems.push(`${prefix}.N: blocks ${gaps.join(', ')} are missing below ${prefix}.${depth - 1}`);
  const fc1 = shapes.get(`${prefix}.0.mlp.fc1.weight`);
  if (!fc1) return { depth };
  if (fc1.length !== 2 || fc1[1] < 1) {
    out.problems.push(`${prefix}.0.mlp.fc1.weight has shape ${showShape(fc1)}; expected [hidden, dim]`);
    return { depth };
  }
  return { depth, ratio: mlpRatioFor(fc1[0], fc1[1]), ev: `${prefix}.0.mlp.fc1.weight ${showShape(fc1)}` };
}

/** Decoder width, depth and MLP ratio; checks the decoder's ratio against the encoder's. */
function inferDecoder(keys: string[], shapes: ShapeMap, out: InferredFields): void {
  const embed = shapes.get('decoder_embed.weight');
  if (embed && embed.length === 2) {
    out.fields.decoderEmbedDim = embed[0];
    out.evidence.decoderEmbedDim = `decoder_embed.weight ${showShape(embed)}`;
  } else if (embed) out.problems.push(`decoder_embed.weight has shape ${showShape(embed)}; expected [decoderEmbedDim, embedDim]`);
  const blocks = inferBlocks(keys, shapes, 'decoder_blocks', out);
  out.fields.decoderDepth = blocks.depth;
  out.evidence.decoderDepth = `decoder_blocks.N: ${blocks.depth} blocks`;
  if (blocks.ratio === undefined) return;
  if (out.fields.mlpRatio === undefined) {
    out.fields.mlpRatio = blocks.ratio;
    out.evidence.mlpRatio = blocks.ev;
  } else if (Math.abs(out.fields.mlpRatio - blocks.ratio) > 1e-9) {
    out.problems.push(`the decoder MLP ratio ${blocks.ratio} (${blocks.ev}) differs from the encoder's ${out.fields.mlpRatio}; maejs uses one mlpRatio for both`);
  }
}

/** Everything the tensor shapes of a state dict (official names) say about its architecture. */
export function inferConfigFields(shapes: ShapeMap): InferredFields {
  const keys = [...shapes.keys()];
  const out: InferredFields = { fields: {}, evidence: {}, hasEncoder: false, hasDecoder: false, headKeys: [], fcNormKeys: [], problems: [] };
  out.headKeys = keys.filter((k) => k.startsWith('head.'));
  out.fcNormKeys = keys.filter((k) => k.startsWith('fc_norm.'));
  out.hasDecoder = keys.some(isDecoderKey);
  out.hasEncoder = keys.some((k) => k === 'cls_token' || k === 'pos_embed' || k.startsWith('patch_embed.') || k.startsWith('blocks.') || k.startsWith('norm.'));
  inferPatch(shapes, out);
  const enc = inferBlocks(keys, shapes, 'blocks', out);
  if (out.hasEncoder) {
    out.fields.depth = enc.depth;
    out.evidence.depth = `blocks.N: ${enc.depth} blocks`;
  }
  if (enc.ratio !== undefined) {
    out.fields.mlpRatio = enc.ratio;
    out.evidence.mlpRatio = enc.ev;
  }
  const grid = gridOf('pos_embed', shapes, out) ?? gridOf('decoder_pos_embed', shapes, out);
  if (grid !== undefined && out.fields.patchSize !== undefined) {
    out.fields.imgSize = grid * out.fields.patchSize;
    out.evidence.imgSize = `${shapes.has('pos_embed') ? 'pos_embed' : 'decoder_pos_embed'} ${showShape(shapes.get(shapes.has('pos_embed') ? 'pos_embed' : 'decoder_pos_embed')!)}: a ${grid}x${grid} grid of ${out.fields.patchSize}-pixel patches`;
  }
  if (out.hasDecoder) inferDecoder(keys, shapes, out);
  return out;
}

/** Given values that contradict the tensors, one line each. */
function conflicts(found: InferredFields, given: Partial<MaeConfig>): string[] {
  const lines: string[] = [];
  for (const field of FIELD_NAMES) {
    const have = found.fields[field];
    const want = given[field];
    if (have === undefined || want === undefined) continue;
    const same = typeof have === 'number' && typeof want === 'number' ? Math.abs(have - want) <= 1e-9 * Math.abs(have) : have === want;
    if (!same) lines.push(`${field} is ${String(want)} in the given config but ${String(have)} in the checkpoint (${found.evidence[field]})`);
  }
  return lines;
}

/** Explains how to give an undetermined field. */
function missingFieldHelp(field: keyof MaeConfig): string {
  const official = field === 'numHeads' ? 'num_heads' : field === 'decoderNumHeads' ? 'decoder_num_heads' : field === 'imgSize' ? 'img_size' : field;
  const why = field === 'imgSize' ? 'there is no pos_embed to read it from' : 'attention weights do not show how they split into heads';
  return `${field} is not determined by the tensors (${why}): give it in the config ("${field}" or "${official}") or with a preset (e.g. mae_vit_base_patch16: numHeads 12, decoderNumHeads 16)`;
}

/** Picks each field from the tensors, then `given`, then `fallback`, then the defaults. */
function assemble(found: InferredFields, given: Partial<MaeConfig>, fallback: Partial<MaeConfig>): { partial: Partial<MaeConfig>; sources: Record<keyof MaeConfig, ConfigFieldSource>; missing: (keyof MaeConfig)[] } {
  const decoderDefaults: Partial<MaeConfig> = found.hasDecoder ? {} : OFFICIAL_DECODER_DEFAULTS;
  const defaults: Partial<MaeConfig> = { ...CONFIG_DEFAULTS, ...decoderDefaults };
  const partial: Record<string, unknown> = {};
  const sources = {} as Record<keyof MaeConfig, ConfigFieldSource>;
  const missing: (keyof MaeConfig)[] = [];
  for (const field of FIELD_NAMES) {
    const layers: [ConfigFieldSource, Partial<MaeConfig>][] = [['tensors', found.fields], ['given', given], ['fallback', fallback], ['default', defaults]];
    const hit = layers.find(([, layer]) => layer[field] !== undefined);
    if (hit) {
      partial[field] = hit[1][field];
      sources[field] = hit[0];
    } else missing.push(field);
  }
  return { partial: partial as Partial<MaeConfig>, sources, missing };
}

/** Compares checkpoint shapes with the shapes `config` implies. */
function compareShapes(shapes: ShapeMap, config: MaeConfig) {
  const expected = officialShapes(config, { decoder: true });
  const missingKeys = [...expected.keys()].filter((k) => !shapes.has(k));
  const extraKeys = [...shapes.keys()].filter((k) => !expected.has(k));
  const misshapen: InferredConfig['misshapen'] = [];
  for (const [key, want] of expected) {
    const got = shapes.get(key);
    if (got && (got.length !== want.length || got.some((s, i) => s !== want[i]))) misshapen.push({ key, expected: want, got: [...got] });
  }
  return { missingKeys, extraKeys, misshapen };
}

/** Remarks for the user: decoder absent, fine-tuned head present, defaults used. */
function notesFor(found: InferredFields, sources: Record<keyof MaeConfig, ConfigFieldSource>): string[] {
  const notes: string[] = [];
  if (!found.hasDecoder) notes.push('decoder absent: this is an encoder-only checkpoint; the encoder loads (features work), reconstruction and pre-training need a decoder that keeps its random init');
  if (found.headKeys.length) notes.push(`fine-tuned classifier head present (${found.headKeys.join(', ')}): not part of MAE, left out`);
  if (found.fcNormKeys.length) notes.push(`fc_norm present (${found.fcNormKeys.join(', ')}): a global-pool fine-tuned model; its final norm is fc_norm after mean pooling, not MAE's norm`);
  const defaulted = FIELD_NAMES.filter((f) => sources[f] === 'default');
  if (defaulted.length) notes.push(`from defaults: ${defaulted.join(', ')}`);
  return notes;
}

/**
 * A complete, validated MaeConfig for a checkpoint. Fields determined by the tensor shapes win;
 * a `given` value that contradicts them is an error naming the field and the tensor. Fields the
 * shapes do not determine come from `given`, then `fallback` (e.g. a preset), then the defaults
 * (mlpRatio 4, normPixLoss false, maskRatio 0.75, layerNormEps 1e-6; the official decoder sizes
 * for encoder-only checkpoints). The encoder head count (and the decoder's, when the checkpoint
 * has a decoder) has no default: missing, it is a {@link CheckpointConfigError} saying which.
 */
export function inferConfig(stateShapes: ShapeMap, given: Partial<MaeConfig> = {}, fallback: Partial<MaeConfig> = {}): InferredConfig {
  const found = inferConfigFields(stateShapes);
  if (!found.hasEncoder) throw new CheckpointConfigError(['embedDim'], 'no encoder tensors found (cls_token, pos_embed, patch_embed.*, blocks.*, norm.*): not an MAE / ViT checkpoint in the official layout');
  if (found.problems.length) throw new CheckpointConfigError([], `the tensor shapes do not form an MAE:\n  ${found.problems.join('\n  ')}`);
  const clash = conflicts(found, given);
  if (clash.length) throw new CheckpointConfigError(FIELD_NAMES.filter((f) => clash.some((l) => l.startsWith(`${f} `))), `the given config contradicts the checkpoint:\n  ${clash.join('\n  ')}`);
  const { partial, sources, missing } = assemble(found, given, fallback);
  if (missing.length) throw new CheckpointConfigError(missing, missing.map(missingFieldHelp).join('; '));
  let config: Readonly<MaeConfig>;
  try {
    config = resolveConfig(partial);
  } catch (error) {
    if (error instanceof MaeConfigError) throw new CheckpointConfigError([error.field], `${error.message} (sources: ${FIELD_NAMES.map((f) => `${f} from ${sources[f]}`).join(', ')})`);
    throw error;
  }
  const compared = compareShapes(stateShapes, config);
  return { config, sources, hasDecoder: found.hasDecoder, ...compared, notes: notesFor(found, sources) };
}


/**
 * A partial MaeConfig from a JSON object written with either the MaeConfig names (`embedDim`) or
 * the official keyword names (`embed_dim`); a `config` member (a golden case.json) is used when
 * the object itself has neither. Other keys are ignored; no defaults are filled in and values are
 * not validated here (inferConfig / resolveConfig do that).
 */
export function partialConfigFromJson(json: unknown): Partial<MaeConfig> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) failConfig('(root)', json, 'a JSON object');
  const obj = json as Record<string, unknown>;
  const known = (o: Record<string, unknown>) => Object.keys(o).some((k) => k in OFFICIAL_NAMES || (FIELD_NAMES as string[]).includes(k));
  const inner = !known(obj) && obj.config && typeof obj.config === 'object' && !Array.isArray(obj.config) ? (obj.config as Record<string, unknown>) : obj;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(inner)) {
    if ((FIELD_NAMES as string[]).includes(key)) out[key] = value;
    else if (Object.prototype.hasOwnProperty.call(OFFICIAL_NAMES, key)) out[OFFICIAL_NAMES[key]] = value;
  }
  return out as Partial<MaeConfig>;
}
