import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { runMae as mae } from './test-utils/run-mae.js';

describe('packages/cli/README.md', () => {
  it('shows and describes every command mae lists', async () => {
    const readme = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');
    const commands = [...(await mae('--help')).out.matchAll(/^ {2}(\w+) /gm)].map((m) => m[1]);
    expect(commands.length).toBe(10);
    for (const name of commands) {
      expect([name, readme.includes(`\nnpx mae ${name}`)]).toEqual([name, true]);
      expect([name, readme.includes(`\n- \`${name}\` `)]).toEqual([name, true]);
    }
  });
});
