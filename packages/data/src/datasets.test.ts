import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bundledSampleFiles, datasetSearchPlaces, DatasetNotFoundError, loadBundledSample, loadFashionMnist, loadMnist, userCacheRoot } from './datasets.js';
import { downloadVerified, type FetchLike, sha256Hex } from './download.js';
import { DataFormatError } from './errors.js';
import { packageRoot } from './package-root.js';
import { DEBIAN_FASHION_DIR, DEBIAN_SKIP_REASON, HAVE_DEBIAN_FASHION, makeTempDir, removeDir, writeIdxSplit } from './test-utils/files.js';

/** A fetch that must never be called (tests never touch the network). */
const noNetwork: FetchLike = () => {
  throw new Error('network access in a test');
};

describe('dataset lookup', () => {
  let root: string;
  let env: Record<string, string>;
  let system: string;

  beforeEach(() => {
    root = makeTempDir();
    env = { MAEJS_DATA: join(root, 'data'), XDG_CACHE_HOME: join(root, 'xdg'), HOME: join(root, 'home') };
    system = join(root, 'system');
  });
  afterEach(() => removeDir(root));

  it('looks in dir, then $MAEJS_DATA/<name>, then the user cache, then system directories', async () => {
    writeIdxSplit(join(root, 'explicit'), 1);
    writeIdxSplit(join(root, 'data', 'fashion-mnist'), 2);
    writeIdxSplit(join(root, 'xdg', 'maejs', 'fashion-mnist'), 3);
    writeIdxSplit(system, 4);
    const load = (dir?: string) => loadFashionMnist({ dir, env, systemDirs: [system], fetch: noNetwork });
    expect((await load(join(root, 'explicit'))).n).toBe(1);
    const fromEnv = await load();
    expect([fromEnv.n, fromEnv.source]).toEqual([2, join(root, 'data', 'fashion-mnist')]);
    rmSync(join(root, 'data'), { recursive: true });
    expect((await load()).source).toBe(join(root, 'xdg', 'maejs', 'fashion-mnist'));
    rmSync(join(root, 'xdg'), { recursive: true });
    const fromSystem = await load();
    expect([fromSystem.n, fromSystem.source, fromSystem.split, fromSystem.name]).toEqual([4, system, 'train', 'fashion-mnist']);
    expect(fromSystem.files.images).toBe(join(system, 'train-images-idx3-ubyte.gz'));
  });

  it('uses ~/.cache/maejs without XDG_CACHE_HOME, picks the split, accepts uncompressed files', async () => {
    const noXdg = { HOME: join(root, 'home') };
    expect(userCacheRoot(noXdg)).toBe(join(root, 'home', '.cache', 'maejs'));
    expect(userCacheRoot({ ...noXdg, XDG_CACHE_HOME: 'relative/ignored' })).toBe(join(root, 'home', '.cache', 'maejs'));
    writeIdxSplit(join(root, 'home', '.cache', 'maejs', 'mnist'), 5, { split: 'test', plain: true });
    const test = await loadMnist({ split: 'test', env: noXdg, systemDirs: [] });
    expect([test.n, test.split, test.height, test.width]).toEqual([5, 'test', 4, 4]);
    expect(test.files.labels).toBe(join(root, 'home', '.cache', 'maejs', 'mnist', 't10k-labels-idx1-ubyte'));
    expect(Array.from(test.labels)).toEqual([0, 1, 2, 3, 4]);
    expect(test.images[16]).toBe(1); // pixel 0 of image 1
  });

  it('an explicit dir without the files is an error, even when other places have them', async () => {
    writeIdxSplit(join(root, 'data', 'fashion-mnist'), 2);
    const missing = join(root, 'nowhere');
    const error = await loadFashionMnist({ dir: missing, env, systemDirs: [system], fetch: noNetwork }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DatasetNotFoundError);
    expect((error as Error).message).toContain(`1. dir option (--data) ${missing}: directory does not exist`);
    expect((error as DatasetNotFoundError).places).toHaveLength(1);
  });

  it('the not-found error lists every place looked and how to get the data', async () => {
    writeIdxSplit(join(root, 'data', 'fashion-mnist'), 2, { split: 'test' }); // wrong split: not usable for train
    writeIdxSplit(system, 3);
    rmSync(join(system, 'train-labels-idx1-ubyte.gz'));
    const error = (await loadFashionMnist({ env, systemDirs: [system], fetch: noNetwork }).catch((e: unknown) => e)) as DatasetNotFoundError;
    expect(error).toBeInstanceOf(DatasetNotFoundError);
    expect(error.message).toBe(
      [
        'Fashion-MNIST train split not found. Looked for train-images-idx3-ubyte[.gz] and train-labels-idx1-ubyte[.gz] in:',
        `  1. $MAEJS_DATA/fashion-mnist ${join(root, 'data', 'fashion-mnist')}: no train-images-idx3-ubyte[.gz] and no train-labels-idx1-ubyte[.gz]`,
        `  2. user cache ${join(root, 'xdg', 'maejs', 'fashion-mnist')}: directory does not exist`,
        `  3. system directory ${system}: no train-labels-idx1-ubyte[.gz]`,
        'Downloading is off (allowDownload: false), so nothing was fetched.',
        'To get the data, any of:',
        '  - apt-get install dataset-fashion-mnist   (Debian/Ubuntu; installs the files to /usr/share/datasets/fashion-mnist)',
        '  - put the files in a directory and pass it with --data <dir> (option dir), or put them in $MAEJS_DATA/fashion-mnist',
        `  - allow a SHA-256-verified download (--download, option allowDownload: true) from http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/ into ${join(root, 'xdg', 'maejs', 'fashion-mnist')}`,
        '  - for a quick offline try, loadBundledSample() returns the 3000 Fashion-MNIST test images shipped with @maejs/data',
      ].join('\n'),
    );
    const mnist = (await loadMnist({ env: { HOME: join(root, 'home') }, fetch: noNetwork }).catch((e: unknown) => e)) as Error;
    expect(mnist.message).toMatch(/^MNIST train split not found\. Looked for .*\n  1\. \$MAEJS_DATA\/mnist: not set\n  2\. user cache .*\/home\/\.cache\/maejs\/mnist: directory does not exist\nDownloading is off/);
    expect(mnist.message).not.toContain('apt-get');
  });

  it('the default system directory is the Debian one', () => {
    const places = datasetSearchPlaces('fashion-mnist', { env: {} });
    expect(places.map((p) => p.dir)).toEqual([undefined, join(userCacheRoot({}), 'fashion-mnist'), '/usr/share/datasets/fashion-mnist']);
    expect(datasetSearchPlaces('mnist', { env: {} })).toHaveLength(2);
  });

  it('found but broken files are reported, not skipped', async () => {
    writeIdxSplit(join(root, 'data', 'fashion-mnist'), 4, { labels: 3 });
    writeIdxSplit(system, 4);
    await expect(loadFashionMnist({ env, systemDirs: [system] })).rejects.toThrow(
      `${join(root, 'data', 'fashion-mnist', 'train-labels-idx1-ubyte.gz')}: has 3 labels but ${join(root, 'data', 'fashion-mnist', 'train-images-idx3-ubyte.gz')} has 4 images; the counts must match`,
    );
    writeFileSync(join(system, 'train-images-idx3-ubyte.gz'), 'not gzip');
    await expect(loadFashionMnist({ dir: system })).rejects.toThrow(DataFormatError);
    await expect(loadFashionMnist({ dir: system, split: 'val' as never })).rejects.toThrow(/fashion-mnist: split must be 'train' or 'test', got "val"/);
  });

  it('downloads only when allowed, from the canonical URLs, and refuses a wrong SHA-256', async () => {
    const urls: string[] = [];
    const fakeFetch: FetchLike = async (url) => {
      urls.push(url);
      return { ok: true, status: 200, arrayBuffer: async () => new Uint8Array([1, 2, 3]).buffer };
    };
    const error = (await loadFashionMnist({ env, systemDirs: [], allowDownload: true, fetch: fakeFetch }).catch((e: unknown) => e)) as Error;
    expect(error.name).toBe('DownloadError');
    expect(error.message).toContain(`could not download ${join(root, 'xdg', 'maejs', 'fashion-mnist', 'train-images-idx3-ubyte.gz')}:`);
    expect(error.message).toContain(
      'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz: SHA-256 mismatch: expected 3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84, got 039058c6f2c0cb492c533b0a4d14ef77cc0f78abccced5287d84a1a2011cfb81',
    );
    expect(urls).toEqual([
      'http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/train-images-idx3-ubyte.gz',
      'https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/train-images-idx3-ubyte.gz',
    ]);
    expect(existsSync(join(root, 'xdg', 'maejs', 'fashion-mnist', 'train-images-idx3-ubyte.gz'))).toBe(false);
  });

  it('downloadVerified writes a verified file atomically and enforces the size cap', async () => {
    const body = new TextEncoder().encode('idx bytes');
    const destination = join(root, 'dl', 'file.gz');
    const ok: FetchLike = async () => ({ ok: true, status: 200, arrayBuffer: async () => body.slice().buffer });
    await downloadVerified({ urls: ['https://mirror/file.gz'], sha256: sha256Hex(body), maxBytes: 100 }, destination, ok);
    expect(readFileSync(destination, 'utf8')).toBe('idx bytes');
    expect(readdirSync(join(root, 'dl'))).toEqual(['file.gz']);
    const notFound: FetchLike = async () => ({ ok: false, status: 404, statusText: 'Not Found', arrayBuffer: async () => new ArrayBuffer(0) });
    await expect(downloadVerified({ urls: ['https://a/x', 'https://b/x'], sha256: '00', maxBytes: 100 }, join(root, 'x'), notFound)).rejects.toThrow(
      /could not download .*x:\n  https:\/\/a\/x: HTTP 404 Not Found\n  https:\/\/b\/x: HTTP 404 Not Found/,
    );
    const stream: FetchLike = async () => new Response(new Uint8Array(1000)) as never;
    await expect(downloadVerified({ urls: ['https://big/x'], sha256: '00', maxBytes: 100 }, join(root, 'x'), stream)).rejects.toThrow(
      /https:\/\/big\/x: response is larger than the expected maximum of 100 bytes \(1000 bytes received\)/,
    );
  });
});

describe('bundled sample and real data', () => {
  it('loadBundledSample finds the sample from the module file, whatever the working directory', async () => {
    expect(packageRoot()).toBe(resolve(__dirname, '..'));
    const cwd = process.cwd();
    const elsewhere = makeTempDir();
    process.chdir(elsewhere);
    try {
      const sample = await loadBundledSample();
      expect([sample.n, sample.height, sample.width, sample.split, sample.name]).toEqual([3000, 28, 28, 'test', 'fashion-mnist-sample']);
      expect(sample.images.length).toBe(3000 * 784);
      expect(Math.max(...sample.labels)).toBe(9);
      expect(sample.files).toEqual(bundledSampleFiles());
      expect(sample.source).toBe(join(resolve(__dirname, '..'), 'sample'));
    } finally {
      process.chdir(cwd);
      removeDir(elsewhere);
    }
  });

  (HAVE_DEBIAN_FASHION ? it : it.skip)(['finds the installed Debian Fashion-MNIST with no configuration', ...(HAVE_DEBIAN_FASHION ? [] : [DEBIAN_SKIP_REASON])].join(' '), async () => {
    const root = makeTempDir();
    try {
      const test = await loadFashionMnist({ split: 'test', env: { HOME: root }, fetch: noNetwork });
      expect([test.n, test.height, test.width, test.source]).toEqual([10000, 28, 28, DEBIAN_FASHION_DIR]);
      const sample = await loadBundledSample();
      expect(Buffer.from(sample.images).equals(Buffer.from(test.images.subarray(0, 3000 * 784)))).toBe(true);
    } finally {
      removeDir(root);
    }
  });
});
