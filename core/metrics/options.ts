/**
 * Every metrics option, with its default and why, in one place. A run stores the resolved values
 * in its config (`metrics`), so its evaluations stay comparable with each other.
 *
 * Cost on a CPU backend (bench/metrics.ts, wasm on 2 cores): the InceptionV3 takes ~0.45 s per
 * image at 299², whatever the training resolution, so 10% of a small CPU run's time (a default 16²
 * run: ~85 img/s, 50 kimg in ~10 min) bought only ~100 images of evaluation in all, and a short or
 * slow run none. CPU runs are therefore judged by the MobileNetV2 bundled with nsfwjs at 128²
 * (`features: 'mobilenet'`: 15–35 features/s on wasm here, measured by bench/first-hour.ts), GPU
 * runs by the InceptionV3. Unless the user sets the sizes:
 *  - at the run's first checkpoint, once its speed is measured, the studio picks the largest sizes
 *    from SIZE_LADDER (up to 200 + 64 on a CPU, 5000 + 1000 on a GPU) with which up to
 *    `PLANNED_EVALUATIONS` evaluations (the first also measuring the quality scale's ends) fit in
 *    `budget` of the run's projected training time, and keeps them for the rest of the run
 *    (evaluations of a run stay comparable);
 *  - evaluations are paced over the run and one at the last checkpoint is kept room for
 *    (core/evaluation/in-training.ts `evaluationFits`); one under way that turns out slower than
 *    predicted stops early.
 */
import { TRAIN_OPTIONS } from '../api/train-options.js';
import type { BundledFeatures, CustomExtractorSpec, MetricsConfig } from '../api/run-config.js';
import { bundledFeaturesFor } from './extractor-info.js';

export type { MetricsConfig } from '../api/run-config.js';

/** Sizes by compute class: CPU backends pay ~0.45 s an image, GPU ones a few ms. */
const SIZES = {
  cpu: { realsCap: 200, fakes: 64 },
  gpu: { realsCap: 5000, fakes: 1000 },
} as const;

/** Share of training time evaluations may take (the options table says it in %). */
export const DEFAULT_BUDGET = TRAIN_OPTIONS.evalBudget.default / 100;

export function defaultMetricsConfig(images: number, compute: 'cpu' | 'gpu', extractor: CustomExtractorSpec | null = null): MetricsConfig {
  const s = SIZES[compute];
  const reals = Math.max(4, Math.min(images, s.realsCap));
  return { metric: TRAIN_OPTIONS.metric.default, everyCheckpoints: TRAIN_OPTIONS.evalEvery.default, reals, fakes: s.fakes, budget: DEFAULT_BUDGET, autoSize: true, extractor, features: bundledFeaturesFor(compute) };
}

/** Evaluation sizes the studio picks from, largest first: [dataset images, generated images]. */
export const SIZE_LADDER: ReadonlyArray<readonly [number, number]> = [
  [5000, 1000],
  [2000, 500],
  [1000, 250],
  [500, 128],
  [200, 64],
  [128, 48],
  [96, 32],
  [64, 24],
  [48, 16],
  [32, 12],
  [16, 8],
];
/** Evaluations the automatic sizes aim to fit in a run (fewer when it has fewer checkpoints left). */
export const PLANNED_EVALUATIONS = 4;
/** Seconds an evaluation costs besides its images (loading the extractor, generating, the metrics). */
export const EVALUATION_OVERHEAD_S = 2;

/** The same for the bundled extractor a run uses: MobileNetV2 loads in a fraction of a second. */
export function evaluationOverhead(features: BundledFeatures): number {
  return features === 'mobilenet' ? 1 : EVALUATION_OVERHEAD_S;
}

export interface SizePlanInput {
  /** The configured (largest) sizes. */
  reals: number;
  fakes: number;
  /** Dataset images available. */
  images: number;
  /** Seconds of evaluation the budget allows over the whole run. */
  budgetSeconds: number;
  /** Checkpoints from this one to the end of the run. */
  checkpointsLeft: number;
  /** Features per second of the extractor. */
  featuresPerSecond: number;
  /** Of the first `n` dataset images an evaluation would use, how many have no cached features yet. */
  uncached(n: number): number;
  /** Seconds an evaluation costs besides its images; default EVALUATION_OVERHEAD_S. */
  overhead?: number;
  /** The first evaluation also measures the quality scale's ends: the untrained generator's images and as many other dataset images (at most). */
  anchorsPending?: boolean;
}

/** The largest sizes (at most the configured ones) with which the planned evaluations fit the budget; the smallest when none does. */
export function planSizes(p: SizePlanInput): { reals: number; fakes: number; evaluations: number; seconds: number } {
  const evaluations = Math.max(1, Math.min(PLANNED_EVALUATIONS, p.checkpointsLeft));
  const candidates = SIZE_LADDER.filter(([r, f]) => r <= Math.max(p.reals, 16) && f <= Math.max(p.fakes, 8));
  const sized = (candidates.length > 0 ? candidates : [SIZE_LADDER.at(-1)!]).map(([r, f]) => {
    const reals = Math.max(4, Math.min(r, p.images));
    const seconds = (p.uncached(reals) + evaluations * f + (p.anchorsPending ? 2 * f : 0)) / p.featuresPerSecond + evaluations * (p.overhead ?? EVALUATION_OVERHEAD_S);
    return { reals, fakes: f, evaluations, seconds };
  });
  return sized.find((s) => s.seconds <= p.budgetSeconds) ?? sized.at(-1)!;
}

/** A stored config's metrics, with fields added since it was written filled in (runs from before metrics: CPU defaults). */
export function metricsConfigFromJson(value: unknown): MetricsConfig {
  const base = defaultMetricsConfig(SIZES.cpu.realsCap, 'cpu');
  const m = (value ?? {}) as Partial<MetricsConfig>;
  // Runs stored before `features` were judged by the InceptionV3.
  return { ...base, ...m, autoSize: m.autoSize ?? (value === undefined || value === null), extractor: m.extractor ?? null, features: m.features ?? 'inception' };
}
