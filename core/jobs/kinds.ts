/**
 * The job kinds an engine worker runs, each with what it is started with (params), what it
 * reports while it runs (progress) and what it answers when it ends (result). The service starts
 * them through the JobManager, the worker entries read them through `runWorker`; both sides take
 * the types from here, so a kind's progress reaches the service typed, without a cast.
 *
 * | kind     | worker entry                       | started by                         |
 * |----------|------------------------------------|------------------------------------|
 * | train    | core/session/train-worker.ts       | service/training.ts, atelier train |
 * | evaluate | core/evaluation/eval-worker.ts     | service/evaluation.ts, atelier eval|
 * | import   | core/data/import-worker.ts         | data/import-job.ts (service, CLI)  |
 * | merge    | core/merge/merge-worker.ts         | service/merging.ts, atelier merge  |
 *
 * The sampling worker (core/gallery) is not a job: it lives while a project is open and answers
 * requests (core/gallery/sample-protocol.ts), but it is spawned and described the same way.
 */
import type { BackendChoiceName, EvaluationSummary, ImportProgress, ImportStatus, MergeProgressInfo, MergeRequest, NormaliseSettings, TrainProgress } from '../api/contract.js';
import type { ImportOptions } from '../store/imports.js';
import type { JobKind } from '../store/jobs.js';
import type { CustomExtractorSpec } from '../store/metrics.js';

export type { JobKind };

/** What one kind of job carries across the process boundary. */
export interface KindSpec {
  params: unknown;
  progress: unknown;
  result: unknown;
}

// ---------------------------------------------------------------------------------------------
// train

/** What the train worker is started with. */
export interface TrainJobParams {
  runId: number;
  /** Overrides the run's backend for this session (resume on another device). */
  backend?: BackendChoiceName;
  /** Continue on a fresh random stream numbered this (after a divergence; a branch). */
  reseed?: number;
}

/** How a training session ended. A run that diverged pauses itself and says why. */
export interface TrainJobResult {
  runId: number;
  step: number;
  kimg: number;
  pausedBecause?: string;
}

// ---------------------------------------------------------------------------------------------
// evaluate

/** Evaluating one checkpoint on demand (the Train view's "Evaluate", `atelier eval`). */
export interface EvaluateCheckpointParams {
  runId: number;
  /** Default: the run's newest checkpoint. */
  checkpointId?: number;
  /** Default: the run's own evaluation sizes (comparable with its curve). */
  reals?: number;
  fakes?: number;
  backend?: BackendChoiceName;
  /** Another feature extractor (null: the bundled one); default: the one the run was evaluated with. */
  extractor?: CustomExtractorSpec | null;
}

/** The evaluate worker evaluates a checkpoint, or checks a user's feature extractor before the project adopts it. */
export type EvalJobParams = ({ kind: 'evaluate' } & EvaluateCheckpointParams) | { kind: 'check-extractor'; spec: CustomExtractorSpec };

/** Images through the feature extractor so far. */
export interface EvalJobProgress {
  done: number;
  total: number;
}

/** What a checked extractor turned out to be. */
export interface ExtractorCheck {
  title: string;
  dim: number;
  inputSize: number;
}

export type EvalJobResult = { evaluation: EvaluationSummary } | ExtractorCheck;

// ---------------------------------------------------------------------------------------------
// import

/** What the import worker is started with: the `imports` row the caller created, and what to import how. */
export interface ImportJobParams {
  importId: number;
  /** Absolute paths of files, folders and zip archives. */
  sources: string[];
  settings: NormaliseSettings;
  options: ImportOptions;
  /** A folder nothing may be read outside of, links included (the browser mode's root); null or absent: anywhere. */
  confine?: string | null;
}

/** The report itself is in the project file (`imports` and its tables): the result only says which and how it ended. */
export interface ImportJobResult {
  importId: number;
  status: ImportStatus;
}

// ---------------------------------------------------------------------------------------------
// merge

/**
 * What the merge worker is started with: a new merge (the request as the contract validated it,
 * its paths already checked by the service), or the merge to continue from its last checkpoint.
 */
export type MergeJobParams = { request: MergeRequest } | { mergeId: number; backend?: BackendChoiceName };

/** The merge's progress: its stage, step and previews (core/api/merge.ts). */
export type MergeJobProgress = MergeProgressInfo;

/** How a merge session ended: the model it made, if it finished; where it stands otherwise. */
export interface MergeJobResult {
  /** Null when it was refused before its row was written. */
  mergeId: number | null;
  modelId: number | null;
  stage: number;
  step: number;
  pausedBecause?: string;
}

// ---------------------------------------------------------------------------------------------

/** Every kind the jobs table holds, with its types. */
export interface JobKinds {
  train: { params: TrainJobParams; progress: TrainProgress; result: TrainJobResult };
  evaluate: { params: EvalJobParams; progress: EvalJobProgress; result: EvalJobResult };
  import: { params: ImportJobParams; progress: ImportProgress; result: ImportJobResult };
  merge: { params: MergeJobParams; progress: MergeJobProgress; result: MergeJobResult };
}

/**
 * A map from stored kinds to their types: `JobKinds`, or a test's own (fixture workers run under
 * a stored kind's name with types of their own).
 */
export type KindMap = { [K in JobKind]?: KindSpec };

/** The kinds of a map. */
export type KindOf<M extends KindMap> = keyof M & JobKind;
/** The types of kind `K` in map `M`. */
export type SpecOf<M extends KindMap, K extends KindOf<M>> = NonNullable<M[K]>;
/** Progress of any kind of the map (what a listener to every job receives). */
export type AnyProgress<M extends KindMap> = { [K in KindOf<M>]: SpecOf<M, K>['progress'] }[KindOf<M>];

/** The types of one kind of the studio's own map. */
export type JobSpec<K extends JobKind> = JobKinds[K];

// The map and the table's kinds agree: a kind added to one and not the other does not compile.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const kindsAgree: Same<keyof JobKinds, JobKind> = true;
void kindsAgree;
