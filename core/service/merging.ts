/**
 * Merging for the open project: each merge runs in an engine worker (core/merge/merge-worker.ts)
 * as a job of the project's JobManager (kind 'merge'), with pause, resume and stop as a training
 * run has. A new merge's worker opens and checks its sources before it writes anything; `start`
 * answers once the merge's row exists, or with the reason it was refused. The worker records
 * checkpoints, previews, evaluations and (at the end) the merged model; this side relays progress
 * and records how a session ended when the worker could not (it died, it failed).
 */
import type { BackendChoiceName, MergeDetail, MergeRequest, MergeSummary, StudioEvent } from '../api/contract.js';
import type { mergeMethods } from '../api/merge.js';
import { UserError } from '../api/errors.js';
import { modelSummary } from '../generator/model-summary.js';
import type { JobEnding, JobManager } from '../jobs/job-manager.js';
import type { JobSpec, MergeJobParams } from '../jobs/kinds.js';
import type { JobInfo } from '../jobs/protocol.js';
import { probeOnnxSource } from '../merge/onnx-probe.js';
import { mergeDetail, mergeSummary } from '../merge/summary.js';
import { MergeStore } from '../store/merges.js';
import { ModelStore } from '../store/models.js';
import { nativeDialog, type ProjectPart, type ServiceContext, type SliceHandlers } from './slices.js';

export const MERGE_WORKER = new URL('../merge/merge-worker.ts', import.meta.url);

export class Merging {
  readonly store: MergeStore;
  /** Live job of each merge this Merging runs. */
  private readonly jobOfMerge = new Map<number, number>();

  constructor(
    readonly jobs: JobManager,
    private readonly emit: (event: StudioEvent) => void,
  ) {
    this.store = new MergeStore(jobs.project.db);
    // Merges whose worker is gone (the studio or a command stopped under them): their checkpoints are kept.
    for (const m of this.store.list()) {
      if ((m.status === 'running' || m.status === 'queued') && this.store.holder(m.id) === null) {
        this.store.setStatus(m.id, 'paused', 'The studio closed while this merge was running. Resume to continue from its last checkpoint.');
      }
    }
  }

  /**
   * Starts a merge (paths in the request already checked by the caller). Resolves once the
   * worker has opened the sources, planned and written the merge; a refusal rejects with its reason.
   */
  start(request: MergeRequest): Promise<MergeSummary> {
    return new Promise((resolve, reject) => {
      let answered = false;
      this.launch({ request }, (mergeId) => {
        if (answered) return;
        answered = true;
        resolve(this.summary(mergeId));
      }, (error) => {
        if (answered) return;
        answered = true;
        reject(new UserError('invalid-request', error));
      });
    });
  }

  /** Continues a merge from its last checkpoint (the same stage and step). */
  resume(mergeId: number, backend?: BackendChoiceName): MergeSummary {
    const row = this.store.require(mergeId);
    if (this.jobOfMerge.has(mergeId)) throw new UserError('exists', `The merge "${row.name}" is already running.`);
    const holder = this.store.holder(mergeId);
    if (holder) throw new UserError('exists', `The merge "${row.name}" is already running in process ${holder.pid} (the studio or \`atelier merge\`). Pause it there first.`);
    if (row.status === 'done') throw new UserError('invalid-request', `The merge "${row.name}" is done; its model is in Models.`);
    if (row.state === null) throw new UserError('invalid-request', `The merge "${row.name}" has nothing saved to continue from; start it again.`);
    this.store.setStatus(mergeId, 'running');
    try {
      this.launch({ mergeId, ...(backend ? { backend } : {}) }, () => {}, () => {});
    } catch (err) {
      // The worker could not start: the merge is as it was.
      this.store.setStatus(mergeId, row.status, row.error);
      throw err;
    }
    const summary = this.summary(mergeId);
    this.emit({ type: 'merge.changed', merge: summary });
    return summary;
  }

  private launch(params: MergeJobParams, onStarted: (mergeId: number) => void, onRefused: (error: string) => void): void {
    let mergeId: number | null = 'mergeId' in params ? params.mergeId : null;
    const { job } = this.jobs.start({
      kind: 'merge',
      entry: MERGE_WORKER,
      params,
      onProgress: (progress) => {
        if (mergeId === null) {
          mergeId = progress.mergeId;
          this.jobOfMerge.set(mergeId, job.id);
          this.emit({ type: 'merge.changed', merge: this.summary(mergeId) });
        }
        onStarted(mergeId);
        this.emit({ type: 'merge.progress', progress });
      },
      onChanged: (j, ending) => {
        if (ending === null) return;
        const id = mergeId ?? ending.result?.mergeId ?? null;
        if (id === null) return onRefused(j.error ?? 'The merge could not start.');
        onStarted(id);
        this.ended(id, j, ending);
      },
    });
    if (mergeId !== null) this.jobOfMerge.set(mergeId, job.id);
  }

  /** A session ended: the worker recorded a pause, stop or completion itself; a failure or a death is recorded here. */
  private ended(mergeId: number, job: JobInfo<'merge'>, ending: JobEnding<JobSpec<'merge'>>): void {
    this.jobOfMerge.delete(mergeId);
    if (!this.store.get(mergeId)) return;
    if (job.status === 'failed') {
      const why = job.error ?? 'The merge worker stopped.';
      this.jobs.recordEnd(() => this.store.setStatus(mergeId, 'failed', `${why} Everything it saved is kept: resume to continue from its last checkpoint.`));
    } else if (job.status === 'paused' && job.error) {
      this.jobs.recordEnd(() => this.store.setStatus(mergeId, 'paused', job.error));
    }
    if (ending.result?.modelId != null) {
      this.emit({ type: 'models.changed', models: new ModelStore(this.jobs.project.db).list().map(modelSummary) });
    }
    this.emit({ type: 'merge.changed', merge: this.summary(mergeId) });
  }

  pause(mergeId: number): MergeSummary {
    return this.control(mergeId, 'pause');
  }

  stop(mergeId: number): MergeSummary {
    return this.control(mergeId, 'stop');
  }

  private control(mergeId: number, action: 'pause' | 'stop'): MergeSummary {
    const row = this.store.require(mergeId);
    const jobId = this.jobOfMerge.get(mergeId);
    if (jobId === undefined) throw new UserError('invalid-request', `The merge "${row.name}" is not running, so it cannot ${action}.`);
    this.jobs.control(jobId, action);
    return this.summary(mergeId);
  }

  list(): MergeSummary[] {
    return this.store.list().map(mergeSummary);
  }

  summary(mergeId: number): MergeSummary {
    return mergeSummary(this.store.require(mergeId));
  }

  get(mergeId: number): MergeDetail {
    return mergeDetail(this.store, this.store.require(mergeId));
  }

  delete(mergeId: number): MergeSummary[] {
    const row = this.store.require(mergeId);
    if (this.jobOfMerge.has(mergeId) || this.store.holder(mergeId)) throw new UserError('invalid-request', `The merge "${row.name}" is running: pause or stop it before deleting it.`);
    this.store.delete(mergeId);
    return this.list();
  }

  /** Pauses every merge this Merging started (each saves a checkpoint), waiting a little. */
  dispose(): Promise<void> {
    return this.jobs.shutdown(10_000, ['merge']);
  }
}

/** The merge slice of the handler table: source paths pass the service's path policy. */
export function mergeHandlers(ctx: ServiceContext, merging: ProjectPart<Merging>): SliceHandlers<typeof mergeMethods> {
  return {
    'merge.start': (request) => merging.require().start({ ...request, sources: request.sources.map((s) => (s.kind === 'tfjs' || s.kind === 'onnx' ? { ...s, path: ctx.allowedSource(s.path) } : s)) }),
    // No project needed: a file is read in a short-lived worker, off the service's loop.
    'merge.probeSource': ({ path, options }) => probeOnnxSource(ctx.allowedSource(path), options),
    'dialog.pickMergeSource': async () => {
      const path = await nativeDialog(ctx.host, 'pickMergeSource')();
      if (path !== null) ctx.host.paths.grant(path, 'read');
      return { path };
    },
    'merge.resume': ({ mergeId, backend }) => merging.require().resume(mergeId, backend),
    'merge.pause': ({ mergeId }) => merging.require().pause(mergeId),
    'merge.stop': ({ mergeId }) => merging.require().stop(mergeId),
    'merge.list': () => merging.require().list(),
    'merge.get': ({ mergeId }) => merging.require().get(mergeId),
    'merge.delete': ({ mergeId }) => merging.require().delete(mergeId),
  };
}
