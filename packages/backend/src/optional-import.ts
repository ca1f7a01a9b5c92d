/**
 * Imports of optional peer packages. A variable specifier keeps bundlers from trying to resolve
 * packages that are not installed (a browser app registers its backend by importing it itself).
 */
export async function importOptional<T = unknown>(specifier: string): Promise<T> {
  return (await import(/* @vite-ignore */ /* webpackIgnore: true */ specifier)) as T;
}

/** Whether `error` says that `specifier` itself (not something it imports) is not installed. */
export function isModuleNotFound(error: unknown, specifier: string): boolean {
  const e = error as { code?: string; message?: string };
  const missing = e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND' || /Cannot find module|Failed to resolve module|Failed to fetch dynamically imported module/.test(e?.message ?? '');
  return missing && (e.message ?? '').includes(specifier);
}
