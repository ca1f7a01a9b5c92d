/**
 * Test helper: two real HTTP servers on 127.0.0.1 that behave like the Hugging Face hub and its
 * CDN. The hub answers `/{owner}/{name}/resolve/{revision}/{file}`: small files (config.json)
 * directly with a git-blob ETag, large files (LFS) with a 302 to the CDN carrying X-Linked-Etag
 * (the SHA-256, quoted), X-Linked-Size and X-Repo-Commit, as the hub does. Errors carry
 * X-Error-Code / X-Error-Message like the hub's: RepoNotFound (401 without a token, 404 with
 * one), GatedRepo (401 / 403), RevisionNotFound, EntryNotFound. The CDN serves the bytes with
 * ETag, Accept-Ranges and Range requests (206 + Content-Range, 416). Plain files (official
 * checkpoints, any URL) are served at `/files/<name>` with an S3-like MD5 ETag.
 *
 * Faults, set per file, make the servers misbehave the way real ones do: cut a body short, stop
 * sending, never answer, send an HTML page, give a wrong hash or size, ignore Range, fail with a
 * status. Every request is logged with its Range and Authorization headers.
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  /** The first `times` bodies stop halfway and the connection is closed. */
  | { kind: 'truncate'; times: number }
  /** The first `times` bodies stop halfway and the connection stays open, silent. */
  | { kind: 'stall'; times: number }
  /** The request is never answered. */
  | { kind: 'hang' }
  /** A 200 HTML page instead of the file (a login or error page). */
  | { kind: 'html' }
  /** X-Linked-Etag and ETag name the SHA-256 of other bytes. */
  | { kind: 'wrong-sha' }
  /** X-Linked-Size says one byte more than the file has. */
  | { kind: 'wrong-size' }
  /** Range requests get the whole file with 200. */
  | { kind: 'ignore-range' }
  /** The first `times` requests get this status. */
  | { kind: 'status'; status: number; times: number }
  /** The hub's 302 points to another scheme. */
  | { kind: 'redirect-to'; location: string };

export interface LoggedRequest {
  server: 'hub' | 'cdn';
  path: string;
  range?: string;
  ifRange?: string;
  authorization?: string;
}

interface StoredFile {
  bytes: Buffer;
  lfs: boolean;
  sha256: string;
}

interface Repo {
  revisions: Map<string, Map<string, StoredFile>>;
  /** Token needed; gated repos answer 403 to other tokens, private ones 404. */
  access?: { token: string; gated: boolean };
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const gitBlobSha1 = (b: Uint8Array) => createHash('sha1').update(`blob ${b.length}\0`).update(b).digest('hex');
const COMMIT = 'a'.repeat(40);

/** Both servers; `endpoint` is the hub's base URL. */
export class HubServer {
  readonly requests: LoggedRequest[] = [];
  private readonly repos = new Map<string, Repo>();
  private readonly blobs = new Map<string, Buffer>();
  private readonly plain = new Map<string, Buffer>();
  private readonly faults = new Map<string, Fault>();
  private readonly served = new Map<string, number>();

  private constructor(
    private readonly hub: Server,
    private readonly cdn: Server,
  ) {}

  static async start(): Promise<HubServer> {
    const listen = (server: Server) => new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    let self: HubServer | undefined;
    const hub = createServer((req, res) => self!.onHub(req, res));
    const cdn = createServer((req, res) => self!.onCdn(req, res));
    self = new HubServer(hub, cdn);
    await Promise.all([listen(hub), listen(cdn)]);
    return self;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${(this.hub.address() as AddressInfo).port}`;
  }

  get cdnUrl(): string {
    return `http://127.0.0.1:${(this.cdn.address() as AddressInfo).port}`;
  }

  /** Adds a repository; files of 1 kB or more are LFS files (served by the CDN). */
  addRepo(repo: string, files: Record<string, Uint8Array>, options: { revision?: string; token?: string; gated?: boolean } = {}): void {
    const entry = this.repos.get(repo) ?? { revisions: new Map(), access: options.token ? { token: options.token, gated: options.gated ?? false } : undefined };
    const stored = new Map<string, StoredFile>();
    for (const [name, bytes] of Object.entries(files)) {
      const file = { bytes: Buffer.from(bytes), lfs: bytes.length >= 1000, sha256: sha256(bytes) };
      stored.set(name, file);
      if (file.lfs) this.blobs.set(file.sha256, file.bytes);
    }
    entry.revisions.set(options.revision ?? 'main', stored);
    this.repos.set(repo, entry);
  }

  /** Serves `bytes` at `/files/<name>` (a plain download, like dl.fbaipublicfiles.com). */
  addFile(name: string, bytes: Uint8Array): string {
    this.plain.set(name, Buffer.from(bytes));
    return `${this.endpoint}/files/${name}`;
  }

  /** Makes the file misbehave: `repo/file` for a repository file, `files/<name>` for a plain one. */
  setFault(target: string, fault: Fault | undefined): void {
    if (fault) this.faults.set(target, fault);
    else this.faults.delete(target);
    this.served.delete(target);
  }

  /** Requests to a path containing `part`. */
  hits(part: string): LoggedRequest[] {
    return this.requests.filter((r) => r.path.includes(part));
  }

  async close(): Promise<void> {
    for (const server of [this.hub, this.cdn]) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  }

  private log(server: 'hub' | 'cdn', req: IncomingMessage): void {
    const h = req.headers;
    this.requests.push({ server, path: req.url ?? '', range: h.range, ifRange: h['if-range'] as string | undefined, authorization: h.authorization });
  }

  /** The active fault of a target, counting how many responses it has shaped. */
  private fault(target: string): Fault | undefined {
    const fault = this.faults.get(target);
    if (!fault) return undefined;
    const n = (this.served.get(target) ?? 0) + 1;
    this.served.set(target, n);
    if ('times' in fault && n > fault.times) return undefined;
    return fault;
  }

  private error(res: ServerResponse, status: number, code: string, message: string): void {
    res.writeHead(status, { 'Content-Type': 'application/json', 'X-Error-Code': code, 'X-Error-Message': message });
    res.end(JSON.stringify({ error: message }));
  }

  private onHub(req: IncomingMessage, res: ServerResponse): void {
    this.log('hub', req);
    const path = decodeURIComponent((req.url ?? '').split('?')[0]);
    if (path.startsWith('/files/')) return this.sendFile(req, res, this.plain.get(path.slice('/files/'.length)), path.slice(1), { etag: 'md5' });
    const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec((req.url ?? '').split('?')[0]);
    if (!m) return this.error(res, 404, 'NotFound', 'no such route');
    const [repoId, revision, file] = [m[1], decodeURIComponent(m[2]), decodeURIComponent(m[3])];
    const repo = this.repos.get(repoId);
    const auth = req.headers.authorization;
    if (!repo || (repo.access && !repo.access.gated && auth !== `Bearer ${repo.access.token}`)) {
      // The hub does not tell a private repository from a missing one.
      return auth ? this.error(res, 404, 'RepoNotFound', `Repository not found: ${repoId}`) : this.error(res, 401, 'RepoNotFound', 'Repository not found');
    }
    if (repo.access?.gated && auth !== `Bearer ${repo.access.token}`) {
      return auth
        ? this.error(res, 403, 'GatedRepo', `Access to model ${repoId} is restricted and you are not in the authorized list`)
        : this.error(res, 401, 'GatedRepo', `Access to model ${repoId} is restricted. You must be authenticated to access it.`);
    }
    const files = repo.revisions.get(revision);
    if (!files) return this.error(res, 404, 'RevisionNotFound', `Invalid rev id: ${revision}`);
    const stored = files.get(file);
    if (!stored) return this.error(res, 404, 'EntryNotFound', `Entry not found: ${file}`);
    const target = `${repoId}/${file}`;
    const fault = this.faults.get(target);
    if (fault?.kind === 'hang') return; // never answered
    if (fault?.kind === 'status') {
      const active = this.fault(target);
      if (active?.kind === 'status') return this.error(res, active.status, 'Error', `status ${active.status} for the test`);
    }
    if (fault?.kind === 'redirect-to') {
      res.writeHead(302, { Location: fault.location, 'Content-Length': '0' });
      res.end();
      return;
    }
    if (!stored.lfs) return this.sendFile(req, res, stored.bytes, target, { etag: 'git', commit: true });
    const sha = fault?.kind === 'wrong-sha' ? sha256(Buffer.from('other bytes')) : stored.sha256;
    const size = fault?.kind === 'wrong-size' ? stored.bytes.length + 1 : stored.bytes.length;
    res.writeHead(302, {
      Location: `${this.cdnUrl}/repos/${stored.sha256}?target=${encodeURIComponent(target)}&expires=1`,
      'X-Linked-Etag': `"${sha}"`,
      'X-Linked-Size': String(size),
      'X-Repo-Commit': COMMIT,
      ETag: `"${sha}"`,
      'Content-Length': '0',
    });
    res.end();
  }

  private onCdn(req: IncomingMessage, res: ServerResponse): void {
    this.log('cdn', req);
    const url = new URL(req.url ?? '/', this.cdnUrl);
    const m = /^\/repos\/([0-9a-f]{64})$/.exec(url.pathname);
    const bytes = m ? this.blobs.get(m[1]) : undefined;
    this.sendFile(req, res, bytes, url.searchParams.get('target') ?? '', { etag: 'sha256' });
  }

  /** A file with ETag and Range support, shaped by the target's fault. */
  private sendFile(req: IncomingMessage, res: ServerResponse, bytes: Buffer | undefined, target: string, options: { etag: 'sha256' | 'md5' | 'git'; commit?: boolean }): void {
    if (!bytes) return this.error(res, 404, 'EntryNotFound', 'no such file');
    const configured = this.faults.get(target);
    if (configured?.kind === 'hang') return;
    const fault = configured && configured.kind !== 'wrong-sha' && configured.kind !== 'wrong-size' ? this.fault(target) : configured;
    if (fault?.kind === 'status') return this.error(res, fault.status, 'Error', `status ${fault.status} for the test`);
    if (fault?.kind === 'html') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end('<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body>Please sign in</body></html>\n');
      return;
    }
    const etag = options.etag === 'sha256' ? `"${fault?.kind === 'wrong-sha' ? sha256(Buffer.from('other bytes')) : sha256(bytes)}"` : options.etag === 'git' ? `"${gitBlobSha1(bytes)}"` : `"${createHash('md5').update(bytes).digest('hex')}"`;
    const headers: Record<string, string> = { ETag: etag, 'Accept-Ranges': 'bytes', 'Content-Type': 'application/octet-stream' };
    if (options.commit) headers['X-Repo-Commit'] = COMMIT;
    let status = 200;
    let body = bytes;
    const range = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
    const ifRange = req.headers['if-range'];
    if (range && fault?.kind !== 'ignore-range' && (!ifRange || ifRange === etag)) {
      const start = Number(range[1]);
      if (start >= bytes.length) {
        res.writeHead(416, { 'Content-Range': `bytes */${bytes.length}` });
        res.end();
        return;
      }
      status = 206;
      body = bytes.subarray(start);
      headers['Content-Range'] = `bytes ${start}-${bytes.length - 1}/${bytes.length}`;
    }
    headers['Content-Length'] = String(body.length);
    res.writeHead(status, headers);
    if (fault?.kind === 'truncate' || fault?.kind === 'stall') {
      const half = body.subarray(0, Math.floor(body.length / 2));
      res.write(half, () => {
        if (fault.kind === 'truncate') res.destroy();
      });
      return;
    }
    res.end(body);
  }
}
