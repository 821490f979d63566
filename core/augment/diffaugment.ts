/**
 * DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training"),
 * channels-last: the alternative policy to ADA. Every image, real or fake, gets every transform of
 * the policy, always, with random parameters:
 *
 *   color        brightness + U(−0.5, 0.5); saturation × U(0, 2) about the pixel's channel mean;
 *                contrast × U(0.5, 1.5) about the image's mean
 *   translation  a shift by an integer in ±⌊size/8 + ½⌋ on each axis, zeros shifted in
 *   cutout       a zeroed square of ⌊size/2 + ½⌋ at a random place (clipped at the edges)
 *
 * Parameters come from the run's seeded stream; the shift is a sparse map (core/augment/sparse-map.ts)
 * so that gradients hold on every backend to second order.
 */
import * as tf from '@tensorflow/tfjs';
import { DIFFAUGMENT_PARTS } from '../api/contract.js';
import type { Rng } from '../random/rng.js';
import { type SparseMap, warpImages } from './sparse-map.js';

export type DiffAugmentPart = (typeof DIFFAUGMENT_PARTS)[number];

/** 'color,translation' → its parts, checked. */
export function parsePolicy(policy: string): DiffAugmentPart[] {
  const parts = policy.split(',').map((p) => p.trim()).filter((p) => p !== '');
  for (const p of parts) {
    if (!(DIFFAUGMENT_PARTS as readonly string[]).includes(p)) throw new Error(`DiffAugment has no transform "${p}" (it has ${DIFFAUGMENT_PARTS.join(', ')})`);
  }
  return parts as DiffAugmentPart[];
}

/** The shift map: out[b, i, j] = in[b, i + dy, j + dx], 0 outside. */
export function translationMap(shifts: ReadonlyArray<[number, number]>, h: number, w: number): SparseMap {
  const n = shifts.length;
  const rows = n * h * w;
  const index = new Int32Array(rows);
  const weights = new Float32Array(rows);
  shifts.forEach(([dy, dx], b) => {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const o = b * h * w + i * w + j;
        const si = i + dy;
        const sj = j + dx;
        const inside = si >= 0 && si < h && sj >= 0 && sj < w;
        index[o] = inside ? b * h * w + si * w + sj : o;
        weights[o] = inside ? 1 : 0;
      }
    }
  });
  return { rows, cols: rows, k: 1, index, weights };
}

/** 0 on each image's square, 1 elsewhere: [N, H, W, 1]. Squares: top-left corner and side. */
export function squareMask(squares: ReadonlyArray<{ top: number; left: number; size: number }>, h: number, w: number): tf.Tensor4D {
  const mask = new Float32Array(squares.length * h * w).fill(1);
  squares.forEach(({ top, left, size }, b) => {
    for (let i = Math.max(0, top); i < Math.min(h, top + size); i++) {
      for (let j = Math.max(0, left); j < Math.min(w, left + size); j++) mask[b * h * w + i * w + j] = 0;
    }
  });
  return tf.tensor4d(mask, [squares.length, h, w, 1]);
}

/** Applies the policy to images [N, H, W, C] → same shape, drawing from `rng`. */
export function diffAugment(images: tf.Tensor4D, parts: readonly DiffAugmentPart[], rng: Rng): tf.Tensor4D {
  const [n, h, w] = images.shape;
  const perImage = (f: () => number): Float32Array => Float32Array.from({ length: n }, f);
  return tf.tidy(() => {
    let x = images;
    for (const part of parts) {
      if (part === 'color') {
        const brightness = perImage(() => rng.nextFloat() - 0.5);
        const sat = perImage(() => rng.nextFloat() * 2);
        const contrast = perImage(() => rng.nextFloat() + 0.5);
        x = x.add(tf.tensor4d(brightness, [n, 1, 1, 1]));
        const pixelMean = x.mean(3, true);
        x = x.sub(pixelMean).mul(tf.tensor4d(sat, [n, 1, 1, 1])).add(pixelMean);
        const imageMean = x.mean([1, 2, 3], true);
        x = x.sub(imageMean).mul(tf.tensor4d(contrast, [n, 1, 1, 1])).add(imageMean);
      } else if (part === 'translation') {
        const sy = Math.floor(h * 0.125 + 0.5);
        const sx = Math.floor(w * 0.125 + 0.5);
        const shifts = Array.from({ length: n }, (): [number, number] => [rng.nextInt(2 * sy + 1) - sy, rng.nextInt(2 * sx + 1) - sx]);
        x = warpImages(x, translationMap(shifts, h, w));
      } else {
        const sh = Math.floor(h * 0.5 + 0.5);
        const sw = Math.floor(w * 0.5 + 0.5);
        const squares = Array.from({ length: n }, () => {
          const cy = rng.nextInt(h + (1 - (sh % 2)));
          const cx = rng.nextInt(w + (1 - (sw % 2)));
          return { top: cy - Math.floor(sh / 2), left: cx - Math.floor(sw / 2), size: sh };
        });
        x = x.mul(squareMask(squares, h, w));
      }
    }
    return x;
  });
}
