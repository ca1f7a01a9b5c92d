/** Where the code runs: decides the order `initBackend('auto')` tries backends in. */
export type Environment = 'node' | 'browser';

/** `'node'` when `process.versions.node` is set and there is no `window` (Node, workers), else `'browser'`. */
export function detectEnvironment(): Environment {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  const isNode = typeof proc?.versions?.node === 'string' && typeof (globalThis as { window?: unknown }).window === 'undefined';
  return isNode ? 'node' : 'browser';
}
