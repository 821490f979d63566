/**
 * Which file of the built renderer a request path names: shared by the browser-mode server and
 * Electron's `atelier://app` protocol, so both refuse the same paths the same way.
 */
import { join, normalize, sep } from 'node:path';

export interface RendererFile {
  /** The file inside `root`, or null when the path points outside it (answer 404). */
  file: string | null;
  /** True for the page itself (never cached). */
  index: boolean;
}

/**
 * `pathname` as it arrives in a URL (percent-encoded). Null for a path that is not a path at
 * all — malformed percent-encoding (`%E0%A4%A`), a NUL byte — which the caller answers with 400;
 * `decodeURIComponent` throws on the first, and a throw there must not reach the request loop.
 */
export function rendererFile(root: string, pathname: string): RendererFile | null {
  let rel: string;
  try {
    rel = decodeURIComponent(pathname);
  } catch {
    return null;
  }
  if (rel.includes('\0')) return null;
  if (rel === '/' || rel === '') rel = '/index.html';
  const file = normalize(join(root, rel));
  const inside = file.startsWith(root.endsWith(sep) ? root : root + sep);
  return { file: inside ? file : null, index: rel === '/index.html' };
}
