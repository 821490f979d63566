/**
 * Every metrics option, with its default and why, in one place. A run stores the resolved values
 * in its config (`metrics`), so its evaluations stay comparable with each other.
 *
 * Cost on a CPU backend (bench/metrics.ts, wasm on 2 cores): the InceptionV3 takes ~0.45 s per
 * image at 299², so an evaluation is dominated by the images it looks at. The dataset's features
 * are computed once per project and cached; each evaluation then looks at `fakes` generated
 * images (64 on a CPU: ~30 s). Evaluations are due at every checkpoint, and one that would take the
 * time spent evaluating past `budget` (10%) of the training time so far waits for a later
 * checkpoint: on a default 16² CPU run (50 kimg at ~17 img/s, a checkpoint every 5 kimg) the first
 * evaluation (200 reals + 64 fakes, ~2 min) comes at about 25 kimg and one follows at every
 * checkpoint after it; a second run of the project, its reals cached, is evaluated from 10 kimg on.
 */
import type { MetricChoice } from '../api/contract.js';
import type { CustomExtractorSpec } from './extractor-info.js';

export interface MetricsConfig {
  /** The metric that picks the best snapshot (all three are computed at each evaluation). KID by default: unbiased, so honest at small sample counts. */
  metric: MetricChoice;
  /** Evaluate G_ema every this many checkpoints (and so at checkpoints: the best is a real one); 0: never while training. */
  everyCheckpoints: number;
  /** Dataset images per evaluation (at most the dataset): the same fixed sample every time. */
  reals: number;
  /** Generated images per evaluation (fixed latents every time). */
  fakes: number;
  /** Share of training time evaluations may take (0.1 = 10%); 0: no limit. */
  budget: number;
  /** The user's standard FID Inception, or null for the InceptionV3 bundled with nsfwjs. */
  extractor: CustomExtractorSpec | null;
}

/** Sizes by compute class: CPU backends pay ~0.45 s an image, GPU ones a few ms. */
const SIZES = {
  cpu: { realsCap: 200, fakes: 64, everyCheckpoints: 1 },
  gpu: { realsCap: 5000, fakes: 1000, everyCheckpoints: 1 },
} as const;

export const DEFAULT_BUDGET = 0.1;

export function defaultMetricsConfig(images: number, compute: 'cpu' | 'gpu', extractor: CustomExtractorSpec | null = null): MetricsConfig {
  const s = SIZES[compute];
  const reals = Math.max(4, Math.min(images, s.realsCap));
  return { metric: 'kid', everyCheckpoints: s.everyCheckpoints, reals, fakes: s.fakes, budget: DEFAULT_BUDGET, extractor };
}

/** A stored config's metrics, with fields added since it was written filled in (runs from before metrics: CPU defaults). */
export function metricsConfigFromJson(value: unknown): MetricsConfig {
  const base = defaultMetricsConfig(SIZES.cpu.realsCap, 'cpu');
  const m = (value ?? {}) as Partial<MetricsConfig>;
  return { ...base, ...m, extractor: m.extractor ?? null };
}
