/** Downloads from a local server that behaves like the Hugging Face hub and its CDN. */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type DownloadProgress, fetchSource, FileCache, HubError, hubOptionsFromEnv, MemoryCache, type NodeHubOptions } from './node.js';
import { HubServer } from './test-utils/hub-server.js';

/** A small but valid .safetensors file: one float32 tensor of `n` values. */
function safetensors(n: number, seed = 1): Uint8Array {
  const header = new TextEncoder().encode(JSON.stringify({ w: { dtype: 'F32', shape: [n], data_offsets: [0, 4 * n] } }));
  const out = new Uint8Array(8 + header.length + 4 * n);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  const values = new Float32Array(n).map((_, i) => Math.sin(i * seed));
  out.set(new Uint8Array(values.buffer), 8 + header.length);
  return out;
}

/** A .pth-like body: a zip local-file header first (all the sniffer looks at). */
function zipLike(n: number): Uint8Array {
  const out = new Uint8Array(n).map((_, i) => (i * 7) & 0xff);
  out.set([0x50, 0x4b, 0x03, 0x04]);
  return out;
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const CONFIG = new TextEncoder().encode(JSON.stringify({ model_type: 'vit_mae', hidden_size: 64 }));
const WEIGHTS = safetensors(60_000); // 240 kB: several chunks, several progress events
const BIN = zipLike(50_000);

let server: HubServer;
let root: string;
let dirs = 0;

beforeAll(async () => {
  server = await HubServer.start();
  root = mkdtempSync(join(tmpdir(), 'maejs-hub-'));
  for (const repo of ['org/tiny', 'org/cut', 'org/gone-process', 'org/no-range', 'org/bad-hash', 'org/html', 'org/slow', 'org/stall', 'org/flaky', 'org/down', 'org/always-cut', 'org/big-size', 'org/cancel', 'org/lock']) {
    server.addRepo(repo, { 'config.json': CONFIG, 'model.safetensors': WEIGHTS });
  }
  server.addRepo('org/tiny', { 'config.json': CONFIG, 'model.safetensors': safetensors(300, 2) }, { revision: 'v1.0' });
  server.addRepo('org/bin-only', { 'config.json': CONFIG, 'pytorch_model.bin': BIN });
  server.addRepo('org/no-weights', { 'config.json': CONFIG });
  server.addRepo('org/private', { 'config.json': CONFIG, 'model.safetensors': WEIGHTS }, { token: 'hf_secret' });
  server.addRepo('org/gated', { 'config.json': CONFIG, 'model.safetensors': WEIGHTS }, { token: 'hf_granted', gated: true });
});

afterAll(async () => {
  await server.close();
  rmSync(root, { recursive: true, force: true });
});

/** A fresh cache folder and fast retry settings; HF_* and MAEJS_* come from `env` only. */
function options(extra: NodeHubOptions = {}): NodeHubOptions & { cache: string } {
  return { cache: join(root, `cache-${++dirs}`), endpoint: server.endpoint, retries: 2, retryDelayMs: 10, timeoutMs: 300, env: {}, ...extra } as NodeHubOptions & { cache: string };
}

/** The HubError a promise rejects with. */
async function failure(promise: Promise<unknown>): Promise<HubError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof HubError) return error;
    throw error;
  }
  throw new Error('expected a HubError, but it succeeded');
}

/** Every file under a folder, relative paths. */
function tree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name).slice(dir.length + 1))
    .sort();
}

describe('a Hugging Face repository', () => {
  let shared: ReturnType<typeof options>;
  beforeAll(() => {
    shared = options();
  });

  it('first fetch: config.json and model.safetensors through the 302 to the CDN, with progress, hashes checked, no token sent to the CDN', async () => {
    const events: DownloadProgress[] = [];
    const before = server.requests.length;
    const got = await fetchSource('hf:org/tiny', { ...shared, token: 'hf_any', onProgress: (e) => events.push({ ...e }) });
    expect(got.source).toMatchObject({ kind: 'hf', id: 'hf:org/tiny@main', repo: 'org/tiny', revision: 'main' });
    expect(got.files.map((f) => [f.name, f.size, f.fromCache])).toEqual([
      ['config.json', CONFIG.length, false],
      ['model.safetensors', WEIGHTS.length, false],
    ]);
    const weights = got.files[1];
    expect(weights.location).toBe(join(shared.cache, 'hf', 'org', 'tiny', 'main', 'model.safetensors'));
    expect(weights.sha256).toBe(sha256(WEIGHTS));
    expect(Buffer.from(await weights.read()).equals(Buffer.from(WEIGHTS))).toBe(true);
    expect(weights.url).toBe(`${server.endpoint}/org/tiny/resolve/main/model.safetensors`);
    expect(tree(shared.cache)).toEqual(['hf/org/tiny/main/config.json', 'hf/org/tiny/main/config.json.meta.json', 'hf/org/tiny/main/model.safetensors', 'hf/org/tiny/main/model.safetensors.meta.json']);
    expect(JSON.parse(readFileSync(`${weights.location}.meta.json`, 'utf8'))).toMatchObject({ size: WEIGHTS.length, sha256: sha256(WEIGHTS), etag: `"${sha256(WEIGHTS)}"` });

    const ofWeights = events.filter((e) => e.file === 'model.safetensors');
    expect(ofWeights[0]).toEqual({ source: 'hf:org/tiny@main', file: 'model.safetensors', bytesDone: 0, bytesTotal: WEIGHTS.length, cached: false });
    expect(ofWeights[ofWeights.length - 1]).toMatchObject({ bytesDone: WEIGHTS.length, bytesTotal: WEIGHTS.length });
    expect(ofWeights.length).toBeGreaterThan(2);
    expect(ofWeights.every((e, i) => i === 0 || e.bytesDone >= ofWeights[i - 1].bytesDone)).toBe(true);

    const sent = server.requests.slice(before);
    expect(sent.map((r) => `${r.server} ${r.path.split('?')[0].replace(/[0-9a-f]{64}/, '<sha>')}`)).toEqual(['hub /org/tiny/resolve/main/config.json', 'hub /org/tiny/resolve/main/model.safetensors', 'cdn /repos/<sha>']);
    expect(sent.filter((r) => r.server === 'hub').every((r) => r.authorization === 'Bearer hf_any')).toBe(true);
    expect(sent.find((r) => r.server === 'cdn')!.authorization).toBeUndefined();
  });

  it('second fetch: from the cache, with no request', async () => {
    const before = server.requests.length;
    const events: DownloadProgress[] = [];
    const got = await fetchSource('hf:org/tiny', { ...shared, onProgress: (e) => events.push(e) });
    expect(server.requests.length).toBe(before);
    expect(got.files.map((f) => f.fromCache)).toEqual([true, true]);
    expect(got.files[1].sha256).toBe(sha256(WEIGHTS));
    expect(events).toEqual([
      { source: 'hf:org/tiny@main', file: 'config.json', bytesDone: CONFIG.length, bytesTotal: CONFIG.length, cached: true },
      { source: 'hf:org/tiny@main', file: 'model.safetensors', bytesDone: WEIGHTS.length, bytesTotal: WEIGHTS.length, cached: true },
    ]);
  });

  it('offline (HF_HUB_OFFLINE=1 or offline: true): the cache only; a missing file is an error naming it and where it was looked for', async () => {
    const before = server.requests.length;
    const got = await fetchSource('hf:org/tiny', { ...shared, env: { HF_HUB_OFFLINE: '1' } });
    expect(got.files.map((f) => f.fromCache)).toEqual([true, true]);
    const error = await failure(fetchSource('hf:org/tiny@v1.0', { ...shared, offline: true }));
    expect(error.code).toBe('offline');
    expect(error.message).toBe(
      `hf:org/tiny@v1.0: config.json: not in the cache (looked for ${join(shared.cache, 'hf', 'org', 'tiny', 'v1.0', 'config.json')}) and offline mode is on (HF_HUB_OFFLINE=1 or the offline option): download it once while online (e.g. mae download hf:org/tiny@v1.0)`,
    );
    expect(server.requests.length).toBe(before);
    const bad = await failure(fetchSource('hf:org/tiny', { ...shared, env: { HF_HUB_OFFLINE: 'maybe' } }));
    expect(bad.message).toBe("HF_HUB_OFFLINE: is 'maybe': expected 1, true, yes, on (or 0, false, no, off)");
  });

  it('offline with config.json cached but no weights: names both weight files', async () => {
    const opts = options();
    mkdirSync(join(opts.cache, 'hf', 'org', 'tiny', 'main'), { recursive: true });
    writeFileSync(join(opts.cache, 'hf', 'org', 'tiny', 'main', 'config.json'), CONFIG);
    const error = await failure(fetchSource('hf:org/tiny', { ...opts, offline: true }));
    expect(error.message).toBe(`hf:org/tiny@main: neither model.safetensors nor pytorch_model.bin is in the cache (looked in ${join(opts.cache, 'hf', 'org', 'tiny', 'main')}/) and offline mode is on (HF_HUB_OFFLINE=1 or the offline option): download it once while online (e.g. mae download hf:org/tiny@main)`);
  });

  it('a revision is a folder of its own', async () => {
    const opts = options();
    const got = await fetchSource('hf:org/tiny@v1.0', opts);
    expect(got.files[1].size).toBe(safetensors(300, 2).length);
    expect(got.files[1].location).toBe(join(opts.cache, 'hf', 'org', 'tiny', 'v1.0', 'model.safetensors'));
  });

  it('falls back to pytorch_model.bin when there is no model.safetensors', async () => {
    const opts = options();
    const got = await fetchSource('hf:org/bin-only', opts);
    expect(got.files.map((f) => f.name)).toEqual(['config.json', 'pytorch_model.bin']);
    expect(got.files[1].sha256).toBe(sha256(BIN));
    const before = server.requests.length;
    expect((await fetchSource('hf:org/bin-only', opts)).files[1].fromCache).toBe(true);
    expect(server.requests.length).toBe(before);
  });
});

describe('resuming', () => {
  it('a body cut off halfway is resumed with Range within the same fetch (206, Content-Range checked)', async () => {
    server.setFault('org/cut/model.safetensors', { kind: 'truncate', times: 1 });
    const events: DownloadProgress[] = [];
    const got = await fetchSource('hf:org/cut', { ...options(), onProgress: (e) => e.file === 'model.safetensors' && events.push(e) });
    expect(Buffer.from(await got.files[1].read()).equals(Buffer.from(WEIGHTS))).toBe(true);
    const cdn = server.hits('org%2Fcut%2Fmodel.safetensors');
    expect(cdn).toHaveLength(2);
    expect(cdn[0].range).toBeUndefined();
    const resumedAt = Number(/^bytes=(\d+)-$/.exec(cdn[1].range!)![1]);
    expect(resumedAt).toBeGreaterThan(0);
    expect(resumedAt).toBeLessThanOrEqual(WEIGHTS.length / 2);
    expect(cdn[1].ifRange).toBe(`"${sha256(WEIGHTS)}"`);
    expect(events.some((e) => e.bytesDone === resumedAt)).toBe(true);
    expect(events[events.length - 1].bytesDone).toBe(WEIGHTS.length);
  });

  it('a download cut off in one run resumes from the .incomplete file in the next', async () => {
    const opts = options({ retries: 0 });
    server.setFault('org/gone-process/model.safetensors', { kind: 'truncate', times: 1 });
    const error = await failure(fetchSource('hf:org/gone-process', opts));
    const partial = join(opts.cache, 'hf', 'org', 'gone-process', 'main', 'model.safetensors.incomplete');
    expect(error.code).toBe('truncated');
    expect(error.message).toMatch(
      new RegExp(`^hf:org/gone-process@main: model\\.safetensors: the (connection broke|body ended) after (\\d+) of ${WEIGHTS.length} bytes.*; gave up after 1 attempt; the \\d+ bytes received are kept in ${partial.replace(/[.]/g, '\\.')} and the next try resumes from there$`),
    );
    const held = readFileSync(partial).length;
    expect(held).toBeGreaterThan(0);
    expect(tree(opts.cache).filter((f) => !f.includes('config.json'))).toEqual(['hf/org/gone-process/main/model.safetensors.incomplete', 'hf/org/gone-process/main/model.safetensors.incomplete.json']);
    const got = await fetchSource('hf:org/gone-process', opts);
    expect(server.hits('org%2Fgone-process%2Fmodel')[1].range).toBe(`bytes=${held}-`);
    expect(got.files[1].sha256).toBe(sha256(WEIGHTS));
    expect(tree(opts.cache).filter((f) => f.includes('model'))).toEqual(['hf/org/gone-process/main/model.safetensors', 'hf/org/gone-process/main/model.safetensors.meta.json']);
  });

  it('a server that ignores Range sends the whole file again, and the partial bytes are replaced', async () => {
    const opts = options();
    server.setFault('org/no-range/model.safetensors', { kind: 'truncate', times: 1 });
    await failure(fetchSource('hf:org/no-range', { ...opts, retries: 0 }));
    server.setFault('org/no-range/model.safetensors', { kind: 'ignore-range' });
    const got = await fetchSource('hf:org/no-range', opts);
    expect(server.hits('org%2Fno-range%2Fmodel').pop()!.range).toMatch(/^bytes=\d+-$/);
    expect(Buffer.from(await got.files[1].read()).equals(Buffer.from(WEIGHTS))).toBe(true);
  });

  it('a partial file that is already complete (a run stopped before the rename) is checked and committed without a request', async () => {
    const opts = options();
    const dir = join(opts.cache, 'hf', 'org', 'tiny', 'main');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'config.json'), CONFIG);
    writeFileSync(join(dir, 'model.safetensors.incomplete'), WEIGHTS);
    writeFileSync(join(dir, 'model.safetensors.incomplete.json'), JSON.stringify({ url: 'x', size: WEIGHTS.length, sha256: sha256(WEIGHTS) }));
    const before = server.requests.length;
    const got = await fetchSource('hf:org/tiny', opts);
    expect(server.requests.length).toBe(before);
    expect(got.files[1]).toMatchObject({ fromCache: false, sha256: sha256(WEIGHTS), location: join(dir, 'model.safetensors') });
  });
});

describe('errors name the source, the file and the cause', () => {
  it('unknown repository: 401 RepoNotFound without a token says to check the id or set HF_TOKEN', async () => {
    const error = await failure(fetchSource('hf:org/nope', options()));
    expect(error.code).toBe('unauthorized');
    expect(error.message).toBe(
      `hf:org/nope@main: config.json: access denied (HTTP 401 Unauthorized) at ${server.endpoint}/org/nope/resolve/main/config.json; the server says: RepoNotFound: Repository not found: the repository does not exist, or it is private or gated: set HF_TOKEN (or pass the token option) to a Hugging Face access token that can read it`,
    );
  });

  it('unknown repository with a token: 404 repository not found', async () => {
    const error = await failure(fetchSource('hf:org/nope', options({ env: { HF_TOKEN: 'hf_x' } })));
    expect(error.code).toBe('not-found');
    expect(error.message).toBe(`hf:org/nope@main: config.json: repository not found (HTTP 404 Not Found) at ${server.endpoint}/org/nope/resolve/main/config.json; the server says: RepoNotFound: Repository not found: org/nope`);
  });

  it('unknown revision: 404 revision not found', async () => {
    const error = await failure(fetchSource('hf:org/tiny@v9', options()));
    expect(error.message).toBe(`hf:org/tiny@v9: config.json: revision not found (HTTP 404 Not Found) at ${server.endpoint}/org/tiny/resolve/v9/config.json; the server says: RevisionNotFound: Invalid rev id: v9`);
  });

  it('a repository without weights: names both files', async () => {
    const error = await failure(fetchSource('hf:org/no-weights', options()));
    expect(error.code).toBe('not-found');
    expect(error.message).toBe(
      `hf:org/no-weights@main: the repository has neither model.safetensors nor pytorch_model.bin (HTTP 404 for both under ${server.endpoint}/org/no-weights/resolve/main/)`,
    );
  });

  it('private repository: HF_TOKEN opens it; the token goes to the hub only', async () => {
    const opts = options();
    expect((await failure(fetchSource('hf:org/private', opts))).code).toBe('unauthorized');
    const got = await fetchSource('hf:org/private', { ...opts, env: { HF_TOKEN: 'hf_secret' } });
    expect(got.files[1].sha256).toBe(sha256(WEIGHTS));
    const hits = server.hits('org/private');
    expect(hits[hits.length - 1].authorization).toBe('Bearer hf_secret');
    expect(server.hits('org%2Fprivate').every((r) => r.authorization === undefined)).toBe(true);
  });

  it('gated repository: 401 without a token, 403 with a token that was not granted', async () => {
    const none = await failure(fetchSource('hf:org/gated', options()));
    expect(none.message).toMatch(/^hf:org\/gated@main: config\.json: access denied \(HTTP 401 Unauthorized\) at .*; the server says: GatedRepo: Access to model org\/gated is restricted\. You must be authenticated to access it\.: the repository does not exist, or it is private or gated: set HF_TOKEN \(or pass the token option\)/);
    const refused = await failure(fetchSource('hf:org/gated', options({ token: 'hf_other' })));
    expect(refused.code).toBe('unauthorized');
    expect(refused.message).toMatch(/access denied \(HTTP 403 Forbidden\) at .*GatedRepo: .*: the token \(HF_TOKEN or the token option\) was refused or cannot read this repository: check it, and for a gated repository accept its conditions on the model page$/);
    expect((await fetchSource('hf:org/gated', options({ token: 'hf_granted' }))).files).toHaveLength(2);
  });

  it('network down: retried with backoff, then says it cannot reach the host', async () => {
    const closed = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const port = (s.address() as { port: number }).port;
        s.close(() => resolve(port));
      });
    });
    const started = Date.now();
    const error = await failure(fetchSource('hf:org/down', options({ endpoint: `http://127.0.0.1:${closed}`, retries: 3, retryDelayMs: 40 })));
    const took = Date.now() - started;
    expect(error.code).toBe('network');
    expect(error.message).toBe(`hf:org/down@main: config.json: cannot reach 127.0.0.1:${closed} (ECONNREFUSED); gave up after 4 attempts`);
    expect(took).toBeGreaterThanOrEqual(40 + 80 + 160);
  });

  it('no response: each request times out, then the error says so', async () => {
    server.setFault('org/slow/config.json', { kind: 'hang' });
    const error = await failure(fetchSource('hf:org/slow', options({ timeoutMs: 150, retries: 1 })));
    expect(error.code).toBe('timeout');
    expect(error.message).toBe(`hf:org/slow@main: config.json: no response within 0.15 s from ${server.endpoint}/org/slow/resolve/main/config.json; gave up after 2 attempts`);
    expect(server.hits('org/slow/resolve/main/config.json')).toHaveLength(2);
  });

  it('a body that stops: timed out, then resumed', async () => {
    server.setFault('org/stall/model.safetensors', { kind: 'stall', times: 1 });
    const got = await fetchSource('hf:org/stall', options({ timeoutMs: 200 }));
    expect(got.files[1].sha256).toBe(sha256(WEIGHTS));
    expect(server.hits('org%2Fstall%2Fmodel')[1].range).toMatch(/^bytes=[1-9]\d*-$/);
  });

  it('a body always cut short: truncated, after every retry', async () => {
    server.setFault('org/always-cut/model.safetensors', { kind: 'truncate', times: 100 });
    const error = await failure(fetchSource('hf:org/always-cut', options()));
    expect(error.code).toBe('truncated');
    expect(error.message).toMatch(new RegExp(`^hf:org/always-cut@main: model\\.safetensors: the (connection broke|body ended) after \\d+ of ${WEIGHTS.length} bytes.*; gave up after 3 attempts; the \\d+ bytes received are kept in .*model\\.safetensors\\.incomplete and the next try resumes from there$`));
    expect(server.hits('org%2Falways-cut%2Fmodel')).toHaveLength(3);
  });

  it('HTTP 500 is retried; a lasting 500 is an error', async () => {
    server.setFault('org/flaky/model.safetensors', { kind: 'status', status: 503, times: 2 });
    expect((await fetchSource('hf:org/flaky', options())).files[1].sha256).toBe(sha256(WEIGHTS));
    server.setFault('org/flaky/config.json', { kind: 'status', status: 500, times: 100 });
    const error = await failure(fetchSource('hf:org/flaky', options({ retries: 1 })));
    expect(error.code).toBe('http');
    expect(error.message).toBe(`hf:org/flaky@main: config.json: HTTP 500 Internal Server Error at ${server.endpoint}/org/flaky/resolve/main/config.json; the server says: Error: status 500 for the test; gave up after 2 attempts`);
  });

  it('wrong hash: an error, and nothing is left in the cache', async () => {
    server.setFault('org/bad-hash/model.safetensors', { kind: 'wrong-sha' });
    const opts = options();
    const error = await failure(fetchSource('hf:org/bad-hash', opts));
    expect(error.code).toBe('hash-mismatch');
    expect(error.message).toBe(
      `hf:org/bad-hash@main: model.safetensors: the SHA-256 of the ${WEIGHTS.length} bytes received is ${sha256(WEIGHTS)}, but the server gave ${sha256(Buffer.from('other bytes'))} (X-Linked-Etag); the download was deleted. Try again; if it happens again, the file on the server or something on the way is corrupt`,
    );
    expect(tree(opts.cache).filter((f) => f.includes('model'))).toEqual([]);
  });

  it('sizes that disagree (X-Linked-Size against Content-Length): an error, nothing kept', async () => {
    server.setFault('org/big-size/model.safetensors', { kind: 'wrong-size' });
    const opts = options();
    const error = await failure(fetchSource('hf:org/big-size', opts));
    expect(error.code).toBe('size-mismatch');
    expect(error.message).toMatch(new RegExp(`^hf:org/big-size@main: model\\.safetensors: the response is ${WEIGHTS.length} bytes but X-Linked-Size says ${WEIGHTS.length + 1} \\(http://127\\.0\\.0\\.1:\\d+/repos/[0-9a-f]{64}\\?`));
    expect(tree(opts.cache).filter((f) => f.includes('model'))).toEqual([]);
  });

  it('an HTML page instead of the file: refused before it is kept', async () => {
    server.setFault('org/html/model.safetensors', { kind: 'html' });
    const opts = options();
    const error = await failure(fetchSource('hf:org/html', opts));
    expect(error.code).toBe('not-a-checkpoint');
    expect(error.message).toMatch(/^hf:org\/html@main: model\.safetensors: is an HTML page \(Content-Type text\/html; charset=utf-8\), not a checkpoint: the URL leads to a web page or an error page, not to the file \(http:\/\/127\.0\.0\.1:\d+\/org\/html\/resolve\/main\/model\.safetensors\)$/);
    expect(tree(opts.cache).filter((f) => f.includes('model'))).toEqual([]);
    server.setFault('org/html/config.json', { kind: 'html' });
    expect((await failure(fetchSource('hf:org/html', options()))).message).toMatch(/^hf:org\/html@main: config\.json: is an HTML page \(Content-Type text\/html; charset=utf-8\), not JSON/);
  });

  it('a cache folder that cannot be used: names it and the cause', async () => {
    const blocker = join(root, 'not-a-folder');
    writeFileSync(blocker, 'a file where the cache folder should be');
    const error = await failure(fetchSource('hf:org/tiny', options({ cache: blocker })));
    expect(error.code).toBe('cache');
    expect(error.message).toBe(`hf:org/tiny@main: config.json: cannot read ${join(blocker, 'hf', 'org', 'tiny', 'main', 'config.json')}: ENOTDIR: not a directory, stat '${join(blocker, 'hf', 'org', 'tiny', 'main', 'config.json')}'`);
  });

  it('a redirect to something other than http(s) is refused', async () => {
    server.setFault('org/html/config.json', { kind: 'redirect-to', location: 'file:///etc/passwd' });
    const error = await failure(fetchSource('hf:org/html', options()));
    expect(error.code).toBe('http');
    expect(error.message).toBe(`hf:org/html@main: config.json: HTTP 302 at ${server.endpoint}/org/html/resolve/main/config.json redirects to 'file:///etc/passwd', which is not an http(s) URL`);
    server.setFault('org/html/config.json', undefined);
  });

  it('a file larger than maxBytes is refused before it is downloaded', async () => {
    const error = await failure(fetchSource('hf:org/tiny', options({ maxBytes: 100_000 })));
    expect(error.code).toBe('too-large');
    expect(error.message).toBe('hf:org/tiny@main: model.safetensors: is 240.1 kB, more than the 100.0 kB accepted (maxBytes)');
  });

  it('cancelled with an AbortSignal: the partial bytes are kept for later', async () => {
    server.setFault('org/cancel/model.safetensors', { kind: 'stall', times: 1 });
    const opts = options({ timeoutMs: 5000 });
    const controller = new AbortController();
    const error = await failure(
      fetchSource('hf:org/cancel', {
        ...opts,
        signal: controller.signal,
        onProgress: (e) => e.file === 'model.safetensors' && e.bytesDone > 0 && controller.abort(new Error('user pressed stop')),
      }),
    );
    expect(error.code).toBe('aborted');
    expect(error.message).toMatch(/^hf:org\/cancel@main: model\.safetensors: cancelled \(user pressed stop\) after \d+ bytes$/);
    expect(existsSync(join(opts.cache, 'hf', 'org', 'cancel', 'main', 'model.safetensors.incomplete'))).toBe(true);
    expect((await fetchSource('hf:org/cancel', opts)).files[1].sha256).toBe(sha256(WEIGHTS));
  });
});

describe('official checkpoints and URLs', () => {
  it('an official name is read from the official URL (here a mirror) and cached by URL', async () => {
    const pth = zipLike(30_000);
    server.addFile('mae/pretrain/mae_pretrain_vit_base.pth', pth);
    const opts = options({ env: { MAEJS_OFFICIAL_BASE_URL: `${server.endpoint}/files/mae` } });
    const got = await fetchSource('mae_pretrain_vit_base', opts);
    expect(got.source).toMatchObject({ kind: 'official', id: 'mae_pretrain_vit_base', file: 'mae_pretrain_vit_base.pth', checkpoint: { preset: 'mae_vit_base_patch16', decoder: false } });
    expect(got.files[0]).toMatchObject({ name: 'mae_pretrain_vit_base.pth', url: `${server.endpoint}/files/mae/pretrain/mae_pretrain_vit_base.pth`, size: pth.length, sha256: sha256(pth) });
    expect(got.files[0].location).toMatch(new RegExp(`^${join(opts.cache, 'url', '127.0.0.1_\\d+', '[0-9a-f]{16}', 'mae_pretrain_vit_base\\.pth')}$`));
    const before = server.requests.length;
    expect((await fetchSource(got.files[0].url, opts)).files[0].fromCache).toBe(true);
    expect(server.requests.length).toBe(before);
  });

  it('a URL: no token is sent to a host other than the hub; 404 names the URL', async () => {
    const url = server.addFile('weights/model.safetensors', WEIGHTS);
    const got = await fetchSource(url, options({ token: 'hf_secret', endpoint: 'https://huggingface.co' }));
    expect(got.files[0]).toMatchObject({ name: 'model.safetensors', size: WEIGHTS.length, sha256: sha256(WEIGHTS) });
    expect(server.hits('/files/weights/model.safetensors').pop()!.authorization).toBeUndefined();
    const error = await failure(fetchSource(`${server.endpoint}/files/missing.pth`, options()));
    expect(error.message).toBe(`${server.endpoint}/files/missing.pth: missing.pth: not found (HTTP 404 Not Found) at ${server.endpoint}/files/missing.pth; the server says: EntryNotFound: no such file`);
  });

  it('cache: false downloads every time and writes nothing', async () => {
    const events: DownloadProgress[] = [];
    const got = await fetchSource('hf:org/tiny', { ...options(), cache: false, onProgress: (e) => events.push(e) });
    expect(events[events.length - 1]).toEqual({ source: 'hf:org/tiny@main', file: 'model.safetensors', bytesDone: WEIGHTS.length, bytesTotal: WEIGHTS.length, cached: false });
    expect(got.cache).toBe('no cache (cache: false)');
    expect(got.files.map((f) => [f.location, f.fromCache])).toEqual([
      ['memory', false],
      ['memory', false],
    ]);
    expect(Buffer.from(await got.files[1].read()).equals(Buffer.from(WEIGHTS))).toBe(true);
  });

  it('the main entry with a MemoryCache computes hashes with Web Crypto', async () => {
    const { fetchSource: browserFetch } = await import('./index.js');
    const got = await browserFetch('hf:org/tiny', { endpoint: server.endpoint, cache: new MemoryCache() });
    expect(got.files[1].sha256).toBe(sha256(WEIGHTS));
  });
});

describe('the cache folder', () => {
  it('is $MAEJS_CACHE/hub, else $XDG_CACHE_HOME/maejs/hub, else ~/.cache/maejs/hub', () => {
    const dir = (env: Record<string, string>) => (hubOptionsFromEnv({ env }).cache as FileCache).dir;
    expect(dir({ MAEJS_CACHE: '/data/maejs', XDG_CACHE_HOME: '/x', HOME: '/home/u' })).toBe('/data/maejs/hub');
    expect(dir({ XDG_CACHE_HOME: '/x', HOME: '/home/u' })).toBe('/x/maejs/hub');
    expect(dir({ XDG_CACHE_HOME: 'relative', HOME: '/home/u' })).toBe('/home/u/.cache/maejs/hub');
    expect(dir({ HOME: '/home/u' })).toBe('/home/u/.cache/maejs/hub');
    expect(hubOptionsFromEnv({ env: { HF_ENDPOINT: 'http://mirror', HF_TOKEN: 't' } })).toMatchObject({ endpoint: 'http://mirror', token: 't' });
    expect(hubOptionsFromEnv({ env: { HF_TOKEN: 't' }, token: 'given' }).token).toBe('given');
  });

  it('a lock left by a process that is gone is taken over; two fetches of one file in one process download it once', async () => {
    const opts = options();
    const dir = join(opts.cache, 'hf', 'org', 'lock', 'main');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'model.safetensors.lock'), '999999999');
    const before = server.hits('org%2Flock%2Fmodel').length;
    const [a, b] = await Promise.all([fetchSource('hf:org/lock', opts), fetchSource('hf:org/lock', opts)]);
    expect(a.files[1].sha256).toBe(sha256(WEIGHTS));
    expect(b.files[1].sha256).toBe(sha256(WEIGHTS));
    expect(server.hits('org%2Flock%2Fmodel').length - before).toBe(1);
    expect(existsSync(join(dir, 'model.safetensors.lock'))).toBe(false);
  });
});
