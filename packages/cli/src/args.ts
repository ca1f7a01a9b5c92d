/** A tiny, strict --flag parser on top of node:util parseArgs: unknown flags are errors. */
import { parseArgs } from 'node:util';

export type FlagSpec = Record<string, { type: 'string' | 'boolean'; description: string; default?: string | boolean }>;

export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

export function parseFlags(argv: string[], spec: FlagSpec, command: string): Record<string, string | boolean | undefined> {
  try {
    const { values, positionals } = parseArgs({
      args: argv,
      options: Object.fromEntries(Object.entries(spec).map(([k, v]) => [k, { type: v.type, default: v.default }])),
      strict: true,
      allowPositionals: true,
    });
    if (positionals.length) throw new UsageError(`mae ${command}: unexpected argument '${positionals[0]}'`);
    return values as Record<string, string | boolean | undefined>;
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`mae ${command}: ${(error as Error).message}`);
  }
}

export function requireFlag(values: Record<string, unknown>, name: string, command: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`mae ${command}: --${name} is required`);
  return v;
}

export function helpText(command: string, summary: string, spec: FlagSpec): string {
  const rows = Object.entries(spec).map(([k, v]) => `  --${k}${v.type === 'string' ? ' <value>' : ''}`.padEnd(28) + v.description);
  return `mae ${command}: ${summary}\n\n${rows.join('\n')}`;
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
  const value = typeof raw === 'string' && /^-?\d+$/.test(raw.trim()) ? Number(raw) : NaN;
  if (!Number.isSafeInteger(value) || value < min) {
    const expected = min === 0 ? 'a non-negative integer' : min === 1 ? 'a positive integer' : `an integer >= ${min}`;
    throw new UsageError(`mae ${command}: --${name} must be ${expected}, got '${String(raw)}'`);
  }
  return value;
}
