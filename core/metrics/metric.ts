/** What a metric is to the registry: an id, the series it writes, how it ranks snapshots. */
import type { FeaturePair } from './features.js';

export type MetricId = 'kid' | 'fid' | 'pr';
export const METRIC_IDS: readonly MetricId[] = ['kid', 'fid', 'pr'];

export interface MetricDef {
  id: MetricId;
  /** For people: 'KID'. */
  title: string;
  /** Series names it returns, e.g. 'Metrics/kid'. */
  series: readonly string[];
  /** Fewest real and generated images it can work with. */
  minSamples: number;
  /** Computes its values by series name. */
  compute(pair: FeaturePair, o: { seed?: number }): Record<string, number>;
  /** One number that ranks snapshots from its values: lower is better. */
  rank(values: Readonly<Record<string, number>>): number;
}
