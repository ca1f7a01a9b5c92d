import { join } from 'node:path';
import { importGraph, importsOf } from '../../../testing/import-graph.js';
import { HubError } from './errors.js';
import { sniffProblem } from './sniff.js';
import { hfFileUrl, OFFICIAL_CHECKPOINTS, parseSource } from './sources.js';

function refused(source: string, options = {}): string {
  try {
    parseSource(source, options);
  } catch (error) {
    expect(error).toBeInstanceOf(HubError);
    expect((error as HubError).code).toBe('bad-source');
    return (error as Error).message;
  }
  throw new Error(`'${source}' was accepted`);
}

describe('parseSource', () => {
  it('reads hf: repositories with an optional revision (default main) and the endpoint', () => {
    expect(parseSource('hf:facebook/vit-mae-base')).toEqual({ kind: 'hf', id: 'hf:facebook/vit-mae-base@main', repo: 'facebook/vit-mae-base', revision: 'main', endpoint: 'https://huggingface.co' });
    const pinned = parseSource('hf:facebook/vit-mae-base@refs/pr/3', { endpoint: 'https://hf-mirror.example/' });
    expect(pinned).toMatchObject({ id: 'hf:facebook/vit-mae-base@refs/pr/3', revision: 'refs/pr/3', endpoint: 'https://hf-mirror.example' });
    expect(hfFileUrl(pinned as never, 'config.json')).toBe('https://hf-mirror.example/facebook/vit-mae-base/resolve/refs%2Fpr%2F3/config.json');
    expect(parseSource('hf:org/m', { revision: 'v2' })).toMatchObject({ revision: 'v2' });
    expect(parseSource('hf:org/m@v2', { revision: 'v2' })).toMatchObject({ revision: 'v2' });
  });

  it('reads official names, URLs and paths', () => {
    expect(parseSource('mae_visualize_vit_large')).toEqual({
      kind: 'official',
      id: 'mae_visualize_vit_large',
      url: 'https://dl.fbaipublicfiles.com/mae/visualize/mae_visualize_vit_large.pth',
      file: 'mae_visualize_vit_large.pth',
      checkpoint: { path: 'visualize/mae_visualize_vit_large.pth', preset: 'mae_vit_large_patch16', decoder: true, normPixLoss: false },
    });
    expect(Object.entries(OFFICIAL_CHECKPOINTS).map(([name, c]) => `${name} ${parseSource(name).kind === 'official' && (parseSource(name) as { url: string }).url} ${c.preset}`)).toEqual([
      'mae_pretrain_vit_base https://dl.fbaipublicfiles.com/mae/pretrain/mae_pretrain_vit_base.pth mae_vit_base_patch16',
      'mae_pretrain_vit_large https://dl.fbaipublicfiles.com/mae/pretrain/mae_pretrain_vit_large.pth mae_vit_large_patch16',
      'mae_pretrain_vit_huge https://dl.fbaipublicfiles.com/mae/pretrain/mae_pretrain_vit_huge.pth mae_vit_huge_patch14',
      'mae_visualize_vit_base https://dl.fbaipublicfiles.com/mae/visualize/mae_visualize_vit_base.pth mae_vit_base_patch16',
      'mae_visualize_vit_large https://dl.fbaipublicfiles.com/mae/visualize/mae_visualize_vit_large.pth mae_vit_large_patch16',
    ]);
    expect(parseSource('https://example.com/a/b/My%20Weights.pth?x=1')).toEqual({ kind: 'url', id: 'https://example.com/a/b/My%20Weights.pth?x=1', url: 'https://example.com/a/b/My%20Weights.pth?x=1', file: 'My_Weights.pth' });
    expect(parseSource('https://example.com/')).toMatchObject({ file: 'download' });
    expect(parseSource('https://example.com/..%2F..%2Fetc')).toMatchObject({ file: '_.._etc' });
    expect(parseSource('file:///tmp/w.pth')).toEqual({ kind: 'path', id: 'file:///tmp/w.pth', path: '/tmp/w.pth' });
    expect(parseSource('runs/x/model.safetensors')).toEqual({ kind: 'path', id: 'runs/x/model.safetensors', path: 'runs/x/model.safetensors' });
  });

  it('refuses bad sources, naming them and the forms accepted', () => {
    expect(refused('  ')).toBe('"  ": empty source: expected hf:<owner>/<name>[@revision], an official checkpoint name (mae_pretrain_vit_base, mae_pretrain_vit_large, mae_pretrain_vit_huge, mae_visualize_vit_base, mae_visualize_vit_large), an http(s) URL, or a local path');
    expect(refused('hf:vit-mae-base')).toBe("hf:vit-mae-base: 'vit-mae-base' is not a Hugging Face repository id: expected hf:<owner>/<name>[@revision] (letters, digits, . _ -), e.g. hf:facebook/vit-mae-base");
    expect(refused('hf:a/../b')).toMatch(/^hf:a\/\.\.\/b: 'a\/\.\.\/b' is not a Hugging Face repository id/);
    expect(refused('hf:org/m@')).toBe("hf:org/m@: revision '' is not a branch, tag or commit name (letters, digits, . _ - and / between parts)");
    expect(refused('hf:org/m@a/../b')).toMatch(/revision 'a\/\.\.\/b' is not a branch/);
    expect(refused('hf:org/m@v1', { revision: 'v2' })).toBe("hf:org/m@v1: two revisions: '@v1' in the source and 'v2' in the options");
    expect(refused('hf:org/m', { endpoint: 'ftp://x' })).toBe('ftp://x: the Hugging Face endpoint (HF_ENDPOINT) must be an http or https URL, got ftp:');
    expect(refused('hf:org/m', { endpoint: 'not a url' })).toBe('not a url: the Hugging Face endpoint (HF_ENDPOINT) is not a URL: expected http(s)://host[/path]');
    expect(refused('s3://bucket/w.pth')).toMatch(/^s3:\/\/bucket\/w\.pth: unsupported URL scheme 's3:': expected hf:<owner>/);
    expect(refused('https://exa mple.com/x')).toMatch(/^https:\/\/exa mple\.com\/x: not a valid URL/);
    expect(refused('mae_pretrain_vit_base', { revision: 'main' })).toBe("mae_pretrain_vit_base: a revision ('main') applies only to hf: sources, not to an official checkpoint");
    expect(refused('https://x.org/w.pth', { revision: 'main' })).toBe("https://x.org/w.pth: a revision ('main') applies only to hf: sources, not to a URL");
  });
});

describe('sniffProblem', () => {
  const bytes = (s: string) => new TextEncoder().encode(s);
  it('accepts a zip, a safetensors header and a JSON object', () => {
    expect(sniffProblem(new Uint8Array([0x50, 0x4b, 0x03, 0x04, 0, 0]), 'checkpoint', null)).toBeNull();
    expect(sniffProblem(new Uint8Array([2, 0, 0, 0, 0, 0, 0, 0, 0x7b, 0x7d]), 'checkpoint', null)).toBeNull();
    expect(sniffProblem(bytes('\uFEFF  {"a": 1}'), 'json', null)).toBeNull();
  });

  it('says what the body is instead', () => {
    expect(sniffProblem(bytes('<html><body>404</body></html>'), 'checkpoint', 'text/html')).toBe('is an HTML page (Content-Type text/html), not a checkpoint: the URL leads to a web page or an error page, not to the file');
    expect(sniffProblem(bytes('{"error": "x"}'), 'checkpoint', null)).toBe('is JSON text, not a checkpoint (.pth or .safetensors)');
    expect(sniffProblem(new Uint8Array([0x80, 0x02, 0x8a, 0x0a, 1, 2, 3, 4, 5]), 'checkpoint', null)).toBe('is a pickle: the legacy pre-1.6 torch.save format (not a zip), which maejs does not read; save it again with PyTorch >= 1.6 (torch.save(state_dict, path))');
    expect(sniffProblem(new Uint8Array([0x1f, 0x8b, 8, 0, 1, 2, 3, 4, 5]), 'checkpoint', 'application/gzip')).toBe('does not start like a PyTorch .pth (zip) or a .safetensors file (first bytes 1f 8b 08 00 01 02 03 04) (Content-Type application/gzip)');
    expect(sniffProblem(new Uint8Array([255, 255, 255, 255, 255, 255, 255, 255, 0x7b]), 'checkpoint', null)).toMatch(/^does not start like/); // header length 2^64-1
    expect(sniffProblem(new Uint8Array(0), 'checkpoint', null)).toBe('is empty, not a checkpoint');
    expect(sniffProblem(bytes('<!DOCTYPE html>'), 'json', null)).toBe('is an HTML page, not JSON: the URL leads to a web page or an error page, not to the file');
    expect(sniffProblem(bytes('[1, 2]'), 'json', 'application/json')).toBe('is not a JSON object (first bytes 5b 31 2c 20 32 5d) (Content-Type application/json)');
  });
});

describe('entries', () => {
  it('src/index.ts reaches no Node built-ins and no other package; src/node.ts holds the file system', () => {
    const seen = importGraph(join(__dirname, 'index.ts'));
    expect([...new Set([...seen.values()].flat())]).toEqual([]);
    expect([...seen.keys()].map((f) => f.slice(__dirname.length + 1)).sort()).toEqual(['cache.ts', 'download.ts', 'errors.ts', 'hub.ts', 'index.ts', 'sniff.ts', 'sources.ts']);
    expect(importsOf(join(__dirname, 'file-cache.ts'))).toEqual(expect.arrayContaining(['node:fs/promises', 'node:crypto']));
  });
});
