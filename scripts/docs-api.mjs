// The API reference: TypeDoc over every published package (packages/* whose package.json is not
// private), each entry point its package.json exports, written to docs/api. Fails (exit code
// non-zero) on an exported function, class, interface, type, variable, method or accessor
// without a doc comment, a {@link} that does not resolve, a relative link to a missing file, a
// type the API uses but no entry point exports, and any other TypeDoc warning (typedoc.json:
// `validation`, `treatWarningsAsErrors`). A type the API uses on purpose without exporting it is
// listed in its package's typedoc.json (`intentionallyNotExported`). Needs the packages built
// (`npm run build`): a package's imports of other @maejs packages resolve to their dist/*.d.ts.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const packages = readdirSync(join(root, 'packages'))
  .filter((dir) => existsSync(join(root, 'packages', dir, 'package.json')))
  .filter((dir) => !JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')).private)
  .sort();
const started = Date.now();
const typedoc = join(root, 'node_modules', 'typedoc', 'bin', 'typedoc');
const result = spawnSync(process.execPath, [typedoc, '--options', join(root, 'typedoc.json'), ...packages.flatMap((dir) => ['--entryPoints', `packages/${dir}`])], { cwd: root, stdio: 'inherit' });
const seconds = ((Date.now() - started) / 1000).toFixed(1);
if (result.status !== 0) {
  console.error(`docs:api: TypeDoc failed (exit code ${result.status ?? result.signal}) for ${packages.length} packages in ${seconds} s; fix the warnings above (a missing doc comment, a broken link, an unexported type: export it or list it in the package's typedoc.json intentionallyNotExported)`);
  process.exit(1);
}
console.log(`docs:api: API reference of ${packages.length} packages (${packages.map((p) => `@maejs/${p}`).join(', ')}) in docs/api, ${seconds} s`);
