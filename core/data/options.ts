/**
 * Every dataset-import option in one place: its default and what it does. The shapes the
 * renderer sees are in core/api/contract.ts; the CLI and the service fill the gaps from here.
 *
 * Browser-safe: no `node:` imports.
 */
import type { NormaliseSettings } from '../api/contract.js';
import type { ImportOptions } from '../store/imports.js';

/** How images are normalised (stored once per project; see `NormaliseSettings`). */
export const DEFAULT_NORMALISE: Readonly<NormaliseSettings> = {
  resolution: 256, // side of the square training images; a power of two, 16–1024
  fit: 'crop', // centre crop keeps the subject large; 'pad' keeps everything; 'stretch' distorts
  padColour: '#000000', // the border colour when fit is 'pad'
  colourMode: 'rgb', // 'grayscale' for X-ray, CT, MR, microscopy in one channel
  background: '#ffffff', // what transparent pixels become (alpha is composited onto it)
};

/** Per-import options (the shape, with what each does, is stored with each import: core/store/imports.ts). */
export type { ImportOptions };

export const DEFAULT_IMPORT: Readonly<ImportOptions> = {
  labels: 'none', // labels are opt-in: most folders are not organised by class
  unlabelledFolders: [], // with labels from folders: none comes in without its label
  leaveOutFolders: [], // … and none is left out
  nearThreshold: 4, // re-encodes and light edits land at 0–3; distinct images rarely below 10
  nearColourTolerance: 24, // a re-encode shifts the mean colour by a few levels; a recolour by far more
  maxPixels: 100_000_000, // 10,000 × 10,000; a 60,000² PNG header (a bomb) is refused unread
  maxFileBytes: 2 ** 31 - 1, // 2 GiB: what Node reads into one buffer
  batchSize: 64, // images per transaction
  batchMs: 500, // commit at least twice a second so the grid fills while importing
  threads: 0, // one decode thread per CPU core
  pngLevel: 1, // Paeth + run-length: ~10 % smaller and ~20 % faster than level 1 with 'up' (Twemoji at 256², photos)
  thumbSize: 128, // crisp at 64 CSS px on a hi-dpi screen; ~5–15 KiB each
  progressMs: 200, // five updates a second are plenty for a progress bar
};

/** Bounds of the resolution (both powers of two). */
export const MIN_RESOLUTION = 16;
export const MAX_RESOLUTION = 1024;

export function isValidResolution(n: number): boolean {
  return Number.isInteger(n) && n >= MIN_RESOLUTION && n <= MAX_RESOLUTION && (n & (n - 1)) === 0;
}

/** '#rrggbb' → [r, g, b] (0–255). */
export function parseHexColour(hex: string): [number, number, number] {
  const m = /^#([0-9a-f]{2})([0-9a-f]{2})([0-9a-f]{2})$/i.exec(hex);
  if (!m) throw new Error(`Not a colour: ${hex}`);
  return [parseInt(m[1]!, 16), parseInt(m[2]!, 16), parseInt(m[3]!, 16)];
}
