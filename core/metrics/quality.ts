/**
 * KID on a scale a non-expert reads: 0 is the untrained generator, 100 is what a perfect generator
 * scores at the same sample sizes (the dataset compared with other images of itself). KID shrinks
 * by orders of magnitude as a run learns (noise → blobs → shapes), so the scale is logarithmic:
 * each tenfold drop of KID moves it by the same amount, and blobs with the right colours (a KID a
 * tenth of the untrained one) read as a third of the way, not as 90%.
 *
 * And, for a few generated images, the closest dataset image in feature space, with how close it
 * is compared with how close dataset images are to each other: a sample much closer to one
 * training image than those are to each other is likely a copy.
 */
import type { QualityAnchors } from '../api/run-config.js';
import { QUALITY_BLURRY, QUALITY_RECOGNISABLE } from '../api/vocabulary.js';
import { diagonal, type FeatureSet, FeaturePair } from './features.js';

/**
 * The smallest KID the scale tells apart from the self anchor, as a share of the untrained KID:
 * a dataset against itself scores about 0 (KID is unbiased, and can come out below 0), so the top
 * of the scale is the larger of the self anchor and a thousandth of the untrained KID.
 */
export const FLOOR_SHARE = 1e-3;

/** The quality (0–100) of a KID between the anchors; null when the anchors give no scale (the untrained generator already at the floor). */
export function qualityScore(kid: number, anchors: Pick<QualityAnchors, 'untrained' | 'self'>): number | null {
  const { untrained } = anchors;
  if (!Number.isFinite(kid) || !Number.isFinite(untrained) || untrained <= 0) return null;
  const floor = Math.max(Number.isFinite(anchors.self) ? anchors.self : 0, untrained * FLOOR_SHARE);
  if (untrained <= floor) return null;
  const k = Math.max(kid, floor);
  const q = (100 * Math.log(untrained / k)) / Math.log(untrained / floor);
  return Math.max(0, Math.min(100, q));
}

/** Below this quality a finished run is "still blurry"; from `RECOGNISABLE` on, samples usually read as the dataset's kind of picture. */
export const BLURRY_BELOW = QUALITY_BLURRY;
export const RECOGNISABLE = QUALITY_RECOGNISABLE;

/** A generated image and its nearest dataset image in feature space. */
export interface NearestPair {
  /** Index of the generated image in the evaluation's fixed latents. */
  fake: number;
  /** Index into the real set. */
  real: number;
  /** Euclidean distance of their features. */
  distance: number;
  /** That distance over the median distance from a dataset image to its nearest other one (below ~0.5: likely a copy). */
  ratio: number;
}

/** For the first `count` fakes: the nearest real (features), and how near compared with reals among themselves. */
export function nearestReals(real: FeatureSet, fake: FeatureSet, count: number): NearestPair[] {
  const pair = new FeaturePair(real, fake);
  const nr = real.count;
  const rr = pair.realGram();
  const realNorms = diagonal(rr, nr);
  // The typical gap between dataset images: median over reals of the distance to their nearest other real.
  const gaps: number[] = [];
  for (let i = 0; i < nr; i++) {
    let best = Infinity;
    for (let j = 0; j < nr; j++) if (j !== i) best = Math.min(best, realNorms[i]! + realNorms[j]! - 2 * rr[i * nr + j]!);
    if (Number.isFinite(best)) gaps.push(Math.sqrt(Math.max(0, best)));
  }
  gaps.sort((a, b) => a - b);
  const typical = gaps.length > 0 ? gaps[Math.floor(gaps.length / 2)]! : NaN;
  const out: NearestPair[] = [];
  const fr = pair.fakeRealGram();
  const fakeNorms = diagonal(pair.fakeGram(), fake.count);
  for (let i = 0; i < Math.min(count, fake.count); i++) {
    let best = Infinity;
    let at = -1;
    for (let j = 0; j < nr; j++) {
      const d2 = fakeNorms[i]! + realNorms[j]! - 2 * fr[i * nr + j]!;
      if (d2 < best) {
        best = d2;
        at = j;
      }
    }
    const distance = Math.sqrt(Math.max(0, best));
    out.push({ fake: i, real: at, distance, ratio: typical > 0 ? distance / typical : NaN });
  }
  return out;
}
