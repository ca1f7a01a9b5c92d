/**
 * Node-only parts of the trainer: checkpoints in a folder, written atomically, and a JSONL
 * metrics log. Browser code imports `@maejs/trainer` only.
 *
 * @module node
 */
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeSync, appendFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { PNG } from 'pngjs';
import { CheckpointError, decodeCheckpoint, newestFirst, type Checkpoint, type CheckpointStore } from './checkpoint.js';
import type { TrainEvent } from './pretrain.js';

export * from './index.js';
export { DataParallel, shardSizes } from './data-parallel.js';
export type { DataParallelOptions } from './data-parallel.js';

/**
 * Writes `bytes` to `path` so that a reader sees the old file or the new one, never a part:
 * write a temp file beside it, fsync it, rename over the target, fsync the folder. Temp files
 * for `path` that a stopped process left (its write was interrupted) are removed first.
 */
export function writeFileAtomic(path: string, bytes: Uint8Array): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
  const prefix = `.${basename(path)}.tmp-`;
  for (const file of readdirSync(dir)) {
    const writer = file.startsWith(prefix) ? file.slice(prefix.length) : '';
    if (/^\d+$/.test(writer) && !processRuns(Number(writer))) rmSync(join(dir, file), { force: true });
  }
  const temp = join(dir, `${prefix}${process.pid}`);
  const fd = openSync(temp, 'w');
  try {
    let written = 0;
    while (written < bytes.length) written += writeSync(fd, bytes, written, bytes.length - written);
    fsyncSync(fd);
  } catch (error) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw error;
  }
  closeSync(fd);
  renameSync(temp, path);
  const dirFd = openSync(dir, 'r');
  try {
    fsyncSync(dirFd);
  } finally {
    closeSync(dirFd);
  }
}

/** Checkpoints as files in a folder (atomic saves; temp files of interrupted saves are ignored). */
export class FileCheckpointStore implements CheckpointStore {
  /** @param dir the folder (created on the first save). */
  constructor(readonly dir: string) {}
  /** Writes `dir/name` atomically (see {@link writeFileAtomic}). */
  async save(name: string, bytes: Uint8Array): Promise<void> {
    writeFileAtomic(join(this.dir, name), bytes);
  }
  /** Reads `dir/name`. */
  async load(name: string): Promise<Uint8Array> {
    return readFileSync(join(this.dir, name));
  }
  /** Names of the files in `dir` (hidden temp files excluded); none when it does not exist. */
  async list(): Promise<string[]> {
    return existsSync(this.dir) ? readdirSync(this.dir).filter((n) => !n.startsWith('.')) : [];
  }
  /** Deletes `dir/name` (no error when it does not exist). */
  async remove(name: string): Promise<void> {
    rmSync(join(this.dir, name), { force: true });
  }
}

/**
 * Reads a checkpoint from a file, or the newest readable one from a run folder (its
 * `checkpoints/` subfolder) or a checkpoint folder. Returns it with the path it came from.
 */
export function readCheckpoint(path: string): { checkpoint: Checkpoint; path: string } {
  if (!existsSync(path)) throw new CheckpointError(path, 'does not exist');
  if (statSync(path).isFile()) return { checkpoint: decodeCheckpoint(readFileSync(path), basename(path)), path };
  const dir = existsSync(join(path, 'checkpoints')) ? join(path, 'checkpoints') : path;
  const names = newestFirst(readdirSync(dir));
  if (!names.length) throw new CheckpointError(path, `holds no checkpoint-*.safetensors files (looked in ${dir})`);
  const file = join(dir, names[0]);
  return { checkpoint: decodeCheckpoint(readFileSync(file), names[0]), path: file };
}

/** Whether process `pid` runs on this machine (it may belong to another user). */
function processRuns(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0); // signal 0: an existence check, nothing is sent
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Prepares a run's metrics log (see {@link jsonlMetrics}) for a run resumed after update `step`:
 * keeps the records up to that update (and the `train-start` of every start up to it), and
 * drops what a stopped run wrote after its checkpoint (updates that the resumed run does again)
 * and a last line cut short. Rewrites the file atomically and returns the records kept (none
 * when the file does not exist).
 */
export function resumeMetrics(path: string, step: number): Record<string, unknown>[] {
  if (!existsSync(path)) return [];
  const kept: Record<string, unknown>[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    let record: Record<string, unknown>;
    try {
      record = JSON.parse(line);
    } catch {
      continue; // empty, or cut short by a stopped process
    }
    if (typeof record !== 'object' || record === null) continue;
    const update = record.type === 'train-start' ? record.startStep : record.step;
    if (typeof update !== 'number' || update <= step) kept.push(record);
  }
  writeFileAtomic(path, new TextEncoder().encode(kept.map((r) => JSON.stringify(r) + '\n').join('')));
  return kept;
}

/** Appends every training event as one JSON line to `path` (the run's metrics.jsonl). */
export function jsonlMetrics(path: string): (event: TrainEvent) => void {
  mkdirSync(dirname(path), { recursive: true });
  return (event) => {
    const record = event.type === 'train-start' ? { ...event, config: event.config } : event;
    appendFileSync(path, JSON.stringify({ time: new Date().toISOString(), ...record }) + '\n');
  };
}

/** Writes an RGBA image as a PNG file (atomically). */
export function writePng(path: string, image: { width: number; height: number; data: Uint8Array }): void {
  const png = new PNG({ width: image.width, height: image.height });
  png.data = Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength);
  writeFileAtomic(path, PNG.sync.write(png));
}
