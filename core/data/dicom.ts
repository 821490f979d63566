/**
 * DICOM to rasters, one per frame, with dicom-parser.
 *
 * - Monochrome: stored values are masked to Bits Stored and sign-extended, then the modality
 *   transform (Rescale Slope/Intercept) and the VOI transform (Window Centre/Width and the VOI
 *   LUT Function, PS3.3 C.11.2.1.2; without window tags, the pixel range of the file) run in
 *   floating point. MONOCHROME1 is inverted so that bright is always dense. The result keeps
 *   full precision (float, 0–65535) until the normaliser's final 8-bit rounding.
 * - RGB (8-bit, either planar configuration) and YBR_FULL are converted to RGB.
 * - Transfer syntaxes: implicit/explicit little endian, explicit big endian, deflated, RLE
 *   lossless, and JPEG baseline (through sharp). Others are skipped with their name.
 * - Enhanced (multi-frame) objects: window and rescale are also read from the shared and
 *   per-frame functional groups.
 */
import dicomParser from 'dicom-parser';
import type { DataSet, Element } from 'dicom-parser';
import { loadSharp } from './lazy-sharp.js';
import type { Raster } from './normalise.js';
import { skip, SkipError } from './skip.js';

export interface DicomImage {
  frameCount: number;
  /** Decodes one frame (0-based) on demand: a volume of hundreds of frames never sits in memory whole. */
  frame(index: number): Promise<Raster>;
  width: number;
  height: number;
  /** Bits Stored. */
  bitDepth: number;
  /** e.g. 'dicom (Explicit VR Little Endian)'. */
  format: string;
}

/** `DICM` at byte 128: a DICOM Part 10 file. */
export function isDicomPart10(bytes: Uint8Array): boolean {
  return bytes.length >= 132 && bytes[128] === 0x44 && bytes[129] === 0x49 && bytes[130] === 0x43 && bytes[131] === 0x4d;
}

const IMPLICIT_LE = '1.2.840.10008.1.2';
const EXPLICIT_LE = '1.2.840.10008.1.2.1';
const DEFLATED_LE = '1.2.840.10008.1.2.1.99';
const EXPLICIT_BE = '1.2.840.10008.1.2.2';
const RLE = '1.2.840.10008.1.2.5';
const JPEG_BASELINE = '1.2.840.10008.1.2.4.50';

const SYNTAX_NAMES: Record<string, string> = {
  [IMPLICIT_LE]: 'Implicit VR Little Endian',
  [EXPLICIT_LE]: 'Explicit VR Little Endian',
  [DEFLATED_LE]: 'Deflated Explicit VR Little Endian',
  [EXPLICIT_BE]: 'Explicit VR Big Endian',
  [RLE]: 'RLE Lossless',
  [JPEG_BASELINE]: 'JPEG Baseline',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended (12-bit)',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Lossless',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.201': 'HTJ2K Lossless',
  '1.2.840.10008.1.2.4.202': 'HTJ2K Lossless RPCL',
  '1.2.840.10008.1.2.4.203': 'HTJ2K',
  '1.2.840.10008.1.2.4.100': 'MPEG-2',
  '1.2.840.10008.1.2.4.102': 'MPEG-4',
  '1.2.840.10008.1.2.4.110': 'JPEG XL Lossless',
};

function syntaxName(uid: string): string {
  return SYNTAX_NAMES[uid] ? `${SYNTAX_NAMES[uid]} (${uid})` : `transfer syntax ${uid}`;
}

/** VOI transform per PS3.3 C.11.2.1.2 and C.11.2.1.3; returns 0–1. */
export type VoiFunction = 'LINEAR' | 'LINEAR_EXACT' | 'SIGMOID';

export function applyWindow(x: number, centre: number, width: number, fn: VoiFunction = 'LINEAR'): number {
  if (fn === 'SIGMOID') return 1 / (1 + Math.exp((-4 * (x - centre)) / width));
  if (fn === 'LINEAR_EXACT') {
    if (x <= centre - width / 2) return 0;
    if (x > centre + width / 2) return 1;
    return (x - centre) / width + 0.5;
  }
  if (x <= centre - 0.5 - (width - 1) / 2) return 0;
  if (x > centre - 0.5 + (width - 1) / 2) return 1;
  return (x - (centre - 0.5)) / (width - 1) + 0.5;
}

export async function decodeDicom(bytes: Buffer, maxPixels: number): Promise<DicomImage> {
  const ds = parse(bytes);
  const ts = (ds.string('x00020010') ?? IMPLICIT_LE).replace(/\0/g, '').trim();
  const pixelEl = ds.elements.x7fe00010;
  if (!pixelEl) {
    if (ds.elements.x7fe00008 || ds.elements.x7fe00009) throw skip.dicomUnsupported('floating-point pixel data');
    throw skip.dicomNoPixels();
  }
  const rows = ds.uint16('x00280010') ?? 0;
  const cols = ds.uint16('x00280011') ?? 0;
  const spp = ds.uint16('x00280002') ?? 1;
  const bitsAllocated = ds.uint16('x00280100') ?? 0;
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  const highBit = ds.uint16('x00280102') ?? bitsStored - 1;
  const signed = (ds.uint16('x00280103') ?? 0) === 1;
  const photometric = (ds.string('x00280004') ?? (spp === 3 ? 'RGB' : 'MONOCHROME2')).trim().toUpperCase();
  const planar = ds.uint16('x00280006') ?? 0;
  const frames = Math.max(1, ds.intString('x00280008') ?? 1);
  if (!rows || !cols) throw skip.corrupt('the DICOM header has no image size (Rows/Columns)');
  if (rows * cols * frames > maxPixels) throw skip.tooLarge(cols, rows, frames, maxPixels);
  if (pixelEl.length === 0) throw skip.dicomNoPixels();

  const mono = photometric === 'MONOCHROME1' || photometric === 'MONOCHROME2';
  const colour = photometric === 'RGB' || photometric === 'YBR_FULL' || (ts === JPEG_BASELINE && photometric.startsWith('YBR'));
  if (!mono && !colour) throw skip.dicomUnsupported(`photometric interpretation ${photometric}`);
  if ((mono && spp !== 1) || (colour && spp !== 3)) throw skip.dicomUnsupported(`${spp} samples per pixel with ${photometric}`);
  if (bitsAllocated !== 8 && bitsAllocated !== 16) throw skip.dicomUnsupported(`${bitsAllocated} bits allocated per sample`);
  if (colour && bitsAllocated !== 8) throw skip.dicomUnsupported(`${bitsAllocated}-bit colour`);
  const format = `dicom (${SYNTAX_NAMES[ts] ?? ts})`;

  // Stored values of one frame, [rows, cols, spp] interleaved.
  let stored: (f: number) => Promise<Int32Array | Uint8Array>;
  if (ts === IMPLICIT_LE || ts === EXPLICIT_LE || ts === DEFLATED_LE || ts === EXPLICIT_BE) {
    const layout = { rows, cols, spp, frames, bitsAllocated, bitsStored, highBit, signed, planar, bigEndian: ts === EXPLICIT_BE };
    checkNativeLength(pixelEl, layout);
    stored = async (f) => readNative(ds, pixelEl, layout, f);
  } else if (ts === RLE) {
    const parts = encapsulatedFrames(ds, pixelEl, frames);
    stored = async (f) => readRle(parts[f]!, { rows, cols, spp, frames, bitsAllocated, bitsStored, highBit, signed });
  } else if (ts === JPEG_BASELINE) {
    const parts = encapsulatedFrames(ds, pixelEl, frames);
    stored = (f) => readJpegBaseline(parts[f]!, { rows, cols, spp });
  } else {
    throw skip.dicomUnsupported(syntaxName(ts));
  }
  const base = { frameCount: frames, width: cols, height: rows, bitDepth: bitsStored, format };

  if (colour) {
    return {
      ...base,
      frame: async (f) => {
        const v = await stored(f);
        const rgb = v instanceof Uint8Array ? v : Uint8Array.from(v);
        if (photometric === 'YBR_FULL' && ts !== JPEG_BASELINE) ybrToRgb(rgb);
        return { data: rgb, width: cols, height: rows, channels: 3, maxValue: 255 };
      },
    };
  }

  // Monochrome: the modality LUT, then the VOI window (enhanced objects may set them per frame).
  const rescale = (f: number): [number, number] => [frameFloat(ds, f, 'x00281053', ['x00289145']) ?? 1, frameFloat(ds, f, 'x00281052', ['x00289145']) ?? 0];
  let range: [number, number] | null = null;
  const fileRange = async (): Promise<[number, number]> => {
    // Without window tags the whole file's range maps onto black…white: one pass over every frame.
    let lo = Infinity;
    let hi = -Infinity;
    for (let f = 0; f < frames; f++) {
      const [slope, intercept] = rescale(f);
      const v = await stored(f);
      for (let k = 0; k < v.length; k++) {
        const m = v[k]! * slope + intercept;
        if (m < lo) lo = m;
        if (m > hi) hi = m;
      }
    }
    return [lo, hi];
  };
  const invert = photometric === 'MONOCHROME1';
  return {
    ...base,
    frame: async (f) => {
      const [slope, intercept] = rescale(f);
      let centre = frameFloat(ds, f, 'x00281050', ['x00289132']);
      let width = frameFloat(ds, f, 'x00281051', ['x00289132']);
      const fnName = (frameString(ds, f, 'x00281056', ['x00289132']) ?? 'LINEAR').toUpperCase();
      let fn: VoiFunction = fnName === 'SIGMOID' || fnName === 'LINEAR_EXACT' ? fnName : 'LINEAR';
      if (centre === undefined || width === undefined || !(width >= (fn === 'LINEAR' ? 1 : Number.MIN_VALUE))) {
        range ??= await fileRange();
        centre = (range[0] + range[1]) / 2 + 0.5;
        width = range[1] - range[0] + 1;
        fn = 'LINEAR';
      }
      const v = await stored(f);
      const data = new Float32Array(v.length); // 0–65535, unrounded: the normaliser rounds once, at the end
      for (let k = 0; k < v.length; k++) {
        const y = applyWindow(v[k]! * slope + intercept, centre, width, fn) * 65535;
        data[k] = invert ? 65535 - y : y;
      }
      return { data, width: cols, height: rows, channels: 1, maxValue: 65535 };
    },
  };
}

function parse(bytes: Buffer): DataSet {
  const arr = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  try {
    return dicomParser.parseDicom(arr);
  } catch (err) {
    if (isDicomPart10(arr)) throw skip.corrupt(`the DICOM data cannot be parsed: ${describe(err)}`);
    // A bare data set without the Part 10 header (old ACR-NEMA style files).
    try {
      const ds = dicomParser.parseDicom(arr, { TransferSyntaxUID: IMPLICIT_LE });
      if (!ds.elements.x00280010 && !ds.elements.x7fe00010) throw new Error('no image tags');
      return ds;
    } catch {
      throw skip.notAnImage('named like DICOM, but not a DICOM file');
    }
  }
}

function describe(err: unknown): string {
  return typeof err === 'string' ? err : ((err as Error)?.message ?? String(err));
}

interface Layout {
  rows: number;
  cols: number;
  spp: number;
  frames: number;
  bitsAllocated: number;
  bitsStored: number;
  highBit: number;
  signed: boolean;
}

/** Extracts the stored value from the raw sample: bits above High Bit may hold overlays. */
function storedValue(raw: number, l: Layout): number {
  const shift = l.highBit + 1 - l.bitsStored;
  const mask = l.bitsStored >= 32 ? 0xffffffff : (1 << l.bitsStored) - 1;
  let v = (raw >>> shift) & mask;
  if (l.signed && v & (1 << (l.bitsStored - 1))) v -= 1 << l.bitsStored;
  return v;
}

function checkNativeLength(el: Element, l: Layout): void {
  const frameBytes = l.rows * l.cols * l.spp * (l.bitsAllocated / 8);
  if (el.length < frameBytes * l.frames) {
    throw skip.corrupt(`the pixel data holds ${el.length.toLocaleString('en-US')} bytes; ${l.frames} frame(s) of ${l.cols}×${l.rows} need ${(frameBytes * l.frames).toLocaleString('en-US')}`);
  }
}

function readNative(ds: DataSet, el: Element, l: Layout & { planar: number; bigEndian: boolean }, f: number): Int32Array {
  const bytesPer = l.bitsAllocated / 8;
  const perFrame = l.rows * l.cols * l.spp;
  const base = el.dataOffset + f * perFrame * bytesPer;
  const b = ds.byteArray;
  const v = new Int32Array(perFrame);
  for (let i = 0; i < perFrame; i++) {
    const p = base + i * bytesPer;
    const raw = bytesPer === 1 ? b[p]! : l.bigEndian ? (b[p]! << 8) | b[p + 1]! : b[p]! | (b[p + 1]! << 8);
    v[i] = storedValue(raw, l);
  }
  return l.planar === 1 && l.spp > 1 ? interleave(v, l.spp) : v;
}

function interleave(planar: Int32Array, spp: number): Int32Array {
  const n = planar.length / spp;
  const out = new Int32Array(planar.length);
  for (let s = 0; s < spp; s++) for (let i = 0; i < n; i++) out[i * spp + s] = planar[s * n + i]!;
  return out;
}

/** The bytes of each encapsulated frame. */
function encapsulatedFrames(ds: DataSet, el: Element, frames: number): Uint8Array[] {
  const fragments = el.fragments ?? [];
  if (fragments.length === 0) throw skip.corrupt('encapsulated pixel data without fragments');
  const out: Uint8Array[] = [];
  try {
    if (frames === 1) out.push(dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, 0, fragments.length));
    else if ((el.basicOffsetTable ?? []).length === frames) {
      for (let f = 0; f < frames; f++) out.push(dicomParser.readEncapsulatedImageFrame(ds, el, f));
    } else if (fragments.length === frames) {
      for (let f = 0; f < frames; f++) out.push(dicomParser.readEncapsulatedPixelDataFromFragments(ds, el, f, 1));
    } else {
      const table = dicomParser.createJPEGBasicOffsetTable(ds, el);
      for (let f = 0; f < frames; f++) out.push(dicomParser.readEncapsulatedImageFrame(ds, el, f, table));
    }
  } catch (err) {
    if (err instanceof SkipError) throw err;
    throw skip.corrupt(`cannot split the encapsulated frames: ${describe(err)}`);
  }
  return out;
}

/** RLE Lossless (PS3.5 Annex G): a 64-byte header of segment offsets, then PackBits segments. */
function readRle(frame: Uint8Array, l: Layout): Int32Array {
  const bytesPer = l.bitsAllocated / 8;
  const n = l.rows * l.cols;
  const dv = new DataView(frame.buffer, frame.byteOffset, frame.byteLength);
  if (frame.byteLength < 64) throw skip.corrupt('an RLE frame is shorter than its header');
  const segments = dv.getUint32(0, true);
  if (segments !== l.spp * bytesPer) throw skip.corrupt(`an RLE frame has ${segments} segments; expected ${l.spp * bytesPer}`);
  const out = new Int32Array(n * l.spp);
  const raw = new Uint32Array(n * l.spp);
  for (let s = 0; s < segments; s++) {
    const start = dv.getUint32(4 + 4 * s, true);
    const end = s + 1 < segments ? dv.getUint32(8 + 4 * s, true) : frame.byteLength;
    const seg = unpackBits(frame, start, end, n);
    const sample = Math.floor(s / bytesPer);
    const shift = 8 * (bytesPer - 1 - (s % bytesPer)); // most significant byte first
    for (let i = 0; i < n; i++) raw[i * l.spp + sample] = raw[i * l.spp + sample]! | (seg[i]! << shift);
  }
  for (let i = 0; i < raw.length; i++) out[i] = storedValue(raw[i]!, l);
  return out;
}

function unpackBits(src: Uint8Array, start: number, end: number, n: number): Uint8Array {
  const out = new Uint8Array(n);
  let p = start;
  let o = 0;
  while (p < end && o < n) {
    const h = src[p++]!;
    if (h < 128) {
      const len = h + 1;
      out.set(src.subarray(p, Math.min(p + len, end)), o);
      p += len;
      o += len;
    } else if (h > 128) {
      const len = 257 - h;
      out.fill(src[p++]!, o, Math.min(o + len, n));
      o += len;
    }
  }
  if (o < n) throw skip.corrupt('an RLE segment ends early');
  return out;
}

async function readJpegBaseline(frame: Uint8Array, l: { rows: number; cols: number; spp: number }): Promise<Uint8Array> {
  const sharp = await loadSharp();
  try {
    const { data, info } = await sharp(frame, { failOn: 'truncated' })
      .toColourspace(l.spp === 1 ? 'b-w' : 'srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    if (info.width !== l.cols || info.height !== l.rows) throw new Error(`a frame is ${info.width}×${info.height}, the header says ${l.cols}×${l.rows}`);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } catch (err) {
    throw skip.corrupt(`a JPEG frame cannot be decoded: ${describe(err)}`);
  }
}

function ybrToRgb(p: Uint8Array): void {
  for (let i = 0; i < p.length; i += 3) {
    const y = p[i]!;
    const cb = p[i + 1]! - 128;
    const cr = p[i + 2]! - 128;
    p[i] = clamp8(y + 1.402 * cr);
    p[i + 1] = clamp8(y - 0.344136 * cb - 0.714136 * cr);
    p[i + 2] = clamp8(y + 1.772 * cb);
  }
}

function clamp8(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

/**
 * A value from the top level, else from the frame's functional groups (per-frame first, then
 * shared): `macros` are the functional-group sequences that may hold the tag.
 */
function frameLookup<T>(ds: DataSet, frame: number, tag: string, macros: string[], read: (d: DataSet) => T | undefined): T | undefined {
  const top = ds.elements[tag] ? read(ds) : undefined;
  if (top !== undefined) return top;
  for (const groups of ['x52009230', 'x52009229']) {
    const items = ds.elements[groups]?.items;
    const item = groups === 'x52009230' ? items?.[frame] : items?.[0];
    if (!item?.dataSet) continue;
    for (const macro of macros) {
      const inner = item.dataSet.elements[macro]?.items?.[0]?.dataSet;
      if (inner?.elements[tag]) {
        const v = read(inner);
        if (v !== undefined) return v;
      }
    }
  }
  return undefined;
}

function frameFloat(ds: DataSet, frame: number, tag: string, macros: string[]): number | undefined {
  return frameLookup(ds, frame, tag, macros, (d) => {
    const v = d.floatString(tag, 0);
    return v === undefined || Number.isNaN(v) ? undefined : v;
  });
}

function frameString(ds: DataSet, frame: number, tag: string, macros: string[]): string | undefined {
  return frameLookup(ds, frame, tag, macros, (d) => d.string(tag)?.split('\\')[0]?.trim());
}
