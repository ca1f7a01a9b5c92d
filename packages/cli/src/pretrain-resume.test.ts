/**
 * Resume as it happens in life: `mae pretrain` runs in a child process that is killed with
 * SIGKILL at chosen moments (inside epochs, at an epoch boundary, in the middle of a checkpoint
 * write, of a metrics line, of config.json), resumed with `--resume <run>` each time, until the
 * run completes. The end result must equal an uninterrupted run's bit for bit: the newest
 * checkpoint (model, AdamW moments, data position), every loss logged, the figures, loss.png.
 *
 * The child runs the built CLI (packages/cli/dist; `npm test` builds first). The kill points are
 * file operations picked by test-utils/kill-at.cjs, so they do not depend on timing.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { checkpointName, decodeCheckpoint, newestFirst } from '@maejs/trainer';
import { encodeNpy } from '@maejs/formats';
import { checkpointDifferences } from '../../trainer/src/test-utils/same-checkpoint.js';

const ROOT = join(__dirname, '..', '..', '..');
const BIN = join(__dirname, '..', 'dist', 'bin.js');
const KILL_AT = join(__dirname, 'test-utils', 'kill-at.cjs');

/** Source files of the CLI and the packages it uses whose dist/ file is older (or missing). */
function staleBuilds(): string[] {
  const stale: string[] = [];
  const walk = (src: string, dist: string) => {
    for (const entry of readdirSync(src, { withFileTypes: true })) {
      if (entry.isDirectory()) {
        if (entry.name !== 'test-utils') walk(join(src, entry.name), join(dist, entry.name));
      } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') && !entry.name.endsWith('.d.ts')) {
        const built = join(dist, entry.name.replace(/\.ts$/, '.js'));
        if (!existsSync(built) || statSync(built).mtimeMs < statSync(join(src, entry.name)).mtimeMs) stale.push(relative(ROOT, join(src, entry.name)));
      }
    }
  };
  const cli = JSON.parse(readFileSync(join(ROOT, 'packages', 'cli', 'package.json'), 'utf8')) as { dependencies: Record<string, string> };
  const packages = ['cli', ...Object.keys(cli.dependencies).filter((d) => d.startsWith('@maejs/')).map((d) => d.slice('@maejs/'.length))];
  for (const name of packages) walk(join(ROOT, 'packages', name, 'src'), join(ROOT, 'packages', name, 'dist'));
  return stale;
}

type KillPoint = { rename: string; when: 'before' | 'after' } | { write: string } | { append: string; record: Record<string, unknown>; half?: boolean };

/** Runs `mae` in a child process, killed at `killAt` when given. */
function mae(args: string[], killAt?: KillPoint) {
  const r = spawnSync(process.execPath, [...(killAt ? ['--require', KILL_AT] : []), BIN, ...args], {
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, MAEJS_TEST_KILL_AT: killAt ? JSON.stringify(killAt) : undefined },
  });
  if (r.error) throw r.error;
  return r;
}

const ckpt = checkpointName;
// A tiny model on 40 images of 8x8: 10 batches of 4 per epoch, 2 per update, 5 updates per
// epoch, 15 in 3 epochs. Checkpoints every 2 updates and at epoch ends;
// losses read every 3 updates (and before each checkpoint).
const RUN = ['--img-size', '8', '--patch-size', '4', '--in-chans', '1', '--embed-dim', '16', '--depth', '1', '--num-heads', '2', '--decoder-embed-dim', '8', '--decoder-depth', '1', '--decoder-num-heads', '2'];
const TRAINING = ['--epochs', '3', '--warmup-epochs', '1', '--batch-size', '4', '--accum-iter', '2', '--blr', '0.05', '--seed', '5', '--checkpoint-every', '2', '--log-every', '3'];
const MACHINE = ['--backend', 'wasm', '--threads', '1', '--figure-images', '2'];

/** [what, where the process is killed, the update the next run resumes after] */
const KILLS: [string, KillPoint, number][] = [
  ['at the end of epoch 0, after its checkpoint is renamed into place', { rename: ckpt(5), when: 'after' }, 5],
  ['halfway through writing the checkpoint of update 8 (epoch 1)', { write: ckpt(8) }, 6],
  ['after logging update 7, whose checkpoint is not written', { append: 'metrics.jsonl', record: { type: 'step', step: 7 } }, 6],
  ['halfway through the epoch-end line of epoch 1', { append: 'metrics.jsonl', record: { type: 'epoch-end', epoch: 1 }, half: true }, 8],
  ['with the checkpoint of update 10 (end of epoch 1) written but not renamed', { rename: ckpt(10), when: 'before' }, 8],
  ['after the checkpoint of update 10 (end of epoch 1) is renamed into place', { rename: ckpt(10), when: 'after' }, 10],
  ['after the checkpoint of update 12 (epoch 2) is renamed, before older ones are pruned', { rename: ckpt(12), when: 'after' }, 12],
  ['halfway through writing config.json as a resumed run starts', { write: 'config.json' }, 12],
  ['after logging update 14, whose checkpoint is not written', { append: 'metrics.jsonl', record: { type: 'step', step: 14 } }, 12],
  ['after the last checkpoint is renamed, before the run ends', { rename: ckpt(15), when: 'after' }, 15],
];

type Record_ = Record<string, unknown>;
/** The parsed lines of a run's metrics.jsonl; a line that does not parse is returned as `torn`. */
function metrics(run: string): { records: Record_[]; torn: string[] } {
  const records: Record_[] = [];
  const torn: string[] = [];
  for (const line of readFileSync(join(run, 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l !== '')) {
    try {
      records.push(JSON.parse(line));
    } catch {
      torn.push(line);
    }
  }
  return { records, torn };
}
/** What must not depend on interruptions: losses, lr, position in the schedule (not times or speeds). */
function logged(records: Record_[]): Record_[] {
  const pick = (r: Record_, keys: string[]) => Object.fromEntries(keys.map((k) => [k, r[k]]));
  return records.flatMap((r) => {
    if (r.type === 'step') return [pick(r, ['type', 'step', 'epoch', 'epochFloat', 'loss', 'lr'])];
    if (r.type === 'epoch-end') return [pick(r, ['type', 'epoch', 'step', 'meanLoss'])];
    if (r.type === 'train-end') return [pick(r, ['type', 'step', 'lastLoss', 'reason'])];
    return [];
  });
}
const newest = (run: string) => newestFirst(readdirSync(join(run, 'checkpoints')))[0];
const readNewest = (run: string) => decodeCheckpoint(readFileSync(join(run, 'checkpoints', newest(run))), newest(run));
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => statSync(join(dir, f)).isFile()).sort();
}

let dir: string;
beforeAll(() => {
  const stale = staleBuilds();
  if (!existsSync(BIN) || stale.length) throw new Error(`the child process runs the built CLI, but ${existsSync(BIN) ? `dist/ is older than ${stale.slice(0, 5).join(', ')}${stale.length > 5 ? ` and ${stale.length - 5} more` : ''}` : `${BIN} does not exist`}: run npm run build`);
  dir = mkdtempSync(join(tmpdir(), 'maejs-kill-'));
  const values = new Float32Array(40 * 8 * 8);
  let state = 7;
  for (let i = 0; i < values.length; i++) values[i] = (state = (state * 1103515245 + 12345) % 2147483648) / 2147483648;
  writeFileSync(join(dir, 'images.npy'), encodeNpy({ dtype: 'float32', shape: [40, 1, 8, 8], data: values }));
});
afterAll(() => dir && rmSync(dir, { recursive: true, force: true }));

describe('mae pretrain killed with SIGKILL and resumed', () => {
  it('ends bit-identical to an uninterrupted run, whatever moment the kills hit', () => {
    const args = (out: string) => ['pretrain', ...RUN, ...TRAINING, ...MACHINE, '--data', join(dir, 'images.npy'), '--out', out];
    const wholeRun = join(dir, 'whole');
    const whole = mae(args(wholeRun));
    expect(whole.stderr).toBe('');
    expect(whole.status).toBe(0);
    const expected = logged(metrics(wholeRun).records);
    expect(expected.filter((r) => r.type === 'step')).toHaveLength(15);
    expect(expected.filter((r) => r.type === 'epoch-end').map((r) => r.step)).toEqual([5, 10, 15]);
    const expectedByKey = new Map(expected.map((r) => [`${r.type} ${r.step}`, r]));

    const run = join(dir, 'killed');
    let resumeAfter: number | null = null; // null: a fresh start
    const kills = [...KILLS.map(([what, point, next]) => ({ what, point, next })), { what: 'completing the run', point: undefined, next: 15 }];
    for (const { what, point, next } of kills) {
      const r = mae(resumeAfter === null ? args(run) : ['pretrain', '--resume', run], point);
      const context = `run ${what}${resumeAfter === null ? '' : ` (resumed after update ${resumeAfter})`}`;
      if (point && r.signal !== 'SIGKILL') throw new Error(`${context}: the kill point was never reached; it ended with status ${r.status}, stderr:\n${r.stderr}`);
      if (!point && r.status !== 0) throw new Error(`${context}: status ${r.status} (signal ${r.signal}), stderr:\n${r.stderr}`);
      expect([context, r.stderr]).toEqual([context, '']);
      const beforeResuming = point !== undefined && 'write' in point && point.write === 'config.json'; // killed before it reads the checkpoint
      if (resumeAfter !== null && !beforeResuming) expect([context, r.stdout]).toEqual([context, expect.stringContaining(`resuming from ${join(run, 'checkpoints', ckpt(resumeAfter))} (update ${resumeAfter})`)]);
      // Everything logged so far, killed runs included, is what the uninterrupted run logged, once, in order.
      const { records, torn } = metrics(run);
      const got = logged(records);
      expect([context, got]).toEqual([context, got.map((r) => expectedByKey.get(`${r.type} ${r.step}`))]);
      expect([context, got.filter((r) => r.type === 'step').map((r) => r.step)]).toEqual([context, Array.from({ length: got.filter((r) => r.type === 'step').length }, (_, i) => i + 1)]);
      expect([context, torn.length]).toEqual([context, point && 'half' in point ? 1 : 0]);
      expect([context, newest(run)]).toEqual([context, ckpt(next)]);
      const position = readNewest(run).meta.dataPosition as { epoch: number; batch: number };
      expect([context, position.epoch, position.batch]).toEqual([context, Math.floor(next / 5), (next % 5) * 2]); // e.g. update 5: epoch 1, batch 0
      resumeAfter = next;
    }

    const final = metrics(run);
    expect(final.torn).toEqual([]);
    expect(logged(final.records)).toEqual(expected);
    expect(newest(run)).toBe(newest(wholeRun));
    expect(checkpointDifferences(readNewest(run), readNewest(wholeRun))).toEqual([]);
    const files = filesUnder(run);
    expect(files.filter((f) => f.includes('.tmp-'))).toEqual([]); // temp files of interrupted writes are cleaned up
    const images = filesUnder(wholeRun).filter((f) => f.endsWith('.png'));
    expect(images).toEqual(['figures/reconstruction-epoch-000.png', 'figures/reconstruction-epoch-001.png', 'figures/reconstruction-epoch-002.png', 'loss.png']);
    expect(files.filter((f) => f.endsWith('.png'))).toEqual(images);
    for (const image of images) expect([image, readFileSync(join(run, image)).equals(readFileSync(join(wholeRun, image)))]).toEqual([image, true]);
  });
});
