/**
 * From a decoded raster to the project's normalised image: alpha composited onto the background,
 * colour mode, fit (crop, pad, stretch) and resolution, then one rounding to 8 bits at the very
 * end. Everything before that runs in the source's own scale (0–255 or 0–65535) in floating
 * point, so a 16-bit source keeps its precision until the final encode.
 */
import type { NormaliseSettings } from '../api/contract.js';
import { parseHexColour } from './options.js';
import { resample, type Rect, type Samples } from './resample.js';

/** A decoded image: [height, width, channels] interleaved. */
export interface Raster {
  data: Uint8Array | Uint16Array | Float32Array;
  width: number;
  height: number;
  /** 1 gray, 2 gray + alpha, 3 RGB, 4 RGBA. */
  channels: 1 | 2 | 3 | 4;
  /** White: 255 for 8-bit data, 65535 for 16-bit. */
  maxValue: number;
}

/** The normalised image: [R, R, C] uint8, C = 1 (grayscale) or 3 (RGB). */
export interface Normalised {
  pixels: Uint8Array;
  size: number;
  channels: 1 | 3;
}

/** Where the image lands for a fit: the source rectangle read and the box it fills in the output. */
export interface Placement {
  src: Rect;
  /** Box inside the R × R output (pad leaves a border). */
  dst: { x: number; y: number; w: number; h: number };
  /** True when the image is scaled up (or kept) rather than down. */
  upscale: boolean;
}

export function placement(width: number, height: number, settings: Pick<NormaliseSettings, 'resolution' | 'fit'>): Placement {
  const R = settings.resolution;
  const full: Rect = { x: 0, y: 0, w: width, h: height };
  switch (settings.fit) {
    case 'crop': {
      const side = Math.min(width, height);
      return { src: { x: (width - side) / 2, y: (height - side) / 2, w: side, h: side }, dst: { x: 0, y: 0, w: R, h: R }, upscale: side <= R };
    }
    case 'pad': {
      const s = R / Math.max(width, height);
      const w = Math.max(1, Math.round(width * s));
      const h = Math.max(1, Math.round(height * s));
      return { src: full, dst: { x: Math.floor((R - w) / 2), y: Math.floor((R - h) / 2), w, h }, upscale: s >= 1 };
    }
    case 'stretch':
      return { src: full, dst: { x: 0, y: 0, w: R, h: R }, upscale: width <= R && height <= R };
  }
}

/**
 * Normalises `raster`. When `preplaced` is true the decoder already applied the fit and size
 * (sharp's shrink-on-load path for large images): only alpha, colour and rounding remain.
 */
export function normalise(raster: Raster, settings: NormaliseSettings, preplaced = false): Normalised {
  const R = settings.resolution;
  const gray = settings.colourMode === 'grayscale';
  // Alpha onto the background, and the colour mode, at the source's precision.
  const flat = flatten(raster, parseHexColour(settings.background), gray);
  const ch = flat.channels;
  let pixels: Uint8Array;
  const p = placement(raster.width, raster.height, settings);
  const identity = p.src.x === 0 && p.src.y === 0 && p.src.w === R && p.src.h === R && p.dst.w === R && p.dst.h === R;
  if (preplaced || identity) {
    if (raster.width !== R || raster.height !== R) throw new Error(`normalise: expected ${R}×${R}, got ${raster.width}×${raster.height}`);
    pixels = quantise(flat.data, raster.maxValue); // the one rounding to 8 bits
  } else {
    const f32 = flat.data instanceof Float32Array ? flat.data : new Float32Array(flat.data); // one array type keeps V8's loops monomorphic
    const inner = resample(f32, raster.width, raster.height, ch, p.src, p.dst.w, p.dst.h, raster.maxValue); // rounds to 8 bits as it writes
    const bytes = new Uint8Array(inner.buffer, inner.byteOffset, inner.length);
    pixels = p.dst.w === R && p.dst.h === R ? bytes : padInto(bytes, p.dst, R, ch, padValues(settings.padColour, gray));
  }
  if (gray || ch === 3) return { pixels, size: R, channels: ch as 1 | 3 };
  return { pixels: grayToRgb(pixels), size: R, channels: 3 };
}

/** Composites alpha onto `bg` and applies the colour mode. Output channels: 1 or 3. */
function flatten(r: Raster, bg: [number, number, number], gray: boolean): { data: Samples; channels: 1 | 3 } {
  const n = r.width * r.height;
  const src = r.data;
  const max = r.maxValue;
  const scale = max / 255; // background colour in the source's scale: 255 → 65535 exactly
  const [br, bgG, bb] = [bg[0] * scale, bg[1] * scale, bg[2] * scale];
  const bgY = luma(br, bgG, bb);
  switch (r.channels) {
    case 1:
      return { data: src, channels: 1 };
    case 3: {
      if (!gray) return { data: src, channels: 3 };
      const out = new Float32Array(n);
      for (let i = 0, p = 0; i < n; i++, p += 3) out[i] = luma(src[p]!, src[p + 1]!, src[p + 2]!);
      return { data: out, channels: 1 };
    }
    case 2: {
      const out = new Float32Array(n);
      for (let i = 0, p = 0; i < n; i++, p += 2) {
        const a = src[p + 1]! / max;
        out[i] = src[p]! * a + bgY * (1 - a);
      }
      // A gray image over a coloured background becomes RGB unless the project is grayscale.
      if (gray || (br === bgG && bgG === bb)) return { data: out, channels: 1 };
      const rgb = new Float32Array(n * 3);
      for (let i = 0, p = 0, q = 0; i < n; i++, p += 2, q += 3) {
        const a = src[p + 1]! / max;
        const v = src[p]! * a;
        rgb[q] = v + br * (1 - a);
        rgb[q + 1] = v + bgG * (1 - a);
        rgb[q + 2] = v + bb * (1 - a);
      }
      return { data: rgb, channels: 3 };
    }
    case 4: {
      if (gray) {
        const out = new Float32Array(n);
        for (let i = 0, p = 0; i < n; i++, p += 4) {
          const a = src[p + 3]! / max;
          out[i] = luma(src[p]!, src[p + 1]!, src[p + 2]!) * a + bgY * (1 - a);
        }
        return { data: out, channels: 1 };
      }
      const out = new Float32Array(n * 3);
      for (let i = 0, p = 0, q = 0; i < n; i++, p += 4, q += 3) {
        const a = src[p + 3]! / max;
        const b = 1 - a;
        out[q] = src[p]! * a + br * b;
        out[q + 1] = src[p + 1]! * a + bgG * b;
        out[q + 2] = src[p + 2]! * a + bb * b;
      }
      return { data: out, channels: 3 };
    }
  }
}

/** ITU-R BT.601 luma, as PIL's convert('L') (and so StyleGAN's dataset tool) computes it. */
function luma(r: number, g: number, b: number): number {
  return 0.299 * r + 0.587 * g + 0.114 * b;
}

/** The pad colour in 8 bits (padding is added after the resize, which already rounded). */
function padValues(hex: string, gray: boolean): number[] {
  const [r, g, b] = parseHexColour(hex);
  return gray ? [Math.round(luma(r, g, b))] : [r, g, b];
}

function padInto(inner: Uint8Array, box: Placement['dst'], R: number, ch: number, fill: number[]): Uint8Array {
  const out = new Uint8Array(R * R * ch);
  for (let i = 0; i < R * R; i++) for (let c = 0; c < ch; c++) out[i * ch + c] = fill[c % fill.length]!;
  for (let y = 0; y < box.h; y++) {
    out.set(inner.subarray(y * box.w * ch, (y + 1) * box.w * ch), ((box.y + y) * R + box.x) * ch);
  }
  return out;
}

/** Rounds to 8 bits: v / 257 for 16-bit data (65535 → 255 exactly), clamped. */
export function quantise(data: Samples, maxValue: number): Uint8Array {
  if (maxValue === 255 && data instanceof Uint8Array) return data;
  // Uint8ClampedArray clamps and rounds (to nearest, ties to even) on store, in native code.
  const out = new Uint8ClampedArray(data.length);
  const k = 255 / maxValue;
  if (k === 1) out.set(data);
  else for (let i = 0; i < data.length; i++) out[i] = data[i]! * k;
  return new Uint8Array(out.buffer, out.byteOffset, out.length);
}

function grayToRgb(g: Uint8Array): Uint8Array {
  const out = new Uint8Array(g.length * 3);
  for (let i = 0, q = 0; i < g.length; i++, q += 3) out[q] = out[q + 1] = out[q + 2] = g[i]!;
  return out;
}
