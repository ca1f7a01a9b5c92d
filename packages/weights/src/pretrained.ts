/**
 * Pretrained MAEs by name or URL: a Hugging Face ViTMAE repository (`hf:facebook/vit-mae-base`),
 * an official checkpoint (`mae_visualize_vit_base`), any http(s) URL, or (in Node) a local path,
 * fetched through @maejs/hub (downloaded once, cached, usable offline) and read by the loaders of
 * this package.
 */
import { fetchSource, HubError, OFFICIAL_CHECKPOINTS, parseSource, sourceForms, type HubFile, type HubOptions, type PretrainedSource } from '@maejs/hub';
import { loadEncoderStateDict, MaskedAutoencoder, preset as namedPreset, type MaeConfig } from '@maejs/mae';
import { analyzeCheckpoint, importCheckpoint, maeStateOf, parseJsonFile, type ImportedCheckpoint } from './checkpoint.js';
import { maeConfigFromHf } from './hf-vitmae.js';

/** Options of {@link importPretrained} and {@link loadPretrained}: the hub's, plus the config. */
export interface PretrainedOptions extends HubOptions {
  /** Config fields the tensors do not determine (head counts, normPixLoss, maskRatio); they win over what the files declare. */
  config?: Partial<MaeConfig>;
  /** A preset (a name from `@maejs/mae` PRESETS, or fields) for what neither the tensors, `config` nor the files give. Default: an official checkpoint's own preset. */
  preset?: string | Partial<MaeConfig>;
  /** Seed of the random initialisation of what the checkpoint lacks (the decoder of an encoder-only checkpoint). */
  seed?: number;
}

/** A checkpoint of a source, read into the official layout, not yet a model. */
export interface PretrainedCheckpoint {
  checkpoint: ImportedCheckpoint;
  source: PretrainedSource;
  /** The files it came from (hf: config.json, then the weights). */
  files: HubFile[];
  /** The config fields for what neither the tensors nor the files say: the preset option, else an official checkpoint's preset. */
  fallback: Partial<MaeConfig>;
}

/** A model made from a pretrained checkpoint. */
export interface Pretrained {
  model: MaskedAutoencoder;
  config: Readonly<MaeConfig>;
  /** The source, normalised: `hf:owner/name@revision`, an official name, a URL, or a path. */
  source: string;
  /** The files it came from, with where they are kept, size, SHA-256 and whether they came from the cache. */
  files: HubFile[];
  /** False for an encoder-only checkpoint: the decoder keeps its random initialisation. */
  hasDecoder: boolean;
  /** Remarks: decoder absent, fields from defaults, keys left out. */
  notes: string[];
}

/** Reads a local path (Node supplies one; browsers have none). */
export type LocalReader = (path: string) => Promise<{ checkpoint: ImportedCheckpoint; files: HubFile[] }>;

/** The preset option, or an official checkpoint's preset, as config fields. */
function fallbackFor(source: PretrainedSource, option: PretrainedOptions['preset']): Partial<MaeConfig> {
  if (typeof option === 'object') return option;
  const name = option ?? (source.kind === 'official' ? OFFICIAL_CHECKPOINTS[source.id].preset : undefined);
  if (name === undefined) return {};
  let fields: Partial<MaeConfig>;
  try {
    fields = { ...namedPreset(name) };
  } catch (error) {
    throw new HubError('bad-source', source.id, undefined, (error as Error).message);
  }
  return source.kind === 'official' && option === undefined ? { ...fields, normPixLoss: OFFICIAL_CHECKPOINTS[source.id].normPixLoss } : fields;
}

/** Reads the fetched files of a remote source into the official layout. */
async function readFetched(source: Exclude<PretrainedSource, { kind: 'path' }>, files: HubFile[]): Promise<ImportedCheckpoint> {
  const label = (f: HubFile) => (source.kind === 'hf' ? `${source.id}/${f.name}` : source.kind === 'official' ? f.name : source.url);
  const weights = files[files.length - 1];
  const checkpoint = importCheckpoint(await weights.read(), label(weights));
  if (source.kind !== 'hf' || checkpoint.layout !== 'hf') return checkpoint;
  const config = files[0];
  const declared = maeConfigFromHf(parseJsonFile(await config.read(), label(config)), label(config));
  return { ...checkpoint, declared: { ...checkpoint.declared, ...declared }, declaredBy: label(config) };
}

/**
 * The checkpoint of `source` in the official layout, with its files and the fallback config;
 * `readPath` reads local paths (the Node entry's), none in a browser.
 */
export async function importPretrainedWith(source: string, options: PretrainedOptions, readPath?: LocalReader): Promise<PretrainedCheckpoint> {
  const parsed = parseSource(source, options);
  if (parsed.kind === 'path') {
    if (!readPath) throw new HubError('bad-source', parsed.id, undefined, `local paths are read only in Node (@maejs/weights/node); give ${sourceForms().replace(', or a local path', '')}`);
    return { ...(await readPath(parsed.path)), source: parsed, fallback: fallbackFor(parsed, options.preset) };
  }
  const fetched = await fetchSource(parsed, options);
  return { checkpoint: await readFetched(parsed, fetched.files), source: parsed, files: fetched.files, fallback: fallbackFor(parsed, options.preset) };
}

/** A model from an imported checkpoint: the config completed from `config` and the fallback, the weights loaded. */
export function modelFromPretrained(imported: PretrainedCheckpoint, options: Pick<PretrainedOptions, 'config' | 'seed'> = {}): Pretrained {
  const analysis = analyzeCheckpoint(imported.checkpoint, options.config ?? {}, imported.fallback);
  const { state, dropped } = maeStateOf(imported.checkpoint, analysis);
  const model = new MaskedAutoencoder(analysis.config, { seed: options.seed });
  try {
    if (analysis.hasDecoder) model.loadStateDict(state);
    else loadEncoderStateDict(model, state);
  } catch (error) {
    model.dispose();
    throw error;
  }
  const notes = [...analysis.notes, ...(dropped.length ? [`left out (not part of MAE): ${dropped.join(', ')}`] : [])];
  return { model, config: analysis.config, source: imported.source.id, files: imported.files, hasDecoder: analysis.hasDecoder, notes };
}

/**
 * The checkpoint of `source` (`hf:owner/name[@revision]`, an official checkpoint name, an http(s)
 * URL), downloaded once into the Cache API (where there is one) and read into the official
 * layout. In Node, use the same function from `@maejs/weights/node` (file-system cache,
 * environment variables, local paths).
 */
export function importPretrained(source: string, options: PretrainedOptions = {}): Promise<PretrainedCheckpoint> {
  return importPretrainedWith(source, options);
}

/**
 * A MaskedAutoencoder with the weights of `source`: `hf:owner/name[@revision]` (a transformers
 * ViTMAE repository: config.json + model.safetensors or pytorch_model.bin), an official
 * checkpoint name (`mae_pretrain_vit_base`, ..., with its preset's head counts), or an http(s)
 * URL of a .pth / .safetensors file. Files are downloaded once (progress through `onProgress`)
 * and kept in the Cache API where there is one. An encoder-only checkpoint loads its encoder;
 * the decoder keeps its random initialisation (`hasDecoder: false`, said in `notes`). Call
 * `model.dispose()` when done. In Node, use the same function from `@maejs/weights/node`.
 */
export async function loadPretrained(source: string, options: PretrainedOptions = {}): Promise<Pretrained> {
  return modelFromPretrained(await importPretrainedWith(source, options), options);
}
