/**
 * Checkpoints on the local file system (Node): a `.pth` / `.safetensors` file (official or HF
 * layout, with the `config.json` beside an HF one), a Hugging Face folder, a tfjs `model.json` or
 * its folder, and the tfjs IO handler for folders (tfjs-node is not needed).
 */
import { closeSync, existsSync, fstatSync, lstatSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { io } from '@tensorflow/tfjs-core';
import { importCheckpoint, importTfjsArtifacts, parseJsonFile, type ImportedCheckpoint } from './checkpoint.js';
import { maeConfigFromHf } from './hf-vitmae.js';
import { WeightsFormatError } from '@maejs/formats';
import { MAX_MODEL_JSON_BYTES, tfjsArtifactsFromFiles, tfjsFilesFromArtifacts } from './tfjs-format.js';

/** Bytes of a file, or an error naming it; `limit` refuses bigger files before reading. */
export function readFileChecked(path: string, what: string, limit = Number.POSITIVE_INFINITY): Uint8Array {
  let size: number;
  try {
    size = statSync(path).size;
  } catch (error) {
    throw new Error(`cannot read ${what} ${path}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}`);
  }
  if (size > limit) throw new WeightsFormatError(basename(path), `is ${size} bytes; more than the ${limit} bytes accepted for a ${what}`);
  return readWhole(path);
}

/** A whole file in 64 MiB pieces (readFileSync stops at 2 GiB; ViT-H checkpoints are larger). */
function readWhole(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    const bytes = new Uint8Array(size);
    let at = 0;
    while (at < size) {
      const n = readSync(fd, bytes, at, Math.min(64 * 1024 * 1024, size - at), at);
      if (n === 0) throw new Error(`${path} ended after ${at} of ${size} bytes while being read`);
      at += n;
    }
    return bytes;
  } finally {
    closeSync(fd);
  }
}

/**
 * A tfjs IO handler on the local file system (Node): `target` is a folder or a path to model.json
 * (`file://` prefix allowed). save() writes model.json and 4 MiB shards; load() reads them,
 * refusing shard paths that are not plain names and shard files bigger than the manifest says,
 * before reading them.
 */
export function fileSystemHandler(target: string): io.IOHandler {
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
      const modelJson = readFileChecked(jsonPath, 'model.json', MAX_MODEL_JSON_BYTES);
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

/** A checkpoint read from disk and the files it came from. */
export interface LocalCheckpoint {
  checkpoint: ImportedCheckpoint;
  /** The files read (the weights first; config.json of an HF checkpoint; model.json of tfjs). */
  paths: string[];
}

async function readTfjs(jsonPath: string): Promise<LocalCheckpoint> {
  const artifacts = await fileSystemHandler(jsonPath).load!();
  return { checkpoint: importTfjsArtifacts(artifacts, basename(jsonPath)), paths: [jsonPath] };
}

/** A .pth / .safetensors file; for the HF layout, the config.json beside it is read too. */
function readWeightsFile(path: string): LocalCheckpoint {
  const imported = importCheckpoint(readFileChecked(path, 'checkpoint'), basename(path));
  const configPath = join(dirname(path), 'config.json');
  if (imported.layout !== 'hf' || !existsSync(configPath)) return { checkpoint: imported, paths: [path] };
  const declared = maeConfigFromHf(parseJsonFile(readFileChecked(configPath, 'config.json', 1 << 20), 'config.json'), 'config.json');
  return { checkpoint: { ...imported, declared: { ...imported.declared, ...declared }, declaredBy: 'config.json' }, paths: [path, configPath] };
}

/** A folder: HF (config.json + model.safetensors / pytorch_model.bin) or tfjs (model.json). */
async function readFolder(dir: string): Promise<LocalCheckpoint> {
  if (existsSync(join(dir, 'model.json'))) return readTfjs(join(dir, 'model.json'));
  const weights = HF_WEIGHT_FILES.map((f) => join(dir, f)).find((f) => existsSync(f));
  if (!weights) throw new Error(`${dir}: no checkpoint in this folder (looked for model.json, ${HF_WEIGHT_FILES.join(', ')})`);
  return readWeightsFile(weights);
}

/**
 * Reads any checkpoint maejs knows from disk: a .pth or .safetensors file (official or HF
 * layout), an HF folder, a tfjs model.json (or its folder; `file://` prefix allowed).
 */
export async function readCheckpointPath(input: string): Promise<LocalCheckpoint> {
  const path = input.replace(/^file:\/\//, '');
  if (!existsSync(path)) {
    const repoLike = /^[A-Za-z0-9][\w.-]*\/[\w.-]+$/.test(path) && !/\.(pth|pt|bin|safetensors|json)$/.test(path);
    throw new Error(`cannot read checkpoint ${path}: ENOENT${repoLike ? ` (for the Hugging Face repository write hf:${path})` : ''}`);
  }
  if (statSync(path).isDirectory()) return readFolder(path);
  if (path.endsWith('.json')) return readTfjs(path);
  return readWeightsFile(path);
}
