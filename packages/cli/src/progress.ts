/** Progress of a training run and of downloads on the terminal: a live bar on a TTY, plain lines otherwise. */
import type { DownloadProgress } from '@maejs/hub';
import type { TrainEvent } from '@maejs/trainer';

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h ? `${h}:` : ''}${String(m).padStart(h ? 2 : 1, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** Returns an event listener that reports to `stream`; `log` takes whole lines. */
export function progressReporter(stream: NodeJS.WriteStream, log: (line: string) => void): (e: TrainEvent) => void {
  const tty = stream.isTTY === true;
  let total = 0;
  let lastLine = 0;
  return (e) => {
    switch (e.type) {
      case 'train-start':
        total = e.totalSteps;
        log(`training ${e.parameters.toLocaleString('en')} parameters: ${e.totalSteps} updates (${e.stepsPerEpoch} per epoch), effective batch ${e.effectiveBatch}, peak lr ${e.lr.toExponential(3)}${e.startStep ? `, resuming after update ${e.startStep}` : ''}`);
        break;
      case 'step': {
        const text = `update ${e.step}/${total}  epoch ${e.epochFloat.toFixed(2)}  loss ${e.loss.toFixed(4)}  lr ${e.lr.toExponential(2)}  ${e.imagesPerSec.toFixed(1)} img/s  ETA ${clock(e.etaSec)}`;
        if (tty) {
          const width = 24;
          const filled = Math.round((width * e.step) / Math.max(total, 1));
          stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
        } else if (e.step === total || e.elapsedSec - lastLine >= 30 || e.step <= 1) {
          lastLine = e.elapsedSec;
          log(text);
        }
        break;
      }
      case 'epoch-end':
        if (tty) stream.write('\n');
        log(`epoch ${e.epoch} done: mean loss ${e.meanLoss.toFixed(4)} (update ${e.step})`);
        break;
      case 'checkpoint':
        if (!tty) log(`saved ${e.name}`);
        break;
      case 'eval':
        log(`eval after epoch ${e.epoch}: ${Object.entries(e.metrics).map(([k, v]) => `${k} ${v.toFixed(4)}`).join(', ')}`);
        break;
      case 'train-end':
        if (tty) stream.write('\n');
        log(`finished (${e.reason}) after ${e.step} updates in ${clock(e.seconds)}; last loss ${e.lastLoss.toFixed(4)}`);
        break;
    }
  };
}

/** Bytes for people: 12.3 MB (10^6). */
function bytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let v = n / 1000;
  let u = 0;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/**
 * Download progress on the terminal: a live bar per file on a TTY, plain lines otherwise (when a
 * transfer starts, every 10 s, and when it ends). Files that come from the cache print nothing.
 */
export function downloadReporter(stream: NodeJS.WriteStream, log: (line: string) => void, now: () => number = Date.now): (e: DownloadProgress) => void {
  const tty = stream.isTTY === true;
  const transfers = new Map<string, { started: number; from: number; lastLine: number; lastDraw: number }>();
  return (e) => {
    if (e.cached) return;
    const key = `${e.source}\n${e.file}`;
    const t = now();
    let s = transfers.get(key);
    if (!s) {
      s = { started: t, from: e.bytesDone, lastLine: t, lastDraw: Number.NEGATIVE_INFINITY };
      transfers.set(key, s);
      const size = e.bytesTotal === null ? 'size unknown' : bytes(e.bytesTotal);
      log(`downloading ${e.source} ${e.file} (${size})${e.bytesDone > 0 ? `, resuming at ${bytes(e.bytesDone)}` : ''}`);
    }
    const seconds = (t - s.started) / 1000;
    const rate = seconds > 0 ? (e.bytesDone - s.from) / seconds : 0;
    const done = e.bytesTotal !== null && e.bytesDone === e.bytesTotal;
    const total = e.bytesTotal === null ? '?' : bytes(e.bytesTotal);
    const eta = e.bytesTotal !== null && rate > 0 ? ` ETA ${clock((e.bytesTotal - e.bytesDone) / rate)}` : '';
    const text = `${e.file} ${bytes(e.bytesDone)}/${total}  ${bytes(rate)}/s${done ? '' : eta}`;
    if (tty) {
      if (!done && t - s.lastDraw < 100) return;
      s.lastDraw = t;
      const width = 24;
      const filled = e.bytesTotal ? Math.round((width * e.bytesDone) / Math.max(e.bytesTotal, 1)) : 0;
      stream.write(`\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
      if (done) stream.write('\n');
    } else if (!done && t - s.lastLine >= 10_000) {
      s.lastLine = t;
      log(`  ${text}`);
    }
    if (done) {
      transfers.delete(key);
      log(`  ${e.file}: ${bytes(e.bytesDone)} in ${clock(seconds)}`);
    }
  };
}
