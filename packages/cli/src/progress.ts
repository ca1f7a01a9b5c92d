/** Progress of a training run on the terminal: a live bar on a TTY, plain lines otherwise. */
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
