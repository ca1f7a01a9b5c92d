/**
 * Finding and loading Fashion-MNIST and MNIST (Node), and the bundled offline sample.
 *
 * Search order for a split's two files (`train-*` or `t10k-*`, `.gz` or plain):
 *   1. `dir`, when given: the only place looked; an error if the files are not there;
 *   2. `$MAEJS_DATA/<name>` (`<name>` = `fashion-mnist` or `mnist`);
 *   3. the user cache, `$XDG_CACHE_HOME/maejs/<name>` or `~/.cache/maejs/<name>`;
 *   4. system locations: `/usr/share/datasets/fashion-mnist` (Debian's dataset-fashion-mnist).
 * Nothing is downloaded unless `allowDownload` is true; then the files are fetched from the
 * canonical URLs, checked against their SHA-256, and stored in `dir` or the user cache.
 */
import { access, readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { downloadVerified, type FetchLike } from './download.js';
import { DataFormatError } from './errors.js';
import type { ParseIdxOptions } from './idx.js';
import { loadIdxFile } from './idx-files.js';
import { type LabelledImages, pairImagesAndLabels } from './labelled.js';
import { packageRoot } from './package-root.js';

/** Which half of the dataset. */
export type Split = 'train' | 'test';
/** Datasets this module knows. */
export type IdxDatasetName = 'fashion-mnist' | 'mnist';

/** Options of {@link loadFashionMnist} / {@link loadMnist}. */
export interface LoadIdxDatasetOptions extends ParseIdxOptions {
  /** Default 'train'. */
  split?: Split;
  /** Directory holding the files. When given, the only place looked (error if missing). */
  dir?: string;
  /** Download (SHA-256 verified) when the files are not found. Default false: never touches the network. */
  allowDownload?: boolean;
  /** Environment to read MAEJS_DATA, XDG_CACHE_HOME and HOME from. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** System directories to look in, overriding the built-in list (for tests and unusual installs). */
  systemDirs?: readonly string[];
  /** fetch implementation used for downloads. Default the global `fetch`. */
  fetch?: FetchLike;
}

/** A loaded split: uint8 images [N, H, W] and labels [N], and where they came from. */
export interface IdxDataset extends LabelledImages {
  /** The directory the files were read from. */
  source: string;
  name: IdxDatasetName | 'fashion-mnist-sample';
  split: Split;
  /** Full paths of the two files read. */
  files: { images: string; labels: string };
}

/** A place looked in: `dir` undefined when the place is not configured (e.g. MAEJS_DATA unset). */
export interface SearchPlace {
  label: string;
  dir: string | undefined;
}

/** Static description of a downloadable IDX dataset. */
interface DatasetSpec {
  name: IdxDatasetName;
  title: string;
  mirrors: readonly string[];
  sha256: Readonly<Record<string, string>>;
  systemDirs: readonly { label: string; dir: string }[];
  install?: string;
}

const SPECS: Readonly<Record<IdxDatasetName, DatasetSpec>> = {
  'fashion-mnist': {
    name: 'fashion-mnist',
    title: 'Fashion-MNIST',
    mirrors: ['http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/', 'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/'],
    sha256: {
      'train-images-idx3-ubyte.gz': '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84',
      'train-labels-idx1-ubyte.gz': 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845',
      't10k-images-idx3-ubyte.gz': '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073',
      't10k-labels-idx1-ubyte.gz': '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5',
    },
    systemDirs: [{ label: "Debian's dataset-fashion-mnist", dir: '/usr/share/datasets/fashion-mnist' }],
    install: 'apt-get install dataset-fashion-mnist   (Debian/Ubuntu; installs the files to /usr/share/datasets/fashion-mnist)',
  },
  mnist: {
    name: 'mnist',
    title: 'MNIST',
    mirrors: ['https://ossci-datasets.s3.amazonaws.com/mnist/', 'https://storage.googleapis.com/cvdf-datasets/mnist/'],
    sha256: {
      'train-images-idx3-ubyte.gz': '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609',
      'train-labels-idx1-ubyte.gz': '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c',
      't10k-images-idx3-ubyte.gz': '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6',
      't10k-labels-idx1-ubyte.gz': 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6',
    },
    systemDirs: [],
  },
};

/** Largest download accepted (the biggest file, Fashion-MNIST train images, is 26.4 MB). */
const MAX_DOWNLOAD_BYTES = 40 * 1024 * 1024;
/** File names of the bundled sample, in `<package>/sample/`. */
const SAMPLE_FILES = { images: 'fashion-mnist-sample-images-idx3-ubyte.gz', labels: 'fashion-mnist-sample-labels-idx1-ubyte.gz' } as const;

/** The canonical file names of a split. */
export function splitFileNames(split: Split): { images: string; labels: string } {
  const prefix = split === 'train' ? 'train' : 't10k';
  return { images: `${prefix}-images-idx3-ubyte`, labels: `${prefix}-labels-idx1-ubyte` };
}

/** Loads a Fashion-MNIST split (see the module doc for where it is looked for). */
export function loadFashionMnist(options: LoadIdxDatasetOptions = {}): Promise<IdxDataset> {
  return loadIdxDataset(SPECS['fashion-mnist'], options);
}

/** Loads an MNIST split (see the module doc for where it is looked for). */
export function loadMnist(options: LoadIdxDatasetOptions = {}): Promise<IdxDataset> {
  return loadIdxDataset(SPECS.mnist, options);
}

/** The places {@link loadFashionMnist} / {@link loadMnist} look in, in order. */
export function datasetSearchPlaces(name: IdxDatasetName, options: Pick<LoadIdxDatasetOptions, 'dir' | 'env' | 'systemDirs'> = {}): SearchPlace[] {
  const spec = SPECS[name];
  if (options.dir !== undefined) return [{ label: 'dir option (--data)', dir: options.dir }];
  const env = options.env ?? process.env;
  const system = options.systemDirs ? options.systemDirs.map((dir) => ({ label: 'system directory', dir })) : spec.systemDirs;
  return [
    { label: `$MAEJS_DATA/${name}`, dir: env.MAEJS_DATA ? join(env.MAEJS_DATA, name) : undefined },
    { label: 'user cache', dir: join(userCacheRoot(env), name) },
    ...system,
  ];
}

/** `$XDG_CACHE_HOME/maejs` (if set to an absolute path) or `~/.cache/maejs`. */
export function userCacheRoot(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  if (xdg && isAbsolute(xdg)) return join(xdg, 'maejs');
  return join(env.HOME || homedir(), '.cache', 'maejs');
}

/** The files not being found anywhere; `places` lists what was looked at and why it failed. */
export class DatasetNotFoundError extends Error {
  constructor(
    message: string,
    readonly places: readonly { place: SearchPlace; problem: string }[],
  ) {
    super(message);
    this.name = 'DatasetNotFoundError';
  }
}

/** Paths of the bundled sample (3000 Fashion-MNIST test images), located from this module file. */
export function bundledSampleFiles(): { images: string; labels: string } {
  const dir = join(packageRoot(), 'sample');
  return { images: join(dir, SAMPLE_FILES.images), labels: join(dir, SAMPLE_FILES.labels) };
}

/** Loads the bundled sample: the first 3000 Fashion-MNIST test images and labels. Works offline. */
export async function loadBundledSample(): Promise<IdxDataset> {
  const files = bundledSampleFiles();
  if (!(await exists(files.images)) || !(await exists(files.labels))) {
    throw new DataFormatError(files.images, 'the bundled sample is missing; the @maejs/data installation is incomplete (the package ships sample/ in its files)');
  }
  const data = await readPair(files);
  return { ...data, source: join(packageRoot(), 'sample'), name: 'fashion-mnist-sample', split: 'test', files };
}

async function loadIdxDataset(spec: DatasetSpec, options: LoadIdxDatasetOptions): Promise<IdxDataset> {
  const split = options.split ?? 'train';
  if (split !== 'train' && split !== 'test') throw new DataFormatError(spec.name, `split must be 'train' or 'test', got ${JSON.stringify(split)}`);
  const places = datasetSearchPlaces(spec.name, options);
  const tried: { place: SearchPlace; problem: string }[] = [];
  for (const place of places) {
    const found = place.dir === undefined ? { problem: 'not set' } : await findSplitFiles(place.dir, split);
    if ('problem' in found) {
      tried.push({ place, problem: found.problem });
      continue;
    }
    return finish(spec, split, place.dir as string, found, options);
  }
  if (options.allowDownload) {
    const target = options.dir ?? join(userCacheRoot(options.env ?? process.env), spec.name);
    const files = await downloadSplit(spec, split, target, options.fetch);
    return finish(spec, split, target, files, options);
  }
  throw new DatasetNotFoundError(notFoundMessage(spec, split, tried, options), tried);
}

async function finish(spec: DatasetSpec, split: Split, dir: string, files: { images: string; labels: string }, options: ParseIdxOptions): Promise<IdxDataset> {
  const data = await readPair(files, options);
  return { ...data, source: dir, name: spec.name, split, files };
}

async function readPair(files: { images: string; labels: string }, options: ParseIdxOptions = {}): Promise<LabelledImages> {
  const [images, labels] = await Promise.all([loadIdxFile(files.images, options), loadIdxFile(files.labels, options)]);
  return pairImagesAndLabels(images, labels, files);
}

/** The split's two files in `dir` (compressed preferred), or why they are not usable. */
async function findSplitFiles(dir: string, split: Split): Promise<{ images: string; labels: string } | { problem: string }> {
  let names: Set<string>;
  try {
    names = new Set(await readdir(dir));
  } catch {
    return { problem: (await exists(dir)) ? 'directory cannot be read' : 'directory does not exist' };
  }
  const wanted = splitFileNames(split);
  const images = pickVariant(names, wanted.images);
  const labels = pickVariant(names, wanted.labels);
  if (images && labels) return { images: join(dir, images), labels: join(dir, labels) };
  const missing = [images ? undefined : wanted.images, labels ? undefined : wanted.labels].filter(Boolean);
  return { problem: `no ${missing.map((m) => `${m}[.gz]`).join(' and no ')}` };
}

/** `name.gz`, `name`, or the `name` with `.idx` for `-idx` (as some mirrors spell it). */
function pickVariant(names: Set<string>, base: string): string | undefined {
  const dotted = base.replace('-idx', '.idx');
  return [`${base}.gz`, base, `${dotted}.gz`, dotted].find((n) => names.has(n));
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}

async function downloadSplit(spec: DatasetSpec, split: Split, target: string, fetchImpl: FetchLike | undefined): Promise<{ images: string; labels: string }> {
  const names = splitFileNames(split);
  const files = { images: join(target, `${names.images}.gz`), labels: join(target, `${names.labels}.gz`) };
  for (const [key, path] of Object.entries(files) as ['images' | 'labels', string][]) {
    const file = `${names[key]}.gz`;
    await downloadVerified({ urls: spec.mirrors.map((m) => m + file), sha256: spec.sha256[file], maxBytes: MAX_DOWNLOAD_BYTES }, path, fetchImpl);
  }
  return files;
}

function notFoundMessage(spec: DatasetSpec, split: Split, tried: readonly { place: SearchPlace; problem: string }[], options: LoadIdxDatasetOptions): string {
  const names = splitFileNames(split);
  const cache = join(userCacheRoot(options.env ?? process.env), spec.name);
  const lines = [
    `${spec.title} ${split} split not found. Looked for ${names.images}[.gz] and ${names.labels}[.gz] in:`,
    ...tried.map(({ place, problem }, i) => `  ${i + 1}. ${place.label}${place.dir ? ` ${place.dir}` : ''}: ${problem}`),
    'Downloading is off (allowDownload: false), so nothing was fetched.',
    'To get the data, any of:',
    ...(spec.install ? [`  - ${spec.install}`] : []),
    `  - put the files in a directory and pass it with --data <dir> (option dir), or put them in $MAEJS_DATA/${spec.name}`,
    `  - allow a SHA-256-verified download (--download, option allowDownload: true) from ${spec.mirrors[0]} into ${options.dir ?? cache}`,
    '  - for a quick offline try, loadBundledSample() returns the 3000 Fashion-MNIST test images shipped with @maejs/data',
  ];
  return lines.join('\n');
}
