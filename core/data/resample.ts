/**
 * Separable resampling in floating point, for any bit depth: values stay in their source scale
 * (0–255 or 0–65535) through both passes and are rounded to 8 bits once, as they are written
 * out — so a 16-bit source keeps its precision until the final encode. Shrinking uses Lanczos-3
 * widened by the scale (antialiasing); enlarging uses the Catmull-Rom cubic (4 taps: sharp
 * enough, and a third less work than Lanczos on the many small images of an import). Edges
 * replicate the border pixel.
 *
 * Where WebAssembly SIMD is available the vertical pass (and the horizontal one for RGB) run as
 * kernels that do the same float64 operations in the same order (simd.ts): the same bytes, about
 * three times faster. Weights are computed once per source/target geometry and kept.
 */

import { simd } from './simd.js';

export type Samples = Uint8Array | Uint8ClampedArray | Uint16Array | Float32Array;

/** A rectangle in source pixels; may be fractional (a centre crop of an odd size). */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}

interface Coeffs {
  /** First source index per output sample. */
  start: Int32Array;
  count: Int32Array;
  /** Stride of `w` per output sample. */
  taps: number;
  w: Float32Array;
}

function lanczos3(x: number): number {
  if (x === 0) return 1;
  if (x <= -3 || x >= 3) return 0;
  const px = Math.PI * x;
  return (3 * Math.sin(px) * Math.sin(px / 3)) / (px * px);
}

/** Catmull-Rom (Keys a = −0.5). */
function cubic(x: number): number {
  const t = Math.abs(x);
  if (t < 1) return 1.5 * t * t * t - 2.5 * t * t + 1;
  if (t < 2) return -0.5 * t * t * t + 2.5 * t * t - 4 * t + 2;
  return 0;
}

/**
 * Weights mapping source span [s0, s0 + len) of a line of `srcLen` samples onto `n` samples,
 * each multiplied by `gain` (the vertical pass folds the 8-bit scaling into its weights).
 */
function coeffs(srcLen: number, s0: number, len: number, n: number, gain = 1): Coeffs {
  // An import resamples every image of a size the same way: the weights are computed once.
  const key = `${srcLen} ${s0} ${len} ${n} ${gain}`; // numbers print exactly (shortest round trip)
  let c = COEFFS.get(key);
  if (!c) {
    if (COEFFS.size >= 64) COEFFS.clear();
    c = computeCoeffs(srcLen, s0, len, n, gain);
    COEFFS.set(key, c);
  }
  return c;
}

const COEFFS = new Map<string, Coeffs>();

function computeCoeffs(srcLen: number, s0: number, len: number, n: number, gain: number): Coeffs {
  const scale = len / n;
  const shrink = scale > 1;
  const kernel = shrink ? lanczos3 : cubic;
  const fs = Math.max(1, scale); // kernel stretch when shrinking
  const support = (shrink ? 3 : 2) * fs;
  const taps = Math.ceil(2 * support) + 3; // every index in [floor(c - s), ceil(c + s)]
  const start = new Int32Array(n);
  const count = new Int32Array(n);
  const w = new Float32Array(n * taps);
  const acc = new Float64Array(taps);
  for (let i = 0; i < n; i++) {
    const c = s0 + (i + 0.5) * scale; // centre of output sample i, in source coordinates
    const lo = Math.floor(c - support);
    const hi = Math.ceil(c + support);
    const first = Math.max(0, Math.min(lo, srcLen - 1));
    const last = Math.min(srcLen - 1, Math.max(hi, 0));
    acc.fill(0);
    let sum = 0;
    for (let j = lo; j <= hi; j++) {
      const wt = kernel((j + 0.5 - c) / fs);
      if (wt === 0) continue;
      const jj = j < 0 ? 0 : j >= srcLen ? srcLen - 1 : j; // replicate the edge
      acc[jj - first] = acc[jj - first]! + wt;
      sum += wt;
    }
    // Leave out zero weights at either end (the kernel's roots at ±3).
    let a = 0;
    let z = Math.min(last - first, taps - 1);
    while (a < z && acc[a] === 0) a++;
    while (z > a && acc[z] === 0) z--;
    start[i] = first + a;
    count[i] = z - a + 1;
    for (let k = a; k <= z; k++) w[i * taps + k - a] = (acc[k]! / sum) * gain;
  }
  return { start, count, taps, w };
}

/**
 * Resamples `rect` of `src` ([sh, sw, ch], channels interleaved, values 0…maxValue) to
 * `dw × dh`, rounded to 8 bits on the way out: [dh, dw, ch] uint8 (0…255).
 */
export function resample(src: Float32Array, sw: number, sh: number, ch: number, rect: Rect, dw: number, dh: number, maxValue = 255): Uint8ClampedArray {
  const H = coeffs(sw, rect.x, rect.w, dw);
  const V = coeffs(sh, rect.y, rect.h, dh, 255 / maxValue);
  // Only the source rows the vertical pass reads go through the horizontal pass.
  const y0 = V.start[0]!;
  const y1 = V.start[dh - 1]! + V.count[dh - 1]!;
  const rs = dw * ch;
  const rows = y1 - y0;
  // Uint8ClampedArray rounds (to nearest, ties to even) and clamps on store, in native code.
  const out = new Uint8ClampedArray(dh * rs);

  // With WebAssembly SIMD both passes run in the kernels' memory: [tmp: float32, rows × rs]
  // [vertical weights: float64][out: dh × rs bytes] and, for RGB, [source rows: float32]
  // [horizontal starts, counts: int32][horizontal weights: float32].
  const wAt = align16(rows * rs * 4);
  const outAt = align16(wAt + V.w.length * 8);
  const srcAt = align16(outAt + dh * rs);
  const hsAt = align16(srcAt + (ch === 3 ? rows * sw * ch * 4 : 0));
  const hcAt = hsAt + dw * 4;
  const hwAt = hcAt + dw * 4;
  const end = hwAt + H.w.length * 4;
  const kernels = rs >= 8 && end <= SIMD_SCRATCH_LIMIT ? simd() : null;
  if (!kernels) {
    const tmp = new Float32Array(rows * rs); // [rows, dw, ch]
    horizontalPass(src, sw, ch, H, y0, y1, dw, tmp);
    const { start: vs, count: vc, taps: vt, w: vw } = V;
    for (let y = 0; y < dh; y++) verticalRow(tmp, out, y * rs, (vs[y]! - y0) * rs, rs, vw, y * vt, vc[y]!);
    return out;
  }
  const mem = kernels.memory(end);
  const tmp = new Float32Array(mem, 0, rows * rs);
  if (ch === 3) {
    new Float32Array(mem, srcAt, rows * sw * 3).set(src.subarray(y0 * sw * 3, y1 * sw * 3));
    new Int32Array(mem, hsAt, dw).set(H.start);
    new Int32Array(mem, hcAt, dw).set(H.count);
    new Float32Array(mem, hwAt, H.w.length).set(H.w);
    for (let y = 0; y < rows; y++) kernels.hrow3(srcAt + y * sw * 12, y * rs * 4, dw, hsAt, hcAt, hwAt, H.taps * 4);
  } else horizontalPass(src, sw, ch, H, y0, y1, dw, tmp);

  // The vertical kernel takes each row in runs of 8 samples; a remainder (odd widths) stays with the loop.
  const { start: vs, count: vc, taps: vt, w: vw } = V;
  new Float64Array(mem, wAt, vw.length).set(vw); // the float32 weights, widened exactly
  const full = rs & ~7;
  for (let y = 0; y < dh; y++) kernels.vrow((vs[y]! - y0) * rs * 4, rs * 4, vc[y]!, wAt + y * vt * 8, outAt + y * rs, full);
  out.set(new Uint8Array(mem, outAt, dh * rs));
  if (full < rs) {
    for (let y = 0; y < dh; y++) {
      const b = (vs[y]! - y0) * rs;
      for (let x = full; x < rs; x++) {
        let sum = 0;
        for (let k = 0; k < vc[y]!; k++) sum += tmp[b + k * rs + x]! * vw[y * vt + k]!;
        out[y * rs + x] = sum;
      }
    }
  }
  return out;
}

const align16 = (n: number): number => (n + 15) & ~15;

/** Largest scratch memory (bytes) the SIMD kernels may hold on to; larger resamples run in JavaScript. */
const SIMD_SCRATCH_LIMIT = 64 << 20;

/** Source rows [y0, y1) resampled along x into `tmp` ([y1 − y0, dw, ch] float32). */
function horizontalPass(src: Float32Array, sw: number, ch: number, H: Coeffs, y0: number, y1: number, dw: number, tmp: Float32Array): void {
  const rs = dw * ch;
  const { start: hs, count: hc, taps: ht, w: hw } = H;
  for (let y = y0; y < y1; y++) {
    const srow = y * sw * ch;
    let t = (y - y0) * rs;
    if (ch === 3) {
      for (let x = 0; x < dw; x++) {
        let p = srow + hs[x]! * 3;
        const wo = x * ht;
        const n = hc[x]!;
        if (n === 4) {
          // The common case, unrolled; the same products summed in the same order as the loop below.
          const w0 = hw[wo]!;
          const w1 = hw[wo + 1]!;
          const w2 = hw[wo + 2]!;
          const w3 = hw[wo + 3]!;
          tmp[t] = src[p]! * w0 + src[p + 3]! * w1 + src[p + 6]! * w2 + src[p + 9]! * w3;
          tmp[t + 1] = src[p + 1]! * w0 + src[p + 4]! * w1 + src[p + 7]! * w2 + src[p + 10]! * w3;
          tmp[t + 2] = src[p + 2]! * w0 + src[p + 5]! * w1 + src[p + 8]! * w2 + src[p + 11]! * w3;
          t += 3;
          continue;
        }
        let r = 0;
        let g = 0;
        let b = 0;
        for (let k = 0; k < n; k++, p += 3) {
          const wt = hw[wo + k]!;
          r += src[p]! * wt;
          g += src[p + 1]! * wt;
          b += src[p + 2]! * wt;
        }
        tmp[t++] = r;
        tmp[t++] = g;
        tmp[t++] = b;
      }
    } else if (ch === 1) {
      for (let x = 0; x < dw; x++) {
        let p = srow + hs[x]!;
        const wo = x * ht;
        const n = hc[x]!;
        let v = 0;
        for (let k = 0; k < n; k++, p++) v += src[p]! * hw[wo + k]!;
        tmp[t++] = v;
      }
    } else {
      for (let x = 0; x < dw; x++) {
        const wo = x * ht;
        const n = hc[x]!;
        for (let c = 0; c < ch; c++) {
          let p = srow + hs[x]! * ch + c;
          let v = 0;
          for (let k = 0; k < n; k++, p += ch) v += src[p]! * hw[wo + k]!;
          tmp[t++] = v;
        }
      }
    }
  }
}

/**
 * out[o … o+rs) = Σ_k tmp[b + k·rs …] · w[wo + k]. The common tap counts are unrolled: V8 runs
 * them about three times faster than the loop over k.
 */
function verticalRow(tmp: Float32Array, out: Uint8ClampedArray, o: number, b: number, rs: number, w: Float32Array, wo: number, n: number): void {
  // Each source row read through its own running offset: V8 keeps these loops tighter than p + k·rs.
  const r1 = b + rs;
  const r2 = r1 + rs;
  const r3 = r2 + rs;
  const r4 = r3 + rs;
  const r5 = r4 + rs;
  const r6 = r5 + rs;
  if (n === 4) {
    const [w0, w1, w2, w3] = [w[wo]!, w[wo + 1]!, w[wo + 2]!, w[wo + 3]!];
    for (let x = 0; x < rs; x++) out[o + x] = tmp[b + x]! * w0 + tmp[r1 + x]! * w1 + tmp[r2 + x]! * w2 + tmp[r3 + x]! * w3;
  } else if (n === 3) {
    const [w0, w1, w2] = [w[wo]!, w[wo + 1]!, w[wo + 2]!];
    for (let x = 0; x < rs; x++) out[o + x] = tmp[b + x]! * w0 + tmp[r1 + x]! * w1 + tmp[r2 + x]! * w2;
  } else if (n === 6) {
    const [w0, w1, w2, w3, w4, w5] = [w[wo]!, w[wo + 1]!, w[wo + 2]!, w[wo + 3]!, w[wo + 4]!, w[wo + 5]!];
    for (let x = 0; x < rs; x++) {
      out[o + x] = tmp[b + x]! * w0 + tmp[r1 + x]! * w1 + tmp[r2 + x]! * w2 + tmp[r3 + x]! * w3 + tmp[r4 + x]! * w4 + tmp[r5 + x]! * w5;
    }
  } else if (n === 5) {
    const [w0, w1, w2, w3, w4] = [w[wo]!, w[wo + 1]!, w[wo + 2]!, w[wo + 3]!, w[wo + 4]!];
    for (let x = 0; x < rs; x++) out[o + x] = tmp[b + x]! * w0 + tmp[r1 + x]! * w1 + tmp[r2 + x]! * w2 + tmp[r3 + x]! * w3 + tmp[r4 + x]! * w4;
  } else if (n === 7) {
    const [w0, w1, w2, w3, w4, w5, w6] = [w[wo]!, w[wo + 1]!, w[wo + 2]!, w[wo + 3]!, w[wo + 4]!, w[wo + 5]!, w[wo + 6]!];
    for (let x = 0; x < rs; x++) {
      out[o + x] =
        tmp[b + x]! * w0 + tmp[r1 + x]! * w1 + tmp[r2 + x]! * w2 + tmp[r3 + x]! * w3 + tmp[r4 + x]! * w4 + tmp[r5 + x]! * w5 + tmp[r6 + x]! * w6;
    }
  } else {
    for (let x = 0, p = b; x < rs; x++, p++) {
      let sum = 0;
      for (let k = 0, q = p; k < n; k++, q += rs) sum += tmp[q]! * w[wo + k]!;
      out[o + x] = sum;
    }
  }
}

/** Halves a [h, w, ch] uint8 image by 2 × 2 averaging (rounded); h and w even. */
export function halve(src: Uint8Array, w: number, h: number, ch: number): Uint8Array {
  const ow = w >> 1;
  const oh = h >> 1;
  const rs = w * ch;
  const out = new Uint8Array(ow * oh * ch);
  // The SIMD kernels take RGB and gray rows of whole 16-pixel runs (every power-of-two size from 32 up).
  const dstAt = align16(src.length + 16);
  const kernels = (ch === 3 || ch === 1) && w % 16 === 0 && h % 2 === 0 && dstAt + out.length <= SIMD_SCRATCH_LIMIT ? simd() : null;
  if (kernels) {
    const mem = kernels.memory(dstAt + out.length);
    new Uint8Array(mem, 0, src.length).set(src);
    if (ch === 3) kernels.halve3(0, dstAt, w, h);
    else kernels.halve1(0, dstAt, w, h);
    out.set(new Uint8Array(mem, dstAt, out.length));
    return out;
  }
  let o = 0;
  for (let y = 0; y < oh; y++) {
    const r0 = 2 * y * rs;
    const r1 = r0 + rs;
    if (ch === 3) {
      for (let x = 0; x < ow; x++) {
        const p = r0 + 6 * x;
        const q = r1 + 6 * x;
        out[o++] = (src[p]! + src[p + 3]! + src[q]! + src[q + 3]! + 2) >> 2;
        out[o++] = (src[p + 1]! + src[p + 4]! + src[q + 1]! + src[q + 4]! + 2) >> 2;
        out[o++] = (src[p + 2]! + src[p + 5]! + src[q + 2]! + src[q + 5]! + 2) >> 2;
      }
    } else {
      for (let x = 0; x < ow * ch; x++) {
        const c = x % ch;
        const p = r0 + (x - c) * 2 + c;
        const q = r1 + (x - c) * 2 + c;
        out[o++] = (src[p]! + src[p + ch]! + src[q]! + src[q + ch]! + 2) >> 2;
      }
    }
  }
  return out;
}
