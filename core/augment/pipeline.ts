/**
 * ADA's augmentation pipeline (Karras et al. 2020, "Training Generative Adversarial Networks with
 * Limited Data"; StyleGAN2-ADA's training/augment.py), channels-last. Every image D sees goes
 * through it, in this fixed order, each transform firing per image with probability p × its
 * multiplier:
 *
 *   blit + geometric   x-flip, 90° rotations, integer translation, isotropic scale, rotation
 *                      (before and after the anisotropic scale), anisotropic scale, fractional
 *                      translation: one affine matrix per image, one resampling (geometry.ts)
 *   colour             brightness, contrast, luma flip, hue, saturation: one 4×4 matrix (colour.ts)
 *   filter             gains of 4 frequency bands (filter-bank.ts)
 *   noise, cutout      additive Gaussian noise; a zeroed square
 *
 * Parameters are drawn in plain JS from a seeded stream (`sample`), then applied with TF.js ops
 * that are linear in the images (`run`): gradients reach the images through every transform, on
 * every backend, to second order (R1). A transform that fires for no image of the batch costs
 * nothing; at p = 0 the images come back untouched.
 */
import * as tf from '@tensorflow/tfjs';
import type { Rng } from '../random/rng.js';
import { applyColour, hueRotation, identity4, isIdentity4, lumaFlip, type Mat4, mul4, saturation, scale3d, translate3d } from './colour.js';
import { type PipeSpec, STRENGTHS } from './config.js';
import { applyFilters, bandGains, filterTaps } from './filter-bank.js';
import { identity3, type Interpolation, isIdentity3, type Mat3, mul3, rotate2dInv, scale2dInv, translate2dInv, warpMap } from './geometry.js';
import { warpImages } from './sparse-map.js';

export type Strengths = { -readonly [K in keyof typeof STRENGTHS]: (typeof STRENGTHS)[K] extends readonly number[] ? number[] : number };

/** One call's random parameters; null where a stage is the identity for every image. */
export interface AugmentParams {
  /** [N, H, W, C] the parameters were drawn for. */
  shape: [number, number, number, number];
  /** G_inv per image (output pixel → input point). */
  geom: Mat3[] | null;
  /** Colour matrix per image. */
  colour: Mat4[] | null;
  /** Filter taps per image. */
  filter: Float64Array[] | null;
  /** Noise σ per image, and the seed of the noise field. */
  noise: { sigma: Float32Array; seed: number } | null;
  /** Cutout square per image: centre in [0, 1)² and size (0: none). */
  cutout: Array<{ cx: number; cy: number; size: number }> | null;
}

/** A standard normal draw (Box–Muller) from the stream. */
export function normal(rng: Rng): number {
  const u = 1 - rng.nextFloat(); // (0, 1]: log is finite
  const v = rng.nextFloat();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

export class AugmentPipe {
  readonly strengths: Strengths;

  constructor(
    readonly spec: PipeSpec,
    strengths: Partial<Strengths> = {},
    /** How the geometric stage samples between pixels. */
    readonly interpolation: Interpolation = 'bicubic',
  ) {
    this.strengths = { ...STRENGTHS, imgfilterBands: [...STRENGTHS.imgfilterBands], ...strengths };
  }

  /** Augments images [N, H, W, C] at strength p, drawing from `rng`. */
  apply(images: tf.Tensor4D, p: number, rng: Rng): tf.Tensor4D {
    return this.run(images, this.sample(images.shape, p, rng));
  }

  /** Draws one call's parameters (every draw is made whatever p is, so p changes only what fires). */
  sample(shape: [number, number, number, number], p: number, rng: Rng): AugmentParams {
    const [n, h, w, c] = shape;
    const s = this.spec;
    const k = this.strengths;
    const fires = (mult: number): boolean => rng.nextFloat() < mult * p;
    const perImage = <T>(f: () => T): T[] => Array.from({ length: n }, f);
    const out: AugmentParams = { shape, geom: null, colour: null, filter: null, noise: null, cutout: null };

    // Blit and geometric: one matrix per image.
    const usesGeom = s.xflip + s.rotate90 + s.xint + s.scale + s.rotate + s.aniso + s.xfrac > 0;
    if (usesGeom) {
      const mats = perImage(identity3);
      const each = (mult: number, make: () => Mat3 | null): void => {
        if (mult <= 0) return;
        for (let i = 0; i < n; i++) {
          const m = make();
          if (fires(mult) && m !== null) mats[i] = mul3(mats[i]!, m);
        }
      };
      each(s.xflip, () => scale2dInv(1 - 2 * Math.floor(rng.nextFloat() * 2), 1));
      each(s.rotate90, () => rotate2dInv((-Math.PI / 2) * Math.floor(rng.nextFloat() * 4)));
      each(s.xint, () => {
        const tx = (rng.nextFloat() * 2 - 1) * k.xintMax;
        const ty = (rng.nextFloat() * 2 - 1) * k.xintMax;
        return translate2dInv(Math.round(tx * w), Math.round(ty * h));
      });
      each(s.scale, () => {
        const v = 2 ** (normal(rng) * k.scaleStd);
        return scale2dInv(v, v);
      });
      // Rotation before and after the anisotropic scale, each with p_rot: P(either) = p × multiplier.
      const pRot = 1 - Math.sqrt(Math.min(1, Math.max(0, 1 - s.rotate * p)));
      const rotation = (): void => {
        if (s.rotate <= 0) return;
        for (let i = 0; i < n; i++) {
          const theta = (rng.nextFloat() * 2 - 1) * Math.PI * k.rotateMax;
          if (rng.nextFloat() < pRot) mats[i] = mul3(mats[i]!, rotate2dInv(-theta));
        }
      };
      rotation();
      each(s.aniso, () => {
        const v = 2 ** (normal(rng) * k.anisoStd);
        return scale2dInv(v, 1 / v);
      });
      rotation();
      each(s.xfrac, () => translate2dInv(normal(rng) * k.xfracStd * w, normal(rng) * k.xfracStd * h));
      if (!mats.every(isIdentity3)) out.geom = mats;
    }

    // Colour: one 4×4 matrix per image (hue and saturation need colour).
    if (s.brightness + s.contrast + s.lumaflip + s.hue + s.saturation > 0) {
      const mats = perImage(identity4);
      const each = (mult: number, make: () => Mat4): void => {
        if (mult <= 0) return;
        for (let i = 0; i < n; i++) {
          const m = make();
          if (fires(mult)) mats[i] = mul4(m, mats[i]!);
        }
      };
      each(s.brightness, () => {
        const b = normal(rng) * k.brightnessStd;
        return translate3d(b, b, b);
      });
      each(s.contrast, () => {
        const v = 2 ** (normal(rng) * k.contrastStd);
        return scale3d(v, v, v);
      });
      each(s.lumaflip, () => lumaFlip(Math.floor(rng.nextFloat() * 2)));
      if (c > 1) {
        each(s.hue, () => hueRotation((rng.nextFloat() * 2 - 1) * Math.PI * k.hueMax));
        each(s.saturation, () => saturation(2 ** (normal(rng) * k.saturationStd)));
      }
      if (!mats.every(isIdentity4)) out.colour = mats;
    }

    // Image-space filtering: a gain per band, each band with its own probability.
    if (s.imgfilter > 0) {
      const gains = perImage(() => [1, 1, 1, 1]);
      let any = false;
      k.imgfilterBands.forEach((bandMult, band) => {
        for (let i = 0; i < n; i++) {
          const t = 2 ** (normal(rng) * k.imgfilterStd);
          if (rng.nextFloat() < s.imgfilter * p * bandMult) {
            gains[i]![band] = t;
            any = true;
          }
        }
      });
      if (any) out.filter = gains.map((g) => filterTaps(bandGains(g)));
    }

    // Additive noise.
    if (s.noise > 0) {
      const sigma = new Float32Array(n);
      for (let i = 0; i < n; i++) {
        const v = Math.abs(normal(rng)) * k.noiseStd;
        sigma[i] = fires(s.noise) ? v : 0;
      }
      const seed = rng.tfSeed();
      if (sigma.some((v) => v > 0)) out.noise = { sigma, seed };
    }

    // Cutout.
    if (s.cutout > 0) {
      const squares = perImage(() => {
        const size = fires(s.cutout) ? k.cutoutSize : 0;
        return { cx: rng.nextFloat(), cy: rng.nextFloat(), size };
      });
      if (squares.some((q) => q.size > 0)) out.cutout = squares;
    }
    return out;
  }

  /** Applies drawn parameters to images [N, H, W, C] → the same shape. Linear in the images. */
  run(images: tf.Tensor4D, params: AugmentParams): tf.Tensor4D {
    const [n, h, w, c] = images.shape;
    if (params.shape.join() !== images.shape.join()) throw new Error(`AugmentPipe: parameters for [${params.shape}], images [${images.shape}]`);
    return tf.tidy(() => {
      let x = images;
      if (params.geom) x = warpImages(x, warpMap(params.geom, h, w, this.interpolation));
      if (params.colour) x = applyColour(x, params.colour);
      if (params.filter) x = applyFilters(x, params.filter);
      if (params.noise) {
        const field = tf.randomNormal([n, h, w, c], 0, 1, 'float32', params.noise.seed);
        x = x.add(field.mul(tf.tensor4d(params.noise.sigma, [n, 1, 1, 1])));
      }
      if (params.cutout) x = x.mul(cutoutMask(params.cutout, h, w));
      return x;
    });
  }
}

/** 1 outside each image's square, 0 inside: [N, H, W, 1]. */
export function cutoutMask(squares: ReadonlyArray<{ cx: number; cy: number; size: number }>, h: number, w: number): tf.Tensor4D {
  const mask = new Float32Array(squares.length * h * w);
  squares.forEach(({ cx, cy, size }, b) => {
    for (let i = 0; i < h; i++) {
      const outY = Math.abs((i + 0.5) / h - cy) >= size / 2;
      for (let j = 0; j < w; j++) mask[b * h * w + i * w + j] = outY || Math.abs((j + 0.5) / w - cx) >= size / 2 ? 1 : 0;
    }
  });
  return tf.tensor4d(mask, [squares.length, h, w, 1]);
}
