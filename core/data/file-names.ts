/**
 * File names as the OS gives them. On Linux a name is bytes, and not every name is UTF-8
 * (`caf\xe9.png` from a Latin-1 system, an old archive, a camera). Node decodes such a name to a
 * string with U+FFFD in it — a string that names no file, so opening it fails. Here a path stays
 * a string when its bytes are UTF-8 and is kept as its bytes otherwise (Node's fs takes both),
 * and what the user reads escapes each stray byte as `\xHH`, so the name is still recognisable.
 */
import { sep } from 'node:path';

/** A path to hand to fs: a string, or the raw bytes of a name that is not UTF-8. */
export type FsPath = string | Buffer;

/** A path back from a structured clone (a worker message turns a Buffer into a plain Uint8Array). */
export function fsPath(p: string | Uint8Array): FsPath {
  return typeof p === 'string' || Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
}

/** `name`'s bytes decoded as UTF-8, each byte that is not part of a valid sequence written `\xHH`. */
export function escapeBytes(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  let run = i; // start of a stretch of valid UTF-8, decoded in one go
  const flush = (end: number): void => {
    if (end > run) out += Buffer.from(bytes.buffer, bytes.byteOffset + run, end - run).toString('utf8');
  };
  while (i < bytes.length) {
    const len = utf8SequenceLength(bytes, i);
    if (len > 0) {
      i += len;
      continue;
    }
    flush(i);
    out += `\\x${bytes[i]!.toString(16).padStart(2, '0')}`;
    i++;
    run = i;
  }
  flush(i);
  return out;
}

/** Length of the valid UTF-8 sequence at `i` (1–4), or 0 when the byte there starts none (RFC 3629: no overlongs, no surrogates). */
function utf8SequenceLength(b: Uint8Array, i: number): number {
  const c = b[i]!;
  if (c < 0x80) return 1;
  const cont = (k: number, lo = 0x80, hi = 0xbf): boolean => i + k < b.length && b[i + k]! >= lo && b[i + k]! <= hi;
  if (c >= 0xc2 && c <= 0xdf) return cont(1) ? 2 : 0;
  if (c === 0xe0) return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c === 0xee || c === 0xef) return cont(1) && cont(2) ? 3 : 0;
  if (c === 0xed) return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c === 0xf0) return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3) return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c === 0xf4) return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

/** True when `bytes` are valid UTF-8 (a string can then stand for them exactly). */
export function isUtf8(bytes: Uint8Array): boolean {
  for (let i = 0; i < bytes.length; ) {
    const len = utf8SequenceLength(bytes, i);
    if (len === 0) return false;
    i += len;
  }
  return true;
}

/** The path as bytes. */
export function pathBytes(p: FsPath): Buffer {
  return typeof p === 'string' ? Buffer.from(p, 'utf8') : p;
}

/** `dir/name` for fs: a string while every part is UTF-8, else bytes. */
export function childPath(dir: FsPath, name: Uint8Array): FsPath {
  if (typeof dir === 'string' && isUtf8(name)) return `${dir}${dir.endsWith(sep) ? '' : sep}${Buffer.from(name).toString('utf8')}`;
  const head = pathBytes(dir);
  const slash = head.length > 0 && head[head.length - 1] === sep.charCodeAt(0) ? [] : [Buffer.from(sep)];
  return Buffer.concat([head, ...slash, Buffer.from(name)]);
}

/** The path as the user reads it: stray bytes as `\xHH`. */
export function displayPath(p: FsPath): string {
  return typeof p === 'string' ? p : escapeBytes(p);
}

/** True when the path (bytes) is `root` or inside it; compared as bytes, so no decoding can blur it. */
export function isInsideBytes(root: string, p: FsPath): boolean {
  const r = Buffer.from(root, 'utf8');
  const b = pathBytes(p);
  if (b.equals(r)) return true;
  const prefix = r.length > 0 && r[r.length - 1] === sep.charCodeAt(0) ? r : Buffer.concat([r, Buffer.from(sep)]);
  return b.length > prefix.length && b.subarray(0, prefix.length).equals(prefix);
}
