/**
 * MAE checkpoints in and out: official layout (`.pth`, `.safetensors`), Hugging Face ViTMAE
 * layout (`model.safetensors` / `pytorch_model.bin` + `config.json`) and the tfjs format. Every
 * import ends in the official key names and layout; the config is inferred from the shapes and
 * completed from what the file declares (HF config.json, maejs metadata) and what the caller gives.
 */
import { CheckpointConfigError, inferConfig, MaeConfigError, officialShapes, partialConfigFromJson, type InferredConfig, type MaeConfig, type StateTensor } from '@maejs/mae';
import type { io } from '@tensorflow/tfjs-core';
import { hfConfigFromMae, hfToOfficial, isHfVitMaeLayout, maeConfigFromHf, officialToHf } from './hf-vitmae.js';
import { detectCheckpointFormat, encodeSafetensors, parseSafetensors, stateDictFromPth, type TensorRecord, WeightsFormatError } from '@maejs/formats';
import { stateFromTfjsArtifacts, tfjsArtifactsFromState } from './tfjs-format.js';

/** Key layout of a checkpoint. */
export type CheckpointLayout = 'official' | 'hf';

/** File format of a checkpoint. */
export type CheckpointFileFormat = 'pth' | 'safetensors' | 'tfjs';

/** A checkpoint read into the official key layout. */
export interface ImportedCheckpoint {
  /** The file name given to the reader. */
  source: string;
  format: CheckpointFileFormat;
  /** The layout found in the file (the tensors are always converted to 'official'). */
  layout: CheckpointLayout;
  /** Tensors in official names and layout, official order; keys outside MAE (head.*, ...) kept. */
  tensors: Map<string, TensorRecord>;
  /** .pth: the dict the state dict was found under ('model' for training checkpoints), else null. */
  wrapper: string | null;
  /** .pth: non-tensor entries beside the tensors (optimizer, epoch, ...) in the chosen dict. */
  skipped: string[];
  /** Config fields the files declare (HF config.json, maejs metadata); unvalidated. */
  declared: Partial<MaeConfig>;
  /** Where `declared` came from, e.g. 'config.json' or 'maejs metadata'; '' when nothing was declared. */
  declaredBy: string;
}

/** A config or shape problem with a checkpoint; the message starts with the file name. */
export class CheckpointError extends WeightsFormatError {
  constructor(
    source: string,
    problem: string,
    /** The config fields at fault (empty when not about a field). */
    readonly fields: string[] = [],
  ) {
    super(source, problem);
    this.name = 'CheckpointError';
  }
}

/** Largest config.json accepted. */
const MAX_CONFIG_JSON_BYTES = 1024 * 1024;

/** Parses a small JSON file (config.json), naming the file on error. */
export function parseJsonFile(bytes: Uint8Array, source: string): unknown {
  if (bytes.length > MAX_CONFIG_JSON_BYTES) throw new WeightsFormatError(source, `is ${bytes.length} bytes; a config JSON above ${MAX_CONFIG_JSON_BYTES} bytes is refused`);
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new WeightsFormatError(source, 'is not valid UTF-8');
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new WeightsFormatError(source, `is not valid JSON: ${(error as Error).message}`);
  }
}

/** Config fields from the maejs metadata JSON (written by the exporters below). */
function declaredFromMetadata(text: unknown, source: string): Partial<MaeConfig> {
  if (text === undefined) return {};
  const json = typeof text === 'string' ? (() => {
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new WeightsFormatError(source, `metadata 'maejs_config' is not valid JSON: ${(error as Error).message}`);
    }
  })() : text;
  try {
    return partialConfigFromJson(json);
  } catch (error) {
    throw new WeightsFormatError(source, `maejs config metadata: ${(error as Error).message}`);
  }
}

/** Converts HF-layout tensors to the official layout when needed. */
function toOfficialLayout(tensors: Map<string, TensorRecord>, source: string): { layout: CheckpointLayout; tensors: Map<string, TensorRecord> } {
  if (!isHfVitMaeLayout(tensors.keys())) return { layout: 'official', tensors };
  return { layout: 'hf', tensors: hfToOfficial(tensors, source) };
}

/**
 * Reads a `.pth` or `.safetensors` checkpoint in the official or the HF ViTMAE layout (told from
 * the key names). `hfConfig` is the HF `config.json` beside an HF checkpoint; its fields become
 * `declared` (layer_norm_eps included). Training checkpoints ({model, optimizer, epoch}) are
 * unwrapped. Throws WeightsFormatError naming the file for anything malformed.
 */
export function importCheckpoint(bytes: Uint8Array, source = 'bytes', options: { hfConfig?: { bytes: Uint8Array; source: string } } = {}): ImportedCheckpoint {
  const format = detectCheckpointFormat(bytes, source);
  const parsed = format === 'safetensors' ? { ...parseSafetensors(bytes, source), wrapper: null, skipped: [] } : { ...stateDictFromPth(bytes, source), metadata: {} as Record<string, string> };
  const { layout, tensors } = toOfficialLayout(parsed.tensors, source);
  let declared = declaredFromMetadata(parsed.metadata.maejs_config, source);
  let declaredBy = Object.keys(declared).length ? 'maejs metadata' : '';
  if (options.hfConfig) {
    declared = { ...declared, ...maeConfigFromHf(parseJsonFile(options.hfConfig.bytes, options.hfConfig.source), options.hfConfig.source) };
    declaredBy = options.hfConfig.source;
  }
  return { source, format, layout, tensors, wrapper: parsed.wrapper, skipped: parsed.skipped, declared, declaredBy };
}

/** Reads tfjs model artifacts (from any tfjs load handler) as a checkpoint. */
export function importTfjsArtifacts(artifacts: io.ModelArtifacts, source = 'model.json'): ImportedCheckpoint {
  const contents = stateFromTfjsArtifacts(artifacts, source);
  const { layout, tensors } = toOfficialLayout(contents.tensors, source);
  const declared = declaredFromMetadata(contents.metadata.config, source);
  return { source, format: 'tfjs', layout, tensors, wrapper: null, skipped: [], declared, declaredBy: Object.keys(declared).length ? 'maejs metadata' : '' };
}

/** Shapes by key, for inferConfig. */
export function shapesOf(tensors: Map<string, { shape: number[] }>): Map<string, number[]> {
  return new Map([...tensors].map(([k, t]) => [k, t.shape]));
}

/**
 * The complete config of an imported checkpoint: tensor shapes first, then `given` (a flag, a
 * config file) over what the file declares, then `fallback` (a preset), then defaults. Errors are
 * {@link CheckpointError}s naming the file and the fields (e.g. numHeads not determined).
 */
export function analyzeCheckpoint(imported: ImportedCheckpoint, given: Partial<MaeConfig> = {}, fallback: Partial<MaeConfig> = {}): InferredConfig {
  try {
    return inferConfig(shapesOf(imported.tensors), { ...imported.declared, ...given }, fallback);
  } catch (error) {
    if (error instanceof CheckpointConfigError) throw new CheckpointError(imported.source, error.message, error.fields);
    if (error instanceof MaeConfigError) throw new CheckpointError(imported.source, error.message, [error.field]);
    throw error;
  }
}

/**
 * The MAE tensors of a checkpoint as float32 StateTensors, in the official order for `config`:
 * keys outside the layout are dropped (and listed), non-float tensors are an error. Shapes are
 * checked: a missing encoder key or a wrong shape is a CheckpointError listing every problem;
 * the decoder may be absent as a whole.
 */
export function maeStateOf(imported: ImportedCheckpoint, analysis: InferredConfig): { state: Map<string, StateTensor>; dropped: string[] } {
  const expected = officialShapes(analysis.config, { decoder: analysis.hasDecoder });
  const problems = [
    ...[...expected.keys()].filter((k) => !imported.tensors.has(k)).map((k) => `missing key: ${k}`),
    ...analysis.misshapen.map((m) => `wrong shape for ${m.key}: expected [${m.expected}], got [${m.got}]`),
  ];
  if (problems.length) throw new CheckpointError(imported.source, `does not match the inferred config:\n  ${problems.join('\n  ')}`);
  const state = new Map<string, StateTensor>();
  for (const key of expected.keys()) {
    const t = imported.tensors.get(key)!;
    if (!(t.data instanceof Float32Array)) throw new CheckpointError(imported.source, `tensor '${key}' is ${t.dtype}; expected a floating type`);
    state.set(key, { shape: t.shape, data: t.data });
  }
  return { state, dropped: [...imported.tensors.keys()].filter((k) => !expected.has(k)) };
}

/** One exported file: a name (e.g. 'model.safetensors', 'config.json') and its bytes. */
export interface ExportedFile {
  name: string;
  bytes: Uint8Array;
}

/** Records of float32 state tensors. */
function records(state: Iterable<[string, StateTensor]>): Map<string, TensorRecord> {
  return new Map([...state].map(([k, t]) => [k, { dtype: 'float32', shape: t.shape, data: t.data }] as [string, TensorRecord]));
}

/**
 * A state dict (official layout) as safetensors in the official layout (`model.safetensors`,
 * metadata `format: pt` and `maejs_config`), or in the HF ViTMAE layout (`model.safetensors`
 * with `format: pt`, plus `config.json` for transformers' ViTMAEForPreTraining).
 */
export function exportSafetensors(state: Map<string, StateTensor>, config: MaeConfig, layout: CheckpointLayout): ExportedFile[] {
  const text = (v: unknown) => new TextEncoder().encode(`${JSON.stringify(v, null, 2)}\n`);
  if (layout === 'official') {
    const bytes = encodeSafetensors(records(state) as Map<string, { dtype: 'float32'; shape: number[]; data: Float32Array }>, { format: 'pt', maejs_config: JSON.stringify(config) });
    return [{ name: 'model.safetensors', bytes }];
  }
  const hf = officialToHf(records(state)) as Map<string, { dtype: 'float32'; shape: number[]; data: Float32Array }>;
  return [
    { name: 'model.safetensors', bytes: encodeSafetensors(hf, { format: 'pt' }) },
    { name: 'config.json', bytes: text(hfConfigFromMae(config)) },
  ];
}

/** tfjs model artifacts for a state dict (official layout), with the config in the metadata. */
export function exportTfjsArtifacts(state: Map<string, StateTensor>, config: MaeConfig): io.ModelArtifacts {
  return tfjsArtifactsFromState(state, { layout: 'official', config: { ...config } });
}

/** 'pth' | 'safetensors' of bytes, or null for anything else (e.g. a model.json). */
export function checkpointFileKind(bytes: Uint8Array): 'pth' | 'safetensors' | null {
  try {
    return detectCheckpointFormat(bytes);
  } catch {
    return null;
  }
}
