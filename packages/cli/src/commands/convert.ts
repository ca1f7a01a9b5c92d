/**
 * `mae convert <in> <out> [--to official|hf|tfjs] [--config json | --preset name]`: MAE checkpoints
 * between the official layout (.pth / .safetensors), the Hugging Face ViTMAE layout (a folder with
 * model.safetensors or pytorch_model.bin and config.json) and the tfjs format (model.json + shards).
 * Also the Node file handler for the tfjs format (tfjs-node is not needed).
 */
import { existsSync, lstatSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type * as tf from '@tensorflow/tfjs-core';
import { partialConfigFromJson, preset, resizeStateDictPosEmbed, resolveConfig, type MaeConfig, type PosEmbedResizeMethod } from '@maejs/mae';
import {
  analyzeCheckpoint,
  exportSafetensors,
  importCheckpoint,
  importTfjsArtifacts,
  maeConfigFromHf,
  maeStateOf,
  MAX_MODEL_JSON_BYTES,
  parseJsonFile,
  saveStateDictTfjs,
  tfjsArtifactsFromFiles,
  tfjsFilesFromArtifacts,
  WeightsFormatError,
  type ImportedCheckpoint,
} from '@maejs/weights';
import { UsageError } from '../args.js';

/** Bytes of a file, or an error naming it; `limit` refuses bigger files before reading. */
function readFile(path: string, what: string, limit = Number.POSITIVE_INFINITY): Uint8Array {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    throw new Error(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (size > limit) throw new WeightsFormatError(basename(path), `is ${size} bytes; more than the ${limit} bytes accepted for a ${what}`);
  return readFileSync(path);
}

/**
 * A tfjs IO handler on the local file system (Node): `target` is a folder or a path to model.json.
 * save() writes model.json and 4 MiB shards; load() reads them, refusing shard paths that are not
 * plain names and shard files bigger than the manifest says, before reading them.
 */
export function fileSystemHandler(target: string): tf.io.IOHandler {
  const path = target.replace(/^file:\/\//, '');
  const jsonPath = path.endsWith('.json') ? path : join(path, 'model.json');
  const dir = dirname(jsonPath);
  const source = basename(jsonPath);
  return {
    save: async (artifacts) => {
      const { modelJson, shards } = tfjsFilesFromArtifacts(artifacts);
      mkdirSync(dir, { recursive: true });
      for (const [name, bytes] of shards) writeFileSync(join(dir, name), bytes);
      writeFileSync(jsonPath, modelJson);
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON', weightDataBytes: shards.reduce((s, [, b]) => s + b.length, 0) } };
    },
    load: async () => {
      const modelJson = readFile(jsonPath, 'model.json', MAX_MODEL_JSON_BYTES);
      return tfjsArtifactsFromFiles(modelJson, (name, maxBytes) => readShard(dir, name, maxBytes, source), source);
    },
  };
}

/** One shard beside model.json (the name was checked to be a plain file name). */
function readShard(dir: string, name: string, maxBytes: number, source: string): Uint8Array | undefined {
  const path = join(dir, name);
  if (!existsSync(path)) return undefined;
  const info = lstatSync(path);
  if (!info.isFile()) throw new WeightsFormatError(source, `shard '${name}' is not a regular file`);
  if (info.size > maxBytes) throw new WeightsFormatError(source, `shard '${name}' is ${info.size} bytes, more than the ${maxBytes} bytes its group's weights still need`);
  return readFileSync(path);
}

/** HF checkpoint file names in a folder, in order of preference. */
const HF_WEIGHT_FILES = ['model.safetensors', 'pytorch_model.bin'];

/** Reads a folder: HF (config.json + model.safetensors / pytorch_model.bin) or tfjs (model.json). */
async function readFolder(dir: string): Promise<ImportedCheckpoint> {
  if (existsSync(join(dir, 'model.json'))) return readTfjs(join(dir, 'model.json'));
  const weights = HF_WEIGHT_FILES.map((f) => join(dir, f)).find((f) => existsSync(f));
  if (!weights) throw new Error(`${dir}: no checkpoint in this folder (looked for model.json, ${HF_WEIGHT_FILES.join(', ')})`);
  return readFileCheckpoint(weights);
}

async function readTfjs(jsonPath: string): Promise<ImportedCheckpoint> {
  const artifacts = await fileSystemHandler(jsonPath).load!();
  return importTfjsArtifacts(artifacts, basename(jsonPath));
}

/** A .pth / .safetensors file; for the HF layout, the config.json beside it is read too. */
function readFileCheckpoint(path: string): ImportedCheckpoint {
  const imported = importCheckpoint(readFile(path, 'checkpoint'), basename(path));
  const configPath = join(dirname(path), 'config.json');
  if (imported.layout !== 'hf' || !existsSync(configPath)) return imported;
  const declared = maeConfigFromHf(parseJsonFile(readFile(configPath, 'config.json', 1 << 20), 'config.json'), 'config.json');
  return { ...imported, declared: { ...imported.declared, ...declared }, declaredBy: 'config.json' };
}

/**
 * Reads any checkpoint maejs knows: a .pth or .safetensors file (official or HF layout), an HF
 * folder, a tfjs model.json (or its folder; `file://` prefix allowed).
 */
export async function readAnyCheckpoint(input: string): Promise<ImportedCheckpoint> {
  const path = input.replace(/^file:\/\//, '');
  if (!existsSync(path)) throw new Error(`cannot read checkpoint ${path}: ENOENT`);
  if (statSync(path).isDirectory()) return readFolder(path);
  if (path.endsWith('.json')) return readTfjs(path);
  return readFileCheckpoint(path);
}

/** `--config`: inline JSON (starting with '{') or a JSON file; either naming style. */
export function readConfigFlag(value: string | undefined): Partial<MaeConfig> {
  if (value === undefined) return {};
  const json = value.trim().startsWith('{') ? parseInline(value) : parseJsonFile(readFile(value, 'config', 1 << 20), basename(value));
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
  to: { type: 'string' },
  config: { type: 'string' },
  preset: { type: 'string' },
  'img-size': { type: 'string' },
  'pos-embed': { type: 'string' },
  help: { type: 'boolean' },
} as const;

const HELP = `usage: mae convert <in> <out> [--to official|hf|tfjs] [--config <json or file>] [--preset <name>] [--img-size N [--pos-embed bicubic|sincos]]

  <in>   .pth or .safetensors (official or Hugging Face layout), a Hugging Face folder
         (config.json + model.safetensors | pytorch_model.bin), or a tfjs model.json / its folder
  <out>  official: a .safetensors file (or a folder: <out>/model.safetensors)
         hf: a folder (model.safetensors + config.json for transformers' ViTMAEForPreTraining)
         tfjs: a folder or a model.json path (model.json + group1-shard*of*.bin)
  --to          output layout; default from <out>: *.safetensors -> official, *model.json -> tfjs
  --config      fields the tensors do not determine (numHeads, decoderNumHeads, ...), as JSON with
                MaeConfig or official names: '{"num_heads": 12, "decoder_num_heads": 16}'
  --preset      a preset to take those fields from (mae_vit_base_patch16, mae_vit_large_patch16, ...)
  --img-size    new image size: position embeddings interpolated (bicubic, as the official
                interpolate_pos_embed) or recomputed (--pos-embed sincos)`;

type Target = 'official' | 'hf' | 'tfjs';

function targetOf(out: string, to: string | undefined): Target {
  if (to === 'official' || to === 'hf' || to === 'tfjs') return to;
  if (to !== undefined) throw new UsageError(`mae convert: --to must be official, hf or tfjs, got '${to}'`);
  if (out.endsWith('.safetensors')) return 'official';
  if (out.endsWith('model.json')) return 'tfjs';
  throw new UsageError(`mae convert: say --to official|hf|tfjs (cannot tell from '${out}')`);
}

function parseConvertArgs(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: FLAGS, strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError(`mae convert: ${(error as Error).message}`);
  }
}

/** New image size and position-embedding method from the flags, if any. */
function resizeOf(values: { 'img-size'?: string; 'pos-embed'?: string }): { imgSize: number; method: PosEmbedResizeMethod } | undefined {
  const method = values['pos-embed'] ?? 'bicubic';
  if (method !== 'bicubic' && method !== 'sincos') throw new UsageError(`mae convert: --pos-embed must be bicubic or sincos, got '${method}'`);
  if (values['img-size'] === undefined) return undefined;
  const imgSize = Number(values['img-size']);
  if (!Number.isInteger(imgSize) || imgSize < 1) throw new UsageError(`mae convert: --img-size must be a positive integer, got '${values['img-size']}'`);
  return { imgSize, method };
}

/** Writes the converted state dict; returns the paths written. */
async function writeOutput(target: Target, out: string, state: Map<string, { shape: number[]; data: Float32Array }>, config: MaeConfig): Promise<string[]> {
  if (target === 'tfjs') {
    const handler = fileSystemHandler(out);
    await saveStateDictTfjs(state, handler, { layout: 'official', config: { ...config } });
    return [out.endsWith('.json') ? out : join(out, 'model.json')];
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
  const { values, positionals } = parseConvertArgs(argv);
  if (values.help) return log(HELP);
  if (positionals.length !== 2) throw new UsageError(`mae convert: expected <in> <out>, got ${positionals.length} argument(s)\n${HELP}`);
  const [input, out] = positionals;
  const target = targetOf(out, values.to);
  const resize = resizeOf(values);
  if (resolve(input) === resolve(out)) throw new UsageError('mae convert: <out> is the same path as <in>');
  const imported = await readAnyCheckpoint(input);
  const analysis = analyzeCheckpoint(imported, readConfigFlag(values.config), readPresetFlag(values.preset));
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
