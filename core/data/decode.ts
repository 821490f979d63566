/**
 * Bytes to rasters. The header is probed first and an image above the pixel limit is refused
 * before a single pixel is decoded (decompression bombs). Decoding is sharp (libvips, on its own
 * threads): EXIF orientation applied, CMYK and ICC profiles converted to sRGB, the first frame of
 * animations, 16-bit kept as 16-bit. Large images are shrunk by sharp on load (JPEG decodes at
 * 1/2, 1/4, 1/8); small ones come out at full size for the normaliser to scale up. Small plain
 * PNGs (8-bit RGB/RGBA or a palette, nothing that would change a pixel in libvips) that will be
 * scaled up are decoded in JavaScript instead (png.ts), to the same bytes, without sharp's round
 * trips; sharp itself is loaded on first use.
 */
import type Sharp from 'sharp';
import type { NormaliseSettings } from '../api/contract.js';
import { decodeDicom, isDicomPart10 } from './dicom.js';
import { loadSharp } from './lazy-sharp.js';
import { placement, type Raster } from './normalise.js';
import { parseHexColour } from './options.js';
import { decodeSimplePng } from './png.js';
import { skip, SkipError } from './skip.js';

export interface Decoded {
  /** Frames in the file: several for multi-frame DICOM, else one. */
  frameCount: number;
  /** Decodes one frame on demand. */
  frame(index: number): Promise<Raster>;
  /** True when sharp already applied fit and resolution (see `normalise(…, preplaced)`). */
  preplaced: boolean;
  format: string;
  width: number;
  height: number;
  bitDepth: number;
}

type Sniffed = 'png' | 'jpeg' | 'gif' | 'webp' | 'tiff' | 'avif' | 'heic' | 'bmp' | 'jp2' | 'dicom' | 'pdf' | 'zip' | 'text' | 'unknown';

/** Recognises a file by its first bytes (never by its name). */
export function sniff(b: Uint8Array): Sniffed {
  const ascii = (at: number, s: string): boolean => b.length >= at + s.length && [...s].every((c, i) => b[at + i] === c.charCodeAt(0));
  if (ascii(0, '\x89PNG')) return 'png';
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'jpeg';
  if (ascii(0, 'GIF8')) return 'gif';
  if (ascii(0, 'RIFF') && ascii(8, 'WEBP')) return 'webp';
  if (ascii(0, 'II*\0') || ascii(0, 'MM\0*') || ascii(0, 'II+\0') || ascii(0, 'MM\0+')) return 'tiff';
  if (ascii(4, 'ftyp')) {
    const brand = String.fromCharCode(...b.subarray(8, 12));
    if (brand === 'avif' || brand === 'avis') return 'avif';
    if (brand === 'mif1' || brand === 'msf1') return ascii(16, 'avif') || ascii(20, 'avif') ? 'avif' : 'heic';
    if (brand.startsWith('hei') || brand.startsWith('hev')) return 'heic';
  }
  if (ascii(0, 'BM')) return 'bmp';
  if (ascii(4, 'jP  ') || (b[0] === 0xff && b[1] === 0x4f && b[2] === 0xff && b[3] === 0x51)) return 'jp2';
  if (isDicomPart10(b)) return 'dicom';
  if (ascii(0, '%PDF')) return 'pdf';
  if (ascii(0, 'PK\x03\x04')) return 'zip';
  if (looksLikeText(b)) return 'text';
  return 'unknown';
}

function looksLikeText(b: Uint8Array): boolean {
  const n = Math.min(b.length, 512);
  if (n === 0) return false;
  let printable = 0;
  for (let i = 0; i < n; i++) {
    const c = b[i]!;
    if (c === 0) return false;
    if (c === 9 || c === 10 || c === 13 || (c >= 32 && c < 127) || c >= 128) printable++;
  }
  return printable / n > 0.95;
}

const NOT_IMAGES: Partial<Record<Sniffed, string>> = {
  pdf: 'a PDF document',
  zip: 'an archive (import a .zip as a source on its own)',
  text: 'the file holds text',
};
const UNSUPPORTED: Partial<Record<Sniffed, string>> = { heic: 'HEIC', bmp: 'BMP', jp2: 'JPEG 2000' };

export interface DecodeOptions {
  settings: NormaliseSettings;
  maxPixels: number;
  /** The file's name, for DICOM files without the Part 10 preamble (`.dcm`). */
  name: string;
}

export async function decode(bytes: Buffer, opts: DecodeOptions): Promise<Decoded> {
  if (bytes.length === 0) throw skip.empty();
  const kind = sniff(bytes);
  // DICOM by its preamble, or by its name when it is a bare data set without one (old ACR-NEMA files).
  if (kind === 'dicom' || (kind === 'unknown' && /\.(dcm|dicom|ima)$/i.test(opts.name))) {
    const d = await decodeDicom(bytes, opts.maxPixels);
    return { frameCount: d.frameCount, frame: d.frame, preplaced: false, format: d.format, width: d.width, height: d.height, bitDepth: d.bitDepth };
  }
  if (NOT_IMAGES[kind]) throw skip.notAnImage(NOT_IMAGES[kind]);
  if (UNSUPPORTED[kind]) throw skip.unsupported(UNSUPPORTED[kind]);
  if (kind === 'unknown' || kind === 'text') {
    throw skip.notAnImage(kind === 'text' ? 'the file holds text' : 'the contents match no image format');
  }

  // Small plain PNGs (8-bit RGB/RGBA or a palette, no colour profile or gamma) that are scaled up,
  // not down: decoded here in JavaScript to the same bytes sharp gives, without its round trips.
  if (kind === 'png') {
    const { settings, maxPixels } = opts;
    const png = decodeSimplePng(bytes, (w, h) => w * h <= maxPixels && placement(w, h, settings).upscale);
    if (png) {
      const raster: Raster = { data: png.data, width: png.width, height: png.height, channels: png.channels, maxValue: 255 };
      return { frameCount: 1, frame: async () => raster, preplaced: false, format: 'png', width: png.width, height: png.height, bitDepth: png.bitDepth };
    }
  }

  // 1. The header only: size, depth, orientation.
  const sharp = await loadSharp();
  let meta: Sharp.Metadata;
  try {
    meta = await sharp(bytes, { limitInputPixels: false }).metadata();
  } catch (err) {
    throw skip.corrupt(`the ${kind.toUpperCase()} header cannot be read: ${(err as Error).message}`);
  }
  const width = meta.width ?? 0;
  const height = meta.height ?? 0;
  if (!width || !height) throw skip.corrupt(`the ${kind.toUpperCase()} header has no image size`);
  if (width * height > opts.maxPixels) throw skip.tooLarge(width, height, 1, opts.maxPixels);
  const deep = meta.depth === 'ushort';
  const bitDepth = deep ? 16 : meta.bitsPerSample && meta.bitsPerSample <= 8 ? meta.bitsPerSample : 8;
  const oriented = meta.autoOrient ?? { width, height };

  // 2. Decode, shrinking on load when the image is larger than it needs to be.
  const { settings } = opts;
  const place = placement(oriented.width, oriented.height, settings);
  let img = sharp(bytes, { limitInputPixels: opts.maxPixels, failOn: 'truncated', sequentialRead: true }).autoOrient();
  if (!place.upscale) {
    const [r, g, b] = parseHexColour(settings.padColour);
    img = img.resize(settings.resolution, settings.resolution, {
      fit: settings.fit === 'crop' ? 'cover' : settings.fit === 'pad' ? 'contain' : 'fill',
      position: 'centre',
      kernel: 'lanczos3',
      background: { r, g, b, alpha: 1 },
    });
  }
  const gray = meta.channels !== undefined && meta.channels <= 2 && meta.space !== 'cmyk';
  if (deep) img = img.toColourspace(gray ? 'grey16' : 'rgb16').raw({ depth: 'ushort' });
  else img = img.raw();
  let out: { data: Buffer; info: Sharp.OutputInfo };
  try {
    out = await img.toBuffer({ resolveWithObject: true });
  } catch (err) {
    const msg = (err as Error).message;
    if (/pixel limit/i.test(msg)) throw skip.tooLarge(width, height, 1, opts.maxPixels);
    throw skip.corrupt(msg);
  }
  const { data, info } = out;
  const channels = info.channels as Raster['channels'];
  const samples = deep
    ? data.byteOffset % 2 === 0
      ? new Uint16Array(data.buffer, data.byteOffset, data.byteLength / 2)
      : new Uint16Array(Uint8Array.from(data).buffer)
    : new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  if (samples.length !== info.width * info.height * channels) throw new SkipError('corrupt', 'Truncated or corrupt (decoded size mismatch).');
  const raster: Raster = { data: samples, width: info.width, height: info.height, channels, maxValue: deep ? 65535 : 255 };
  return {
    frameCount: 1,
    frame: async () => raster,
    preplaced: !place.upscale,
    format: meta.format === 'heif' ? 'avif' : (meta.format ?? kind),
    width: oriented.width,
    height: oriented.height,
    bitDepth,
  };
}
