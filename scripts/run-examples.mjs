// Runs the examples (every examples/* workspace with an `example:ci` script) at tiny sizes, as
// `npm run example:ci -w examples/<name> -- <extra flags>`, and checks what each one wrote. The
// pre-training example runs first; the reconstruction, linear-probe and fine-tuning examples then
// load the weights it exported (reconstruction also runs on its default, the official tiny-gray
// state dict). Needs the packages and examples built (`npm run build`) and the golden cases
// (../shared/golden or MAEJS_GOLDEN). Exit code 1 on the first failure.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeImage } from '@maejs/data/node';
import { analyzeCheckpoint, importCheckpoint } from '@maejs/weights';

const root = resolve(import.meta.dirname, '..');
const work = mkdtempSync(join(tmpdir(), 'maejs-examples-'));
const pretrained = join(work, 'pretrain');
const chain = ['--model', join(pretrained, 'model.safetensors'), '--normalization', join(pretrained, 'normalization.json')];

function fail(message) {
  throw new Error(message);
}

/** Checks a reconstruction figure: a PNG of `rows` rows of 4 square tiles (2-pixel gaps), not blank. */
function checkFigure(path, rows) {
  if (!existsSync(path)) fail(`${path} was not written`);
  const { width, height, rgba } = decodeImage(new Uint8Array(readFileSync(path)), path);
  const tile = (width - 5 * 2) / 4;
  if (!Number.isInteger(tile) || height !== rows * tile + (rows + 1) * 2) fail(`${path} is ${width}x${height}: expected ${rows} rows of 4 square tiles`);
  const values = new Set();
  for (let i = 0; i < rgba.length; i += 4) values.add(rgba[i]);
  if (values.size < 16) fail(`${path} has ${values.size} distinct gray levels: it looks blank`);
  return `${path.replace(work, '<tmp>')} ${width}x${height}`;
}

/** Reads a JSON file the example wrote. */
const readJson = (path) => JSON.parse(readFileSync(path, 'utf8'));
const accuracy = (label, value, min) => {
  if (!(typeof value === 'number' && value >= min && value <= 1)) fail(`${label}: test accuracy ${value}, expected at least ${min} (chance is 0.1)`);
  return `${label} ${(100 * value).toFixed(1)}%`;
};

const runs = [
  {
    example: 'pretrain-images',
    flags: ['--out', pretrained],
    check() {
      const imported = importCheckpoint(new Uint8Array(readFileSync(join(pretrained, 'model.safetensors'))), 'model.safetensors');
      const { config } = analyzeCheckpoint(imported);
      if (config.embedDim !== 32 || config.depth !== 1 || config.decoderEmbedDim !== 32 || config.numHeads !== 4) fail(`model.safetensors declares ${JSON.stringify(config)}; expected the flags' embedDim 32, depth 1, decoderEmbedDim 32 and the preset's 4 heads`);
      const figures = readdirSync(join(pretrained, 'figures'));
      if (figures.join() !== 'epoch-000.png,epoch-001.png,epoch-002.png') fail(`figures/ holds ${figures.join(', ')}; expected one per epoch (3)`);
      const checkpoints = readdirSync(join(pretrained, 'checkpoints'));
      if (checkpoints.join() !== 'checkpoint-00000010.safetensors,checkpoint-00000015.safetensors') fail(`checkpoints/ holds ${checkpoints.join(', ')}; expected the last two of 15 updates`);
      return ['model.safetensors loads (32x1 encoder, 4 heads)', checkFigure(join(pretrained, 'figures', 'epoch-002.png'), 8), 'loss.png', ...checkpoints].join('; ');
    },
    output: [/^train-start: 30928 parameters, 5 updates per epoch, 15 in all/m, /^epoch 2 held-out loss \d/m, /^train-end after update 15 \(completed\)/m],
  },
  {
    example: 'reconstruct',
    flags: ['--out', join(work, 'reconstruct-golden.png')],
    check: () => checkFigure(join(work, 'reconstruct-golden.png'), 4),
    output: [/tiny-gray\/state_dict\.pth: 28x28x1, patch 4, encoder 64x2, decoder 32x1/],
  },
  {
    example: 'reconstruct',
    flags: [...chain, '--out', join(work, 'reconstruct-pretrained.png')],
    check: () => checkFigure(join(work, 'reconstruct-pretrained.png'), 4),
    output: [/model\.safetensors: 28x28x1, patch 4, encoder 32x1, decoder 32x1/],
  },
  {
    example: 'linear-probe',
    flags: [...chain, '--json', join(work, 'linear-probe.json')],
    check() {
      const r = readJson(join(work, 'linear-probe.json'));
      if (!(r.linearProbe.lastLoss < r.linearProbe.firstLoss)) fail(`linear probe loss went from ${r.linearProbe.firstLoss} to ${r.linearProbe.lastLoss}; it should fall`);
      return [accuracy('linear probe', r.linearProbe.testAccuracy, 0.3), accuracy('kNN', r.knn.testAccuracy, 0.3), accuracy('pixels', r.pixelLinearProbe.testAccuracy, 0.5)].join(', ');
    },
  },
  {
    example: 'finetune',
    flags: [...chain, '--json', join(work, 'finetune.json')],
    check() {
      const r = readJson(join(work, 'finetune.json'));
      for (const [label, run] of [['pretrained', r.pretrained], ['scratch', r.scratch]]) {
        if (!run || !(run.losses.at(-1) < run.losses[0])) fail(`finetune ${label}: training losses ${run?.losses}; they should fall`);
      }
      return [accuracy('fine-tuned from pre-trained', r.pretrained.testAccuracy, 0.2), accuracy('from scratch', r.scratch.testAccuracy, 0.2)].join(', ');
    },
  },
  {
    example: 'custom-backend',
    flags: [],
    check: () => 'kit passes example-cpu, fails example-cpu-fastexp at softmax',
    output: [/^backend example-cpu \(node, tfjs [\d.]+\): PASS — 32 passed, 0 failed/m, /^backend example-cpu-fastexp \(node, tfjs [\d.]+\): FAIL/m, /^ {2}fail .*softmax \[400,50\] \+ gradient\n {11}-> softmax: element \d+ is /m],
  },
];

// Every example with an example:ci script must be run here.
const examples = readdirSync(join(root, 'examples')).filter((d) => existsSync(join(root, 'examples', d, 'package.json')) && JSON.parse(readFileSync(join(root, 'examples', d, 'package.json'), 'utf8')).scripts?.['example:ci']);
const missing = examples.filter((d) => !runs.some((r) => r.example === d));
const started = Date.now();
try {
  if (missing.length) fail(`examples with an example:ci script that scripts/run-examples.mjs does not run: ${missing.join(', ')}`);
  for (const run of runs) {
    const t0 = Date.now();
    const result = spawnSync('npm', ['run', '--silent', 'example:ci', '-w', `examples/${run.example}`, '--', ...run.flags], { cwd: root, encoding: 'utf8', env: { ...process.env, FORCE_COLOR: '0' } });
    const output = `${result.stdout}${result.stderr}`;
    if (result.status !== 0) fail(`examples/${run.example} exited with ${result.status ?? result.signal}:\n${output}`);
    for (const pattern of run.output ?? []) if (!pattern.test(output)) fail(`examples/${run.example}: its output does not match ${pattern}:\n${output}`);
    let summary;
    try {
      summary = run.check();
    } catch (error) {
      fail(`examples/${run.example}: ${error.message}\n--- its output:\n${output}`);
    }
    console.log(`ok   examples/${run.example} ${run.flags.includes('--model') ? '(weights from pretrain-images) ' : ''}in ${((Date.now() - t0) / 1000).toFixed(1)} s: ${summary}`);
  }
  console.log(`examples: ${runs.length} runs of ${examples.length} examples passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
} catch (error) {
  console.error(`examples: FAILED: ${error.message}`);
  process.exitCode = 1;
} finally {
  rmSync(work, { recursive: true, force: true });
}
