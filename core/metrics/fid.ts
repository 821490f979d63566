/**
 * Fréchet Inception Distance (Heusel et al. 2017): the Fréchet distance between Gaussians fitted
 * to real and generated features, ‖μr − μg‖² + Tr(Σr + Σg − 2(Σr Σg)^½), with covariances over N
 * (StyleGAN2-ADA's get_mean_cov). Biased: it grows as the sample shrinks, so compare FIDs only at
 * the same sample counts.
 *
 * Tr((Σr Σg)^½) is computed stably from symmetric eigenproblems, two ways:
 *  - fewer samples than dimensions (the studio's usual case): with Σ = AᵀA, A the centred rows
 *    over √N, the non-zero eigenvalues of Σr Σg are those of M Mᵀ with M = Ar Agᵀ (N × N), so the
 *    trace is the sum of √eigenvalues of a small symmetric matrix;
 *  - otherwise: Tr((Σr Σg)^½) = Tr((Σr^½ Σg Σr^½)^½), with Σr^½ from Σr's eigendecomposition.
 * Both are exact; tests check each against the other and against SciPy's sqrtm.
 */
import type { FeaturePair, FeatureSet } from './features.js';
import type { MetricDef } from './metric.js';
import { centredScaled, covariance, crossGram, gram, matMul, mean, type Rows, sqrtPsd, symmetricEigen } from './linalg.js';

export interface FidResult {
  fid: number;
  /** ‖μr − μg‖². */
  meanTerm: number;
  /** Tr(Σr + Σg − 2(Σr Σg)^½). */
  covTerm: number;
  /** Which way the square root was taken. */
  method: 'gram' | 'covariance';
}

export function frechetInceptionDistance(real: FeatureSet, fake: FeatureSet, o: { method?: 'auto' | 'gram' | 'covariance' } = {}): FidResult {
  if (real.dim !== fake.dim) throw new Error(`FID of ${real.dim}-d against ${fake.dim}-d features`);
  if (real.count < 2 || fake.count < 2) throw new Error(`FID needs at least 2 real and 2 generated images; it has ${real.count} and ${fake.count}.`);
  const d = real.dim;
  const muR = mean(real);
  const muG = mean(fake);
  let meanTerm = 0;
  for (let k = 0; k < d; k++) meanTerm += (muR[k]! - muG[k]!) ** 2;
  const method = o.method === undefined || o.method === 'auto' ? (Math.min(real.count, fake.count) < d ? 'gram' : 'covariance') : o.method;
  const { traceR, traceG, traceSqrt } = method === 'gram' ? viaGram(real, fake) : viaCovariance(real, fake);
  const covTerm = traceR + traceG - 2 * traceSqrt;
  return { fid: meanTerm + covTerm, meanTerm, covTerm, method };
}

/**
 * FID from a pair's dot products (what the registry uses): with fewer samples than dimensions,
 * everything comes from the Gram matrices — ‖μr − μg‖² = mean(Grr) + mean(Ggg) − 2·mean(Ggr),
 * Tr Σ = Tr G / N − mean(G), and Tr (Σr Σg)^½ from the pair's small centred product — so a fast
 * `Dot` makes it fast; otherwise the covariance route.
 */
export function fidFromPair(pair: FeaturePair): FidResult {
  const nr = pair.real.count;
  const nf = pair.fake.count;
  if (nr < 2 || nf < 2) throw new Error(`FID needs at least 2 real and 2 generated images; it has ${nr} and ${nf}.`);
  if (Math.min(nr, nf) >= pair.dim) {
    const made = pair.covarianceProducts();
    if (!made) return frechetInceptionDistance(pair.real, pair.fake, { method: 'covariance' });
    // The products were made by a faster `Dot` (fill): only the means and the last eigenvalues here.
    const d = pair.dim;
    const muR = mean(pair.real);
    const muG = mean(pair.fake);
    let meanTerm = 0;
    let traces = 0;
    for (let k = 0; k < d; k++) {
      meanTerm += (muR[k]! - muG[k]!) ** 2;
      traces += made.real[k * d + k]! + made.fake[k * d + k]!;
    }
    const inner = made.inner.slice();
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) inner[i * d + j] = (inner[i * d + j]! + inner[j * d + i]!) / 2;
    const covTerm = traces - 2 * traceSqrtPsd(inner, d);
    return { fid: meanTerm + covTerm, meanTerm, covTerm, method: 'covariance' };
  }
  const meanOf = (g: Float64Array): number => g.reduce((a, b) => a + b, 0) / g.length;
  const trace = (g: Float64Array, n: number): number => {
    let t = 0;
    for (let i = 0; i < n; i++) t += g[i * n + i]!;
    return t;
  };
  const rr = pair.realGram();
  const ff = pair.fakeGram();
  const meanTerm = meanOf(rr) + meanOf(ff) - 2 * meanOf(pair.fakeRealGram());
  const traceR = trace(rr, nr) / nr - meanOf(rr);
  const traceG = trace(ff, nf) / nf - meanOf(ff);
  const inner = pair.fidInner();
  const covTerm = traceR + traceG - 2 * traceSqrtPsd(inner.matrix, inner.n);
  return { fid: meanTerm + covTerm, meanTerm, covTerm, method: 'gram' };
}

/**
 * Sum of √λ over the eigenvalues of a symmetric PSD matrix. Eigenvalues within rounding of 0
 * (below n·ε·λmax, either sign) count as 0: a square root would turn ε-sized noise into √ε-sized
 * error, which with fewer samples than dimensions (many zero eigenvalues) adds up.
 */
function traceSqrtPsd(m: Float64Array, n: number): number {
  const values = symmetricEigen(m, n).values;
  const floor = n * Number.EPSILON * Math.max(0, ...values.map(Math.abs));
  let t = 0;
  for (const v of values) if (v > floor) t += Math.sqrt(v);
  return t;
}

function viaGram(real: Rows, fake: Rows): { traceR: number; traceG: number; traceSqrt: number } {
  const d = real.dim;
  const ar: Rows = { data: centredScaled(real), count: real.count, dim: d };
  const ag: Rows = { data: centredScaled(fake), count: fake.count, dim: d };
  const trace = (a: Rows): number => {
    let t = 0;
    for (let i = 0; i < a.data.length; i++) t += a.data[i]! ** 2;
    return t;
  };
  // M = Ar·Agᵀ; M·Mᵀ or Mᵀ·M, whichever is smaller.
  const [small, large] = ar.count <= ag.count ? [ar, ag] : [ag, ar];
  const m: Rows = { data: crossGram(small, large), count: small.count, dim: large.count };
  return { traceR: trace(ar), traceG: trace(ag), traceSqrt: traceSqrtPsd(gram(m), small.count) };
}

function viaCovariance(real: Rows, fake: Rows): { traceR: number; traceG: number; traceSqrt: number } {
  const d = real.dim;
  const sr = covariance(real);
  const sg = covariance(fake);
  let traceR = 0;
  let traceG = 0;
  for (let k = 0; k < d; k++) {
    traceR += sr[k * d + k]!;
    traceG += sg[k * d + k]!;
  }
  const root = sqrtPsd(sr, d);
  const inner = matMul(matMul(root, sg, d), root, d);
  // Symmetrise against rounding before the symmetric solver (it reads the lower triangle only).
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) inner[i * d + j] = (inner[i * d + j]! + inner[j * d + i]!) / 2;
  return { traceR, traceG, traceSqrt: traceSqrtPsd(inner, d) };
}

export const fidMetric: MetricDef = {
  id: 'fid',
  title: 'FID',
  series: ['Metrics/fid'],
  minSamples: 2,
  compute: (pair) => ({ 'Metrics/fid': fidFromPair(pair).fid }),
  rank: (v) => v['Metrics/fid'] ?? NaN,
};
