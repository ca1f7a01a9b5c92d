// Checks the code in docs/getting-started.md and README.md against the built packages:
// - every `npm install` line of the guide names only published @maejs packages;
// - every ```ts block is written to a scratch folder (named by its first-line comment
//   `// name.ts`, else <doc>-<n>.ts) and all of them are type-checked together (strict, NodeNext);
// - the blocks are run in the order of RUNS below, with the arguments given there, in that folder
//   (it has four PNGs from the bundled Fashion-MNIST sample in images/); a block marked
//   ```ts no-run is only type-checked, and a block other blocks import runs as their import.
//   Every other block must be in RUNS;
// - the files the guide says the blocks write exist and are what it says.
// Needs `npm run build` first. Exit code 1 on any failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeImage, loadBundledSample } from '@maejs/data/node';
import { writePng } from '@maejs/trainer/node';
import { parseNpy } from '@maejs/formats';
import { importCheckpoint } from '@maejs/weights';

const root = resolve(import.meta.dirname, '..');
const DOCS = ['docs/getting-started.md', 'README.md'];
/** Blocks to run, in order, with their command-line arguments. */
const RUNS = [
  ['backend.ts'],
  ['pretrain.ts'],
  ['load.ts', 'model.safetensors'],
  ['reconstruct.ts', 'model.safetensors', 'images'],
  ['features.ts', 'model.safetensors', 'images'],
  ['readme-1.ts'],
];

function fail(message) {
  throw new Error(message);
}

/** The ```ts blocks of a markdown file: { file, code, run }. */
function tsBlocks(doc) {
  const text = readFileSync(join(root, doc), 'utf8');
  const blocks = [];
  const fence = /^```ts([^\n]*)\n([\s\S]*?)^```$/gm;
  for (const [, info, code] of text.matchAll(fence)) {
    const named = /^\/\/ ([\w-]+\.ts)\b/.exec(code);
    const file = named ? named[1] : `${doc.replace(/^.*\//, '').replace(/\.md$/, '').toLowerCase()}-${blocks.length + 1}.ts`;
    blocks.push({ doc, file, code, run: !info.split(/\s+/).includes('no-run') });
  }
  return blocks;
}

/** The @maejs packages `npm install` lines of a markdown file name. */
function installedPackages(doc) {
  const text = readFileSync(join(root, doc), 'utf8');
  return [...text.matchAll(/^npm install .*$/gm)].flatMap(([line]) => [...line.matchAll(/@maejs\/[\w-]+/g)].map(([name]) => name));
}

const work = mkdtempSync(join(tmpdir(), 'maejs-guide-'));
const started = Date.now();
try {
  // Package names in the install lines.
  const published = new Set(
    readdirSync(join(root, 'packages'))
      .map((d) => join(root, 'packages', d, 'package.json'))
      .filter(existsSync)
      .map((f) => JSON.parse(readFileSync(f, 'utf8')))
      .filter((p) => !p.private)
      .map((p) => p.name),
  );
  const named = installedPackages(DOCS[0]);
  if (!named.length) fail(`${DOCS[0]} has no npm install line`);
  for (const name of named) if (!published.has(name)) fail(`${DOCS[0]} installs ${name}, which is not a published package (${[...published].join(', ')})`);

  // The blocks, as files.
  const blocks = DOCS.flatMap(tsBlocks);
  const files = new Map();
  for (const b of blocks) {
    if (files.has(b.file)) fail(`two blocks are named ${b.file} (${files.get(b.file).doc} and ${b.doc})`);
    files.set(b.file, b);
    writeFileSync(join(work, b.file), b.code);
  }
  symlinkSync(join(root, 'node_modules'), join(work, 'node_modules'), 'dir');
  writeFileSync(join(work, 'package.json'), JSON.stringify({ name: 'guide-check', private: true, type: 'module' }));
  writeFileSync(
    join(work, 'tsconfig.json'),
    JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: ['node'], strict: true, skipLibCheck: true, outDir: 'out' }, include: [...files.keys()] }),
  );
  const tsc = spawnSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', work], { cwd: work, encoding: 'utf8' });
  if (tsc.status !== 0) fail(`the snippets do not type-check:\n${tsc.stdout}${tsc.stderr}`);
  console.log(`ok   ${blocks.length} ts blocks of ${DOCS.join(', ')} type-check (${((Date.now() - started) / 1000).toFixed(1)} s)`);

  // Every runnable block is run, or imported by one that is.
  const imported = new Set(blocks.flatMap((b) => [...b.code.matchAll(/from '\.\/([\w-]+)\.js'/g)].map(([, name]) => `${name}.ts`)));
  for (const b of blocks) if (b.run && !imported.has(b.file) && !RUNS.some(([f]) => f === b.file)) fail(`${b.doc}: block ${b.file} is neither run by scripts/check-guide.mjs nor marked no-run`);
  for (const [f] of RUNS) if (!files.has(f)) fail(`scripts/check-guide.mjs runs ${f}, but no block is named so`);

  // Fixture: four images for the reconstruction and feature snippets.
  const sample = await loadBundledSample();
  mkdirSync(join(work, 'images'));
  for (let i = 0; i < 4; i++) {
    const rgba = new Uint8Array(28 * 28 * 4);
    for (let k = 0; k < 28 * 28; k++) rgba.set([sample.images[i * 784 + k], sample.images[i * 784 + k], sample.images[i * 784 + k], 255], k * 4);
    writePng(join(work, 'images', `${i}.png`), { width: 28, height: 28, data: rgba });
  }

  for (const [file, ...args] of RUNS) {
    const t0 = Date.now();
    const js = join(work, 'out', file.replace(/\.ts$/, '.js'));
    const result = spawnSync(process.execPath, [js, ...args], { cwd: work, encoding: 'utf8' });
    if (result.status !== 0) fail(`${files.get(file).doc}: ${file} ${args.join(' ')} exited with ${result.status ?? result.signal}:\n${result.stdout}${result.stderr}`);
    console.log(`ok   ${file} ${args.join(' ')} ran in ${((Date.now() - t0) / 1000).toFixed(1)} s${result.stdout.trim() ? `: ${result.stdout.trim().split('\n').at(-1)}` : ''}`);
  }

  // What the guide says the snippets write.
  const model = importCheckpoint(new Uint8Array(readFileSync(join(work, 'model.safetensors'))), 'model.safetensors');
  if (model.declared.embedDim !== 128 || model.declared.depth !== 6) fail(`model.safetensors declares ${JSON.stringify(model.declared)}; expected mae_tiny_28 (128 x 6)`);
  const figure = decodeImage(new Uint8Array(readFileSync(join(work, 'reconstruction.png'))), 'reconstruction.png');
  if (figure.height < figure.width) fail(`reconstruction.png is ${figure.width}x${figure.height}: expected 4 rows of 4 tiles`);
  const features = parseNpy(new Uint8Array(readFileSync(join(work, 'features.npy'))), 'features.npy');
  if (features.shape.join() !== '4,128') fail(`features.npy is [${features.shape}], expected [4, 128]`);
  console.log(`docs:guide: passed in ${((Date.now() - started) / 1000).toFixed(1)} s (model.safetensors, reconstruction.png ${figure.width}x${figure.height}, features.npy [${features.shape}])`);
} catch (error) {
  console.error(`docs:guide: FAILED: ${error.message}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
