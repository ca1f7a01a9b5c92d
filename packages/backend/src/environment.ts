/** Where the code runs: decides the order `initBackend('auto')` tries backends in. */
export type Environment = 'node' | 'browser';

export function detectEnvironment(): Environment {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  const isNode = typeof proc?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
  return isNode ? 'node' : 'browser';
}
