/**
 * The best snapshot of a run: the checkpoint marked best (RunStore.markBest, kept through pruning)
 * and the training evaluation that made it so. Free of TensorFlow.js: the service reads it too.
 */
import type { BestSnapshot } from '../api/contract.js';
import type { MetricsStore } from '../store/metrics.js';
import type { RunStore } from '../store/runs.js';
import type { MetricsConfig } from '../metrics/options.js';
import { METRICS } from '../metrics/registry.js';

/** The run's best snapshot as stored: the checkpoint marked best and its training evaluation. */
export function currentBest(runs: RunStore, store: MetricsStore, runId: number, metrics: Pick<MetricsConfig, 'metric'>): BestSnapshot | null {
  const best = runs.listCheckpoints(runId).find((c) => c.isBest);
  if (!best) return null;
  const evaluation = store
    .evaluations(runId)
    .filter((e) => e.checkpointId === best.id && e.source === 'training')
    .at(-1);
  if (!evaluation) return null;
  return { checkpointId: best.id, kimg: best.kimg, metric: metrics.metric, value: shownValue(metrics.metric, METRICS[metrics.metric].rank(evaluation.metrics)) };
}

/** What a person reads for a rank: KID and FID as they are, precision/recall's F1 (its rank is −F1). */
export function shownValue(metric: BestSnapshot['metric'], rank: number): number {
  return metric === 'pr' ? -rank : rank;
}

export function rankOf(b: BestSnapshot): number {
  return b.metric === 'pr' ? -b.value : b.value;
}
