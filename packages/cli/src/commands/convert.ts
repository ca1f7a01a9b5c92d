/**
 * `mae convert <in> <out> [--to official|hf|tfjs] [--config json | --preset name]`: MAE checkpoints
 * between the official layout (.pth / .safetensors), the Hugging Face ViTMAE layout (a folder with
 * model.safetensors or pytorch_model.bin and config.json) and the tfjs format (model.json + shards).
 * <in> may also be hf:<owner>/<name>[@revision], an official checkpoint name or a URL (downloaded
 * once into the cache).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { checkOneOf } from '@maejs/backend';
import { partialConfigFromJson, preset, resizeStateDictPosEmbed, resolveConfig, type MaeConfig, type PosEmbedResizeMethod } from '@maejs/mae';
import { encodePth } from '@maejs/formats';
import { analyzeCheckpoint, exportSafetensors, fileSystemHandler, maeStateOf, parseJsonFile, readCheckpointPath, readFileChecked, saveStateDictTfjs, type ImportedCheckpoint } from '@maejs/weights/node';
import { formatHelp, integerFlag, parseCommandLine, UsageError, usageError, type CommandHelp, type FlagSpec } from '../args.js';
import { fallbackConfig, readCheckpointSource } from '../weights-source.js';

export { fileSystemHandler };

/**
 * Reads any checkpoint maejs knows from disk: a .pth or .safetensors file (official or HF
 * layout), an HF folder, a tfjs model.json (or its folder; `file://` prefix allowed).
 */
export async function readAnyCheckpoint(input: string): Promise<ImportedCheckpoint> {
  return (await readCheckpointPath(input)).checkpoint;
}

/** `--config`: inline JSON (starting with '{') or a JSON file; either naming style. */
export function readConfigFlag(value: string | undefined): Partial<MaeConfig> {
  if (value === undefined) return {};
  const json = value.trim().startsWith('{') ? parseInline(value) : parseJsonFile(readFileChecked(value, 'config', 1 << 20), basename(value));
  return partialConfigFromJson(json);
}

function parseInline(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch (error) {
    throw new UsageError(`--config is not valid JSON: ${(error as Error).message}`);
  }
}

/** `--preset`: the named preset as a fallback for fields the tensors do not determine. */
export function readPresetFlag(value: string | undefined): Partial<MaeConfig> {
  if (value === undefined) return {};
  try {
    return preset(value);
  } catch (error) {
    throw new UsageError(`--preset: ${(error as Error).message}`);
  }
}

const FLAGS = {
  to: { type: 'string', description: 'output layout: official, hf or tfjs (default from <out>: *.safetensors or *.pth -> official, *model.json -> tfjs)' },
  config: { type: 'string', description: 'fields the tensors do not determine (numHeads, decoderNumHeads, ...), as JSON or a JSON file with MaeConfig or official names: \'{"num_heads": 12, "decoder_num_heads": 16}\'' },
  preset: { type: 'string', description: 'a preset to take those fields from (mae_vit_base_patch16, mae_vit_large_patch16, ...)' },
  'img-size': { type: 'string', description: 'new image size: position embeddings interpolated (bicubic, as the official interpolate_pos_embed) or recomputed (--pos-embed sincos)' },
  'pos-embed': { type: 'string', description: 'bicubic or sincos, with --img-size', default: 'bicubic' },
  offline: { type: 'boolean', description: 'use downloaded files only (also HF_HUB_OFFLINE=1)' },
} satisfies FlagSpec;

export const convertHelp: CommandHelp = {
  usage: 'mae convert <in> <out> [--to official|hf|tfjs] [--config <json or file>] [--preset <name>] [--img-size N [--pos-embed bicubic|sincos]] [--offline]',
  summary: 'Converts an MAE checkpoint between the official layout (.pth / .safetensors), the Hugging Face ViTMAE layout and the tfjs format.',
  arguments: [
    ['<in>', '.pth or .safetensors (official or Hugging Face layout), a Hugging Face folder (config.json + model.safetensors | pytorch_model.bin), or a tfjs model.json / its folder; or hf:<owner>/<name>[@revision], an official name (mae_visualize_vit_base, ...) or an http(s) URL, downloaded once into the cache'],
    ['<out>', 'official: a .safetensors file, a .pth file (PyTorch zip format, torch.load(f, weights_only=True) reads it), or a folder (<out>/model.safetensors); hf: a folder (model.safetensors + config.json for transformers\' ViTMAEForPreTraining); tfjs: a folder or a model.json path (model.json + group1-shard*of*.bin)'],
  ],
  flags: FLAGS,
  examples: ['mae convert state_dict.pth state_dict.safetensors', 'mae convert vit-mae-base-hf vit-mae-base.pth', 'mae convert mae_visualize_vit_base vit-mae-base-hf --to hf', 'mae convert hf:facebook/vit-mae-base tfjs-model/ --to tfjs --img-size 112'],
};

/** What `mae convert --to` writes. */
const TARGETS = ['official', 'hf', 'tfjs'] as const;
type Target = (typeof TARGETS)[number];

function targetOf(out: string, to: string | undefined): Target {
  if (to !== undefined) {
    checkOneOf('mae convert: --to', to, TARGETS, usageError);
    return to;
  }
  if (out.endsWith('.safetensors') || out.endsWith('.pth')) return 'official';
  if (out.endsWith('model.json')) return 'tfjs';
  throw new UsageError(`mae convert: say --to official|hf|tfjs (cannot tell from '${out}')`);
}

/** New image size and position-embedding method from the flags, if any. */
function resizeOf(values: { 'img-size'?: string; 'pos-embed'?: string }): { imgSize: number; method: PosEmbedResizeMethod } | undefined {
  const method = values['pos-embed'] ?? 'bicubic';
  checkOneOf('mae convert: --pos-embed', method, ['bicubic', 'sincos'] as const, usageError);
  if (values['img-size'] === undefined) return undefined;
  const imgSize = integerFlag(values, 'img-size', 'convert', 1);
  return { imgSize, method };
}

/** Writes the converted state dict; returns the paths written. */
async function writeOutput(target: Target, out: string, state: Map<string, { shape: number[]; data: Float32Array }>, config: MaeConfig): Promise<string[]> {
  if (target === 'tfjs') {
    const handler = fileSystemHandler(out);
    await saveStateDictTfjs(state, handler, { layout: 'official', config: { ...config } });
    return [out.endsWith('.json') ? out : join(out, 'model.json')];
  }
  if (out.endsWith('.pth')) {
    if (target !== 'official') throw new UsageError(`mae convert: a .pth file holds the official layout; --to ${target} writes a folder, got '${out}'`);
    mkdirSync(dirname(resolve(out)), { recursive: true });
    writeFileSync(out, encodePth([...state].map(([name, t]) => [name, { dtype: 'float32', shape: t.shape, data: t.data }])));
    return [out];
  }
  const files = exportSafetensors(state, config, target);
  const single = target === 'official' && out.endsWith('.safetensors');
  const paths = files.map((f) => (single ? out : join(out, f.name)));
  mkdirSync(single ? dirname(out) : out, { recursive: true });
  files.forEach((f, i) => writeFileSync(paths[i], f.bytes));
  return paths;
}

/** Describes where the checkpoint came from, for the log. */
export function describeImport(c: ImportedCheckpoint): string {
  const parts = [`${c.format}, ${c.layout === 'hf' ? 'Hugging Face ViTMAE' : 'official'} layout`, `${c.tensors.size} tensors`];
  if (c.wrapper) parts.push(`state dict under '${c.wrapper}'`);
  if (c.skipped.length) parts.push(`also holds ${c.skipped.join(', ')} (ignored)`);
  if (c.declaredBy) parts.push(`config declared by ${c.declaredBy}`);
  return `${c.source} (${parts.join('; ')})`;
}

/** `mae convert`. */
export async function convertCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const { values, positionals } = parseCommandLine(argv, FLAGS, 'convert');
  if (positionals.length !== 2) throw new UsageError(`mae convert: expected <in> <out>, got ${positionals.length} argument(s)\n${formatHelp(convertHelp)}`);
  const [input, out] = positionals;
  const target = targetOf(out, values.to);
  const resize = resizeOf(values);
  if (resolve(input) === resolve(out)) throw new UsageError('mae convert: <out> is the same path as <in>');
  const source = await readCheckpointSource(input, values, log);
  const imported = source.checkpoint;
  const analysis = analyzeCheckpoint(imported, readConfigFlag(values.config), fallbackConfig(source, values.preset));
  const { state: loaded, dropped } = maeStateOf(imported, analysis);
  let state = loaded;
  let config = analysis.config;
  if (resize) {
    state = resizeStateDictPosEmbed(state, config.patchSize, resize.imgSize, resize.method);
    config = resolveConfig({ ...config, imgSize: resize.imgSize });
  }
  const written = await writeOutput(target, out, state, config);
  log(`read ${describeImport(imported)}`);
  for (const note of analysis.notes) log(`  note: ${note}`);
  if (dropped.length) log(`  dropped (not part of MAE): ${dropped.join(', ')}`);
  if (resize) log(`  position embeddings resized to ${resize.imgSize} px (${resize.method})`);
  log(`wrote ${target === 'hf' ? 'Hugging Face ViTMAE' : target} layout: ${written.join(', ')}`);
}
