/**
 * What a source string names: a Hugging Face repository (`hf:owner/name[@revision]`), an
 * official MAE checkpoint by name, an http(s) URL, or a local path.
 */
import { HubError } from './errors.js';

/** The Hugging Face hub, unless an endpoint option or HF_ENDPOINT says otherwise. */
export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';

/** Where the official checkpoints of facebookresearch/mae are published. */
export const OFFICIAL_BASE_URL = 'https://dl.fbaipublicfiles.com/mae/';

/** One official checkpoint: where it is (below {@link OFFICIAL_BASE_URL}) and the preset it fits. */
export interface OfficialCheckpoint {
  /** Path below the base URL, e.g. `pretrain/mae_pretrain_vit_base.pth`. */
  path: string;
  /** The maejs preset (`@maejs/mae` PRESETS) with the architecture and head counts. */
  preset: string;
  /** Whether the file holds the decoder (the visualization checkpoints) or the encoder only. */
  decoder: boolean;
  /** The loss target it was trained with: normalised pixels (pre-training) or raw pixels (visualization). */
  normPixLoss: boolean;
}

/**
 * The official checkpoints by name. The pre-trained ones hold the encoder only; the
 * visualization ones hold the whole MAE, decoder included, trained on raw pixels.
 */
export const OFFICIAL_CHECKPOINTS = {
  mae_pretrain_vit_base: { path: 'pretrain/mae_pretrain_vit_base.pth', preset: 'mae_vit_base_patch16', decoder: false, normPixLoss: true },
  mae_pretrain_vit_large: { path: 'pretrain/mae_pretrain_vit_large.pth', preset: 'mae_vit_large_patch16', decoder: false, normPixLoss: true },
  mae_pretrain_vit_huge: { path: 'pretrain/mae_pretrain_vit_huge.pth', preset: 'mae_vit_huge_patch14', decoder: false, normPixLoss: true },
  mae_visualize_vit_base: { path: 'visualize/mae_visualize_vit_base.pth', preset: 'mae_vit_base_patch16', decoder: true, normPixLoss: false },
  mae_visualize_vit_large: { path: 'visualize/mae_visualize_vit_large.pth', preset: 'mae_vit_large_patch16', decoder: true, normPixLoss: false },
} as const satisfies Record<string, OfficialCheckpoint>;

/** Names accepted as official checkpoints. */
export type OfficialName = keyof typeof OFFICIAL_CHECKPOINTS;

/** A Hugging Face repository at a revision. */
export interface HfSource {
  kind: 'hf';
  /** `hf:owner/name@revision`. */
  id: string;
  repo: string;
  revision: string;
  /** The hub's base URL, without a trailing slash. */
  endpoint: string;
}

/** One file at an http(s) URL. */
export interface UrlSource {
  kind: 'url';
  /** The URL. */
  id: string;
  url: string;
  /** The file name (last path segment). */
  file: string;
}

/** An official checkpoint by name. */
export interface OfficialSource {
  kind: 'official';
  /** The name, e.g. `mae_pretrain_vit_base`. */
  id: OfficialName;
  url: string;
  /** The file name, e.g. `mae_pretrain_vit_base.pth`. */
  file: string;
  checkpoint: OfficialCheckpoint;
}

/** A file or folder on this machine (Node only). */
export interface PathSource {
  kind: 'path';
  id: string;
  path: string;
}

/** A parsed source: a Hugging Face repository, a URL, an official checkpoint name, or a local path. */
export type PretrainedSource = HfSource | UrlSource | OfficialSource | PathSource;

/** Options that shape how a source string is read. */
export interface SourceOptions {
  /** Revision of an hf: source without `@revision` (a branch, tag or commit); default `main`. */
  revision?: string;
  /** Hugging Face endpoint; default https://huggingface.co. */
  endpoint?: string;
  /** Base URL of the official checkpoints (a mirror); default {@link OFFICIAL_BASE_URL}. */
  officialBaseUrl?: string;
}

const SOURCE_FORMS = `hf:<owner>/<name>[@revision], an official checkpoint name (${Object.keys(OFFICIAL_CHECKPOINTS).join(', ')}), an http(s) URL, or a local path`;
const REPO_PART = /^[A-Za-z0-9](?:[A-Za-z0-9._-]{0,94}[A-Za-z0-9_-])?$/;
const REVISION = /^[A-Za-z0-9._\-/]{1,255}$/;

/** The endpoint as a base URL without a trailing slash, or an error naming it. */
export function checkEndpoint(endpoint: string, what = 'endpoint'): string {
  let url: URL;
  try {
    url = new URL(endpoint);
  } catch {
    throw new HubError('bad-source', endpoint, undefined, `the ${what} is not a URL: expected http(s)://host[/path]`);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new HubError('bad-source', endpoint, undefined, `the ${what} must be an http or https URL, got ${url.protocol}`);
  if (url.search || url.hash) throw new HubError('bad-source', endpoint, undefined, `the ${what} must not have a query or fragment`);
  return url.href.replace(/\/+$/, '');
}

/** A revision (branch, tag, commit, refs/pr/N), or an error naming it. */
function checkRevision(revision: string, source: string): string {
  if (!REVISION.test(revision) || revision.split('/').some((part) => part === '' || part === '.' || part === '..')) {
    throw new HubError('bad-source', source, undefined, `revision '${revision}' is not a branch, tag or commit name (letters, digits, . _ - and / between parts)`);
  }
  return revision;
}

function parseHf(rest: string, source: string, options: SourceOptions): HfSource {
  const at = rest.indexOf('@');
  const repo = at < 0 ? rest : rest.slice(0, at);
  const parts = repo.split('/');
  if (parts.length !== 2 || !parts.every((p) => REPO_PART.test(p) && !p.includes('..'))) {
    throw new HubError('bad-source', source, undefined, `'${repo}' is not a Hugging Face repository id: expected hf:<owner>/<name>[@revision] (letters, digits, . _ -), e.g. hf:facebook/vit-mae-base`);
  }
  let revision = options.revision === undefined ? 'main' : checkRevision(options.revision, source);
  if (at >= 0) {
    const given = checkRevision(rest.slice(at + 1), source);
    if (options.revision !== undefined && options.revision !== given) throw new HubError('bad-source', source, undefined, `two revisions: '@${given}' in the source and '${options.revision}' in the options`);
    revision = given;
  }
  const endpoint = checkEndpoint(options.endpoint ?? DEFAULT_HF_ENDPOINT, 'Hugging Face endpoint (HF_ENDPOINT)');
  return { kind: 'hf', id: `hf:${repo}@${revision}`, repo, revision, endpoint };
}

/** The last path segment of a URL as a safe file name (`download` when there is none). */
export function fileNameOf(url: URL): string {
  const last = url.pathname.split('/').filter(Boolean).pop() ?? '';
  let name: string;
  try {
    name = decodeURIComponent(last);
  } catch {
    name = last;
  }
  name = name.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 128);
  return name || 'download';
}

/**
 * Reads a source string. `hf:` is a Hugging Face repository; an official name is looked up in
 * {@link OFFICIAL_CHECKPOINTS}; `http://` and `https://` are URLs (`file://` and anything else
 * is a local path). Throws a {@link HubError} ('bad-source') naming the string and the forms
 * accepted.
 */
export function parseSource(source: string, options: SourceOptions = {}): PretrainedSource {
  const text = source.trim();
  if (!text) throw new HubError('bad-source', JSON.stringify(source), undefined, `empty source: expected ${SOURCE_FORMS}`);
  const notHf = (kind: string) => {
    if (options.revision !== undefined) throw new HubError('bad-source', text, undefined, `a revision ('${options.revision}') applies only to hf: sources, not to ${kind}`);
  };
  if (/^hf:/i.test(text)) return parseHf(text.slice(3), text, options);
  if (/^file:\/\//i.test(text)) {
    notHf('a local path');
    return { kind: 'path', id: text, path: decodeURIComponent(text.slice('file://'.length)) };
  }
  if (/^https?:\/\//i.test(text)) {
    notHf('a URL');
    let url: URL;
    try {
      url = new URL(text);
    } catch {
      throw new HubError('bad-source', text, undefined, `not a valid URL: expected ${SOURCE_FORMS}`);
    }
    if (!url.hostname) throw new HubError('bad-source', text, undefined, 'the URL has no host');
    return { kind: 'url', id: url.href, url: url.href, file: fileNameOf(url) };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) throw new HubError('bad-source', text, undefined, `unsupported URL scheme '${text.split(':')[0]}:': expected ${SOURCE_FORMS}`);
  if (Object.prototype.hasOwnProperty.call(OFFICIAL_CHECKPOINTS, text)) {
    notHf('an official checkpoint');
    const name = text as OfficialName;
    const checkpoint: OfficialCheckpoint = OFFICIAL_CHECKPOINTS[name];
    const base = checkEndpoint(options.officialBaseUrl ?? OFFICIAL_BASE_URL, 'official base URL (MAEJS_OFFICIAL_BASE_URL)');
    return { kind: 'official', id: name, url: `${base}/${checkpoint.path}`, file: checkpoint.path.split('/').pop()!, checkpoint };
  }
  notHf('a local path');
  return { kind: 'path', id: text, path: text };
}

/** The forms a source can take, for messages. */
export function sourceForms(): string {
  return SOURCE_FORMS;
}

/** The URL of one file of a Hugging Face repository: `{endpoint}/{repo}/resolve/{revision}/{file}`. */
export function hfFileUrl(source: HfSource, file: string): string {
  return `${source.endpoint}/${source.repo}/resolve/${encodeURIComponent(source.revision)}/${file}`;
}
