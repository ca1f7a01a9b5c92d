/**
 * The `mae` bin is a committed plain-JavaScript file outside dist/, so npm links it at install
 * time in a fresh clone (before dist/ is built); run unbuilt, it says how to build.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const cliDir = join(__dirname, '..');
const pkg = JSON.parse(readFileSync(join(cliDir, 'package.json'), 'utf8'));

describe('the mae bin', () => {
  it('is a committed file outside dist/, shipped in the package, with a node shebang', () => {
    expect(pkg.bin).toEqual({ mae: './bin/mae.js' });
    expect(pkg.files).toContain('bin');
    expect(readFileSync(join(cliDir, 'bin', 'mae.js'), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('the lock file links the same path', () => {
    const lock = JSON.parse(readFileSync(join(cliDir, '..', '..', 'package-lock.json'), 'utf8'));
    expect(lock.packages['packages/cli'].bin).toEqual({ mae: 'bin/mae.js' });
  });

  it('without a built dist/ exits 1 naming the missing file and how to build', () => {
    const dir = mkdtempSync(join(tmpdir(), 'maejs-bin-'));
    try {
      mkdirSync(join(dir, 'bin'));
      copyFileSync(join(cliDir, 'bin', 'mae.js'), join(dir, 'bin', 'mae.js'));
      writeFileSync(join(dir, 'package.json'), JSON.stringify({ type: 'module' }));
      const r = spawnSync(process.execPath, [join(dir, 'bin', 'mae.js'), '--help'], { encoding: 'utf8' });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`mae: ${join(dir, 'dist', 'bin.js')} does not exist: the CLI is not built. In a clone of maejs run \`npm run build\` at the repository root (after \`npm ci\`).`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
