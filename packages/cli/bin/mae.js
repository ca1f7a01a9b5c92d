#!/usr/bin/env node
// The `mae` command. npm links this file when the package is installed, which in a clone of
// the repository happens before dist/ is built: it therefore ships as plain JavaScript and
// loads the compiled CLI only when run.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const compiled = new URL('../dist/bin.js', import.meta.url);
if (!existsSync(fileURLToPath(compiled))) {
  console.error(`mae: ${fileURLToPath(compiled)} does not exist: the CLI is not built. In a clone of maejs run \`npm run build\` at the repository root (after \`npm ci\`).`);
  process.exit(1);
}
await import(compiled.href);
