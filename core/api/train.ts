/**
 * Training domain of StudioApi: presets, runs, live progress, comparing runs. Every training
 * option is declared once in ./train-options.ts; the request schema here is derived from it.
 */
import { z } from 'zod';
import { empty, returns, runId } from './schemas.js';
import type { BestSnapshot, EvaluationSummary, ExtractorInfo, RunAlert } from './metrics.js';
import { ADA_PIPELINES, BACKEND_CHOICES, DIFFAUGMENT_PARTS, METRIC_CHOICES, type MetricChoice, type RunStatusName } from './vocabulary.js';

export interface PresetInfo {
  /** 'baseline', 'ada', … */
  id: string;
  title: string;
  /** Two plain sentences for a non-expert: what it does, when to pick it. */
  summary: string;
  /** Why the studio suggests it for this dataset, or null. */
  recommendedBecause: string | null;
  available: boolean;
  /** Why it cannot be picked yet (e.g. "needs at least 2 labels"), or null. */
  unavailableReason: string | null;
}

/** Defaults the Train view shows for the open dataset. */
export interface TrainDefaults {
  images: number;
  resolution: number;
  /** 1 (grayscale) or 3 (RGB). */
  channels: number;
  /** Labels with images; a conditional run needs 2 or more. */
  numClasses: number;
  /** Batch that fits the resolution and the backend's memory. */
  batch: number;
  /** A duration that shows results within about an hour on this machine. */
  kimg: number;
}

export interface ComputeBackendReport {
  /** The backend training would use now. */
  chosen: string;
  /** Every candidate, best first: loaded or why not (e.g. "libcudart.so.11.0 not found"). */
  tried: Array<{ name: string; ok: boolean; reason: string }>;
  /** Kernels the studio added to the chosen backend. */
  added: string[];
}


export interface RunSummary {
  id: number;
  name: string;
  preset: string;
  status: RunStatusName;
  kimgDone: number;
  kimgTotal: number | null;
  /** The compute backend it ran on last. */
  backend: string | null;
  /** Why it failed or paused itself, in words a user can act on. */
  error: string | null;
  createdAt: string;
  updatedAt: string;
  /** kimg of the newest checkpoint; a run with one can resume. */
  latestCheckpointKimg: number | null;
}

export interface CheckpointSummary {
  id: number;
  kimg: number;
  step: number;
  isBest: boolean;
  createdAt: string;
  sizeBytes: number;
}

export interface RunDetail extends RunSummary {
  /** The full resolved config. */
  config: unknown;
  /** Metric series by name ('Loss/G', 'D/logit/real', 'r_t', 'img_s', …): [kimg, value|null][]. */
  series: Record<string, Array<[number, number | null]>>;
  checkpoints: CheckpointSummary[];
  previews: Array<{ id: number; kimg: number }>;
  // Metrics.
  /** Health alerts raised while training, oldest first. */
  alerts: RunAlert[];
  /** Evaluations of its checkpoints (training and on demand), by kimg. */
  evaluations: EvaluationSummary[];
  /** The best snapshot by the run's metric, or null before its first evaluation. */
  best: BestSnapshot | null;
  /** The metric that picks the best snapshot, and the features the metrics use. */
  metrics: { metric: MetricChoice; extractor: ExtractorInfo };
}

export interface TrainProgress {
  runId: number;
  phase: 'starting' | 'loading' | 'training' | 'saving' | 'evaluating';
  kimg: number;
  kimgTotal: number;
  step: number;
  /** Real images shown to D per second, recent. */
  imgPerSec: number;
  etaSeconds: number | null;
  /** The latest tick's statistics by name. */
  stats: Record<string, number>;
  backend: string;
  /** Set when a new preview grid was stored with this progress. */
  previewId?: number;
  // Metrics.
  /** Health alerts raised since the last progress. */
  alerts?: RunAlert[];
  /** Set when an evaluation finished with this progress. */
  evaluation?: EvaluationSummary & { best: boolean };
  /** While evaluating: images through the feature extractor so far, of `total`. */
  evaluating?: { done: number; total: number };
}


/** Two runs side by side: what differs in their settings, and their metric curves. */
export interface RunComparison {
  runs: RunSummary[];
  /** Settings that differ, flattened ('net.channelBase'), one value per run ('—' when absent). */
  configDiff: Array<{ key: string; values: string[] }>;
  /** Settings that are the same in both. */
  sameCount: number;
  /** Per run: its 'Metrics/…' series and its losses. */
  series: Array<Record<string, Array<[number, number | null]>>>;
  best: Array<BestSnapshot | null>;
  /** Whether every training evaluation of both runs looked at the same numbers of images (dataset, generated), and through the same extractor: only then do their values compare. */
  evaluatedAlike: { sizes: boolean; extractor: boolean };
}


/** True for an ADA pipeline name, `diffaugment`, or `diffaugment:` with a comma-separated subset of DIFFAUGMENT_PARTS. */
export function isAugPipe(name: string): boolean {
  if ((ADA_PIPELINES as readonly string[]).includes(name) || name === 'diffaugment') return true;
  const m = /^diffaugment:(.+)$/.exec(name);
  if (!m) return false;
  const parts = m[1]!.split(',');
  return parts.every((p) => (DIFFAUGMENT_PARTS as readonly string[]).includes(p)) && new Set(parts).size === parts.length;
}

const trainAdvanced = z
  .object({
    gLr: z.number().positive().max(1), // G's Adam learning rate
    dLr: z.number().positive().max(1), // D's Adam learning rate
    dStepsPerG: z.number().int().min(1).max(8), // D updates per G update
    r1Gamma: z.number().min(0).max(10000), // R1 weight γ (auto: 0.0002·res²/batch)
    loss: z.enum(['logistic', 'hinge', 'lsgan']), // adversarial loss
    emaKimg: z.number().min(0).max(1000), // half-life of G's EMA, in kimg
    channelBase: z.number().int().min(256).max(65536), // capacity knob
    channelMax: z.number().int().min(8).max(1024), // widest layer
    mappingLayers: z.number().int().min(1).max(8), // depth of the mapping network
    conditional: z.boolean(), // use the labels as classes
    tickKimg: z.number().positive().max(1000), // statistics and preview every this many kimg
    snapshotTicks: z.number().int().min(1).max(1000), // checkpoint every this many ticks
    transferFrom: z.object({ runId, checkpointId: z.number().int().positive().optional() }).strict(), // start from these weights
    freezeD: z.number().int().min(0).max(10), // D's first blocks kept frozen when transferring
    augPipe: z.string().refine(isAugPipe, `Use an ADA pipeline (${ADA_PIPELINES.join(', ')}) or diffaugment, optionally with its parts (diffaugment:color,translation,cutout).`), // what D's augmentation does
    augTarget: z.number().gt(0, 'The r_t target must be above 0.').max(1, 'The r_t target must be at most 1.'), // ADA steers r_t toward this
    augP: z.number().min(0, 'A fixed p must be from 0 to 1.').max(1, 'A fixed p must be from 0 to 1.'), // fixed augmentation strength (absent: adaptive)
    augSpeedKimg: z.number().positive('The ADA speed must be more than 0 kimg.').max(100000), // kimg for p to go from 0 to 1 at the fastest
    // Metrics.
    metric: z.enum(METRIC_CHOICES), // picks the best snapshot
    evalEvery: z.number().int().min(0).max(1000), // evaluate every this many checkpoints; 0: never while training
    evalReals: z.number().int().min(4).max(5000), // dataset images per evaluation (features cached); 5000 at most: the metrics hold N² products
    evalFakes: z.number().int().min(4).max(5000), // generated images per evaluation
    evalBudget: z.number().min(0).max(1000), // % of training time evaluations may take; 0: no limit
  })
  .partial()
  .strict();
const trainSettings = z
  .object({
    preset: z.string().min(1).max(64),
    name: z.string().trim().min(1).max(200).optional(),
    kimg: z.number().positive('The duration must be more than 0 kimg.').max(100000),
    batch: z.number().int().min(1).max(256).optional(),
    seed: z.number().int().min(0).max(2147483647).optional(),
    backend: z.enum(BACKEND_CHOICES).optional(),
    advanced: trainAdvanced.optional(),
  })
  .strict();
export type TrainSettings = z.infer<typeof trainSettings>;
export type TrainAdvanced = z.infer<typeof trainAdvanced>;

export const trainMethods = {
  'train.presets': returns<{ presets: PresetInfo[]; defaults: TrainDefaults | null }>()(empty),

  /** Which compute backend training would use, and why each better one is unavailable (probed in a worker). */
  'compute.backends': returns<ComputeBackendReport>()(z.object({ refresh: z.boolean().optional() }).strict()),

  /** Creates a run and starts training it in a worker. */
  'train.start': returns<RunSummary>()(trainSettings),

  /**
   * Continues a paused, stopped or failed run from its newest checkpoint. With `checkpointId` (an
   * older checkpoint, e.g. the best, or any checkpoint of a finished run) it branches: a new run
   * continues from that checkpoint on a fresh random stream, and the original stays as it was.
   */
  'train.resume': returns<RunSummary>()(z.object({ runId, backend: z.enum(BACKEND_CHOICES).optional(), checkpointId: z.number().int().positive().optional() }).strict()),

  /** Asks a running run to save a checkpoint and pause. */
  'train.pause': returns<RunSummary>()(z.object({ runId }).strict()),

  /** Asks a running run to save a checkpoint and stop for good (it can still be resumed later). */
  'train.stop': returns<RunSummary>()(z.object({ runId }).strict()),

  /** Every run of the open project, newest first. */
  'runs.list': returns<RunSummary[]>()(empty),

  /** One run with its config, metric series (optionally only after a kimg), checkpoints and previews. */
  'runs.get': returns<RunDetail>()(z.object({ runId, afterKimg: z.number().min(0).optional() }).strict()),

  /** A preview grid as a PNG data URL (default: the newest), or null when there is none yet. */
  'runs.preview': returns<{ id: number; kimg: number; dataUrl: string } | null>()(
    z.object({ runId, previewId: z.number().int().positive().optional() }).strict(),
  ),

  /** Deletes a run that is not running, with its metrics, checkpoints and previews. */
  'runs.delete': returns<RunSummary[]>()(z.object({ runId }).strict()),

  /** Two runs side by side: settings that differ and their metric curves. */
  'runs.compare': returns<RunComparison>()(z.object({ runIds: z.array(runId).length(2) }).strict()),
} as const;

export type TrainEvent = { type: 'run.changed'; run: RunSummary } | { type: 'run.progress'; progress: TrainProgress };
