/**
 * Metrics domain of StudioApi: KID, FID, precision/recall from a pretrained network's features,
 * the best snapshot, health alerts. Defaults and a comment for every option live in
 * core/metrics/options.ts.
 */
import { z } from 'zod';
import { empty, projectPath, returns, runId } from './schemas.js';
import type { AlertSeverity, MetricChoice } from './vocabulary.js';

/** Something going wrong in a run, in plain words. */
export interface RunAlert {
  id: number;
  kimg: number;
  /** 'd-overfit', 'mode-collapse', 'diverged', 'evaluation-failed'. */
  code: string;
  severity: AlertSeverity;
  /** One sentence: what happened. */
  what: string;
  /** One sentence: what to do. */
  todo: string;
  createdAt: string;
}

export interface EvaluationSummary {
  id: number;
  /** Null once the checkpoint has been pruned. */
  checkpointId: number | null;
  kimg: number;
  source: 'training' | 'on-demand';
  /** The feature extractor's id. */
  extractor: string;
  /** True when computed with the user's standard FID Inception (comparable with papers). */
  reference: boolean;
  realCount: number;
  fakeCount: number;
  /** Values by series name: 'Metrics/kid', 'Metrics/kid_std', 'Metrics/fid', 'Metrics/precision', 'Metrics/recall', 'Metrics/diversity'. */
  metrics: Record<string, number>;
  seconds: number;
  createdAt: string;
}

/** A generated image beside the dataset image nearest to it in the extractor's features. */
export interface NearestPairSummary {
  /** The generated image and the dataset image, as PNG data URLs. */
  sample: string;
  real: string;
  imageId: number;
  /** Their distance over the median gap between dataset images (below ~0.5: the sample is likely a copy). */
  ratio: number;
}

/** Where a run's quality stands, in plain terms: the latest evaluation on the 0–100 scale. */
export interface RunQuality {
  /** 0 = the untrained generator, 100 = the dataset compared with itself; null when the scale is unknown (a run from before it). */
  score: number | null;
  kimg: number;
  /** The KID behind it, and the scale's ends (the expert view). */
  kid: number | null;
  anchors: { untrained: number; self: number } | null;
  /** Which network judged, in plain words. */
  judge: string;
  realCount: number;
  fakeCount: number;
  /** The latest evaluation's nearest pairs. */
  nearest: NearestPairSummary[];
}

export interface BestSnapshot {
  checkpointId: number;
  kimg: number;
  metric: MetricChoice;
  /** The metric's main value there ('Metrics/kid', 'Metrics/fid', or precision/recall's F1). */
  value: number;
}

/** Which network the metrics' features come from. */
export interface ExtractorInfo {
  /** For people: 'InceptionV3 bundled with nsfwjs 4.4.0 (not the reference TF-Inception weights)'. */
  title: string;
  /** True for the user's standard FID Inception. */
  reference: boolean;
  /** The user's model.json, when one is set. */
  path: string | null;
  inputRange: [number, number] | null;
  /** One sentence for the UI and reports: what the numbers can be compared with. */
  note: string;
}

/** Progress and end of an on-demand evaluation (`runs.evaluate`). */
export interface EvaluationProgress {
  runId: number;
  jobId: number;
  checkpointId: number;
  state: 'running' | 'done' | 'failed';
  /** Images through the feature extractor, of `total`. */
  done: number;
  total: number;
  evaluation: EvaluationSummary | null;
  error: string | null;
}


export const metricsMethods = {
  /**
   * Evaluates a checkpoint (default: the run's newest) in a worker. Returns at once; progress and
   * the result arrive as `run.evaluation` events, and the result is kept with the run.
   */
  'runs.evaluate': returns<EvaluationProgress>()(
    z
      .object({
        runId,
        checkpointId: z.number().int().positive().optional(),
        reals: z.number().int().min(4).max(5000).optional(),
        fakes: z.number().int().min(4).max(5000).optional(),
      })
      .strict(),
  ),

  /** The feature extractor new runs and evaluations use. */
  'metrics.extractor': returns<ExtractorInfo>()(empty),

  /**
   * Uses the user's TF.js conversion of the standard FID Inception (checked in a worker: it must
   * load and give 2048 features per image), or the bundled InceptionV3 again with `path: null`.
   */
  'metrics.setExtractor': returns<ExtractorInfo>()(
    z
      .object({
        path: projectPath.nullable(),
        inputRange: z.tuple([z.number(), z.number()]).refine(([lo, hi]) => hi > lo, 'The input range must go from low to high.').optional(),
      })
      .strict(),
  ),
} as const;

export type MetricsEvent = { type: 'run.evaluation'; progress: EvaluationProgress };
