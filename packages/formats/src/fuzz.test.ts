/**
 * Robustness: truncated and byte-flipped golden files must either parse or throw a
 * WeightsFormatError, never a RangeError/TypeError or anything else.
 */
import { parseNpy } from './npy.js';
import { parsePth, selectStateDict, stateDictFromPth } from './pth.js';
import { parseSafetensors } from './safetensors.js';
import { WeightsFormatError } from './tensor-record.js';
import { readGolden } from '../../../testing/golden.js';
import { readStoredZip } from './zip.js';
import { Rng } from '@maejs/random';

type Parser = (bytes: Uint8Array, source: string) => unknown;

const PARSERS: Record<string, Parser> = {
  'state_dict.pth': stateDictFromPth,
  'state_dict.safetensors': parseSafetensors,
  'grads.safetensors': parseSafetensors,
  'inputs.npy': parseNpy,
  'ids_restore.npy': parseNpy,
};


/** Outcome of one attempt: 'parsed', 'refused' (WeightsFormatError) or a description of any other error. */
function attempt(parse: Parser, bytes: Uint8Array, source: string): string {
  try {
    parse(bytes, source);
    return 'parsed';
  } catch (e) {
    if (e instanceof WeightsFormatError && e.message.startsWith(`${source}: `)) return 'refused';
    return `${(e as Error)?.name}: ${(e as Error)?.message}`;
  }
}

/** Applies `flips` random single-byte XORs within [from, to) and tallies the outcomes. */
function flipLoop(parse: Parser, bytes: Uint8Array, source: string, flips: number, seed: number, from = 0, to = bytes.length) {
  const rng = new Rng(seed);
  const rand = (): number => rng.random();
  const tally = { parsed: 0, refused: 0, other: [] as string[] };
  for (let i = 0; i < flips; i++) {
    const copy = bytes.slice();
    const pos = from + Math.floor(rand() * (to - from));
    copy[pos] ^= 1 + Math.floor(rand() * 255);
    const outcome = attempt(parse, copy, source);
    if (outcome === 'parsed') tally.parsed++;
    else if (outcome === 'refused') tally.refused++;
    else tally.other.push(`flip at ${pos}: ${outcome}`);
  }
  return tally;
}

describe('truncated golden files', () => {
  it.each(Object.keys(PARSERS))('%s cut at 46 positions always throws WeightsFormatError', (file) => {
    const bytes = readGolden(file);
    const cuts = [1, 7, 8, 9, 10, 11, ...Array.from({ length: 40 }, (_, i) => Math.floor((i * bytes.length) / 40))];
    for (const cut of cuts) {
      const truncated = bytes.slice(0, cut);
      const run = (): unknown => PARSERS[file](truncated, file);
      expect({ cut, outcome: attempt(PARSERS[file], truncated, file) }).toEqual({ cut, outcome: 'refused' });
      expect(run).toThrow(new RegExp(`^${file.replace('.', '\\.')}: `));
    }
  });
});

describe('byte flips (fixed seed)', () => {
  it('300 flips anywhere in state_dict.pth: each parses or throws WeightsFormatError', () => {
    const tally = flipLoop(stateDictFromPth, readGolden('state_dict.pth'), 'state_dict.pth', 300, 1);
    expect(tally.other).toEqual([]);
    expect(tally.parsed + tally.refused).toBe(300);
    expect(tally.refused).toBeGreaterThan(200); // CRC-32 catches flips in tensor data
  });

  it('300 flips in the pickle and central directory of state_dict.pth, CRC check off', () => {
    const bytes = readGolden('state_dict.pth');
    const noCrc: Parser = (b, source) => selectStateDict(parsePth(b, source, { verifyChecksums: false }).root, source);
    const pickle = readStoredZip(bytes).get('state_dict/data.pkl')!.data;
    const inPickle = flipLoop(noCrc, bytes, 'state_dict.pth', 300, 2, pickle.byteOffset, pickle.byteOffset + pickle.length);
    const directoryStart = new DataView(bytes.buffer, bytes.byteOffset).getUint32(bytes.length - 22 + 16, true); // from the EOCD
    const inDirectory = flipLoop(noCrc, bytes, 'state_dict.pth', 300, 3, directoryStart, bytes.length);
    expect([...inPickle.other, ...inDirectory.other]).toEqual([]);
    expect(inPickle.parsed + inPickle.refused).toBe(300);
    expect(inPickle.refused).toBeGreaterThan(0);
    expect(inPickle.parsed).toBeGreaterThan(0); // e.g. flips inside key strings
    expect(inDirectory.refused).toBeGreaterThan(0);
  });

  it('300 flips anywhere in state_dict.safetensors and 300 in its header', () => {
    const bytes = readGolden('state_dict.safetensors');
    const anywhere = flipLoop(parseSafetensors, bytes, 'state_dict.safetensors', 300, 4);
    const headerLength = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
    const inHeader = flipLoop(parseSafetensors, bytes, 'state_dict.safetensors', 300, 5, 0, 8 + headerLength);
    expect([...anywhere.other, ...inHeader.other]).toEqual([]);
    expect(anywhere.parsed + anywhere.refused).toBe(300);
    expect(anywhere.parsed).toBeGreaterThan(0); // flips in tensor data cannot be detected
    expect(inHeader.refused).toBeGreaterThan(0);
  });

  it('200 flips in the header of inputs.npy', () => {
    const tally = flipLoop(parseNpy, readGolden('inputs.npy'), 'inputs.npy', 200, 6, 0, 128);
    expect(tally.other).toEqual([]);
    expect(tally.refused).toBeGreaterThan(0);
  });
});
