/** Runs the `mae` command in-process for tests, capturing its output lines and its stderr. */
import { main } from '../main.js';

export async function runMae(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  let err = '';
  const spy = jest.spyOn(console, 'error').mockImplementation((...parts: unknown[]) => {
    err += parts.join(' ') + '\n';
  });
  try {
    const code = await main(args, (line) => out.push(line));
    return { code, out: out.join('\n'), err };
  } finally {
    spy.mockRestore();
  }
}
