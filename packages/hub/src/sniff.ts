/**
 * A look at the first bytes of a body before it is kept: a checkpoint must start like a
 * PyTorch .pth (a zip) or a .safetensors file, a config like a JSON object. Error pages (HTML)
 * and other mix-ups are refused with a message that says what the body is instead.
 */

/** What a file must be. */
export type ExpectedContent = 'checkpoint' | 'json';

/** Bytes the sniffer wants to see (fewer only when the body is shorter). */
export const SNIFF_BYTES = 16;

const HTML_START = /^\s*<(!doctype\s+html|html|head|body|title|\?xml|!--)/i;

function hex(bytes: Uint8Array): string {
  return Array.from(bytes.subarray(0, 8), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

function text(bytes: Uint8Array): string {
  return new TextDecoder('utf-8', { fatal: false }).decode(bytes.subarray(0, 64)).replace(/^\uFEFF/, '');
}

/** True when the bytes start like a .safetensors file: a u64 header length, then `{`. */
function looksLikeSafetensors(bytes: Uint8Array): boolean {
  if (bytes.length < 9 || bytes[8] !== 0x7b) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 8);
  return view.getUint32(4, true) === 0 && view.getUint32(0, true) >= 2;
}

/**
 * null when `start` (the first bytes of a body) fits `expect`; otherwise what the body is
 * instead, e.g. `is an HTML page (Content-Type text/html), not a checkpoint`.
 */
export function sniffProblem(start: Uint8Array, expect: ExpectedContent, contentType: string | null): string | null {
  const type = contentType ? ` (Content-Type ${contentType})` : '';
  const head = text(start);
  if (expect === 'checkpoint') {
    if (start.length >= 4 && start[0] === 0x50 && start[1] === 0x4b && start[2] === 0x03 && start[3] === 0x04) return null;
    if (looksLikeSafetensors(start)) return null;
    if (HTML_START.test(head)) return `is an HTML page${type}, not a checkpoint: the URL leads to a web page or an error page, not to the file`;
    if (/^\s*[{[]/.test(head)) return `is JSON text${type}, not a checkpoint (.pth or .safetensors)`;
    if (start.length === 0) return 'is empty, not a checkpoint';
    if (start[0] === 0x80 && start[1] >= 2 && start[1] <= 5) return 'is a pickle: the legacy pre-1.6 torch.save format (not a zip), which maejs does not read; save it again with PyTorch >= 1.6 (torch.save(state_dict, path))';
    return `does not start like a PyTorch .pth (zip) or a .safetensors file (first bytes ${hex(start)})${type}`;
  }
  if (/^\s*\{/.test(head)) return null;
  if (HTML_START.test(head)) return `is an HTML page${type}, not JSON: the URL leads to a web page or an error page, not to the file`;
  if (start.length === 0) return 'is empty, not a JSON object';
  return `is not a JSON object (first bytes ${hex(start)})${type}`;
}
