/**
 * Merge domain of StudioApi: several generators become one class-conditional generator without
 * their data (GAN Cocktail; core/merge). A merge runs as a `merge` job (core/merge/merge-worker.ts)
 * with pause, resume and stop like a training run; its result is a normal model whose classes are
 * the sources. Sources: models and runs of the open project, a studio TF.js export (a folder) or an
 * ONNX file the user picked (paths pass the service's path policy).
 */
import { z } from 'zod';
import { galleryId, modelName, projectPath, returns, runId } from './schemas.js';
import { BACKEND_CHOICES, type RunStatusName } from './vocabulary.js';

/** How an ONNX generator is read, where the studio cannot infer it (core/merge/onnx-source.ts). */
export const onnxSourceOptions = z
  .object({
    latentInput: z.string().min(1).max(200).optional(),
    latentSize: z.number().int().min(1).max(100000).optional(),
    classInput: z.string().min(1).max(200).nullable().optional(),
    numClasses: z.number().int().min(1).max(100000).optional(),
    classIndex: z.number().int().min(0).max(100000).optional(),
    output: z.string().min(1).max(200).optional(),
    layout: z.enum(['NCHW', 'NHWC']).optional(),
    range: z.enum(['[-1,1]', '[0,1]', '[0,255]']).optional(),
    constants: z.record(z.string().max(200), z.number().finite()).optional(),
    label: z.string().trim().min(1).max(200).optional(),
  })
  .strict();

const classPick = z.number().int().min(0).max(100000);

/** One generator to merge. */
export const mergeSourceSchema = z.discriminatedUnion('kind', [
  /** A model of the project; `classIndex`: one class of a conditional model (default: all). */
  z.object({ kind: z.literal('model'), modelId: galleryId, classIndex: classPick.optional() }).strict(),
  /** A run's checkpoint: the given one, else its best, else its newest. */
  z.object({ kind: z.literal('run'), runId, checkpointId: galleryId.optional(), classIndex: classPick.optional() }).strict(),
  /** A TF.js export made by the studio (its folder, model.json or atelier.json). */
  z.object({ kind: z.literal('tfjs'), path: projectPath, classIndex: classPick.optional() }).strict(),
  /** A generator made by another tool, as ONNX. */
  z.object({ kind: z.literal('onnx'), path: projectPath, options: onnxSourceOptions.optional() }).strict(),
]);
export type MergeSourceRequest = z.infer<typeof mergeSourceSchema>;

const kimg = z.number().positive('The length must be more than 0 kimg.').max(100000, 'The length is at most 100,000 kimg.');

/** What a merge is started with. Lengths in kimg (thousands of images shown). */
export const mergeRequestSchema = z
  .object({
    /** The merged model's name; default: its classes joined with " + ". */
    name: modelName.optional(),
    sources: z.array(mergeSourceSchema).min(2, 'A merge needs two or more generators.').max(16, 'A merge takes at most 16 generators.'),
    /** One class name per source, in order; default: each source's name. */
    classes: z.array(z.string().trim().min(1, 'A class name is empty.').max(200)).optional(),
    /** Each source's relative share of the images; default 1 each. */
    weights: z.array(z.number().positive('Weights must be more than 0.').finite()).optional(),
    /** Index of the root source (its architecture and weights start the merge); default 0. */
    root: z.number().int().min(0).optional(),
    kimgRoot: kimg,
    kimgMerge: kimg,
    /** The merged model's resolution; default (and for now the only one allowed) the root's. */
    resolution: z.number().int().min(4).max(4096).optional(),
    seed: z.number().int().min(0).max(2 ** 31 - 1).optional(),
    batch: z.number().int().min(1).max(1024).optional(),
    backend: z.enum(BACKEND_CHOICES).optional(),
    /** Statistics and previews every this many kimg; default a 50th of each stage. */
    tickKimg: z.number().positive().max(1000).optional(),
    /** A checkpoint every this many ticks; default 5. */
    snapshotTicks: z.number().int().min(1).max(10000).optional(),
    /** Images per class for the per-class quality (KID against each source); 0: none. Default 64. */
    evalImages: z.number().int().min(0).max(10000).refine((n) => n === 0 || n >= 2, 'KID needs at least 2 images per class (or 0: no evaluation).').optional(),
    /** Evaluate during the joint fine-tune every this many checkpoints (0: only at the end); default 2. */
    evalEvery: z.number().int().min(0).max(10000).optional(),
  })
  .strict();
export type MergeRequest = z.infer<typeof mergeRequestSchema>;

export type MergeStageKind = 'root-d' | 'root' | 'average' | 'joint';
export type MergePhaseName = 'starting' | 'training' | 'averaging' | 'saving' | 'evaluating' | 'done';

/** One stage of a merge's plan, in words. */
export interface MergeStageInfo {
  kind: MergeStageKind;
  /** The source it roots (root-d: the root), null for average and joint. */
  source: number | null;
  kimg: number;
  /** "Rooting "Ink cats" on "Watercolour cats"". */
  title: string;
  /** Once done: its steps and wall seconds. */
  done: { steps: number; kimg: number; seconds: number } | null;
}

/** Per-class quality: KID of each class against its own source's images (lower is closer). */
export interface MergeEvaluationInfo {
  classes: Array<{ className: string; source: number; kid: number; std: number }>;
  average: number;
  images: number;
  extractor: { id: string; title: string };
}

export interface MergeSummary {
  id: number;
  /** The merged model's name. */
  name: string;
  status: RunStatusName;
  /** Why it failed or paused itself, in words a user can act on. */
  error: string | null;
  classes: string[];
  sources: Array<{ label: string; kind: 'model' | 'run' | 'tfjs' | 'onnx'; ref: string }>;
  root: number;
  stages: MergeStageInfo[];
  /** The stage under way at the last checkpoint (stages.length: done) and its step. */
  stage: number;
  step: number;
  /** The whole merge, 0…1, at the last checkpoint. */
  fraction: number;
  /** Things to know (resampled sources, a discriminator trained from scratch). */
  notes: string[];
  /** The merged model, once done. */
  modelId: number | null;
  createdAt: string;
  updatedAt: string;
}

export interface MergePreviewInfo {
  id: number;
  classIndex: number;
  className: string;
  stage: number;
  kimg: number;
  /** A strip of images of this class, same latents every time (PNG). */
  dataUrl: string;
}

export interface MergeDetail extends MergeSummary {
  /** The newest preview strip of each class that has one. */
  previews: MergePreviewInfo[];
  /** The per-class quality chart's points, in order. */
  evaluations: Array<{ stage: number; step: number; fraction: number; evaluation: MergeEvaluationInfo }>;
}

/** A running merge's progress (also the `merge` job's progress). */
export interface MergeProgressInfo {
  mergeId: number;
  phase: MergePhaseName;
  stage: number;
  stages: number;
  kind: MergeStageKind | null;
  title: string;
  source: number | null;
  step: number;
  kimg: number;
  kimgTotal: number;
  fraction: number;
  stats: Record<string, number>;
  /** The compute backend. */
  backend: string;
  /** New preview strips were stored (fetch them with merge.get). */
  previews?: true;
  /** A checkpoint was stored: the stage and step a resume continues from. */
  saved?: { stage: number; step: number; reason: string };
  evaluation?: MergeEvaluationInfo;
}

/** What the studio read from an ONNX generator (`merge.probeSource`), for the user to confirm or correct. */
export interface OnnxProbeInfo {
  /** The file, as the service resolved it. */
  path: string;
  /** Its file name. */
  label: string;
  latent: { name: string; size: number };
  /** The class input, if any: one-hot [N, count] or indices [N]. */
  classInput: { name: string; kind: 'one-hot' | 'index'; count: number } | null;
  output: { name: string; layout: 'NCHW' | 'NHWC'; resolution: number; channels: number };
  range: '[-1,1]' | '[0,1]' | '[0,255]';
  /** Values given to other scalar inputs (truncation ψ: 1). */
  constants: Record<string, number>;
  /** What was inferred rather than given, in words ("latent input z (16 values)"). */
  inferred: string[];
  /** The probe's images (seeds 0…), side by side in one PNG, read with the settings above. */
  preview: { dataUrl: string; count: number; resolution: number };
}

const mergeId = galleryId;

export const mergeMethods = {
  /**
   * Starts a merge in a worker. Every source is opened (an ONNX file probed) and the merge planned
   * before anything is written: a bad source, class list or setting is refused with the reason.
   */
  'merge.start': returns<MergeSummary>()(mergeRequestSchema),
  /**
   * Reads an ONNX generator without merging: what the studio infers from its graph (latent input
   * and size, class input, output layout, value range), corrected by `options`, and a few images
   * made with it. A file that cannot be used is refused with the reason, naming the file.
   */
  'merge.probeSource': returns<OnnxProbeInfo>()(z.object({ path: projectPath, options: onnxSourceOptions.optional() }).strict()),
  /** Desktop: a native dialog to pick a generator file to merge (an .onnx file or a TF.js export). Null if cancelled. */
  'dialog.pickMergeSource': returns<{ path: string | null }>()(z.object({}).strict()),
  /** Continues a paused, stopped or interrupted merge at the stage and step of its last checkpoint. */
  'merge.resume': returns<MergeSummary>()(z.object({ mergeId, backend: z.enum(BACKEND_CHOICES).optional() }).strict()),
  'merge.pause': returns<MergeSummary>()(z.object({ mergeId }).strict()),
  'merge.stop': returns<MergeSummary>()(z.object({ mergeId }).strict()),
  /** Every merge of the open project, newest first. */
  'merge.list': returns<MergeSummary[]>()(z.object({}).strict()),
  'merge.get': returns<MergeDetail>()(z.object({ mergeId }).strict()),
  /** Deletes a merge's record (not its model). */
  'merge.delete': returns<MergeSummary[]>()(z.object({ mergeId }).strict()),
} as const;

export type MergeEvent = { type: 'merge.changed'; merge: MergeSummary } | { type: 'merge.progress'; progress: MergeProgressInfo };
