/**
 * Vite config of the browser example. Two things beyond the defaults:
 * - @maejs/backend is a workspace package (linked, so not under node_modules once resolved)
 *   that imports its generated CommonJS files (gradient bundle, wasm kernels); Rollup's CommonJS plugin only looks
 *   under node_modules unless told otherwise.
 * - The bundled Fashion-MNIST sample (two .gz IDX files in @maejs/data's `sample/`) is copied
 *   into the build as static assets under `data/`, and served from there by the dev server, so
 *   the built app needs nothing from the network.
 */
import { createReadStream, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineConfig, type Plugin } from 'vite';

const require = createRequire(import.meta.url);
const sampleDir = join(dirname(require.resolve('@maejs/data/package.json')), 'sample');
const SAMPLE_FILES = ['fashion-mnist-sample-images-idx3-ubyte.gz', 'fashion-mnist-sample-labels-idx1-ubyte.gz'];

/**
 * Writes dist/bundle-modules.json: every module the bundle was built from, and which modules
 * asked for a Node built-in that Vite replaced by its empty `__vite-browser-external` stub
 * (paths relative to the repository). The browser test reads it to prove that no maejs code
 * and no Node entry got in.
 */
function moduleList(): Plugin {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
  const rel = (raw: string) => {
    const id = raw.replace(/^\0/, ''); // Rollup's virtual-module marker
    return id.startsWith(root) ? id.slice(root.length + 1) : id;
  };
  return {
    name: 'maejs-module-list',
    generateBundle(_options, bundle) {
      const modules = new Set<string>();
      for (const chunk of Object.values(bundle)) if (chunk.type === 'chunk') for (const id of Object.keys(chunk.modules)) modules.add(rel(id));
      const externalizedBy = new Set<string>();
      for (const id of this.getModuleIds()) {
        if (!id.includes('__vite-browser-external')) continue;
        for (const importer of [...(this.getModuleInfo(id)?.importers ?? []), ...(this.getModuleInfo(id)?.dynamicImporters ?? [])]) {
          if (!importer.includes('__vite-browser-external')) externalizedBy.add(rel(importer));
        }
      }
      this.emitFile({ type: 'asset', fileName: 'bundle-modules.json', source: JSON.stringify({ modules: [...modules].sort(), externalizedBy: [...externalizedBy].sort() }, null, 1) });
    },
  };
}

function bundledSample(): Plugin {
  return {
    name: 'maejs-bundled-sample',
    generateBundle() {
      for (const file of SAMPLE_FILES) this.emitFile({ type: 'asset', fileName: `data/${file}`, source: readFileSync(join(sampleDir, file)) });
    },
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const file = SAMPLE_FILES.find((f) => req.url?.endsWith(`/data/${f}`));
        if (!file) return next();
        res.setHeader('Content-Type', 'application/octet-stream');
        createReadStream(join(sampleDir, file)).pipe(res);
      });
    },
  };
}

export default defineConfig({
  base: './', // relative asset URLs: the build works from any folder of any static server
  plugins: [bundledSample(), moduleList()],
  build: {
    target: 'es2022',
    chunkSizeWarningLimit: 6000, // four tfjs backends in one page
    commonjsOptions: { include: [/node_modules/, /tfjs-gradients\.cjs$/, /wasm-kernels\.cjs$/] },
  },
});
