/**
 * `--key value` / `--key=value` pairs for commands that take any config field as a flag
 * (`mae pretrain --embed-dim 192 --epochs 20`). Keys are kebab-case or camelCase; values are
 * JSON-ish: numbers, true/false, null, else strings. A flag without a value is `true`.
 */
import { UsageError } from './args.js';

const camel = (key: string) => key.replace(/[-_]([a-z])/g, (_, c: string) => c.toUpperCase());
const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

export function parseValue(text: string): string | number | boolean | null {
  if (text === 'true') return true;
  if (text === 'false') return false;
  if (text === 'null') return null;
  const n = Number(text);
  return text.trim() !== '' && Number.isFinite(n) ? n : text;
}

/** Parses argv into camelCase keys; every key must be in `allowed` (the error lists them). */
export function parseOverrides(argv: string[], allowed: Set<string>, command: string): Map<string, string | number | boolean | null> {
  const out = new Map<string, string | number | boolean | null>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`mae ${command}: unexpected argument '${arg}' (flags look like --key value)`);
    const eq = arg.indexOf('=');
    const key = camel(arg.slice(2, eq >= 0 ? eq : undefined));
    if (!allowed.has(key)) {
      throw new UsageError(`mae ${command}: unknown flag --${kebab(key)}; expected one of ${[...allowed].map((k) => `--${kebab(k)}`).join(', ')}`);
    }
    let value: string | number | boolean | null;
    if (eq >= 0) value = parseValue(arg.slice(eq + 1));
    else if (i + 1 < argv.length && !argv[i + 1].startsWith('--')) value = parseValue(argv[++i]);
    else value = true;
    out.set(key, value);
  }
  return out;
}

export { kebab };
