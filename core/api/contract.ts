/**
 * StudioApi: the one contract between the renderer and the core service.
 *
 * Electron's main process (IPC), the browser-mode server (WebSocket) and the renderer all import
 * this file. Each method has a params schema, validated at the boundary by `dispatch.ts`, and a
 * result type. Adding a method here without a handler is a type error in every host.
 *
 * Browser-safe: this file imports zod and types only, never `node:` modules.
 */
import { z } from 'zod';
import type { ApiError, Result } from './errors.js';
import { classValue, galleryId, gallerySource, modelName, psiValue, requestId, sampleSpec, tagName } from './gallery-schemas.js';

// ---------------------------------------------------------------------------------------------
// Shared shapes.

/**
 * A path as the user picked it (a project file, what to import, where to export): no NUL bytes, a
 * sane length. The service makes it absolute and checks it against its path policy.
 */
export const projectPath = z
  .string()
  .min(1, 'A project path is required.')
  .max(4096, 'The path is longer than 4,096 characters.')
  .refine((p) => !p.includes('\0'), 'The path contains a NUL character.');

export interface ProjectCounts {
  images: number;
  labels: number;
  runs: number;
  checkpoints: number;
  models: number;
  galleryItems: number;
}

export interface ProjectSummary {
  /** Absolute path of the .atelier file. */
  path: string;
  /** Stable id written when the project was created. */
  id: string;
  name: string;
  /** Schema version of the file (PRAGMA user_version). */
  schemaVersion: number;
  /** ISO time the project was created. */
  createdAt: string;
  /** Version of the studio that created the file. */
  createdBy: string;
  sizeBytes: number;
  counts: ProjectCounts;
}

export interface RecentProject {
  path: string;
  name: string;
  /** ISO time the project was last opened in the studio. */
  lastOpened: string;
  /** False when the file has been moved or deleted since. */
  exists: boolean;
}

export interface AppInfo {
  version: string;
  /** 'desktop' under Electron, 'browser' under `atelier serve`. */
  mode: 'desktop' | 'browser';
  /** True when the host shows native open/save dialogs (`dialog.pickProject`). */
  nativeDialogs: boolean;
  /** Highest project schema this build reads and writes. */
  schemaVersion: number;
  platform: string;
}

export interface FileEntry {
  name: string;
  path: string;
  kind: 'dir' | 'project' | 'file';
  sizeBytes: number;
}

export interface DirListing {
  /** The folder listed (absolute). */
  dir: string;
  /** Its parent, or null at the chooser's root. */
  parent: string | null;
  /** The folder the chooser may not leave. */
  root: string;
  /** Folders first, then files, each sorted by name; hidden entries left out. */
  entries: FileEntry[];
}

// ---------------------------------------------------------------------------------------------
// Dataset: import, normalisation, labels, duplicates, skipped files. Defaults and a comment for
// every option live in core/data/options.ts.

export type FitMode = 'crop' | 'pad' | 'stretch';
export type ColourMode = 'rgb' | 'grayscale';
export type LabelSource = 'none' | 'folders';

/** How every image of a project is normalised; chosen once per project and stored in it. */
export interface NormaliseSettings {
  /** Side of the square images, a power of two from 16 to 1024. */
  resolution: number;
  /** crop: centre crop to a square; pad: fit inside, pad with `padColour`; stretch: ignore the aspect ratio. */
  fit: FitMode;
  /** '#rrggbb' around the image when fit is 'pad'. */
  padColour: string;
  colourMode: ColourMode;
  /** '#rrggbb' that transparent pixels are composited onto. */
  background: string;
}

/** Why a file was not imported. */
export type SkipCode =
  | 'empty' // 0 bytes
  | 'not-an-image' // not a format the studio reads (text, archives inside folders, …)
  | 'unsupported' // an image format or variant the studio cannot decode (e.g. BMP)
  | 'corrupt' // truncated or damaged
  | 'too-large' // above the pixel or file-size limit (checked on the header, before decoding)
  | 'dicom-no-pixels' // a DICOM file without pixel data (a report, a structured document)
  | 'dicom-unsupported' // a DICOM encoding the studio cannot decode (e.g. JPEG 2000)
  | 'unreadable'; // permissions, or the file vanished

export interface SkippedFile {
  /** The file as the user knows it; inside a zip: `archive.zip!/folder/name.png`. */
  file: string;
  code: SkipCode;
  /** One sentence: what is wrong and what to do. */
  reason: string;
}

export interface DuplicatePair {
  kind: 'exact' | 'near';
  /** The copy that was dropped. */
  file: string;
  /** The copy that was kept (already in the project, or earlier in this import). */
  keptFile: string;
  /** Null once the kept image has been removed from the dataset. */
  keptImageId: number | null;
  /** Hamming distance of the perceptual hashes (0 for exact duplicates). */
  distance: number;
}

export type ImportStatus = 'running' | 'done' | 'cancelled' | 'failed' | 'interrupted';

export interface ImportProgress {
  importId: number;
  /** Files looked at so far, of `total` (null while the sources are still being listed). */
  done: number;
  total: number | null;
  imported: number;
  duplicates: number;
  skipped: number;
  /** Files already in the project from an earlier import (same bytes). */
  unchanged: number;
  /** Files per second over the last few seconds. */
  imagesPerSecond: number;
  /** Seconds left at the current rate; null when unknown. */
  etaSeconds: number | null;
}

export interface ImportReport {
  importId: number;
  status: ImportStatus;
  sources: string[];
  settings: NormaliseSettings;
  startedAt: string;
  finishedAt: string | null;
  total: number;
  imported: number;
  unchanged: number;
  duplicates: number;
  skipped: SkippedFile[];
  duplicatePairs: DuplicatePair[];
  seconds: number;
  imagesPerSecond: number;
  /** Why the import failed, when it did. */
  error: string | null;
}

export interface LabelCount {
  id: number;
  name: string;
  /** Class index in exports (labels ordered by id). */
  classIndex: number;
  count: number;
}

export interface DatasetStats {
  images: number;
  settings: NormaliseSettings | null;
  labels: LabelCount[];
  unlabelled: number;
  /** Copies dropped by every import so far (exact + near). */
  duplicatesDropped: number;
  /** Source files whose images the user removed: later imports leave them out until allowed back. */
  removed: number;
  /** Every file that could not be imported (latest reason per file). */
  skipped: SkippedFile[];
  skippedByCode: Array<{ code: SkipCode; count: number }>;
  /** The import now running, if any. */
  importing: ImportProgress | null;
  lastImport: { importId: number; status: ImportStatus; finishedAt: string | null; imported: number } | null;
}

export interface DatasetItem {
  id: number;
  labelId: number | null;
  label: string | null;
  /** `data:image/png;base64,…`: ready for an <img>. */
  thumb: string;
}

export interface DatasetPage {
  total: number;
  offset: number;
  items: DatasetItem[];
}

export interface DatasetImage {
  id: number;
  labelId: number | null;
  label: string | null;
  /** The normalised image, `data:image/png;base64,…`. */
  png: string;
  width: number;
  height: number;
  channels: number;
  source: { path: string; format: string; width: number | null; height: number | null; bitDepth: number | null; frame: number | null; hash: string | null };
  createdAt: string;
}

export interface SuggestedSettings {
  settings: NormaliseSettings;
  /** Files looked at. */
  sampled: number;
  /** Median of the shorter side of the sampled images. */
  medianShortSide: number | null;
  /** Why each value was suggested, in words for the dialog. */
  reasons: string[];
}

export interface DatasetExportResult {
  path: string;
  images: number;
  /** False when the archive has `"labels": null`. */
  labelled: boolean;
  classes: string[];
  bytes: number;
}

// ---------------------------------------------------------------------------------------------
// Training: presets, runs, live progress. Defaults and a comment for every option live in
// core/presets/ and core/train/config.ts.

/** Compute backends, best first; 'auto' picks the best that loads. */
export const BACKEND_CHOICES = ['auto', 'tensorflow-gpu', 'tensorflow', 'webgpu', 'wasm', 'cpu'] as const;
export type BackendChoiceName = (typeof BACKEND_CHOICES)[number];

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

export type RunStatusName = 'queued' | 'running' | 'paused' | 'stopped' | 'done' | 'failed';

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

// ---------------------------------------------------------------------------------------------
// Metrics: KID, FID, precision/recall from a pretrained network's features, the best snapshot,
// health alerts. Defaults and a comment for every option live in core/metrics/options.ts.

export const METRIC_CHOICES = ['kid', 'fid', 'pr'] as const;
/** kid: Kernel Inception Distance (the default: honest at small sample counts); fid: Fréchet Inception Distance; pr: precision and recall. */
export type MetricChoice = (typeof METRIC_CHOICES)[number];

export type AlertSeverity = 'info' | 'warning' | 'critical';

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

// ---------------------------------------------------------------------------------------------
// Methods.

/** Declares a method: `returns<Result>()(paramsSchema)`; the result is a type only. */
function returns<R>() {
  return <P extends z.ZodType>(params: P): { params: P; result: R } => ({ params, result: undefined as unknown as R });
}

const empty = z.object({}).strict();
const projectName = z
  .string()
  .trim()
  .min(1, 'The project name is empty.')
  .max(200, 'The project name is longer than 200 characters.');


const hexColour = z.string().regex(/^#[0-9a-fA-F]{6}$/, 'Use a colour like #ffffff.');
const normaliseSettings = z
  .object({
    resolution: z
      .number()
      .int()
      .refine((n) => n >= 16 && n <= 1024 && (n & (n - 1)) === 0, 'The resolution must be a power of two from 16 to 1024.'),
    fit: z.enum(['crop', 'pad', 'stretch']),
    padColour: hexColour,
    colourMode: z.enum(['rgb', 'grayscale']),
    background: hexColour,
  })
  .strict();
const importSources = z.array(projectPath).min(1, 'Pick at least one file or folder.').max(10_000);
const imageIds = z.array(z.number().int().positive()).min(1).max(1_000_000);
const labelName = z.string().trim().min(1, 'The label is empty.').max(200, 'The label is longer than 200 characters.');

const runId = z.number().int().positive();

/** ADA's augmentation pipelines by name (StyleGAN2-ADA's augpipe_specs; core/augment/config.ts holds what each enables). */
export const ADA_PIPELINES = ['blit', 'geom', 'color', 'filter', 'noise', 'cutout', 'bg', 'bgc', 'bgcf', 'bgcfn', 'bgcfnc'] as const;
export type AdaPipelineName = (typeof ADA_PIPELINES)[number];
/** DiffAugment's transforms (Zhao et al. 2020); `diffaugment` alone means all three. */
export const DIFFAUGMENT_PARTS = ['color', 'translation', 'cutout'] as const;

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

export const methods = {
  /** What this host is and can do. */
  'app.info': returns<AppInfo>()(empty),

  /** Create a new project file at `path` (must not exist) and open it. */
  'project.create': returns<ProjectSummary>()(z.object({ path: projectPath, name: projectName.optional() }).strict()),

  /** Open an existing project file (closing the one open, if any). */
  'project.open': returns<ProjectSummary>()(z.object({ path: projectPath }).strict()),

  /** Close the open project. No-op when none is open. */
  'project.close': returns<null>()(empty),

  /** The open project, or null. */
  'project.current': returns<ProjectSummary | null>()(empty),

  /** Recently opened projects, newest first. */
  'project.recent': returns<RecentProject[]>()(empty),

  /** Remove an entry from the recent list (the file itself is untouched). */
  'project.forget': returns<RecentProject[]>()(z.object({ path: projectPath }).strict()),

  /** Browser mode's file chooser: list a folder under the chooser's root (default: the root). */
  'files.list': returns<DirListing>()(z.object({ dir: projectPath.optional() }).strict()),

  /** Desktop: a native dialog to pick a project to open, or where to create one. Null if cancelled. */
  'dialog.pickProject': returns<{ path: string | null }>()(
    z.object({ mode: z.enum(['open', 'create']), suggestedName: z.string().max(200).optional() }).strict(),
  ),

  /** Desktop: a native dialog to pick files, folders or zips to import (granted to this session). Empty if cancelled. */
  'dialog.pickImportSources': returns<{ paths: string[] }>()(z.object({ kind: z.enum(['files', 'folder']) }).strict()),

  /** Desktop: a native save dialog for an export. Null if cancelled. */
  'dialog.pickExportPath': returns<{ path: string | null }>()(z.object({ suggestedName: z.string().max(200).optional() }).strict()),

  /** Suggested normalisation for these sources (resolution, colour mode) from a sample of them. */
  'dataset.suggest': returns<SuggestedSettings>()(z.object({ sources: importSources }).strict()),

  /** The project's stored normalisation, or null before the first import. */
  'dataset.settings': returns<NormaliseSettings | null>()(empty),

  /**
   * Starts importing files, folders and zip archives into the open project. Returns at once;
   * progress arrives as `import.progress` events and the end as `import.finished`.
   */
  'dataset.import': returns<{ importId: number; settings: NormaliseSettings }>()(
    z
      .object({
        sources: importSources,
        settings: normaliseSettings.partial().optional(),
        labels: z.enum(['none', 'folders']).optional(),
        nearThreshold: z.number().int().min(-1).max(64).optional(),
      })
      .strict(),
  ),

  /** Stops the running import; what was committed stays. False when none was running. */
  'dataset.cancelImport': returns<{ cancelled: boolean }>()(empty),

  /** Progress of the running import, or null. */
  'dataset.importStatus': returns<ImportProgress | null>()(empty),

  /** The report of one import (default: the latest), or null when there was none. */
  'dataset.report': returns<ImportReport | null>()(z.object({ importId: z.number().int().positive().optional() }).strict()),

  /** Counts per label, duplicates dropped, skipped files with reasons, the normalisation. */
  'dataset.stats': returns<DatasetStats>()(empty),

  /** A page of thumbnails for a virtualised grid, in import order. */
  'dataset.page': returns<DatasetPage>()(
    z
      .object({
        offset: z.number().int().min(0),
        limit: z.number().int().min(1).max(500),
        /** A label id, 'unlabelled', or absent for every image. */
        label: z.union([z.number().int().positive(), z.literal('unlabelled')]).optional(),
      })
      .strict(),
  ),

  /** One image at full (normalised) size with its provenance. */
  'dataset.image': returns<DatasetImage>()(z.object({ id: z.number().int().positive() }).strict()),

  /** Removes images from the dataset. */
  'dataset.remove': returns<DatasetStats>()(z.object({ ids: imageIds }).strict()),

  /** Lets files whose images were removed be imported again (by the next import of them). */
  'dataset.forgetRemoved': returns<DatasetStats>()(empty),

  /** Gives images a label (created if new), or none with null. */
  'dataset.relabel': returns<DatasetStats>()(z.object({ ids: imageIds, label: labelName.nullable() }).strict()),

  /** Renames a label; onto an existing name, the two labels merge. */
  'dataset.renameLabel': returns<DatasetStats>()(z.object({ id: z.number().int().positive(), name: labelName }).strict()),

  /** Writes the dataset as a StyleGAN2-ADA zip (PNGs + dataset.json). */
  'dataset.export': returns<DatasetExportResult>()(
    z.object({ out: projectPath, labels: z.enum(['auto', 'none']).optional(), overwrite: z.boolean().optional() }).strict(),
  ),
  /** The presets, with what the studio suggests for the open dataset; defaults are null without images. */
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
  // Gallery, models and export
  /** Models and runs' checkpoints the gallery can sample. */
  'gallery.sources': returns<GallerySources>()(empty),

  /** Loads a generator into the sampling worker; what it makes (size, classes, latent sizes). */
  'gallery.open': returns<GeneratorInfo>()(z.object({ source: gallerySource }).strict()),

  /**
   * Makes images in the sampling worker. Returns at once; each image arrives as a `gallery.image`
   * event with this `requestId`, and the end as `gallery.done`.
   */
  'gallery.sample': returns<{ requestId: string; count: number }>()(
    z.object({ source: gallerySource, specs: z.array(sampleSpec).min(1).max(256), requestId }).strict(),
  ),

  /** Drops sample requests not finished yet (the grid scrolled away, ψ changed). */
  'gallery.cancel': returns<{ cancelled: number }>()(z.object({ requestIds: z.array(requestId).max(1000) }).strict()),

  /** Keeps an image in the project with where it came from (made again in the worker from its spec). */
  'gallery.save': returns<GalleryItem>()(
    z.object({ source: gallerySource, spec: sampleSpec, favourite: z.boolean().optional(), rejected: z.boolean().optional(), tags: z.array(tagName).max(32).optional() }).strict(),
  ),

  /**
   * Kept items, newest first: all, favourites, rejected or neither; optionally one generator's, or
   * (`orphaned`) those whose generator is gone — its model deleted, its checkpoint pruned — or one tag's.
   */
  'gallery.items': returns<GalleryPage>()(
    z
      .object({
        source: gallerySource.optional(),
        orphaned: z.literal(true).optional(),
        filter: z.enum(['all', 'favourites', 'rejected', 'unrated']).optional(),
        tag: tagName.optional(),
        offset: z.number().int().min(0),
        limit: z.number().int().min(1).max(200),
      })
      .strict(),
  ),

  /** Favourite / reject / tag kept items (all or none); the items are re-read after the `gallery.changed` event. */
  'gallery.update': returns<{ updated: number[] }>()(
    z
      .object({
        ids: z.array(galleryId).min(1).max(10000),
        favourite: z.boolean().optional(),
        rejected: z.boolean().optional(),
        addTags: z.array(tagName).max(32).optional(),
        removeTags: z.array(tagName).max(32).optional(),
      })
      .strict(),
  ),

  /** Deletes kept items (the generator is untouched). */
  'gallery.delete': returns<{ deleted: number }>()(z.object({ ids: z.array(galleryId).min(1).max(10000) }).strict()),

  /**
   * Writes kept items as their stored PNGs (item-12.png, …) with manifest.json giving each one's
   * provenance, in a folder or a .zip (when `out` ends in .zip). Needs no generator: items of a
   * deleted model export too.
   */
  'gallery.exportItems': returns<ExportResult>()(
    z.object({ ids: z.array(galleryId).min(1).max(100000), out: projectPath, overwrite: z.boolean().optional() }).strict(),
  ),

  /** Writes frames (an interpolation strip) as an animated GIF or a folder of PNGs. */
  'gallery.exportStrip': returns<ExportResult>()(
    z
      .object({
        source: gallerySource,
        specs: z.array(sampleSpec).min(2).max(256),
        format: z.enum(['gif', 'png-sequence']),
        out: projectPath,
        fps: z.number().min(1).max(60).optional(),
        overwrite: z.boolean().optional(),
      })
      .strict(),
  ),

  /** Every model of the open project, newest first. */
  'models.list': returns<ModelSummary[]>()(empty),

  /** Makes a named model from a run's checkpoint (its G_ema and the metrics at that point). */
  'models.promote': returns<ModelSummary>()(z.object({ runId, checkpointId: galleryId, name: modelName }).strict()),

  'models.rename': returns<ModelSummary>()(z.object({ modelId: galleryId, name: modelName }).strict()),

  /** Deletes a model; its gallery items, runs and checkpoints stay. */
  'models.delete': returns<ModelSummary[]>()(z.object({ modelId: galleryId }).strict()),

  /** Imports a TF.js export made by this studio (its folder, model.json or atelier.json) as a model. */
  'models.import': returns<ModelSummary>()(z.object({ path: projectPath, name: modelName.optional() }).strict()),

  /**
   * Exports a generator: tfjs (a folder for @tensorflow/tfjs), onnx (a file, checked against TF.js
   * before it is written), html (a folder that samples in any browser), images (PNGs of seeds with a
   * provenance manifest, in a folder or a .zip). Progress arrives as `export.progress` events.
   * Kept items are exported with `gallery.exportItems`.
   */
  'models.export': returns<ExportResult>()(
    z
      .object({
        source: gallerySource,
        format: z.enum(['tfjs', 'onnx', 'html', 'images']),
        out: projectPath,
        overwrite: z.boolean().optional(),
        exportId: requestId.optional(),
        images: z
          .object({
            seeds: z.string().min(1).max(2000).optional(),
            psi: psiValue.optional(),
            classIndex: classValue.optional(),
          })
          .strict()
          .optional(),
      })
      .strict(),
  ),

  /** Desktop: a native dialog to pick a generator export to import (a folder or its model.json). Null if cancelled. */
  'dialog.pickModelImport': returns<{ path: string | null }>()(empty),

  // Metrics.
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

  /** Two runs side by side: settings that differ and their metric curves. */
  'runs.compare': returns<RunComparison>()(z.object({ runIds: z.array(runId).length(2) }).strict()),

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

export type Methods = typeof methods;
export type Method = keyof Methods;
export type Params<M extends Method> = z.infer<Methods[M]['params']>;
export type ResultOf<M extends Method> = Methods[M]['result'];

/** The contract as a callable interface: what the renderer sees through its IBackend. */
export type StudioApi = { [M in Method]: (params: Params<M>) => Promise<ResultOf<M>> };

export const methodNames = Object.keys(methods) as Method[];

export function isMethod(name: unknown): name is Method {
  return typeof name === 'string' && Object.prototype.hasOwnProperty.call(methods, name);
}

// ---------------------------------------------------------------------------------------------
// Events pushed from the service to every connected renderer.

export type StudioEvent =
  | { type: 'project.changed'; project: ProjectSummary | null }
  | { type: 'recent.changed'; recent: RecentProject[] }
  | { type: 'import.progress'; progress: ImportProgress }
  | { type: 'import.finished'; report: ImportReport }
  | { type: 'dataset.changed'; stats: DatasetStats }
  /** Desktop: files or folders dropped onto the window (read by the preload, granted by main). */
  | { type: 'files.dropped'; paths: string[] }
  | { type: 'run.changed'; run: RunSummary }
  | { type: 'run.progress'; progress: TrainProgress }
  // Gallery, models and export
  | { type: 'gallery.image'; requestId: string; index: number; dataUrl: string }
  | { type: 'gallery.done'; requestId: string; count: number; error: ApiError | null }
  | { type: 'gallery.changed' }
  | { type: 'models.changed'; models: ModelSummary[] }
  | { type: 'export.progress'; progress: ExportProgress }
  // Metrics.
  | { type: 'run.evaluation'; progress: EvaluationProgress };

// ---------------------------------------------------------------------------------------------
// Transport names (IPC channels, WebSocket frames).

export { IPC_EVENT, IPC_INVOKE } from './channels.js';

/** A WebSocket request frame. */
export interface WireRequest {
  id: number;
  method: string;
  params: unknown;
}
/** A WebSocket frame from the server: a reply to a request, or an event. */
export type WireMessage =
  | { kind: 'reply'; id: number; result: Result<unknown> }
  | { kind: 'event'; event: StudioEvent };

// ---------------------------------------------------------------------------------------------
// Gallery, models and export: sampling a generator (a model, or a run's checkpoint), keeping what
// it makes with where it came from, and writing generators as files. Seeds become z exactly as
// core/gallery/latents.ts says; samples use each layer's stored constant noise.

/** What to sample: a promoted model, or one checkpoint of a run (its G_ema). */
export type GallerySource = { kind: 'model'; modelId: number } | { kind: 'checkpoint'; checkpointId: number };

export interface GeneratorInfo {
  source: GallerySource;
  /** "Faces, 40 kimg" or "Run 3 · baseline at 12.8 kimg". */
  label: string;
  resolution: number;
  /** 1 (grayscale) or 3 (RGB). */
  channels: number;
  /** Class names, index = class (empty: unconditional). */
  classNames: string[];
  zDim: number;
  wDim: number;
  /** The compute backend the sampling worker runs on. */
  backend: string;
}

export interface ModelSummary {
  id: number;
  name: string;
  /** Promoted from a checkpoint, or imported from a file exported by the studio. */
  source: 'checkpoint' | 'import';
  resolution: number;
  channels: number;
  classNames: string[];
  runId: number | null;
  runName: string | null;
  checkpointId: number | null;
  kimg: number | null;
  step: number | null;
  /** Metric series at the checkpoint ('Metrics/kid', 'Loss/G', …). */
  metrics: Record<string, number | null>;
  /** For an imported model: the file it came from. */
  importedFrom: string | null;
  sizeBytes: number;
  createdAt: string;
  updatedAt: string | null;
}

export interface GallerySources {
  models: ModelSummary[];
  /** Runs with at least one checkpoint, newest first. */
  runs: Array<{ id: number; name: string; status: RunStatusName; checkpoints: CheckpointSummary[] }>;
  /** Kept items whose generator is gone (listed with `gallery.items` and `orphaned: true`). */
  orphaned: number;
}

/** A latent to start from: a seed drawn now (with ψ and class), or a saved gallery item. */
export type LatentRef = { seed: number; psi: number; classIndex: number | null } | { itemId: number };

/** One image to make. */
export type SampleSpec =
  | { kind: 'seed'; seed: number; psi: number; classIndex: number | null }
  /** A frame between two latents: linear in w (after ψ), or spherical in z (then mapped, ψ and class blended). */
  | { kind: 'interpolate'; from: LatentRef; to: LatentRef; t: number; mode: 'w-linear' | 'z-slerp' }
  /** Σ sign · mean(w of the refs): "A − B + C", each letter one latent or the average of a picked set. */
  | { kind: 'arithmetic'; terms: Array<{ sign: 1 | -1; refs: LatentRef[] }> };

/** Where a kept image came from: enough to make it again, even after its model or checkpoint is gone. */
export interface ItemProvenance {
  /** "Faces, 40 kimg" or "Run 3 · baseline at 12.8 kimg". */
  generator: string;
  model: { id: number; name: string } | null;
  run: { id: number; name: string } | null;
  checkpoint: { id: number; kimg: number; step: number } | null;
  /** How it was made (the spec as asked for). */
  spec: SampleSpec;
  noise: 'const';
  latentAlgorithm: string;
  backend: string;
  studioVersion: string;
}

export interface GalleryItem {
  id: number;
  origin: 'seed' | 'interpolation' | 'arithmetic';
  seed: number | null;
  psi: number | null;
  classIndex: number | null;
  className: string | null;
  favourite: boolean;
  rejected: boolean;
  tags: string[];
  /** `data:image/png;base64,…` */
  png: string;
  modelId: number | null;
  checkpointId: number | null;
  runId: number | null;
  provenance: ItemProvenance;
  createdAt: string;
}

export interface GalleryPage {
  total: number;
  offset: number;
  items: GalleryItem[];
  /** Every tag in use, sorted. */
  tags: string[];
}

export type ModelExportFormat = 'tfjs' | 'onnx' | 'html' | 'images';

export interface ExportResult {
  format: ModelExportFormat | 'gif' | 'png-sequence';
  /** The folder or file written. */
  path: string;
  /** Files written (relative to `path` for a folder). */
  files: string[];
  bytes: number;
  /** ONNX: the check against TF.js on fixed inputs, run before the file was written. */
  onnxCheck?: { maxAbsDiff: number; tolerance: number; samples: number };
  images?: number;
}

export interface ExportProgress {
  exportId: string;
  phase: string;
  done: number;
  total: number;
}
