/**
 * Training domain of StudioApi: presets, runs, live progress, comparing runs. Every training
 * option is declared once in ./train-options.ts; the request schema here is derived from it.
 */
import { z } from 'zod';
import type { TrainConfig } from './run-config.js';
import type { BackboneInfo, VisionCostReport, VisionProgress, VisionSelection } from './vision.js';
import { empty, returns, runId } from './schemas.js';
import type { BestSnapshot, EvaluationSummary, ExtractorInfo, RunAlert, RunQuality } from './metrics.js';
import { OPTION_KEYS, rangeMessage, TRAIN_OPTIONS, type TrainAdvanced, type TrainOption, type TrainSettings } from './train-options.js';
import { BACKEND_CHOICES, type MetricChoice, type RunStatusName } from './vocabulary.js';

export type { TrainAdvanced, TrainSettings } from './train-options.js';

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
  /** Its runs augment what D sees: the augmentation options apply. */
  augments: boolean;
  /** Its runs add pretrained judges: the vision options apply. */
  vision?: boolean;
  /** The pretrained networks its runs may pick as judges (the vision-aided preset), with licence and training data. */
  backbones?: BackboneInfo[];
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
  /** The default duration: chosen so a default run ends with recognisable samples (core/train/config.ts defaultKimg). */
  kimg: number;
  /** kimg after which samples of a default-size run usually become recognisable at this resolution; null where no run measured it. */
  recognisableKimg: number | null;
  /** Where a measured default-size CPU run was still blurry at its end (this resolution or a smaller one): a lower bound; null: none. */
  stillBlurry: { resolution: number; kimg: number } | null;
  /** Images/s to expect at this resolution, by backend name: measured on this machine, else typical bench speeds. */
  speeds: Record<string, { imgPerSec: number; measured: boolean }>;
}

export interface ComputeBackendReport {
  /** The backend training would use now. */
  chosen: string;
  /** Every candidate, best first: loaded or why not (e.g. "libcudart.so.11.0 not found"). */
  tried: Array<{ name: string; ok: boolean; reason: string }>;
  /** Kernels the studio added to the chosen backend. */
  added: string[];
  /** Processor cores on this machine (what a CPU backend trains on). */
  cores?: number;
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
  /** Starred gallery images made from its checkpoints (those checkpoints are kept); deleting the run leaves them unable to be sampled again. */
  starred: Array<{ itemId: number; checkpointId: number; kimg: number; label: string }>;
}

export interface CheckpointSummary {
  id: number;
  kimg: number;
  step: number;
  isBest: boolean;
  createdAt: string;
  sizeBytes: number;
  /** Starred gallery images made from it: while there are any, it is kept when older checkpoints are pruned. */
  starred: number;
}

export interface RunDetail extends RunSummary {
  /** The full resolved config (a run stored before a field existed has it filled in). */
  config: TrainConfig;
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
  /** The latest evaluation on the quality scale, or null before the first. */
  quality: RunQuality | null;
  /** Measured speed (images/s) on the backend it ran on, at its resolution: for "continue for about N minutes". */
  speed: number | null;
  /** kimg the studio suggests adding when continuing it: up to where samples usually become recognisable, or as much again. */
  continueKimg: number;
  /** Vision-aided runs: the judges picked, as its newest checkpoint records them (live progress may be ahead). */
  vision?: { selections: VisionSelection[] };
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
  /** Vision-aided runs: the judges picked so far, and the pick just made (core/api/vision.ts). */
  vision?: VisionProgress;
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

/** The schema of one option, from its entry in the options table. */
function optionSchema(o: TrainOption): z.ZodType {
  switch (o.type) {
    case 'number': {
      let n = o.integer ? z.number().int('Use a whole number.') : z.number();
      n = o.minInclusive ? n.min(o.min, rangeMessage(o, 'low')) : n.gt(o.min, rangeMessage(o, 'low'));
      return n.max(o.max, rangeMessage(o, 'high'));
    }
    case 'choice':
      return o.accepts ? z.string().refine(o.accepts, o.invalid) : z.enum(o.choices.map((c) => c.value) as [string, ...string[]]);
    case 'boolean':
      return z.boolean();
    case 'text':
      return (o.trim ? z.string().trim() : z.string()).min(1).max(o.maxLength);
    case 'run-ref':
      return z.object({ runId, checkpointId: z.number().int().positive().optional() }).strict();
  }
}

function optionSchemas(advanced: boolean): Record<string, z.ZodType> {
  return Object.fromEntries(OPTION_KEYS.filter((k) => TRAIN_OPTIONS[k].advanced === advanced).map((k) => {
    const o: TrainOption = TRAIN_OPTIONS[k];
    const schema = optionSchema(o);
    return [k, o.required === true || advanced ? schema : schema.optional()];
  }));
}

/** TrainSettings as the table declares it: main settings, then `advanced` (every one optional). */
const trainAdvanced = z.object(optionSchemas(true)).partial().strict() as unknown as z.ZodType<TrainAdvanced>;
const trainSettings = z.object({ ...optionSchemas(false), advanced: trainAdvanced.optional() }).strict() as unknown as z.ZodType<TrainSettings>;

export const trainMethods = {
  'train.presets': returns<{ presets: PresetInfo[]; defaults: TrainDefaults | null }>()(empty),

  /** Which compute backend training would use, and why each better one is unavailable (probed in a worker). */
  'compute.backends': returns<ComputeBackendReport>()(z.object({ refresh: z.boolean().optional() }).strict()),

  /**
   * What each pretrained judge would cost per step on a backend, measured in a short-lived worker
   * (tens of seconds on a CPU): at the dataset's resolution, the given (or default) batch, and the
   * judges' image size (default: the backend's). `backbones`: 'auto' or a comma-separated list.
   */
  'vision.cost': returns<VisionCostReport>()(
    z
      .object({
        backend: z.enum(BACKEND_CHOICES).optional(),
        batch: z.number().int().min(1).max(256).optional(),
        visionInput: z.number().int().min(32).max(299).optional(),
        backbones: z.string().max(200).optional(),
      })
      .strict(),
  ),

  /** Creates a run and starts training it in a worker. */
  'train.start': returns<RunSummary>()(trainSettings),

  /**
   * Continues a paused, stopped or failed run from its newest checkpoint. With `checkpointId` (an
   * older checkpoint, e.g. the best, or any checkpoint of a finished run) it branches: a new run
   * continues from that checkpoint on a fresh random stream, and the original stays as it was.
   */
  'train.resume': returns<RunSummary>()(
    z
      .object({
        runId,
        backend: z.enum(BACKEND_CHOICES).optional(),
        checkpointId: z.number().int().positive().optional(),
        /** "Continue training": lengthen the run by this many kimg and go on from its newest checkpoint (a finished run too). */
        addKimg: z.number().gt(0, 'Continue by more than 0 kimg.').max(100000).optional(),
      })
      .strict(),
  ),

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
