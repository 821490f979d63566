/**
 * The service side of engine workers for one open project — one JobManager per open project,
 * shared by training, evaluation and import (core/service builds it; a CLI command builds its own
 * for the project it opened). It starts each job in its own process (spawn.ts), relays pause and
 * stop, records status and progress in the project's `jobs` table, and notices a worker that
 * dies (killed, out of memory): its job is marked failed with the reason, and what the worker
 * committed to the project file stays.
 *
 * Jobs are typed by kind (kinds.ts): `start({ kind: 'train', params })` takes that kind's params,
 * its `onProgress` gets that kind's progress and `done` that kind's result.
 */
import { UserError } from '../api/errors.js';
import { JobStore, processAlive } from '../store/jobs.js';
import type { Project } from '../store/project.js';
import { describeDeath, jobWorker } from './death.js';
import type { AnyProgress, JobKinds, KindMap, KindOf, KindSpec, SpecOf } from './kinds.js';
import type { ControlAction, FromWorker, JobInfo, JobOutcome, ToWorker } from './protocol.js';
import { spawnWorker, stderrTail, type WorkerProcess } from './spawn.js';

export { processAlive };

/** Listeners to every job of the manager (what each job's own listeners get, untyped by kind). */
export interface JobEvents<M extends KindMap = JobKinds> {
  /** A job's status changed (started, paused, done, failed…). */
  changed(job: JobInfo<KindOf<M>>): void;
  /** A running job reported progress. */
  progress(job: JobInfo<KindOf<M>>, progress: AnyProgress<M>): void;
}

/** How a job ended. */
export interface JobEnding<S extends KindSpec> {
  /** What the worker answered last; null when it failed or died. */
  result: S['result'] | null;
  /** How the process exited when it died without a last word (killed, crashed); null otherwise. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
}

export type EndedJob<K extends string, S extends KindSpec> = JobInfo<K> & JobEnding<S>;

export interface StartJob<M extends KindMap, K extends KindOf<M>> {
  kind: K;
  /** The worker entry module, e.g. `new URL('../session/train-worker.ts', import.meta.url)`. */
  entry: URL;
  params: SpecOf<M, K>['params'];
  runId?: number | null;
  env?: NodeJS.ProcessEnv;
  /**
   * After a stop, how long the worker may take to exit before it is killed (an import commits
   * what it decided and leaves). Absent: as long as it takes (a training run saves a checkpoint).
   */
  stopGraceMs?: number;
  /** This job reported progress. */
  onProgress?(progress: SpecOf<M, K>['progress'], job: JobInfo<K>): void;
  /** This job's status changed; `ending` once it has ended (before `done` settles). */
  onChanged?(job: JobInfo<K>, ending: JobEnding<SpecOf<M, K>> | null): void;
}

export interface JobHandle<K extends string, S extends KindSpec> {
  job: JobInfo<K>;
  /** Settles once the job ended, however it ended. */
  done: Promise<EndedJob<K, S>>;
}

interface Live {
  kind: string;
  worker: WorkerProcess;
  finished: boolean;
  exited: boolean;
  stderrTail: () => string;
  stopGraceMs: number | undefined;
  graceTimer: NodeJS.Timeout | null;
  /** Progress not yet written to the file (it is written at most once a second). */
  unsaved: { progress: unknown } | null;
  savedAt: number;
  result: unknown;
  onProgress: ((progress: never, job: JobInfo<never>) => void) | undefined;
  onChanged: ((job: JobInfo<never>, ending: JobEnding<KindSpec> | null) => void) | undefined;
  settle: (job: EndedJob<string, KindSpec>) => void;
  done: Promise<EndedJob<string, KindSpec>>;
}

/** Progress reaches the listeners at once and the file at most this often (it is a heartbeat there). */
const SAVE_PROGRESS_MS = 1000;

export class JobManager<M extends KindMap = JobKinds> {
  private readonly store: JobStore;
  private readonly live = new Map<number, Live>();

  constructor(
    readonly project: Project,
    private readonly events: Partial<JobEvents<M>> = {},
  ) {
    this.store = new JobStore(project.db);
    this.recoverInterrupted();
  }

  /**
   * Jobs the file says are running whose worker is gone: the studio (or a command) stopped under
   * them. One whose worker is alive belongs to another process working in the same project (the
   * studio, `atelier train`, `atelier eval`): left alone.
   */
  private recoverInterrupted(): void {
    for (const job of this.store.live()) {
      if (processAlive(job.pid)) continue;
      this.store.setStatus(
        job.id,
        'failed',
        null,
        `The studio closed while this ${job.kind} job was running. Everything it had saved is kept${job.kind === 'train' ? '; resume the run to continue from its last checkpoint' : ''}.`,
      );
    }
  }

  start<K extends KindOf<M>>(request: StartJob<M, K>): JobHandle<K, SpecOf<M, K>> {
    const { kind, entry, params, runId = null, env } = request;
    const created = this.store.create(kind, runId, params);
    const worker = spawnWorker(entry, { stderr: 'pipe', ...(env ? { env } : {}) });
    let settle!: Live['settle'];
    const live: Live = {
      kind,
      worker,
      finished: false,
      exited: false,
      stderrTail: stderrTail(worker),
      stopGraceMs: request.stopGraceMs,
      graceTimer: null,
      unsaved: null,
      savedAt: 0,
      result: null,
      onProgress: request.onProgress as Live['onProgress'],
      onChanged: request.onChanged as Live['onChanged'],
      settle: (j) => settle(j),
      done: new Promise((r) => (settle = r)),
    };
    this.live.set(created.id, live);

    worker.onMessage((msg) => this.onMessage(created.id, live, msg as FromWorker));
    worker.onExit((code, signal) => this.onExit(created.id, live, code, signal));
    worker.onError((err) => this.finish(created.id, live, 'failed', `The ${kind} worker could not start: ${err.message}.`, null));

    const job = this.store.setStatus(created.id, 'running', worker.pid ?? null) as JobInfo<K>;
    this.changed(live, job, null);
    const start: ToWorker = { type: 'start', jobId: created.id, projectPath: this.project.path, params };
    worker.send(start);
    return { job, done: live.done as Promise<EndedJob<K, SpecOf<M, K>>> };
  }

  /** Asks a running job to pause or stop at its next safe point. */
  control(jobId: number, action: ControlAction): JobInfo {
    const live = this.live.get(jobId);
    if (!live || live.finished) {
      throw new UserError('not-found', `Job ${jobId} is not running, so it cannot be asked to ${action}.`);
    }
    const msg: ToWorker = { type: 'control', action };
    live.worker.send(msg);
    if (action === 'stop' && live.stopGraceMs !== undefined && live.graceTimer === null) {
      live.graceTimer = setTimeout(() => {
        if (!live.exited) live.worker.kill('SIGKILL');
      }, live.stopGraceMs);
      live.graceTimer.unref();
    }
    return this.store.get(jobId)!;
  }

  /** Jobs the file says are queued or running: ours, and other processes' live ones. */
  running(): JobInfo[] {
    return this.store.live();
  }

  get(jobId: number): JobInfo | undefined {
    return this.store.get(jobId);
  }

  recent(limit?: number): JobInfo[] {
    return this.store.recent(limit);
  }

  /** True while a worker of ours runs this job. */
  isRunning(jobId: number): boolean {
    const live = this.live.get(jobId);
    return !!live && !live.finished;
  }

  private onMessage(jobId: number, live: Live, msg: FromWorker): void {
    if (live.finished) return;
    if (msg.type === 'progress') {
      if (Date.now() - live.savedAt >= SAVE_PROGRESS_MS) this.saveProgress(jobId, live, msg.progress);
      else live.unsaved = { progress: msg.progress };
      const job = this.store.get(jobId)!;
      live.onProgress?.(msg.progress as never, job as JobInfo<never>);
      this.events.progress?.(job as JobInfo<KindOf<M>>, msg.progress as AnyProgress<M>);
    } else if (msg.type === 'done') {
      live.result = msg.result ?? null;
      if (live.result !== null) this.saveProgress(jobId, live, live.result);
      this.finish(jobId, live, statusFor(msg.outcome), null, null);
    } else if (msg.type === 'failed') {
      this.finish(jobId, live, 'failed', msg.error.message, null);
    }
  }

  private saveProgress(jobId: number, live: Live, progress: unknown): void {
    this.store.setProgress(jobId, progress);
    live.savedAt = Date.now();
    live.unsaved = null;
  }

  private onExit(jobId: number, live: Live, code: number | null, signal: NodeJS.Signals | null): void {
    live.exited = true;
    if (live.graceTimer) clearTimeout(live.graceTimer);
    if (live.finished) return;
    const why = describeDeath(jobWorker(this.store.get(jobId)!.kind), code, signal, live.stderrTail());
    this.finish(jobId, live, 'failed', why, { code, signal });
  }

  private finish(jobId: number, live: Live, status: JobInfo['status'], error: string | null, exit: JobEnding<KindSpec>['exit']): void {
    if (live.finished) return;
    live.finished = true;
    if (live.unsaved) this.saveProgress(jobId, live, live.unsaved.progress);
    const job = this.store.setStatus(jobId, status, null, error);
    const ending: JobEnding<KindSpec> = { result: live.result, exit };
    this.changed(live, job, ending);
    live.settle({ ...job, ...ending });
  }

  private changed(live: Live, job: JobInfo, ending: JobEnding<KindSpec> | null): void {
    live.onChanged?.(job as JobInfo<never>, ending);
    this.events.changed?.(job as JobInfo<KindOf<M>>);
  }

  /**
   * Asks every running worker of ours (of `kinds`, default all) to pause — they save and exit —
   * waiting up to `graceMs`, then kills the rest.
   */
  async shutdown(graceMs = 10_000, kinds?: ReadonlyArray<KindOf<M>>): Promise<void> {
    const running = [...this.live.entries()].filter(([, l]) => !l.finished && (!kinds || (kinds as readonly string[]).includes(l.kind)));
    for (const [id] of running) this.control(id, 'pause');
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
    await Promise.race([Promise.all(running.map(([, l]) => l.done)), timeout]);
    for (const [, l] of running) if (!l.finished) l.worker.kill('SIGKILL');
  }
}

function statusFor(outcome: JobOutcome): JobInfo['status'] {
  return outcome === 'paused' ? 'paused' : outcome === 'stopped' ? 'cancelled' : 'done';
}
