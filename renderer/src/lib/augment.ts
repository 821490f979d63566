/** A run's augmentation as the charts need it, read from its resolved config. */
import type { AugmentConfig } from '../../../core/api/contract.js';
import type { Series } from './charts.js';

export interface AugmentInfo {
  kind: 'ada' | 'diffaugment';
  /** r_t target of an adaptive run; null when p is fixed (or DiffAugment). */
  target: number | null;
}

/** The series name of the target line (not a metric: drawn from the setting). */
export const TARGET_SERIES = 'Augment/target';

/** What a run's config says about augmentation; null when it does not augment. */
export function augmentOf(config: { augment?: Partial<AugmentConfig> } | null): AugmentInfo | null {
  const a = config?.augment;
  if (!a || (a.kind !== 'ada' && a.kind !== 'diffaugment')) return null;
  const adaptive = a.kind === 'ada' && (a.p === null || a.p === undefined);
  return { kind: a.kind, target: adaptive && a.target !== undefined ? a.target : null };
}

/** `series` and a flat target line at r_t's points. */
export function withTarget(series: ReadonlyMap<string, Series>, target: number): ReadonlyMap<string, Series> {
  const out = new Map(series);
  out.set(TARGET_SERIES, (series.get('r_t') ?? []).map(([k]) => [k, target]));
  return out;
}
