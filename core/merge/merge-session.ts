/**
 * One session of a merge, as the merge worker runs it (and as tests may run it in-process): open
 * the sources, plan (a bad source or setting is refused here, before anything is written), then
 * run the state machine (merge.ts) with its checkpoints stored in the project file (core/store/
 * merges.ts: state and blobs in one transaction), its previews and per-class evaluations beside
 * them. A new merge's row is written with its first checkpoint; a resumed one continues from its
 * last at the same stage and step. When it completes, the merged generator becomes a model in the
 * same transaction that marks the merge done.
 */
import type Database from 'better-sqlite3';
import type { BackendChoiceName, MergeEvaluationInfo, MergeProgressInfo, MergeRequest, MergeSourceRequest } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { BackendUnavailableError, describeChoice, selectBackend } from '../backend/select.js';
import type { MergeJobParams, MergeJobResult } from '../jobs/kinds.js';
import { loadExtractor, type FeatureExtractor } from '../metrics/inception.js';
import { MergeStore } from '../store/merges.js';
import { MetricsStore } from '../store/metrics.js';
import { ModelStore } from '../store/models.js';
import { computeClassOf } from '../train/config.js';
import type { PerClassEvaluation } from './evaluate.js';
import { mergedModelRecord, type MergeProgress, type MergeResume, type MergeState, runMerge } from './merge.js';
import { type MergeSourceSpec, openMergeSources } from './open.js';
import { type MergeSettings, planMerge } from './plan.js';
import type { MergeSource } from './source.js';

export interface MergeSessionOptions {
  db: Database.Database;
  params: MergeJobParams;
  progress(p: MergeProgressInfo): void;
  /** null: keep going. */
  requested(): 'pause' | 'stop' | null;
  log?(line: string): void;
  /** The feature extractor for the per-class quality (default: the project's, else the bundled InceptionV3). */
  extractor?: FeatureExtractor;
}

export interface MergeSessionResult {
  outcome: 'completed' | 'paused' | 'stopped';
  result: MergeJobResult;
}

/** Images per class for the per-class quality, and how often during the joint fine-tune (in checkpoints). */
export const DEFAULT_EVAL_IMAGES = 64;
export const DEFAULT_EVAL_EVERY = 2;

/** A source request as core/merge opens it. */
export function sourceSpec(s: MergeSourceRequest): MergeSourceSpec {
  const cls = (c: number | undefined): { classIndex?: number } => (c !== undefined ? { classIndex: c } : {});
  if (s.kind === 'model') return { kind: 'model', model: s.modelId, ...cls(s.classIndex) };
  if (s.kind === 'run') return { kind: 'run', runId: s.runId, ...(s.checkpointId !== undefined ? { checkpointId: s.checkpointId } : {}), ...cls(s.classIndex) };
  if (s.kind === 'tfjs') return { kind: 'tfjs', path: s.path, ...cls(s.classIndex) };
  return { kind: 'onnx', path: s.path, ...(s.options ? { options: s.options } : {}) };
}

/** The engine's settings from a request, for a backend of `backend`. */
export function mergeSettings(r: MergeRequest, backend: string): MergeSettings {
  const opt = <K extends keyof MergeRequest>(k: K): Partial<Pick<MergeRequest, K>> => (r[k] !== undefined ? ({ [k]: r[k] } as Partial<Pick<MergeRequest, K>>) : {});
  return {
    kimgRoot: r.kimgRoot,
    kimgMerge: r.kimgMerge,
    ...opt('classes'),
    ...opt('weights'),
    ...opt('root'),
    ...opt('resolution'),
    ...opt('seed'),
    ...opt('batch'),
    ...opt('tickKimg'),
    ...opt('snapshotTicks'),
    compute: computeClassOf(backend),
    backend: r.backend ?? 'auto',
  };
}

/** The merged model's name when the request gives none: its classes joined. */
export const defaultMergeName = (classes: readonly string[]): string => classes.join(' + ').slice(0, 200);

const evaluationInfo = (e: PerClassEvaluation): MergeEvaluationInfo => ({ classes: e.classes, average: e.average, images: e.images, extractor: e.extractor });

/** Runs (or continues) a merge until it is done or asked to pause or stop. */
export async function mergeSession(o: MergeSessionOptions): Promise<MergeSessionResult> {
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const store = new MergeStore(o.db);
  const models = new ModelStore(o.db);

  // What to merge: a new request, or the stored one and its last checkpoint.
  let mergeId: number | null = null;
  let request: MergeRequest;
  let resume: MergeResume | null = null;
  let backendPrefer: BackendChoiceName;
  if ('mergeId' in o.params) {
    const row = store.require(o.params.mergeId);
    if (row.status === 'done') throw new UserError('invalid-request', `The merge "${row.name}" is done; its model is in Models.`);
    mergeId = row.id;
    request = JSON.parse(row.request) as MergeRequest;
    const last = store.lastCheckpoint(row.id);
    if (last === null) throw new UserError('corrupt', `The merge "${row.name}" has no checkpoint to continue from. Start the merge again.`);
    resume = { state: JSON.parse(last.state) as MergeState, blobs: last.blobs };
    backendPrefer = o.params.backend ?? request.backend ?? 'auto';
  } else {
    request = o.params.request;
    backendPrefer = request.backend ?? 'auto';
  }

  // Start the compute backend.
  let backend: string;
  try {
    const choice = await selectBackend({ prefer: backendPrefer, preferSource: 'the merge settings' });
    backend = choice.name;
    log(`merge: ${describeChoice(choice)}`);
  } catch (err) {
    if (err instanceof BackendUnavailableError) throw new UserError('unavailable', err.message);
    throw err;
  }

  // Open every source (an ONNX file is probed) and plan: a bad one is refused before anything is written.
  const sources: MergeSource[] = await openMergeSources(request.sources.map(sourceSpec), { db: o.db });
  let extractor: FeatureExtractor | null = null;
  try {
    const settings = mergeSettings(request, backend);
    if (resume === null) {
      const plan = planMerge(sources, settings);
      // A run's best checkpoint may change later: a resumed merge must sample the same one.
      request = { ...request, sources: request.sources.map((s, i) => pinCheckpoint(s, sources[i]!)), classes: plan.classes };
    }
    const name = request.name ?? defaultMergeName(resume?.state.plan.classes ?? request.classes ?? []);

    // The per-class quality chart's extractor.
    const evalImages = request.evalImages ?? DEFAULT_EVAL_IMAGES;
    if (evalImages > 0) {
      try {
        extractor = o.extractor ?? (await loadExtractor(new MetricsStore(o.db).extractor()));
      } catch (err) {
        log(`merge: no per-class quality: the feature extractor did not load (${(err as Error).message})`);
      }
    }

    let last: MergeProgress | null = null;
    let classCount = 0;
    let savedAt = 0;
    const send = (p: MergeProgress, extra: Partial<MergeProgressInfo> = {}): void => {
      if (mergeId === null) return;
      const { evaluation: _e, ...rest } = p;
      const info: MergeProgressInfo = { mergeId, ...rest, backend, ...extra };
      o.progress(info);
      if (Date.now() - savedAt > 1000) {
        savedAt = Date.now();
        store.setProgress(mergeId, info);
      }
    };

    const out = await runMerge({
      sources,
      settings,
      resume,
      previewImages: 8,
      evaluation: extractor ? { extractor, images: evalImages, everyCheckpoints: request.evalEvery ?? DEFAULT_EVAL_EVERY } : null,
      callbacks: {
        checkpoint: (c) => {
          const state = JSON.stringify(c.state);
          classCount = c.state.plan.classes.length;
          if (mergeId === null) {
            // The merge's row is written with its first checkpoint, after every check passed.
            o.db.transaction(() => {
              mergeId = store.create(name, JSON.stringify(request));
              store.checkpoint(mergeId, state, c.put, c.drop);
            })();
          } else {
            store.checkpoint(mergeId, state, c.put, c.drop);
          }
          const saved = { stage: c.state.stage, step: c.state.loop?.step ?? 0, reason: c.reason };
          const stage = c.state.plan.stages[c.state.stage];
          const base: MergeProgress = last ?? {
            phase: 'starting',
            stage: c.state.stage,
            stages: c.state.plan.stages.length,
            kind: stage?.kind ?? null,
            title: stage?.title ?? 'Done',
            source: stage?.source ?? null,
            step: saved.step,
            kimg: (c.state.loop?.nimg ?? 0) / 1000,
            kimgTotal: stage?.kimg ?? 0,
            fraction: 0,
            stats: {},
          };
          send(base, { saved });
        },
        progress: (p) => {
          last = p;
          if (p.evaluation && mergeId !== null) {
            store.addEvaluation(mergeId, { stage: p.stage, step: p.step, fraction: p.fraction, evaluation: JSON.stringify(evaluationInfo(p.evaluation)) });
            send(p, { evaluation: evaluationInfo(p.evaluation) });
          } else {
            send(p);
          }
        },
        preview: (p) => {
          if (mergeId === null) return;
          store.addPreview(mergeId, { stage: p.stage, kind: p.kind, kimg: p.kimg, classIndex: p.classIndex, className: p.className, png: p.png });
          // One event per tick: after the last class's strip (rooting shows one class).
          if (last && (p.kind !== 'joint' || p.classIndex === classCount - 1)) send(last, { previews: true });
        },
        requested: o.requested,
        log,
      },
    });

    const id = mergeId as number | null;
    if (id === null) throw new Error('merge: no checkpoint was stored');
    const at = { stage: out.state.stage, step: out.state.loop?.step ?? 0 };
    if (out.outcome !== 'completed') {
      store.setStatus(id, out.outcome === 'paused' ? 'paused' : 'stopped');
      return { outcome: out.outcome, result: { mergeId: id, modelId: null, ...at } };
    }
    // The merged generator becomes a model, and the merge is done, in one transaction.
    const modelId = o.db.transaction(() => {
      const model = models.insert(mergedModelRecord(out.result!, models.freeName(store.require(id).name)));
      store.finish(id, model.id);
      return model.id;
    })();
    log(`merge: done; model ${modelId}`);
    return { outcome: 'completed', result: { mergeId: id, modelId, ...at } };
  } finally {
    extractor?.dispose();
    for (const s of sources) s.dispose();
  }
}

/** A run source without a checkpoint: the one it was opened at (its ref says which). */
function pinCheckpoint(s: MergeSourceRequest, opened: MergeSource): MergeSourceRequest {
  if (s.kind !== 'run' || s.checkpointId !== undefined) return s;
  const m = /checkpoint (\d+)/.exec(opened.ref);
  return m ? { ...s, checkpointId: Number(m[1]) } : s;
}
