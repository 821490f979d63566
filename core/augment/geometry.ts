/**
 * ADA's geometric transforms as one affine matrix per image, and the resampling that applies it:
 * a sparse map (core/augment/sparse-map.ts) whose taps and weights are computed here in plain JS.
 *
 * Conventions (StyleGAN2-ADA's): pixel coordinates centred on the image, x = col − (W−1)/2,
 * y = row − (H−1)/2; G_inv maps an output pixel to the input point it samples. Outside the image
 * the input is reflected without repeating the edge (PyTorch's 'reflect'), by index arithmetic,
 * as often as needed. Between pixels it is interpolated with Keys' cubic (a = −0.5), 4×4 taps;
 * when every sample falls on a pixel (flips, 90° rotations, integer shifts) it is a plain gather.
 */
import type { SparseMap } from './sparse-map.js';

/** A 3×3 homogeneous 2-D matrix, row-major. */
export type Mat3 = Float64Array;

export function identity3(): Mat3 {
  return Float64Array.from([1, 0, 0, 0, 1, 0, 0, 0, 1]);
}

/** a · b */
export function mul3(a: Mat3, b: Mat3): Mat3 {
  const out = new Float64Array(9);
  for (let r = 0; r < 3; r++) {
    for (let c = 0; c < 3; c++) out[r * 3 + c] = a[r * 3]! * b[c]! + a[r * 3 + 1]! * b[3 + c]! + a[r * 3 + 2]! * b[6 + c]!;
  }
  return out;
}

export function translate2d(tx: number, ty: number): Mat3 {
  return Float64Array.from([1, 0, tx, 0, 1, ty, 0, 0, 1]);
}

export function scale2d(sx: number, sy: number): Mat3 {
  return Float64Array.from([sx, 0, 0, 0, sy, 0, 0, 0, 1]);
}

/** Cosines and sines of multiples of π/2 come out exact (cos(π/2) is 6e-17 in floating point). */
function cleanTrig(v: number): number {
  const r = Math.round(v);
  return Math.abs(v - r) < 1e-12 ? r : v;
}

export function rotate2d(theta: number): Mat3 {
  const c = cleanTrig(Math.cos(theta));
  const s = cleanTrig(Math.sin(theta));
  return Float64Array.from([c, -s, 0, s, c, 0, 0, 0, 1]);
}

export const translate2dInv = (tx: number, ty: number): Mat3 => translate2d(-tx, -ty);
export const scale2dInv = (sx: number, sy: number): Mat3 => scale2d(1 / sx, 1 / sy);
export const rotate2dInv = (theta: number): Mat3 => rotate2d(-theta);

export function isIdentity3(m: Mat3): boolean {
  const id = [1, 0, 0, 0, 1, 0, 0, 0, 1];
  return id.every((v, i) => Math.abs(m[i]! - v) < 1e-12);
}

/** Index i reflected into [0, n) without repeating the edge: −1 → 1, n → n − 2 (periodic beyond). */
export function reflectIndex(i: number, n: number): number {
  if (i >= 0 && i < n) return i;
  if (n === 1) return 0;
  const period = 2 * (n - 1);
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/** Keys' cubic convolution kernel, a = −0.5 (Catmull-Rom): interpolating, exact for quadratics. */
export function keysCubic(x: number): number {
  const a = -0.5;
  const t = Math.abs(x);
  if (t <= 1) return (a + 2) * t * t * t - (a + 3) * t * t + 1;
  if (t < 2) return a * t * t * t - 5 * a * t * t + 8 * a * t - 4 * a;
  return 0;
}

export type Interpolation = 'bicubic' | 'bilinear';

/**
 * The resampling of N images [H, W] by one matrix each (`mats[b]` = G_inv of image b), as a sparse
 * map on the flattened pixels (row b·H·W + i·W + j, same layout in and out).
 */
export function warpMap(mats: readonly Mat3[], h: number, w: number, interp: Interpolation = 'bicubic'): SparseMap {
  const n = mats.length;
  const hw = h * w;
  const rows = n * hw;
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  // Where each output pixel samples the input (input pixel units).
  const us = new Float64Array(rows);
  const vs = new Float64Array(rows);
  let onPixels = true;
  for (let b = 0; b < n; b++) {
    const m = mats[b]!;
    for (let i = 0; i < h; i++) {
      const yo = i - cy;
      for (let j = 0; j < w; j++) {
        const xo = j - cx;
        const o = b * hw + i * w + j;
        const u = m[0]! * xo + m[1]! * yo + m[2]! + cx;
        const v = m[3]! * xo + m[4]! * yo + m[5]! + cy;
        us[o] = u;
        vs[o] = v;
        if (onPixels && (Math.abs(u - Math.round(u)) > 1e-6 || Math.abs(v - Math.round(v)) > 1e-6)) onPixels = false;
      }
    }
  }

  // Every sample on a pixel: one tap each.
  if (onPixels) {
    const index = new Int32Array(rows);
    for (let o = 0; o < rows; o++) {
      const b = Math.floor(o / hw);
      index[o] = b * hw + reflectIndex(Math.round(vs[o]!), h) * w + reflectIndex(Math.round(us[o]!), w);
    }
    return { rows, cols: rows, k: 1, index, weights: null };
  }

  // Separable interpolation: `side` taps per axis.
  const side = interp === 'bicubic' ? 4 : 2;
  const kernel = interp === 'bicubic' ? keysCubic : (x: number) => Math.max(0, 1 - Math.abs(x));
  const first = interp === 'bicubic' ? -1 : 0;
  const k = side * side;
  const index = new Int32Array(rows * k);
  const weights = new Float32Array(rows * k);
  const wx = new Float64Array(side);
  const wy = new Float64Array(side);
  const ix = new Int32Array(side);
  const iy = new Int32Array(side);
  for (let o = 0; o < rows; o++) {
    const base = Math.floor(o / hw) * hw;
    const u = us[o]!;
    const v = vs[o]!;
    const u0 = Math.floor(u);
    const v0 = Math.floor(v);
    for (let t = 0; t < side; t++) {
      ix[t] = reflectIndex(u0 + first + t, w);
      iy[t] = reflectIndex(v0 + first + t, h);
      wx[t] = kernel(u - (u0 + first + t));
      wy[t] = kernel(v - (v0 + first + t));
    }
    let q = o * k;
    for (let a = 0; a < side; a++) {
      for (let c = 0; c < side; c++, q++) {
        index[q] = base + iy[a]! * w + ix[c]!;
        weights[q] = wy[a]! * wx[c]!;
      }
    }
  }
  return { rows, cols: rows, k, index, weights };
}
