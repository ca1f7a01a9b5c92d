// Bundles tfjs-core's own gradient definitions into one CommonJS file, generated/tfjs-gradients.cjs.
//
// Why: tfjs-core's Node entry (dist/tf-core.node.js) registers no gradients, and its ESM files
// (dist/gradients/*.js) use extensionless imports that Node's ESM loader cannot resolve. The
// bundle exports the gradient configs only; @maejs/backend registers each one that is missing,
// so gradients work however tfjs-core was imported (Node CJS or ESM, jest, a bundler).
// tfjs keeps its engine and registries on a global, so the bundled helper ops and the user's
// tfjs-core share one engine.
import { build } from 'esbuild';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);
const coreDir = dirname(require.resolve('@tensorflow/tfjs-core/package.json'));
const gradientsDir = join(coreDir, 'dist', 'gradients');
const files = readdirSync(gradientsDir).filter((f) => f.endsWith('_grad.js'));
if (files.length < 50) throw new Error(`expected tfjs-core gradient files in ${gradientsDir}, found ${files.length}`);

const entry = [
  ...files.map((f, i) => `import * as g${i} from ${JSON.stringify(join(gradientsDir, f))};`),
  `const modules = [${files.map((_, i) => `g${i}`).join(', ')}];`,
  'export const gradientConfigs = modules.flatMap((m) => Object.values(m)).filter((c) => c && typeof c.kernelName === "string" && typeof c.gradFunc === "function");',
].join('\n');

const outDir = join(here, '..', 'generated');
mkdirSync(outDir, { recursive: true });
await build({
  stdin: { contents: entry, resolveDir: gradientsDir, sourcefile: 'tfjs-gradients-entry.js' },
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'es2020',
  outfile: join(outDir, 'tfjs-gradients.cjs'),
  legalComments: 'eof',
  logLevel: 'warning',
});
writeFileSync(
  join(outDir, 'tfjs-gradients.d.cts'),
  "import type { GradConfig } from '@tensorflow/tfjs-core';\nexport declare const gradientConfigs: GradConfig[];\n",
);
console.log(`bundled ${files.length} tfjs-core gradient modules into generated/tfjs-gradients.cjs`);
