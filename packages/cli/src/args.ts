/** A tiny, strict --flag parser on top of node:util parseArgs: unknown flags are errors. */
import { parseArgs } from 'node:util';
import { argumentMessage, checkInteger, type ArgumentErrorMaker } from '@maejs/backend';

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; description: string; default?: string | boolean }>;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The error maker of a flag check (`@maejs/backend`'s checks): a UsageError, `<flag> is <value>: expected <expectation>`. */
export const usageError: ArgumentErrorMaker = (what, value, expected) => new UsageError(argumentMessage(what, value, expected));

export function parseFlags(argv: string[], spec: FlagSpec, command: string): Record<string, string | boolean | undefined> {
  const { values, positionals } = parseCommandLine(argv, spec, command);
  if (positionals.length) throw new UsageError(`mae ${command}: unexpected argument '${positionals[0]}'`);
  return values;
}

/** The parsed values of a FlagSpec: string or boolean as each flag's type says (both for a spec typed only as FlagSpec). */
export type FlagValues<S extends FlagSpec> = {
  [K in keyof S]?: [S[K]['type']] extends ['boolean'] ? boolean : [S[K]['type']] extends ['string'] ? string : string | boolean;
};

/** Flags of `spec` and positional arguments; unknown flags are usage errors. */
export function parseCommandLine<S extends FlagSpec>(argv: string[], spec: S, command: string): { values: FlagValues<S>; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, { type: v.type, default: v.default }])),
      strict: true,
      allowPositionals: true,
    });
    return { values: values as FlagValues<S>, positionals };
  } catch (error) {
    throw new UsageError(`mae ${command}: ${(error as Error).message}`);
  }
}

export function requireFlag(values: Record<string, unknown>, name: string, command: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`mae ${command}: --${name} is required`);
  return v;
}

/** What `mae <command> --help` prints: usage, arguments, flags with their defaults, examples. */
export interface CommandHelp {
  /** One line after `usage: `, e.g. `mae convert <in> <out> [--to official|hf|tfjs] ...`. */
  usage: string;
  /** What the command does (one or two sentences). */
  summary: string;
  /** Positional arguments: [name, description]. */
  arguments?: [string, string][];
  flags: FlagSpec;
  /** Command lines that work as shown (given the files they name). */
  examples: string[];
  /** Anything else a user needs (environment variables, key lists). */
  notes?: string;
}

/** True when the command line asks for help (`--help` or `-h` anywhere). */
export function wantsHelp(argv: string[]): boolean {
  return argv.includes('--help') || argv.includes('-h');
}

const COLUMN = 26;

function helpRows(rows: [string, string][]): string[] {
  return rows.map(([name, text]) => {
    const head = `  ${name}`;
    return head.length < COLUMN ? head.padEnd(COLUMN) + text : `${head}\n${' '.repeat(COLUMN)}${text}`;
  });
}

/** The help text of one command. */
export function formatHelp(help: CommandHelp): string {
  const parts = [`usage: ${help.usage}`, help.summary];
  if (help.arguments?.length) parts.push(['arguments:', ...helpRows(help.arguments)].join('\n'));
  const flags = Object.entries(help.flags).map(([name, f]): [string, string] => {
    const shown = f.default === undefined || f.default === false ? '' : ` (default: ${f.default})`;
    return [`--${name}${f.type === 'string' ? ' <value>' : ''}`, `${f.description}${shown}`];
  });
  parts.push(['flags:', ...helpRows([...flags, ['--help, -h', 'print this help']])].join('\n'));
  parts.push(['examples:', ...help.examples.map((e) => `  ${e}`)].join('\n'));
  if (help.notes) parts.push(help.notes);
  return parts.join('\n\n');
}

/**
 * An integer flag, checked before any work starts: `min` is the least value allowed. A missing
 * flag without a default returns undefined.
 */
export function integerFlag(values: Record<string, unknown>, name: string, command: string, min: number): number;
export function integerFlag(values: Record<string, unknown>, name: string, command: string, min: number, optional: 'optional'): number | undefined;
export function integerFlag(values: Record<string, unknown>, name: string, command: string, min: number, optional?: 'optional'): number | undefined {
  const raw = values[name];
  if (raw === undefined && optional) return undefined;
  const parsed = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  const value = Number.isSafeInteger(parsed) ? parsed : raw; // the text as given when it is no integer
  checkInteger(`mae ${command}: --${name}`, value, min, Infinity, usageError);
  return value;
}
