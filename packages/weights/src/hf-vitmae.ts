/**
 * The Hugging Face transformers ViTMAE layout (`ViTMAEForPreTraining`, e.g. facebook/vit-mae-base)
 * and its config.json, mapped to and from the official MAE layout.
 *
 * Key names as in transformers' `modeling_vit_mae.py` and `convert_vit_mae_to_pytorch.py`:
 * the fused `qkv` of a block is three Linear layers `attention.attention.{query,key,value}`
 * (rows [q | k | v] of the official weight, in that order); `attn.proj` is
 * `attention.output.dense`, `norm1`/`norm2` are `layernorm_before`/`layernorm_after`,
 * `mlp.fc1` is `intermediate.dense`, `mlp.fc2` is `output.dense`.
 */
import type { MaeConfig } from '@maejs/mae';
import { type TensorRecord, WeightsFormatError } from '@maejs/formats';

/** One row of the name map: HF name, official name, and which third of a fused qkv it is. */
interface NamePair {
  hf: string;
  official: string;
  /** 0 = query, 1 = key, 2 = value: rows [part * D, (part + 1) * D) of the official qkv tensor. */
  qkvPart?: number;
}

const PARAMS = ['weight', 'bias'] as const;

/** Block sub-modules other than qkv, official -> HF, in HF state-dict order. */
const BLOCK_PARTS: [string, string][] = [
  ['attn.proj', 'attention.output.dense'],
  ['mlp.fc1', 'intermediate.dense'],
  ['mlp.fc2', 'output.dense'],
  ['norm1', 'layernorm_before'],
  ['norm2', 'layernorm_after'],
];

/** The names of one transformer layer (HF module order: attention, intermediate, output, layernorms). */
function layerPairs(hf: string, official: string): NamePair[] {
  const out: NamePair[] = [];
  ['query', 'key', 'value'].forEach((q, part) => {
    for (const p of PARAMS) out.push({ hf: `${hf}.attention.attention.${q}.${p}`, official: `${official}.attn.qkv.${p}`, qkvPart: part });
  });
  for (const [o, h] of BLOCK_PARTS) for (const p of PARAMS) out.push({ hf: `${hf}.${h}.${p}`, official: `${official}.${o}.${p}` });
  return out;
}

/**
 * The whole name map for `depth` encoder and `decoderDepth` decoder layers, in the HF
 * `ViTMAEForPreTraining.state_dict()` order (a module's own parameters before its children's).
 */
export function hfNamePairs(depth: number, decoderDepth: number): NamePair[] {
  const pairs: NamePair[] = [
    { hf: 'vit.embeddings.cls_token', official: 'cls_token' },
    { hf: 'vit.embeddings.position_embeddings', official: 'pos_embed' },
    ...PARAMS.map((p) => ({ hf: `vit.embeddings.patch_embeddings.projection.${p}`, official: `patch_embed.proj.${p}` })),
  ];
  for (let i = 0; i < depth; i++) pairs.push(...layerPairs(`vit.encoder.layer.${i}`, `blocks.${i}`));
  pairs.push(...PARAMS.map((p) => ({ hf: `vit.layernorm.${p}`, official: `norm.${p}` })));
  pairs.push({ hf: 'decoder.mask_token', official: 'mask_token' }, { hf: 'decoder.decoder_pos_embed', official: 'decoder_pos_embed' });
  pairs.push(...PARAMS.map((p) => ({ hf: `decoder.decoder_embed.${p}`, official: `decoder_embed.${p}` })));
  for (let i = 0; i < decoderDepth; i++) pairs.push(...layerPairs(`decoder.decoder_layers.${i}`, `decoder_blocks.${i}`));
  pairs.push(...PARAMS.map((p) => ({ hf: `decoder.decoder_norm.${p}`, official: `decoder_norm.${p}` })));
  pairs.push(...PARAMS.map((p) => ({ hf: `decoder.decoder_pred.${p}`, official: `decoder_pred.${p}` })));
  return pairs;
}

/** Official state-dict keys for `depth` / `decoderDepth` layers, in the official order. */
function officialKeys(depth: number, decoderDepth: number): string[] {
  const modules = ['norm1', 'attn.qkv', 'attn.proj', 'norm2', 'mlp.fc1', 'mlp.fc2'];
  const block = (prefix: string) => modules.flatMap((m) => PARAMS.map((p) => `${prefix}.${m}.${p}`));
  const range = (n: number) => Array.from({ length: n }, (_, i) => i);
  const pair = (name: string) => PARAMS.map((p) => `${name}.${p}`);
  return [
    ...['cls_token', 'pos_embed', 'mask_token', 'decoder_pos_embed'],
    ...pair('patch_embed.proj'),
    ...range(depth).flatMap((i) => block(`blocks.${i}`)),
    ...pair('norm'),
    ...pair('decoder_embed'),
    ...range(decoderDepth).flatMap((i) => block(`decoder_blocks.${i}`)),
    ...pair('decoder_norm'),
    ...pair('decoder_pred'),
  ];
}

/** Highest `prefix.N.` index + 1 among `keys`. */
function layerCount(keys: Iterable<string>, prefix: string): number {
  let n = 0;
  for (const k of keys) {
    if (!k.startsWith(prefix)) continue;
    const m = /^(\d{1,4})\./.exec(k.slice(prefix.length)); // at most 9999 layers: bounds the work on hostile keys
    if (m) n = Math.max(n, Number(m[1]) + 1);
  }
  return n;
}

/** True when the keys look like a transformers ViTMAE state dict (with or without the `vit.` prefix). */
export function isHfVitMaeLayout(keys: Iterable<string>): boolean {
  for (const k of keys) {
    if (k.startsWith('vit.embeddings.') || k.startsWith('embeddings.patch_embeddings.') || k.startsWith('decoder.decoder_') || k === 'decoder.mask_token') return true;
  }
  return false;
}

/** Adds the `vit.` prefix of ViTMAEForPreTraining to a bare ViTMAEModel state dict's keys. */
function withVitPrefix(key: string): string {
  return /^(embeddings|encoder|layernorm)\./.test(key) ? `vit.${key}` : key;
}

/** Concatenates the q, k, v tensors of one fused qkv (rows [q | k | v]). */
function fuseQkv(parts: TensorRecord[], name: string, source: string): TensorRecord {
  const [q] = parts;
  const same = parts.every((t) => t.shape.length === q.shape.length && t.shape.every((s, i) => s === q.shape[i]) && t.dtype === q.dtype);
  if (!same) throw new WeightsFormatError(source, `query, key and value of '${name}' differ in shape or dtype: ${parts.map((t) => `[${t.shape.join(', ')}] ${t.dtype}`).join(', ')}`);
  const data = new (q.data instanceof Float32Array ? Float32Array : Int32Array)(q.data.length * 3);
  parts.forEach((t, i) => data.set(t.data, i * q.data.length));
  return { dtype: q.dtype, shape: [3 * q.shape[0], ...q.shape.slice(1)], data };
}

/**
 * HF ViTMAE tensors -> official-layout tensors, in the official order. q/k/v are fused into qkv.
 * Keys that are not part of the map (a pooler, a classifier) are kept under their HF names so
 * that loading reports them. A qkv with only some of its parts is an error naming the missing ones.
 */
export function hfToOfficial(tensors: Map<string, TensorRecord>, source = 'bytes'): Map<string, TensorRecord> {
  const byName = new Map([...tensors].map(([k, t]) => [withVitPrefix(k), t] as [string, TensorRecord]));
  const depth = layerCount(byName.keys(), 'vit.encoder.layer.');
  const decoderDepth = layerCount(byName.keys(), 'decoder.decoder_layers.');
  const byOfficial = new Map<string, NamePair[]>();
  for (const p of hfNamePairs(depth, decoderDepth)) byOfficial.set(p.official, [...(byOfficial.get(p.official) ?? []), p]);
  const used = new Set<string>();
  const out = new Map<string, TensorRecord>();
  for (const official of officialKeys(depth, decoderDepth)) {
    const sources = byOfficial.get(official)!;
    const present = sources.filter((p) => byName.has(p.hf));
    if (!present.length) continue;
    if (present.length < sources.length) {
      throw new WeightsFormatError(source, `'${official}' needs ${sources.map((p) => `'${p.hf}'`).join(', ')}; missing ${sources.filter((p) => !byName.has(p.hf)).map((p) => `'${p.hf}'`).join(', ')}`);
    }
    present.forEach((p) => used.add(p.hf));
    const parts = present.map((p) => byName.get(p.hf)!);
    out.set(official, parts.length === 3 ? fuseQkv(parts, official, source) : parts[0]);
  }
  for (const [k, t] of byName) if (!used.has(k)) out.set(k, t);
  return out;
}

/** Rows [part * n/3, (part + 1) * n/3) of a fused qkv tensor. */
function qkvThird(t: TensorRecord, part: number, name: string): TensorRecord {
  if (t.shape.length < 1 || t.shape[0] % 3 !== 0) throw new Error(`'${name}' has shape [${t.shape.join(', ')}]; a fused qkv needs a first dimension divisible by 3`);
  const rows = t.shape[0] / 3;
  const size = t.data.length / 3;
  return { dtype: t.dtype, shape: [rows, ...t.shape.slice(1)], data: t.data.slice(part * size, (part + 1) * size) };
}

/**
 * Official-layout tensors -> HF ViTMAE tensors in the `ViTMAEForPreTraining` state-dict order
 * (qkv split into query/key/value). Absent official keys (an encoder-only checkpoint's decoder)
 * are left out; keys outside the MAE layout (head.*, fc_norm.*) are an error listing them.
 */
export function officialToHf(tensors: Map<string, TensorRecord>): Map<string, TensorRecord> {
  const pairs = hfNamePairs(layerCount(tensors.keys(), 'blocks.'), layerCount(tensors.keys(), 'decoder_blocks.'));
  const known = new Set(pairs.map((p) => p.official));
  const extra = [...tensors.keys()].filter((k) => !known.has(k));
  if (extra.length) throw new Error(`these keys have no place in the HF ViTMAE layout: ${extra.join(', ')} (drop them first)`);
  const out = new Map<string, TensorRecord>();
  for (const p of pairs) {
    const t = tensors.get(p.official);
    if (!t) continue;
    out.set(p.hf, p.qkvPart === undefined ? t : qkvThird(t, p.qkvPart, p.official));
  }
  return out;
}

/** Defaults of transformers' ViTMAEConfig.__init__ (used for fields a config.json leaves out). */
export const HF_VITMAE_DEFAULTS = {
  hidden_size: 768,
  num_hidden_layers: 12,
  num_attention_heads: 12,
  intermediate_size: 3072,
  hidden_act: 'gelu',
  layer_norm_eps: 1e-12,
  image_size: 224,
  patch_size: 16,
  num_channels: 3,
  qkv_bias: true,
  decoder_num_attention_heads: 16,
  decoder_hidden_size: 512,
  decoder_num_hidden_layers: 8,
  decoder_intermediate_size: 2048,
  mask_ratio: 0.75,
  norm_pix_loss: false,
} as const;

/** Reads one field of config.json (or its default), checking its JSON type. */
function field<T extends 'number' | 'boolean' | 'string'>(json: Record<string, unknown>, key: keyof typeof HF_VITMAE_DEFAULTS, type: T, source: string): T extends 'number' ? number : T extends 'boolean' ? boolean : string {
  const value = Object.prototype.hasOwnProperty.call(json, key) ? json[key] : HF_VITMAE_DEFAULTS[key];
  const ok = typeof value === type && (type !== 'number' || Number.isFinite(value as number));
  if (!ok) throw new WeightsFormatError(source, `field '${key}' is ${JSON.stringify(value)}; expected a ${type}`);
  return value as never;
}

/** image_size may be an int or a [h, w] pair; maejs needs a square. */
function squareSize(json: Record<string, unknown>, key: 'image_size' | 'patch_size', source: string): number {
  const value = json[key];
  if (Array.isArray(value)) {
    if (value.length !== 2 || value[0] !== value[1] || typeof value[0] !== 'number') throw new WeightsFormatError(source, `field '${key}' is ${JSON.stringify(value)}; maejs needs a square size`);
    return value[0];
  }
  return field(json, key, 'number', source);
}

/**
 * A transformers ViTMAE config.json (parsed) -> MaeConfig fields. Absent fields take the
 * ViTMAEConfig defaults, as transformers does. `layer_norm_eps` (1e-12 by default in HF; the
 * official MAE uses 1e-6) is kept, so the model computes what the HF model computes. An
 * activation other than exact 'gelu', qkv_bias false, or a decoder MLP ratio different from the
 * encoder's is an error naming the field.
 */
export function maeConfigFromHf(json: unknown, source = 'config.json'): Partial<MaeConfig> {
  if (json === null || typeof json !== 'object' || Array.isArray(json)) throw new WeightsFormatError(source, 'is not a JSON object');
  const j = json as Record<string, unknown>;
  if (j.model_type !== undefined && j.model_type !== 'vit_mae') throw new WeightsFormatError(source, `model_type is ${JSON.stringify(j.model_type)}; expected "vit_mae"`);
  if (field(j, 'hidden_act', 'string', source) !== 'gelu') throw new WeightsFormatError(source, `hidden_act is ${JSON.stringify(j.hidden_act)}; maejs implements only "gelu" (exact, erf)`);
  if (!field(j, 'qkv_bias', 'boolean', source)) throw new WeightsFormatError(source, 'qkv_bias is false; maejs blocks always have a qkv bias');
  const embedDim = field(j, 'hidden_size', 'number', source);
  const decoderEmbedDim = field(j, 'decoder_hidden_size', 'number', source);
  const mlpRatio = field(j, 'intermediate_size', 'number', source) / embedDim;
  const decoderRatio = field(j, 'decoder_intermediate_size', 'number', source) / decoderEmbedDim;
  if (Math.abs(mlpRatio - decoderRatio) > 1e-9) throw new WeightsFormatError(source, `the decoder MLP ratio (decoder_intermediate_size / decoder_hidden_size = ${decoderRatio}) differs from the encoder's (${mlpRatio}); maejs uses one mlpRatio`);
  return {
    imgSize: squareSize(j, 'image_size', source),
    patchSize: squareSize(j, 'patch_size', source),
    inChans: field(j, 'num_channels', 'number', source),
    embedDim,
    depth: field(j, 'num_hidden_layers', 'number', source),
    numHeads: field(j, 'num_attention_heads', 'number', source),
    decoderEmbedDim,
    decoderDepth: field(j, 'decoder_num_hidden_layers', 'number', source),
    decoderNumHeads: field(j, 'decoder_num_attention_heads', 'number', source),
    mlpRatio,
    normPixLoss: field(j, 'norm_pix_loss', 'boolean', source),
    maskRatio: field(j, 'mask_ratio', 'number', source),
    layerNormEps: field(j, 'layer_norm_eps', 'number', source),
  };
}

/**
 * A transformers ViTMAE config.json object for `config` (architectures ViTMAEForPreTraining).
 * layer_norm_eps is the model's own (1e-6 for official weights), so HF computes the same function.
 */
export function hfConfigFromMae(config: MaeConfig): Record<string, unknown> {
  return {
    architectures: ['ViTMAEForPreTraining'],
    model_type: 'vit_mae',
    hidden_size: config.embedDim,
    num_hidden_layers: config.depth,
    num_attention_heads: config.numHeads,
    intermediate_size: Math.trunc(config.embedDim * config.mlpRatio),
    hidden_act: 'gelu',
    hidden_dropout_prob: 0,
    attention_probs_dropout_prob: 0,
    initializer_range: 0.02,
    layer_norm_eps: config.layerNormEps,
    image_size: config.imgSize,
    patch_size: config.patchSize,
    num_channels: config.inChans,
    qkv_bias: true,
    decoder_num_attention_heads: config.decoderNumHeads,
    decoder_hidden_size: config.decoderEmbedDim,
    decoder_num_hidden_layers: config.decoderDepth,
    decoder_intermediate_size: Math.trunc(config.decoderEmbedDim * config.mlpRatio),
    mask_ratio: config.maskRatio,
    norm_pix_loss: config.normPixLoss,
    torch_dtype: 'float32',
  };
}
