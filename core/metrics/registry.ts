/**
 * The metrics, by id: one file each (kid.ts, fid.ts, precision-recall.ts), each returning its
 * values by series name ('Metrics/kid', …). An evaluation computes the ones asked for on one pair
 * of feature sets, sharing their dot products.
 */
import { type FeaturePair } from './features.js';
import { fidMetric } from './fid.js';
import { kidMetric } from './kid.js';
import { METRIC_IDS, type MetricDef, type MetricId } from './metric.js';
import { prMetric } from './precision-recall.js';

export { METRIC_IDS, type MetricDef, type MetricId } from './metric.js';

export const METRICS: Readonly<Record<MetricId, MetricDef>> = { kid: kidMetric, fid: fidMetric, pr: prMetric };

export function isMetricId(v: unknown): v is MetricId {
  return typeof v === 'string' && (METRIC_IDS as readonly string[]).includes(v);
}

/**
 * The values of every metric in `ids`, by series name. A metric that needs more images than the
 * pair has is an error, or with `skipUnavailable` is left out (a dataset of 3 images has a KID but
 * no precision/recall).
 */
export function computeMetrics(ids: readonly MetricId[], pair: FeaturePair, o: { seed?: number; skipUnavailable?: boolean } = {}): Record<string, number> {
  const out: Record<string, number> = {};
  for (const id of ids) {
    const def = METRICS[id];
    if (pair.real.count < def.minSamples || pair.fake.count < def.minSamples) {
      if (o.skipUnavailable) continue;
      throw new Error(`${def.title} needs at least ${def.minSamples} real and ${def.minSamples} generated images; this evaluation has ${pair.real.count} and ${pair.fake.count}.`);
    }
    Object.assign(out, def.compute(pair, o));
  }
  return out;
}
