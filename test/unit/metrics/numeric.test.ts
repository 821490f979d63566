/**
 * FID, KID and precision/recall against values computed other ways: Gaussians whose Fréchet
 * distance has a closed form, numpy/scipy numbers written once by
 * test/fixtures/metrics/make-reference.py, direct evaluation of the formulas, and point sets whose
 * answers can be worked out by hand.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FeaturePair, featureSet, type FeatureSet, pickRows } from '../../../core/metrics/features.js';
import { fidFromPair, frechetInceptionDistance } from '../../../core/metrics/fid.js';
import { kernelInceptionDistance } from '../../../core/metrics/kid.js';
import { precisionRecall } from '../../../core/metrics/precision-recall.js';
import { computeMetrics, METRICS } from '../../../core/metrics/registry.js';
import { Rng } from '../../../core/random/rng.js';

const ref = JSON.parse(readFileSync(new URL('../../fixtures/metrics/reference.json', import.meta.url), 'utf8')) as {
  dim: number;
  real: number[];
  fake: number[];
  fidAll: number;
  fidFirst20: number;
  kidFirst60: number;
  pr: { precision: number; recall: number };
};
const real = featureSet(Float32Array.from(ref.real), ref.dim);
const fake = featureSet(Float32Array.from(ref.fake), ref.dim);
const first = (s: FeatureSet, n: number): FeatureSet => pickRows(s, Array.from({ length: n }, (_, i) => i));
const close = (actual: number, expected: number, rel: number, what: string): void =>
  assert.ok(Math.abs(actual - expected) <= rel * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);

/**
 * 2d points whose mean is exactly μ and whose covariance (over N) is exactly L·Lᵀ: ±√d·eᵢ has
 * mean 0 and covariance I, mapped through L and shifted by μ.
 */
function exactGaussian(mu: number[], l: number[][]): FeatureSet {
  const d = mu.length;
  const rows: number[] = [];
  for (let i = 0; i < d; i++) {
    for (const sign of [1, -1]) {
      for (let r = 0; r < d; r++) rows.push(mu[r]! + sign * Math.sqrt(d) * l[r]![i]!);
    }
  }
  // Float64 features: the closed form is checked to rounding, not to float32.
  return { data: Float64Array.from(rows) as unknown as Float32Array, count: 2 * d, dim: d };
}

test('FID of two 2-d Gaussians with non-commuting covariances equals the closed form', () => {
  // Σ1 = L1·L1ᵀ, Σ2 = L2·L2ᵀ, chosen so that Σ1·Σ2 ≠ Σ2·Σ1.
  const l1 = [[2, 0], [0.6, 0.5]];
  const l2 = [[1, 0], [-1.2, 1.5]];
  const mu1 = [0.5, -1];
  const mu2 = [2, 1];
  const s = (l: number[][]): number[] => [l[0]![0]! ** 2, l[0]![0]! * l[1]![0]!, l[0]![0]! * l[1]![0]!, l[1]![0]! ** 2 + l[1]![1]! ** 2];
  const s1 = s(l1);
  const s2 = s(l2);
  const prod = [s1[0]! * s2[0]! + s1[1]! * s2[2]!, s1[0]! * s2[1]! + s1[1]! * s2[3]!, s1[2]! * s2[0]! + s1[3]! * s2[2]!, s1[2]! * s2[1]! + s1[3]! * s2[3]!];
  const prodT = [s2[0]! * s1[0]! + s2[1]! * s1[2]!, s2[0]! * s1[1]! + s2[1]! * s1[3]!];
  assert.ok(Math.abs(prod[0]! - prodT[0]!) > 0.1 || Math.abs(prod[1]! - prodT[1]!) > 0.1, 'the covariances do not commute');
  // For 2 × 2: Tr √(Σ1Σ2) = √(Tr(Σ1Σ2) + 2√(det Σ1 · det Σ2)).
  const det = (m: number[]): number => m[0]! * m[3]! - m[1]! * m[2]!;
  const trSqrt = Math.sqrt(prod[0]! + prod[3]! + 2 * Math.sqrt(det(s1) * det(s2)));
  const expected = (mu1[0]! - mu2[0]!) ** 2 + (mu1[1]! - mu2[1]!) ** 2 + s1[0]! + s1[3]! + s2[0]! + s2[3]! - 2 * trSqrt;
  const a = exactGaussian(mu1, l1);
  const b = exactGaussian(mu2, l2);
  for (const method of ['gram', 'covariance'] as const) {
    close(frechetInceptionDistance(a, b, { method }).fid, expected, 1e-12, `FID (${method})`);
  }
  // FID of a Gaussian against itself: 0; against a shifted copy: the squared shift.
  close(frechetInceptionDistance(a, a).fid, 0, 1e-12, 'FID to itself');
  close(frechetInceptionDistance(a, exactGaussian([mu1[0]! + 3, mu1[1]! - 4], l1)).fid, 25, 1e-12, 'FID to a shifted copy');
});

test('FID of Gaussian samples approaches the closed form (40,000 draws, 3-d, non-commuting)', () => {
  const rng = Rng.fromSeed(11);
  const normal = (): number => Math.sqrt(-2 * Math.log(1 - rng.nextFloat())) * Math.cos(2 * Math.PI * rng.nextFloat());
  const draw = (mu: number[], l: number[][], n: number): FeatureSet => {
    const data = new Float32Array(n * 3);
    for (let i = 0; i < n; i++) {
      const z = [normal(), normal(), normal()];
      for (let r = 0; r < 3; r++) data[i * 3 + r] = mu[r]! + l[r]!.reduce((s, v, c) => s + v * z[c]!, 0);
    }
    return featureSet(data, 3);
  };
  const l1 = [[1, 0, 0], [0.5, 1, 0], [0, 0.3, 0.7]];
  const l2 = [[0.8, 0, 0], [-0.4, 1.2, 0], [0.6, 0, 1]];
  // The closed form, with exact-moment point sets (checked above to agree with it).
  const expected = frechetInceptionDistance(exactGaussian([0, 0, 0], l1), exactGaussian([1, 0, -1], l2)).fid;
  const sampled = frechetInceptionDistance(draw([0, 0, 0], l1, 40_000), draw([1, 0, -1], l2, 40_000)).fid;
  assert.ok(Math.abs(sampled - expected) < 0.03 * expected + 0.01, `sampled ${sampled}, closed form ${expected}`);
});

test('FID matches SciPy sqrtm on 32-d features, both routes (N > d and N < d)', () => {
  const all = frechetInceptionDistance(real, fake);
  assert.equal(all.method, 'covariance');
  close(all.fid, ref.fidAll, 1e-9, 'FID, 80 vs 60');
  const r20 = first(real, 20);
  const f20 = first(fake, 20);
  const few = frechetInceptionDistance(r20, f20);
  assert.equal(few.method, 'gram');
  // With 20 samples in 32-d both covariances are singular, and SciPy's sqrtm of a singular
  // product is itself only good to about √ε: compare at 1e-7.
  close(few.fid, ref.fidFirst20, 1e-7, 'FID, 20 vs 20 (Gram route)');
  const viaCov = frechetInceptionDistance(r20, f20, { method: 'covariance' }).fid;
  close(viaCov, ref.fidFirst20, 1e-7, 'FID, 20 vs 20 (covariance route)');
  close(few.fid, viaCov, 1e-10, 'the two routes agree');
  close(frechetInceptionDistance(real, fake, { method: 'gram' }).fid, ref.fidAll, 1e-9, 'FID, 80 vs 60 (Gram route)');
});

test('FID from a pair’s Gram matrices alone equals the direct routes, whichever side is smaller', () => {
  const r20 = first(real, 20);
  const f20 = first(fake, 20);
  const fromPair = fidFromPair(new FeaturePair(r20, f20));
  assert.equal(fromPair.method, 'gram');
  close(fromPair.fid, ref.fidFirst20, 1e-7, 'from the Grams vs SciPy');
  for (const [nr, nf] of [[20, 12], [12, 20], [31, 2]] as const) {
    const a = first(real, nr);
    const b = first(fake, nf);
    const direct = frechetInceptionDistance(a, b, { method: 'covariance' });
    const pair = fidFromPair(new FeaturePair(a, b));
    close(pair.fid, direct.fid, 1e-9, `${nr} reals vs ${nf} fakes`);
    close(pair.meanTerm, direct.meanTerm, 1e-9, `${nr} vs ${nf}: the means' term`);
  }
  // As many samples as dimensions or more: the covariance route.
  assert.equal(fidFromPair(new FeaturePair(real, fake)).method, 'covariance');
});

/** Unbiased MMD² with k(x,y) = (x·y/d + 1)³ over the whole sets, evaluated term by term. */
function directMmd(x: FeatureSet, y: FeatureSet): number {
  const d = x.dim;
  const k = (a: FeatureSet, i: number, b: FeatureSet, j: number): number => {
    let s = 0;
    for (let t = 0; t < d; t++) s += a.data[i * d + t]! * b.data[j * d + t]!;
    return (s / d + 1) ** 3;
  };
  const m = x.count;
  let xx = 0;
  let yy = 0;
  let xy = 0;
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      if (i !== j) {
        xx += k(x, i, x, j);
        yy += k(y, i, y, j);
      }
      xy += k(x, i, y, j);
    }
  }
  return (xx + yy) / (m * (m - 1)) - (2 * xy) / (m * m);
}

test('KID with whole-set subsets equals numpy’s StyleGAN2-ADA formula and the direct sum', () => {
  const r60 = first(real, 60);
  const r = kernelInceptionDistance(new FeaturePair(r60, fake), { numSubsets: 5 });
  assert.equal(r.subsetSize, 60);
  close(r.kid, ref.kidFirst60, 1e-10, 'KID vs numpy');
  close(r.kid, directMmd(fake, r60), 1e-10, 'KID vs the direct sum');
  assert.ok(r.std < 1e-12, 'every subset is the whole set: no spread');
});

test('KID of a set against itself is about 0, unbiased (negative as often as positive), and grows with a shift', () => {
  const rng = Rng.fromSeed(5);
  const sample = (n: number, shift: number): FeatureSet => featureSet(Float32Array.from({ length: n * 8 }, () => rng.nextFloat() + shift), 8);
  const values: number[] = [];
  for (let trial = 0; trial < 40; trial++) values.push(kernelInceptionDistance(new FeaturePair(sample(30, 0), sample(30, 0)), { numSubsets: 10, seed: trial }).kid);
  const negatives = values.filter((v) => v < 0).length;
  const meanKid = values.reduce((a, b) => a + b, 0) / values.length;
  const spread = Math.sqrt(values.reduce((a, b) => a + (b - meanKid) ** 2, 0) / values.length);
  assert.ok(negatives >= 8 && negatives <= 32, `negative ${negatives} times out of 40 (unbiased around 0)`);
  assert.ok(Math.abs(meanKid) < (3 * spread) / Math.sqrt(values.length), `mean ${meanKid} ≈ 0 (spread ${spread})`);
  // The same features on both sides, subsets drawn independently: about 0, and its std is reported.
  const same = sample(60, 0);
  const self = kernelInceptionDistance(new FeaturePair(same, same), { maxSubsetSize: 20 });
  assert.ok(Math.abs(self.kid) < 3 * self.std, `KID(X, X) = ${self.kid} ± ${self.std}`);
  // A shifted set is far.
  const far = kernelInceptionDistance(new FeaturePair(sample(60, 0), sample(60, 0.5)));
  assert.ok(far.kid > 20 * Math.abs(self.kid) && far.kid > 10 * far.std, `shifted: ${far.kid} ± ${far.std}`);
});

test('precision and recall match a brute-force numpy computation', () => {
  const r = precisionRecall(new FeaturePair(real, fake));
  assert.equal(r.precision, ref.pr.precision);
  assert.equal(r.recall, ref.pr.recall);
});

test('precision and recall on point sets with answers worked out by hand', () => {
  const line = (xs: number[]): FeatureSet => featureSet(Float32Array.from(xs.flatMap((x) => [x, 0])), 2);
  // Reals at 0…9: the 3rd nearest neighbour is 2 away inside, 3 away at the ends.
  const reals = line([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  // Fakes: 4.5 and 9.5 lie in real balls; 30 and 40 do not → precision 2/4. The fakes' own balls
  // (3rd neighbour: 4.5→30 is 25.5; 9.5→30 is 20.5; 30→4.5 is 25.5; 40→4.5 is 35.5) cover every
  // real → recall 1.
  let r = precisionRecall(new FeaturePair(reals, line([4.5, 9.5, 30, 40])));
  assert.deepEqual([r.precision, r.recall], [0.5, 1]);
  // Fakes bunched at 0.1…0.4 (3rd neighbour 0.3 away): all realistic (precision 1), but they
  // cover only the reals within 0.3 of one of them, i.e. 0 → recall 1/10: mode collapse.
  r = precisionRecall(new FeaturePair(reals, line([0.1, 0.2, 0.3, 0.4])));
  assert.equal(r.precision, 1);
  assert.equal(r.recall, 0.1);
  // The same set on both sides: everything is covered.
  r = precisionRecall(new FeaturePair(reals, reals));
  assert.deepEqual([r.precision, r.recall], [1, 1]);
});

test('the registry returns each metric’s values by series name, and refuses too few samples', () => {
  const values = computeMetrics(['kid', 'fid', 'pr'], new FeaturePair(real, fake));
  assert.deepEqual(Object.keys(values).sort(), ['Metrics/fid', 'Metrics/kid', 'Metrics/kid_std', 'Metrics/precision', 'Metrics/recall']);
  close(values['Metrics/fid']!, ref.fidAll, 1e-9, 'registry FID');
  assert.ok(METRICS.kid.rank(values) === values['Metrics/kid']);
  assert.ok(METRICS.pr.rank({ 'Metrics/precision': 1, 'Metrics/recall': 1 }) < METRICS.pr.rank({ 'Metrics/precision': 0.5, 'Metrics/recall': 1 }), 'better P/R ranks lower');
  assert.throws(() => computeMetrics(['pr'], new FeaturePair(first(real, 3), fake)), /Precision and recall needs at least 4 real/);
});
