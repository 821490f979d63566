/**
 * Why a file is skipped. Decoders throw a `SkipError`; the import records `{file, code, reason}`
 * and goes on with the next file. A reason is one sentence a user can act on.
 */
import type { SkipCode } from '../api/contract.js';

export class SkipError extends Error {
  readonly code: SkipCode;
  constructor(code: SkipCode, reason: string) {
    super(reason);
    this.name = 'SkipError';
    this.code = code;
  }
}

export const skip = {
  empty: () => new SkipError('empty', 'The file is empty (0 bytes).'),
  notAnImage: (what = 'not an image the studio can read') =>
    new SkipError('not-an-image', `Not an image: ${what}. Supported: PNG, JPEG, WebP, AVIF, TIFF, GIF, DICOM.`),
  unsupported: (format: string) =>
    new SkipError('unsupported', `${format} images cannot be decoded here. Convert the file to PNG and import it again.`),
  corrupt: (detail: string) =>
    new SkipError('corrupt', `Truncated or corrupt (${shorten(detail)}). Re-export or re-download the file.`),
  tooLarge: (width: number, height: number, frames: number, limit: number) =>
    new SkipError(
      'too-large',
      `${fmt(width)} × ${fmt(height)}${frames > 1 ? ` × ${fmt(frames)} frames` : ''} pixels is above the limit of ${fmt(limit)} pixels ` +
        `(checked on the header: a decompression bomb would exhaust memory). Downscale the file and import it again.`,
    ),
  tooManyBytes: (bytes: number, limit: number) =>
    new SkipError('too-large', `The file is ${fmt(bytes)} bytes, above the limit of ${fmt(limit)}. Split or downscale it first.`),
  dicomNoPixels: () =>
    new SkipError('dicom-no-pixels', 'A DICOM file without pixel data (a report, a structured document or a presentation state); nothing to import.'),
  dicomUnsupported: (what: string) =>
    new SkipError(
      'dicom-unsupported',
      `Unsupported DICOM encoding: ${what}. Convert it to uncompressed DICOM (e.g. \`gdcmconv --raw in.dcm out.dcm\` or \`dcmdjpeg\`) and import it again.`,
    ),
  unreadable: (detail: string) =>
    new SkipError('unreadable', `Cannot read the file (${shorten(detail)}). Check its permissions, or copy it somewhere readable.`),
};

/** The SkipError for a Node fs error while reading a file. */
export function skipForIoError(err: unknown): SkipError {
  const code = (err as { code?: string } | null)?.code;
  if (code === 'EACCES' || code === 'EPERM') return skip.unreadable('permission denied');
  if (code === 'ENOENT') return skip.unreadable('it was moved or deleted during the import');
  if (code === 'EISDIR') return skip.notAnImage('a folder');
  if (code === 'ERR_FS_FILE_TOO_LARGE') return skip.unreadable('too large to read at once');
  return skip.unreadable((err as Error)?.message ?? String(err));
}

function fmt(n: number): string {
  return n.toLocaleString('en-US');
}

function shorten(s: string): string {
  const line = s.split('\n')[0]!.trim();
  return line.length > 160 ? `${line.slice(0, 157)}…` : line;
}
