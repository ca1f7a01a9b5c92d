/**
 * `mae info <file>`: what a checkpoint holds — format, layout, keys and shapes, the architecture
 * the shapes determine, what is missing (decoder absent, undetermined head counts) and what is
 * extra (a fine-tuned head, fc_norm). With --config / --preset, the completed config as well.
 */
import { inferConfigFields, type InferredFields, type MaeConfig } from '@maejs/mae';
import { bytesText, type HubFile } from '@maejs/hub';
import { analyzeCheckpoint, shapesOf, type ImportedCheckpoint } from '@maejs/weights/node';
import { formatHelp, parseCommandLine, UsageError, type CommandHelp, type FlagSpec } from '../args.js';
import { fallbackConfig, readCheckpointSource } from '../weights-source.js';
import { describeImport, readConfigFlag } from './convert.js';

const FLAGS = {
  config: { type: 'string', description: 'fields the tensors do not determine (head counts), as JSON or a JSON file; every key is then checked against the completed config' },
  preset: { type: 'string', description: 'a preset to take those fields from (mae_vit_base_patch16, ...)' },
  all: { type: 'boolean', description: 'list every key (default: the first 60)' },
  offline: { type: 'boolean', description: 'use downloaded files only (also HF_HUB_OFFLINE=1)' },
} satisfies FlagSpec;

export const infoHelp: CommandHelp = {
  usage: 'mae info <checkpoint> [--config <json or file>] [--preset <name>] [--all] [--offline]',
  summary: 'Says what a checkpoint holds: format and layout, keys with shapes, the architecture the shapes determine (with the evidence), what is missing (decoder, head counts) and what is extra (a fine-tuned head, fc_norm).',
  arguments: [['<checkpoint>', '.pth / .safetensors (official or Hugging Face layout), a Hugging Face folder, or a tfjs model.json / its folder; or hf:<owner>/<name>[@revision], an official name (mae_pretrain_vit_base, ...) or an http(s) URL, downloaded once into the cache']],
  flags: FLAGS,
  examples: ['mae info state_dict.pth', 'mae info hf:facebook/vit-mae-base --all'],
};

const LISTED_KEYS = 60;

/** Keys with shapes and dtypes, at most `limit` of them. */
function keyLines(c: ImportedCheckpoint, limit: number): string[] {
  const lines = [...c.tensors].slice(0, limit).map(([k, t]) => `  ${k} [${t.shape.join(', ')}] ${t.dtype}`);
  if (c.tensors.size > limit) lines.push(`  ... ${c.tensors.size - limit} more (--all lists them)`);
  return lines;
}

/** The fields the shapes determine, each with the tensor that shows it. */
function inferredLines(found: InferredFields): string[] {
  const fields = Object.keys(found.fields) as (keyof MaeConfig)[];
  return fields.map((f) => `  ${f} = ${String(found.fields[f])}  (${found.evidence[f]})`);
}

/** Missing and extra parts, in plain words. */
function partLines(found: InferredFields, declared: Partial<MaeConfig>): string[] {
  const lines = [found.hasDecoder ? '  decoder: present' : '  decoder: ABSENT (encoder-only checkpoint: features work, reconstruction does not)'];
  if (found.headKeys.length) lines.push(`  classifier head: present (${found.headKeys.join(', ')}): a fine-tuned model; not part of MAE`);
  if (found.fcNormKeys.length) lines.push(`  fc_norm: present (${found.fcNormKeys.join(', ')}): global-pool fine-tuning, whose final norm comes after mean pooling (not MAE's norm.*)`);
  const undetermined = ['numHeads', ...(found.hasDecoder ? ['decoderNumHeads'] : [])].filter((f) => declared[f as keyof MaeConfig] === undefined);
  if (undetermined.length) lines.push(`  not determined by the tensors: ${undetermined.join(', ')} (give --config or --preset)`);
  for (const p of found.problems) lines.push(`  problem: ${p}`);
  return lines;
}

/** The completed config and the key check, when the flags (or the file) complete it. */
function completedLines(c: ImportedCheckpoint, given: Partial<MaeConfig>, fallback: Partial<MaeConfig>): string[] {
  try {
    const r = analyzeCheckpoint(c, given, fallback);
    const lines = ['config:', ...Object.entries(r.config).map(([k, v]) => `  ${k} = ${String(v)}  (from ${r.sources[k as keyof MaeConfig]})`)];
    const missing = r.hasDecoder ? r.missingKeys : r.missingKeys.filter((k) => !/^(mask_token|decoder_)/.test(k));
    lines.push(`missing keys: ${missing.length ? missing.join(', ') : 'none'}${r.hasDecoder ? '' : ' (besides the decoder)'}`);
    lines.push(`extra keys: ${r.extraKeys.length ? r.extraKeys.join(', ') : 'none'}`);
    for (const m of r.misshapen) lines.push(`wrong shape: ${m.key} is [${m.got}], the config implies [${m.expected}]`);
    for (const n of r.notes) lines.push(`note: ${n}`);
    return lines;
  } catch (error) {
    return [`config: cannot be completed: ${(error as Error).message}`];
  }
}

/** Where a downloaded file is kept, its size and hash. */
export function fileLine(f: HubFile): string {
  return `${f.location} (${bytesText(f.size)}${f.sha256 ? `, sha256 ${f.sha256}` : ''}${f.fromCache ? '' : ', downloaded now'})`;
}

/** `mae info`. */
export async function infoCommand(argv: string[], log: (line: string) => void): Promise<void> {
  const { values, positionals } = parseCommandLine(argv, FLAGS, 'info');
  if (positionals.length !== 1) throw new UsageError(`mae info: expected one checkpoint, got ${positionals.length}\n${formatHelp(infoHelp)}`);
  const source = await readCheckpointSource(positionals[0], values, log);
  const c = source.checkpoint;
  const found = inferConfigFields(shapesOf(c.tensors));
  const values_ = [...c.tensors.values()].reduce((s, t) => s + t.data.length, 0);
  const given = { ...c.declared, ...readConfigFlag(values.config) };
  const lines = [
    ...(source.source.kind === 'path' ? [] : [`source: ${source.source.id}`, ...source.files.map((f) => `  ${fileLine(f)}`)]),
    `file: ${describeImport(c)}`,
    `values: ${values_}`,
    'keys:',
    ...keyLines(c, values.all ? Number.POSITIVE_INFINITY : LISTED_KEYS),
    'determined by the tensor shapes:',
    ...inferredLines(found),
    ...(c.declaredBy ? [`declared by ${c.declaredBy}: ${JSON.stringify(c.declared)}`] : []),
    'parts:',
    ...partLines(found, given),
    ...completedLines(c, readConfigFlag(values.config), fallbackConfig(source, values.preset)),
  ];
  for (const line of lines) log(line);
}
