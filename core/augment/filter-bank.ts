/**
 * ADA's image-space filtering: a bank of 4 frequency bands built from the sym2 wavelet (each band
 * the difference of two half-band low-passes), a random gain per band, the gains normalised to
 * keep the expected power of a 1/f image, and the resulting 43-tap filter applied separably with
 * reflected edges. The bank's bands sum to the identity, so unit gains change nothing.
 *
 * The filter differs per image, so it is applied as two batched matrix products with per-image
 * [W, W] matrices (reflection folded in): cheap at the sizes a CPU trains, and differentiable
 * everywhere (matMul, transpose).
 */
import * as tf from '@tensorflow/tfjs';
import { reflectIndex } from './geometry.js';

/** Low-pass filter of the sym2 wavelet. */
const SYM2 = [-0.12940952255092145, 0.22414386804185735, 0.836516303737469, 0.48296291314469025];

/** Full 1-D convolution. */
export function convolve(a: readonly number[], b: readonly number[]): number[] {
  const out = new Array<number>(a.length + b.length - 1).fill(0);
  for (let i = 0; i < a.length; i++) for (let j = 0; j < b.length; j++) out[i + j]! += a[i]! * b[j]!;
  return out;
}

/** The 4 bands' filters, lowest first: 4 rows of 43 taps. */
export function filterBank(): number[][] {
  const lo = SYM2;
  const hi = lo.map((v, i) => (i % 2 === 0 ? v : -v)); // H(−z)
  const lo2 = convolve(lo, [...lo].reverse()).map((v) => v / 2); // H(z)·H(z⁻¹)/2
  const hi2 = convolve(hi, [...hi].reverse()).map((v) => v / 2); // H(−z)·H(−z⁻¹)/2
  let bank: number[][] = [[1], [0], [0], [0]];
  for (let i = 1; i < 4; i++) {
    // Upsample each row by 2 (zeros between taps), low-pass it, and add the new band's high-pass to row i.
    bank = bank.map((row) => convolve(row.flatMap((v, j) => (j < row.length - 1 ? [v, 0] : [v])), lo2));
    const len = bank[0]!.length;
    const start = (len - hi2.length) / 2;
    hi2.forEach((v, j) => (bank[i]![start + j]! += v));
  }
  return bank;
}

const BANK = filterBank();
/** The expected power of each band for a 1/f image. */
const EXPECTED_POWER = [10 / 13, 1 / 13, 1 / 13, 1 / 13];

/** Taps of the filter with these band gains (normalised already). */
export function filterTaps(gains: readonly number[]): Float64Array {
  const taps = new Float64Array(BANK[0]!.length);
  for (let b = 0; b < 4; b++) for (let t = 0; t < taps.length; t++) taps[t] = taps[t]! + gains[b]! * BANK[b]![t]!;
  return taps;
}

/**
 * Combined gains from one gain per band (1 = unchanged), as StyleGAN2-ADA: each band's gain is
 * applied with the others at 1 and the result's expected power normalised, band by band.
 */
export function bandGains(perBand: readonly number[]): number[] {
  const g = [1, 1, 1, 1];
  for (let i = 0; i < 4; i++) {
    const t = [1, 1, 1, 1];
    t[i] = perBand[i]!;
    const norm = Math.sqrt(t.reduce((s, v, j) => s + EXPECTED_POWER[j]! * v * v, 0));
    for (let j = 0; j < 4; j++) g[j]! *= t[j]! / norm;
  }
  return g;
}

/** The filter as an [n, n] matrix on one axis: out[o] = Σₜ taps[t] · in[reflect(o + t − half)], M[in, out]. */
export function filterMatrix(taps: Float64Array, n: number, into: Float32Array = new Float32Array(n * n), offset = 0): Float32Array {
  const half = (taps.length - 1) / 2;
  for (let o = 0; o < n; o++) {
    for (let t = 0; t < taps.length; t++) {
      const i = reflectIndex(o + t - half, n);
      into[offset + i * n + o] = into[offset + i * n + o]! + taps[t]!;
    }
  }
  return into;
}

/** Filters each image with its own taps, along both axes. images [N, H, W, C] (H = W) → same shape. */
export function applyFilters(images: tf.Tensor4D, taps: readonly Float64Array[]): tf.Tensor4D {
  const [n, h, w, c] = images.shape;
  if (h !== w) throw new Error(`applyFilters: square images only, got ${h}×${w}`);
  if (taps.length !== n) throw new Error(`applyFilters: ${taps.length} filters for ${n} images`);
  const data = new Float32Array(n * w * w);
  taps.forEach((t, i) => filterMatrix(t, w, data, i * w * w));
  const m = tf.tensor3d(data, [n, w, w]); // [N, in, out]
  // Along W, as [N, H·C, W] · M; then along H, as [N, W·C, H] · M.
  const alongW = tf.matMul(images.transpose([0, 1, 3, 2]).reshape([n, h * c, w]), m).reshape([n, h, c, w]); // [N, H, C, W]
  const alongH = tf.matMul(alongW.transpose([0, 3, 2, 1]).reshape([n, w * c, h]), m).reshape([n, w, c, h]); // [N, W, C, H]
  return alongH.transpose([0, 3, 1, 2]); // [N, H, W, C]
}
