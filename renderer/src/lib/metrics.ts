/** How the metrics read for people: names, values, and which charts show them. */
import type { MetricChoice } from '../../../core/api/contract.js';
import { QUALITY_BLURRY, QUALITY_RECOGNISABLE } from '../../../core/api/vocabulary.js';
import type { ChartLine } from './charts.js';

export const METRIC_TITLES: Record<MetricChoice, string> = { kid: 'KID', fid: 'FID', pr: 'Precision and recall' };

const num = (v: number | undefined, digits: number): string => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

/** 'KID 0.0123 ± 0.0021', 'FID 45.61', 'precision 0.61 · recall 0.34'. */
export function metricValueText(metric: MetricChoice, values: Readonly<Record<string, number>>): string {
  switch (metric) {
    case 'kid':
      return `KID ${num(values['Metrics/kid'], 4)}${values['Metrics/kid_std'] !== undefined ? ` ± ${num(values['Metrics/kid_std'], 4)}` : ''}`;
    case 'fid':
      return `FID ${num(values['Metrics/fid'], 2)}`;
    case 'pr':
      return `precision ${num(values['Metrics/precision'], 2)} · recall ${num(values['Metrics/recall'], 2)}`;
  }
}

/** The best snapshot's value as shown: KID and FID as they are, precision/recall's F1. */
export function bestValueText(metric: MetricChoice, value: number): string {
  return metric === 'pr' ? `F1 ${num(value, 2)}` : `${METRIC_TITLES[metric]} ${num(value, metric === 'kid' ? 4 : 2)}`;
}

/** One chart per metric: its title, a line on how to read it, its lines (the second of two is dashed: the compare view colours by run). */
export interface MetricChartSpec {
  title: string;
  hint: string;
  lines: ChartLine[];
  /** Series that must have points for the chart to be drawn. */
  needs: string;
}

/** The quality scale's chart (every evaluation with the scale's ends known). */
export const QUALITY_CHART: MetricChartSpec = {
  title: 'Quality',
  hint: '0: the untrained generator. 100: as close as your own images are to each other.',
  lines: [{ name: 'Metrics/quality', label: 'quality', colour: '--chart-1' }],
  needs: 'Metrics/quality',
};

export const METRIC_CHARTS: Record<MetricChoice, MetricChartSpec> = {
  kid: {
    title: 'KID',
    hint: 'How far the samples are from your images (lower is closer); dashed: its spread over subsets.',
    lines: [
      { name: 'Metrics/kid', label: 'KID', colour: '--chart-1' },
      { name: 'Metrics/kid_std', label: '± std', colour: '--chart-1', dashed: true },
    ],
    needs: 'Metrics/kid',
  },
  fid: { title: 'FID', hint: 'Fréchet distance of the features (lower is closer); grows when there are fewer images.', lines: [{ name: 'Metrics/fid', label: 'FID', colour: '--chart-2' }], needs: 'Metrics/fid' },
  pr: {
    title: 'Precision and recall',
    hint: 'Precision (solid): samples that look like your images. Recall (dashed): your images the samples cover.',
    lines: [
      { name: 'Metrics/precision', label: 'precision', colour: '--chart-3' },
      { name: 'Metrics/recall', label: 'recall', colour: '--chart-4', dashed: true },
    ],
    needs: 'Metrics/precision',
  },
};

/** The chosen metric first, then the others. */
export function metricOrder(first: MetricChoice): MetricChoice[] {
  return [first, ...(['kid', 'fid', 'pr'] as const).filter((m) => m !== first)];
}

/** The compare view's word when two runs' evaluations do not compare value for value; null when they do. */
export function evaluatedAlikeNote(alike: { sizes: boolean; extractor: boolean }): string | null {
  if (alike.sizes && alike.extractor) return null;
  const how = !alike.sizes && !alike.extractor ? 'on different numbers of images, with different feature extractors' : !alike.sizes ? 'on different numbers of images' : 'with different feature extractors';
  return `These runs were evaluated ${how}; compare the shapes of the curves, not the values.`;
}

/** The quality (0–100) in words. */
export function qualityWords(score: number | null): string {
  if (score === null) return 'not on the scale';
  if (score < QUALITY_BLURRY) return 'still blurry';
  if (score < QUALITY_RECOGNISABLE) return 'taking shape';
  if (score < 85) return 'recognisable';
  return 'close to your images';
}

/** "about 12 more minutes", "about 2 more hours". */
export function moreTime(seconds: number): string {
  const m = Math.max(1, Math.round(seconds / 60));
  if (m < 90) return `about ${m} more minute${m === 1 ? '' : 's'}`;
  const h = Math.round(m / 30) / 2;
  return `about ${h} more hours`;
}

/**
 * A finished run's verdict in one plain sentence: its quality, and what to do next.
 * `continueSeconds`: how long the suggested continuation takes (null when the speed is unknown).
 */
export function runVerdict(score: number | null, continueSeconds: number | null): { level: 'unknown' | 'blurry' | 'shaping' | 'good'; text: string } {
  const more = continueSeconds === null ? 'a while longer' : `for ${moreTime(continueSeconds)}`;
  if (score === null) return { level: 'unknown', text: `Finished, not judged yet: evaluate its last checkpoint (in the list below) to see its quality, or continue training ${more}.` };
  if (score < QUALITY_BLURRY) return { level: 'blurry', text: `Still blurry — this is normal for a run this short; continue training ${more}.` };
  if (score < QUALITY_RECOGNISABLE) return { level: 'shaping', text: `Taking shape, not there yet; continue training ${more} for clearer samples.` };
  return { level: 'good', text: 'Finished: the samples are recognisable. Explore them in the Gallery, or continue training for finer detail.' };
}
