/**
 * A small PNG encoder for 8-bit grayscale and RGB rasters (what the dataset stores), on zlib,
 * and a decoder for the plainest PNGs. Faster than a round trip through sharp for the many small
 * images of an import, and exact: the PNG holds precisely the bytes that were hashed.
 */
import { constants, crc32, deflateSync, inflateSync, type ZlibOptions } from 'node:zlib';
import { simd } from './simd.js';

const SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

/**
 * `raw`: [H, W, C] uint8, C = 1 (gray) or 3 (RGB). Every row is Paeth-filtered — the filter
 * that predicts best on photos, scans and upscaled art alike — and deflated. Level 1 (the
 * import's default) deflates with run-length matching only: on Paeth residuals it is both faster
 * and smaller than level 1's usual string matching (measured on Twemoji scaled to 256² and on
 * photos: about 20 % less time and 10 % fewer bytes). Other levels use zlib's default strategy.
 */
export function encodePng(raw: Uint8Array, width: number, height: number, channels: 1 | 3, level = 3): Buffer {
  const stride = width * channels;
  if (raw.length !== stride * height) throw new Error(`encodePng: ${raw.length} bytes for ${width}×${height}×${channels}`);
  const options: ZlibOptions = level === 1 ? { level, strategy: constants.Z_RLE } : { level };
  const idat = deflateSync(paethFiltered(raw, stride, height, channels), options);
  // One allocation of its own (not a slice of Node's pool), so it can be transferred between threads.
  const out = Buffer.allocUnsafeSlow(SIGNATURE.length + 25 + 12 + idat.length + 12);
  SIGNATURE.copy(out, 0);
  let p = SIGNATURE.length;
  p = chunkInto(out, p, 'IHDR', 13, (at) => {
    out.writeUInt32BE(width, at);
    out.writeUInt32BE(height, at + 4);
    out[at + 8] = 8; // bit depth
    out[at + 9] = channels === 3 ? 2 : 0; // colour type: truecolour or grayscale
    out[at + 10] = 0; // compression
    out[at + 11] = 0; // filter method
    out[at + 12] = 0; // no interlace
  });
  p = chunkInto(out, p, 'IDAT', idat.length, (at) => idat.copy(out, at));
  chunkInto(out, p, 'IEND', 0, () => {});
  return out;
}

/** Writes a chunk at `p` (its data filled in by `fill(at)`); returns the offset after it. */
function chunkInto(out: Buffer, p: number, type: string, length: number, fill: (at: number) => void): number {
  out.writeUInt32BE(length, p);
  out.write(type, p + 4, 'latin1');
  fill(p + 8);
  out.writeUInt32BE(crc32(out.subarray(p + 4, p + 8 + length)) >>> 0, p + 8 + length);
  return p + 12 + length;
}

/**
 * The scanlines, each behind its filter-type byte (4, Paeth). With WebAssembly SIMD the result is
 * a view into the kernel's memory, valid until the next kernel call on this thread.
 */
function paethFiltered(raw: Uint8Array, stride: number, height: number, bpp: number): Uint8Array {
  const k = simd();
  // Kernel memory: [a row of zeros (the row above the first)][raw][16 slack][filtered][16 slack].
  const srcAt = stride;
  const dstAt = (srcAt + raw.length + 16 + 15) & ~15;
  const size = (stride + 1) * height;
  if (!k || stride < 16 || dstAt + size + 16 > PAETH_SCRATCH_LIMIT) return paethJs(raw, stride, height, bpp);
  const mem = k.memory(dstAt + size + 16);
  new Uint8Array(mem, 0, stride).fill(0);
  new Uint8Array(mem, srcAt, raw.length).set(raw);
  k.paeth(srcAt, dstAt, stride, height, bpp);
  const out = new Uint8Array(mem, dstAt, size);
  // The filter-type bytes, and each row's first pixel (no left neighbour: Paeth predicts the byte above).
  for (let y = 0; y < height; y++) {
    const o = y * (stride + 1);
    out[o] = 4;
    for (let i = 0; i < bpp; i++) out[o + 1 + i] = raw[y * stride + i]! - (y > 0 ? raw[(y - 1) * stride + i]! : 0);
  }
  return out;
}

/** Largest scratch memory (bytes) the filter kernel may hold on to; larger images filter in JavaScript. */
const PAETH_SCRATCH_LIMIT = 64 << 20;

/** The same filter, one byte at a time. */
function paethJs(raw: Uint8Array, stride: number, height: number, bpp: number): Uint8Array {
  const out = new Uint8Array((stride + 1) * height);
  for (let y = 0; y < height; y++) {
    const o = y * (stride + 1) + 1;
    const r = y * stride;
    const u = r - stride;
    out[o - 1] = 4;
    for (let i = 0; i < stride; i++) {
      const a = i >= bpp ? raw[r + i - bpp]! : 0;
      const b = y > 0 ? raw[u + i]! : 0;
      const c = i >= bpp && y > 0 ? raw[u + i - bpp]! : 0;
      const pa = Math.abs(b - c);
      const pb = Math.abs(a - c);
      const pc = Math.abs(a + b - 2 * c);
      out[o + i] = raw[r + i]! - (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
    }
  }
  return out;
}

/** A PNG decoded by `decodeSimplePng`: [H, W, C] uint8, C = 3 (RGB) or 4 (RGBA), as sharp's raw output. */
export interface SimplePng {
  data: Uint8Array;
  width: number;
  height: number;
  channels: 3 | 4;
  /** Bits per sample as the file stores them (palette images: 1, 2, 4 or 8). */
  bitDepth: number;
}

const T_IHDR = 0x49484452;
const T_PLTE = 0x504c5445;
const T_TRNS = 0x74524e53;
const T_IDAT = 0x49444154;
const T_IEND = 0x49454e44;
const T_PHYS = 0x70485973;
const T_TIME = 0x74494d45;
const T_TEXT = 0x74455874;

/**
 * Decodes the plainest PNGs in JavaScript — 8-bit RGB or RGBA, or a palette (1–8 bits, with or
 * without tRNS), not interlaced, holding no chunk that could change a pixel on its way through
 * libvips (colour profile, gamma, chromaticities, sBIT, EXIF orientation, …) — and returns null
 * for everything else, including anything malformed, so the caller decodes it with sharp, which
 * then gives its usual answer or skip reason. For these files both give the same bytes (checked
 * against sharp on every Twemoji and on generated files of each kind); this one saves sharp's two
 * trips to its thread pool, most of the cost of a small image. `accept(width, height)` is asked
 * before any pixel is inflated.
 */
export function decodeSimplePng(b: Uint8Array, accept: (width: number, height: number) => boolean): SimplePng | null {
  if (b.length < 8 + 25 + 12 || b[0] !== 0x89 || b[1] !== 0x50 || b[2] !== 0x4e || b[3] !== 0x47 || b[4] !== 0x0d || b[5] !== 0x0a || b[6] !== 0x1a || b[7] !== 0x0a) return null;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let p = 8;
  let width = 0;
  let height = 0;
  let bitDepth = 0;
  let colourType = -1;
  let palette: Uint8Array | null = null;
  let trns: Uint8Array | null = null;
  const idat: Uint8Array[] = [];
  let idatDone = false;
  let ended = false;
  while (p + 12 <= b.length) {
    const len = view.getUint32(p);
    const type = view.getUint32(p + 4);
    const end = p + 12 + len;
    if (len > 0x7fffffff || end > b.length) return null;
    if (crc32(b.subarray(p + 4, p + 8 + len)) >>> 0 !== view.getUint32(p + 8 + len)) return null;
    const data = b.subarray(p + 8, p + 8 + len);
    if (p === 8) {
      // IHDR first, and only a kind handled here.
      if (type !== T_IHDR || len !== 13) return null;
      width = view.getUint32(p + 8);
      height = view.getUint32(p + 12);
      bitDepth = data[8]!;
      colourType = data[9]!;
      if (data[10] !== 0 || data[11] !== 0 || data[12] !== 0) return null; // compression, filter, interlace
      if (width === 0 || height === 0 || width > 0x7fffffff || height > 0x7fffffff) return null;
      const ok = ((colourType === 2 || colourType === 6) && bitDepth === 8) || (colourType === 3 && (bitDepth === 1 || bitDepth === 2 || bitDepth === 4 || bitDepth === 8));
      if (!ok || !accept(width, height)) return null;
    } else if (type === T_IDAT) {
      if (idatDone || (colourType === 3 && !palette)) return null;
      idat.push(data);
    } else {
      if (idat.length > 0) idatDone = true;
      if (type === T_IEND) {
        if (len !== 0) return null;
        ended = true;
        p = end;
        break;
      }
      if (type === T_PLTE) {
        if (colourType !== 3 || palette || idat.length > 0 || len === 0 || len % 3 !== 0 || len / 3 > 1 << bitDepth) return null;
        palette = data;
      } else if (type === T_TRNS) {
        if (colourType !== 3 || !palette || trns || idat.length > 0 || len === 0 || len > palette.length / 3) return null;
        trns = data;
      } else if (type === T_PHYS) {
        if (len !== 9 || data[8]! > 1 || view.getUint32(p + 8) > 0x7fffffff || view.getUint32(p + 12) > 0x7fffffff) return null;
      } else if (type === T_TIME) {
        if (len !== 7 || data[2]! < 1 || data[2]! > 12 || data[3]! < 1 || data[3]! > 31 || data[4]! > 23 || data[5]! > 59 || data[6]! > 60) return null;
      } else if (type === T_TEXT) {
        if (!plainText(data)) return null;
      } else return null; // any other chunk: sharp decides
    }
    p = end;
  }
  if (!ended || p !== b.length || idat.length === 0) return null;

  // Inflate exactly the expected number of bytes (zlib checks the stream and its Adler-32).
  const samplesPerPixel = colourType === 6 ? 4 : colourType === 2 ? 3 : 1;
  const stride = Math.ceil((width * samplesPerPixel * bitDepth) / 8);
  const expected = (stride + 1) * height;
  let raw: Buffer;
  try {
    raw = inflateSync(idat.length === 1 ? idat[0]! : Buffer.concat(idat), { maxOutputLength: expected });
  } catch {
    return null;
  }
  if (raw.length !== expected) return null;
  const rows = unfilter(raw, stride, height, Math.max(1, (samplesPerPixel * bitDepth) >> 3));
  if (!rows) return null;
  if (colourType !== 3) return { data: rows, width, height, channels: colourType === 6 ? 4 : 3, bitDepth };

  // Palette: expanded to RGB, or RGBA when the file has transparency (as libvips does).
  const entries = palette!.length / 3;
  const channels = trns ? 4 : 3;
  const out = new Uint8Array(width * height * channels);
  const perByte = 8 / bitDepth;
  const mask = (1 << bitDepth) - 1;
  let o = 0;
  for (let y = 0; y < height; y++) {
    const r = y * stride;
    for (let x = 0; x < width; x++) {
      const i = bitDepth === 8 ? rows[r + x]! : (rows[r + Math.floor(x / perByte)]! >> (8 - bitDepth * ((x % perByte) + 1))) & mask;
      if (i >= entries) return null; // an index past the palette: sharp reports it
      out[o] = palette![3 * i]!;
      out[o + 1] = palette![3 * i + 1]!;
      out[o + 2] = palette![3 * i + 2]!;
      if (trns) out[o + 3] = i < trns.length ? trns[i]! : 255;
      o += channels;
    }
  }
  return { data: out, width, height, channels, bitDepth };
}

/** Reverses the PNG row filters in place of a copy: [height, stride] bytes without the filter bytes; null on an unknown filter. */
function unfilter(raw: Uint8Array, stride: number, height: number, bpp: number): Uint8Array | null {
  const out = new Uint8Array(stride * height);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)]!;
    const s = y * (stride + 1) + 1;
    const o = y * stride;
    const u = o - stride; // the row above in `out` (absent on the first row: treated as zeros)
    switch (f) {
      case 0:
        out.set(raw.subarray(s, s + stride), o);
        break;
      case 1:
        for (let i = 0; i < stride; i++) out[o + i] = raw[s + i]! + (i >= bpp ? out[o + i - bpp]! : 0);
        break;
      case 2:
        if (y === 0) out.set(raw.subarray(s, s + stride), o);
        else for (let i = 0; i < stride; i++) out[o + i] = raw[s + i]! + out[u + i]!;
        break;
      case 3:
        for (let i = 0; i < stride; i++) out[o + i] = raw[s + i]! + (((i >= bpp ? out[o + i - bpp]! : 0) + (y > 0 ? out[u + i]! : 0)) >> 1);
        break;
      case 4:
        for (let i = 0; i < stride; i++) {
          const a = i >= bpp ? out[o + i - bpp]! : 0;
          const b = y > 0 ? out[u + i]! : 0;
          const c = i >= bpp && y > 0 ? out[u + i - bpp]! : 0;
          const pa = Math.abs(b - c);
          const pb = Math.abs(a - c);
          const pc = Math.abs(a + b - 2 * c);
          out[o + i] = raw[s + i]! + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
        break;
      default:
        return null;
    }
  }
  return out;
}

/** A tEXt chunk as the PNG specification has it: a keyword of 1–79 Latin-1 characters, a null, Latin-1 text without nulls. */
function plainText(d: Uint8Array): boolean {
  const z = d.indexOf(0);
  if (z < 1 || z > 79 || d.indexOf(0, z + 1) !== -1) return false;
  for (let i = 0; i < z; i++) {
    const c = d[i]!;
    if (c < 32 || (c > 126 && c < 161)) return false;
    if (c === 32 && (i === 0 || i === z - 1 || d[i - 1] === 32)) return false;
  }
  return true;
}
