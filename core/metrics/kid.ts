/**
 * Kernel Inception Distance (Bińkowski et al. 2018): the unbiased estimate of the squared maximum
 * mean discrepancy between real and generated features under the cubic polynomial kernel
 * k(x, y) = (x·y / d + 1)³, averaged over random subsets (StyleGAN2-ADA's
 * kernel_inception_distance.py: 100 subsets of up to 1000). Unbiased, so it suits the small sample
 * counts of small datasets, and it can come out slightly negative when the sets are alike.
 */
import { Rng } from '../random/rng.js';
import type { FeaturePair } from './features.js';
import type { MetricDef } from './metric.js';

export interface KidOptions {
  /** Subsets averaged; default 100. */
  numSubsets?: number;
  /** Largest subset (capped by the smaller set); default 1000. */
  maxSubsetSize?: number;
  /** Seeds the subset draws; default 0 (the same features give the same value). */
  seed?: number;
}

export interface KidResult {
  /** Mean of the subsets' MMD² estimates. */
  kid: number;
  /** Their standard deviation (1/N, as numpy's std). */
  std: number;
  subsetSize: number;
  numSubsets: number;
}

export function kernelInceptionDistance(pair: FeaturePair, o: KidOptions = {}): KidResult {
  const numSubsets = o.numSubsets ?? 100;
  const nf = pair.fake.count;
  const nr = pair.real.count;
  const m = Math.min(nf, nr, o.maxSubsetSize ?? 1000);
  if (m < 2) throw new Error(`KID needs at least 2 real and 2 generated images; it has ${nr} and ${nf}.`);
  const d = pair.dim;
  const kernel = (g: Float64Array): Float64Array => g.map((v) => (v / d + 1) ** 3);
  const kxx = kernel(pair.fakeGram());
  const kyy = kernel(pair.realGram());
  const kxy = kernel(pair.fakeRealGram());

  const rng = Rng.fromSeed(o.seed ?? 0, 0x6b6964);
  const xs = new Uint32Array(m);
  const ys = new Uint32Array(m);
  const values = new Float64Array(numSubsets);
  for (let s = 0; s < numSubsets; s++) {
    choose(nf, xs, rng);
    choose(nr, ys, rng);
    // In order: the sums below then read each kernel row front to back (the order does not matter to them).
    xs.sort();
    ys.sort();
    const a = offDiagonalSum(kxx, nf, xs) + offDiagonalSum(kyy, nr, ys);
    let b = 0;
    for (let i = 0; i < m; i++) {
      const row = xs[i]! * nr;
      for (let j = 0; j < m; j++) b += kxy[row + ys[j]!]!;
    }
    values[s] = a / (m * (m - 1)) - (2 * b) / (m * m);
  }
  let sum = 0;
  for (const v of values) sum += v;
  const mean = sum / numSubsets;
  let sq = 0;
  for (const v of values) sq += (v - mean) ** 2;
  return { kid: mean, std: Math.sqrt(sq / numSubsets), subsetSize: m, numSubsets };
}

/** Σ_{i≠j} K[idx_i, idx_j]. */
function offDiagonalSum(k: Float64Array, n: number, idx: Uint32Array): number {
  let s = 0;
  for (let i = 0; i < idx.length; i++) {
    const row = idx[i]! * n;
    for (let j = 0; j < idx.length; j++) if (i !== j) s += k[row + idx[j]!]!;
  }
  return s;
}

/** out.length distinct indices from [0, n) (a partial Fisher–Yates shuffle). */
function choose(n: number, out: Uint32Array, rng: Rng): void {
  const pool = Uint32Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < out.length; i++) {
    const j = i + rng.nextInt(n - i);
    const t = pool[i]!;
    pool[i] = pool[j]!;
    pool[j] = t;
    out[i] = pool[i]!;
  }
}

export const kidMetric: MetricDef = {
  id: 'kid',
  title: 'KID',
  series: ['Metrics/kid', 'Metrics/kid_std'],
  minSamples: 2,
  compute(pair, o) {
    const r = kernelInceptionDistance(pair, o.seed !== undefined ? { seed: o.seed } : {});
    return { 'Metrics/kid': r.kid, 'Metrics/kid_std': r.std };
  },
  rank: (v) => v['Metrics/kid'] ?? NaN,
};
