/**
 * One file, start to finish, off the coordinator's thread: read, recognise, decode, normalise,
 * hash, encode the PNG and the thumbnail. Whatever goes wrong with the file becomes a `skipped`
 * outcome with a reason; only bugs throw.
 */
import { readFileSync } from 'node:fs';
import type { NormaliseSettings, SkipCode } from '../api/contract.js';
import { decode } from './decode.js';
import { fsPath } from './file-names.js';
import { bytesHash, colourSignature, meanGrid, perceptualHash, pixelHash } from './dedupe.js';
import { normalise, type Normalised } from './normalise.js';
import type { ImportOptions } from './options.js';
import { encodePng } from './png.js';
import { halve, resample } from './resample.js';
import type { SourceEntry } from './sources.js';
import { skip, skipForIoError, SkipError } from './skip.js';
import { readZipEntry } from './zip.js';

export interface ImageOut {
  /** Frame index for multi-frame DICOM, else null. */
  frame: number | null;
  png: Uint8Array;
  thumb: Uint8Array;
  pixelHash: string;
  phash: string;
  colourSig: Uint8Array;
  size: number;
  channels: 1 | 3;
}

export type EntryOutcome =
  | { kind: 'skipped'; code: SkipCode; reason: string }
  | { kind: 'unchanged'; sourceHash: string }
  | { kind: 'images'; sourceHash: string; format: string; width: number; height: number; bitDepth: number; images: ImageOut[] };

export interface EntryContext {
  settings: NormaliseSettings;
  options: Pick<ImportOptions, 'maxPixels' | 'maxFileBytes' | 'pngLevel' | 'thumbSize'>;
  /** sha256 of files already in the project (or dropped as their duplicates): not decoded again. */
  known: ReadonlySet<string>;
}

export async function processEntry(entry: SourceEntry, ctx: EntryContext): Promise<EntryOutcome> {
  try {
    return await process(entry, ctx);
  } catch (err) {
    if (err instanceof SkipError) return { kind: 'skipped', code: err.code, reason: err.message };
    throw err;
  }
}

async function process(entry: SourceEntry, ctx: EntryContext): Promise<EntryOutcome> {
  const { options } = ctx;
  if (entry.size === 0) throw skip.empty();
  if (entry.size > options.maxFileBytes) throw skip.tooManyBytes(entry.size, options.maxFileBytes);
  let bytes: Buffer;
  try {
    // A plain read: this runs on a decode thread of its own, where a blocking read costs less than a promise.
    bytes = entry.loc.kind === 'file' ? readFileSync(fsPath(entry.loc.path)) : await readZipEntry(entry.loc.archive, entry.loc.entry, options.maxFileBytes);
  } catch (err) {
    throw err instanceof SkipError ? err : skipForIoError(err);
  }
  if (bytes.length === 0) throw skip.empty();
  const sourceHash = bytesHash(bytes);
  if (ctx.known.has(sourceHash)) return { kind: 'unchanged', sourceHash };

  const decoded = await decode(bytes, { settings: ctx.settings, maxPixels: options.maxPixels, name: entry.rel });
  const images: ImageOut[] = [];
  for (let i = 0; i < decoded.frameCount; i++) {
    const n = normalise(await decoded.frame(i), ctx.settings, decoded.preplaced);
    images.push(finish(n, decoded.frameCount > 1 ? i : null, options));
  }
  return { kind: 'images', sourceHash, format: decoded.format, width: decoded.width, height: decoded.height, bitDepth: decoded.bitDepth, images };
}

function finish(n: Normalised, frame: number | null, options: EntryContext['options']): ImageOut {
  const { pixels, size, channels } = n;
  // Halvings of the image down to 32 × 32: one of them is the thumbnail, the last one the grid
  // the perceptual hash and the colour signature read (box means compose exactly).
  const levels: Array<{ pixels: Uint8Array; size: number }> = [{ pixels, size }];
  for (let s = size; s > GRID_SIDE && s % 2 === 0; s >>= 1) levels.push({ pixels: halve(levels.at(-1)!.pixels, s, s, channels), size: s >> 1 });
  const small = levels.at(-1)!;
  const grid = meanGrid(small.pixels, small.size, channels);
  const thumb = thumbnail(levels, channels, options.thumbSize);
  return {
    frame,
    png: encodePng(pixels, size, size, channels, options.pngLevel),
    thumb: encodePng(thumb.pixels, thumb.size, thumb.size, channels, options.pngLevel),
    pixelHash: pixelHash(pixels, size, channels),
    phash: perceptualHash(grid, channels),
    colourSig: colourSignature(grid, channels),
    size,
    channels,
  };
}

const GRID_SIDE = 32;

/** The level of exactly `side` pixels, else the next larger one resampled down; never above the image. */
function thumbnail(levels: Array<{ pixels: Uint8Array; size: number }>, channels: 1 | 3, side: number): { pixels: Uint8Array; size: number } {
  if (levels[0]!.size <= side) return levels[0]!;
  const exact = levels.find((l) => l.size === side);
  if (exact) return exact;
  const above = [...levels].reverse().find((l) => l.size > side)!;
  const f = resample(new Float32Array(above.pixels), above.size, above.size, channels, { x: 0, y: 0, w: above.size, h: above.size }, side, side);
  return { pixels: new Uint8Array(f.buffer, f.byteOffset, f.length), size: side };
}
