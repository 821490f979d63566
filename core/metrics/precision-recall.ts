/**
 * Improved precision and recall (Kynkäänniemi et al. 2019), StyleGAN2-ADA's precision_recall.py:
 * each set's manifold is the union of balls around its points reaching their k-th nearest
 * neighbour (k = 3). Precision: the share of generated points inside the real manifold (are the
 * samples realistic?); recall: the share of real points inside the generated manifold (do the
 * samples cover the dataset?).
 */
import { diagonal, type FeaturePair, squaredDistances } from './features.js';
import type { MetricDef } from './metric.js';

export interface PrecisionRecall {
  precision: number;
  recall: number;
  k: number;
}

export function precisionRecall(pair: FeaturePair, o: { k?: number } = {}): PrecisionRecall {
  const k = o.k ?? 3;
  const nr = pair.real.count;
  const nf = pair.fake.count;
  if (nr <= k || nf <= k) throw new Error(`Precision and recall with k = ${k} need more than ${k} real and ${k} generated images; they have ${nr} and ${nf}.`);
  const rr = pair.realGram();
  const ff = pair.fakeGram();
  const fr = pair.fakeRealGram();
  const nRr = diagonal(rr, nr);
  const nFf = diagonal(ff, nf);
  const realRadii = kthRadii(squaredDistances(rr, nr, nr, nRr, nRr), nr, k);
  const fakeRadii = kthRadii(squaredDistances(ff, nf, nf, nFf, nFf), nf, k);
  const fakeToReal = squaredDistances(fr, nf, nr, nFf, nRr); // [Nf × Nr]

  // Precision: a fake counts when some real's ball holds it.
  let inside = 0;
  for (let i = 0; i < nf; i++) {
    for (let j = 0; j < nr; j++) {
      if (fakeToReal[i * nr + j]! <= realRadii[j]!) {
        inside++;
        break;
      }
    }
  }
  const precision = inside / nf;
  // Recall: a real counts when some fake's ball holds it.
  inside = 0;
  for (let j = 0; j < nr; j++) {
    for (let i = 0; i < nf; i++) {
      if (fakeToReal[i * nr + j]! <= fakeRadii[i]!) {
        inside++;
        break;
      }
    }
  }
  return { precision, recall: inside / nr, k };
}

/**
 * Each point's squared distance to its k-th nearest neighbour in its own set: the (k+1)-th
 * smallest of its row, the point itself (distance 0) included, as torch's kthvalue(k + 1).
 */
function kthRadii(d2: Float64Array, n: number, k: number): Float64Array {
  const out = new Float64Array(n);
  const row = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    row.set(d2.subarray(i * n, i * n + n));
    row.sort();
    out[i] = row[k]!;
  }
  return out;
}

export const prMetric: MetricDef = {
  id: 'pr',
  title: 'Precision and recall',
  series: ['Metrics/precision', 'Metrics/recall'],
  minSamples: 4,
  compute(pair) {
    const r = precisionRecall(pair);
    return { 'Metrics/precision': r.precision, 'Metrics/recall': r.recall };
  },
  // Snapshots rank by the F1 score of the two (higher is better, so negated).
  rank(v) {
    const p = v['Metrics/precision'] ?? NaN;
    const r = v['Metrics/recall'] ?? NaN;
    return p + r > 0 ? -(2 * p * r) / (p + r) : 0;
  },
};
