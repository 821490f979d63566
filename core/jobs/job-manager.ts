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
 *
 * Writing a job's progress or end can fail (a full disk above all): that never ends the process
 * hosting the studio. The job is asked to pause, its end is reported all the same, and on a full
 * disk its reason is the one line of core/store/disk-full.ts. A little space is held in reserve
 * while jobs run and given back for the writes that record how a job ended (from memory when
 * even that fails; the next open repairs a row left 'running').
 */
import { UserError } from '../api/errors.js';
import { DiskReserve, diskFullMessage, isDiskFull } from '../store/disk-full.js';
import { JobStore, processAlive } from '../store/jobs.js';
import type { Project } from '../store/project.js';
import { describeDeath, jobWorker } from './death.js';
import type { AnyProgress, JobKinds, KindMap, KindOf, KindSpec, SpecOf } from './kinds.js';
import type { ControlAction, FromWorker, JobInfo, JobOutcome, ToWorker } from './protocol.js';
import { claimRun } from './run-lock.js';
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
  /**
   * Take the run's lock (core/jobs/run-lock.ts) with the job row, in one transaction: refused,
   * naming the process, while another live process trains the run. Needs `runId`.
   */
  exclusive?: boolean;
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
  /** A write for this job hit a full disk: it was asked to pause, and ends paused with the disk-full line. */
  diskFull: boolean;
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
  private readonly reserve: DiskReserve;

  constructor(
    readonly project: Project,
    private readonly events: Partial<JobEvents<M>> = {},
  ) {
    this.store = new JobStore(project.db);
    this.reserve = new DiskReserve(project.path);
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
    const { kind, entry, params, runId = null, env, exclusive = false } = request;
    if (exclusive && runId === null) throw new Error('JobManager.start: an exclusive job needs the run it locks (runId).');
    const created = exclusive && runId !== null ? this.store.get(claimRun(this.project.db, { runId, params }))! : this.store.create(kind, runId, params);
    this.reserve.hold();
    let worker: WorkerProcess;
    try {
      worker = spawnWorker(entry, { stderr: 'pipe', ...(env ? { env } : {}) });
    } catch (err) {
      // Not started: the row (and the run's lock, if it took one) must not stay held by this process.
      this.store.setStatus(created.id, 'failed', null, `The ${kind} worker could not start: ${(err as Error).message}.`);
      this.releaseReserveWhenIdle();
      throw err;
    }
    let settle!: Live['settle'];
    const live: Live = {
      kind,
      worker,
      finished: false,
      exited: false,
      diskFull: false,
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
      // The result is written with the job's end (finish), with the reserve's help on a full disk.
      live.result = msg.result ?? null;
      this.finish(jobId, live, statusFor(msg.outcome), null, null);
    } else if (msg.type === 'failed') {
      this.finish(jobId, live, 'failed', msg.error.message, null);
    }
  }

  /** Progress is passed on to the listeners even when it cannot be stored. */
  private saveProgress(jobId: number, live: Live, progress: unknown, last = false): void {
    this.tryWrite(live, () => this.store.setProgress(jobId, progress), last);
    live.savedAt = Date.now();
    live.unsaved = null;
  }

  /**
   * Runs a store write for a live job; a failure is noted (a full disk pauses the job), never
   * thrown into an event handler. `last`: a write that records how the job ended, for which the
   * disk reserve is given back when the disk is full.
   */
  private tryWrite(live: Live, write: () => void, last = false): boolean {
    try {
      write();
      return true;
    } catch (err) {
      if (!isDiskFull(err)) {
        console.error('[atelier] could not record a job update:', err);
        return false;
      }
      if (!live.diskFull) {
        live.diskFull = true;
        // The worker writes to the same disk: it saves what it can and stops, rather than fail step by step.
        if (!live.finished && live.worker.connected) live.worker.send({ type: 'control', action: 'pause' } satisfies ToWorker);
      }
      return last && this.reserve.release() && this.recordEnd(write);
    }
  }

  /**
   * A write that records how a job ended (its run's status, say): on a full disk the reserve is
   * given back and the write tried again. False when it could not be stored; never throws.
   */
  recordEnd(write: () => void): boolean {
    for (let attempt = 0; ; attempt++) {
      try {
        write();
        return true;
      } catch (err) {
        if (isDiskFull(err) && attempt === 0 && this.reserve.release()) continue;
        if (!isDiskFull(err)) console.error('[atelier] could not record how a job ended:', err);
        return false;
      }
    }
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
    // The disk filled during the job: its reserve makes room for the job's end and its run's.
    if (live.diskFull) this.reserve.release();
    const hasResult = live.result !== null && live.result !== undefined;
    if (hasResult) this.saveProgress(jobId, live, live.result, true);
    else if (live.unsaved) this.saveProgress(jobId, live, live.unsaved.progress, true);
    // A full disk anywhere along the way (these last writes included): the job ends paused, saying so.
    const full = diskFullMessage(this.project.path);
    const asFull = (): boolean => {
      if (!live.diskFull || status === 'done' || error === full) return false;
      status = 'paused';
      error = full;
      return true;
    };
    asFull();
    if (!this.tryWrite(live, () => this.store.setStatus(jobId, status, null, error), true) && asFull()) {
      this.tryWrite(live, () => this.store.setStatus(jobId, status, null, error), true);
    }
    // What the job ended as, whether or not the file could take it.
    const job: JobInfo = { ...this.store.get(jobId)!, status, pid: null, error, ...(hasResult ? { progress: live.result } : {}) };
    const ending: JobEnding<KindSpec> = { result: live.result, exit };
    this.changed(live, job, ending);
    live.settle({ ...job, ...ending });
    this.releaseReserveWhenIdle();
  }

  /** The reserve is kept only while jobs run (and not refilled on a disk just found full). */
  private releaseReserveWhenIdle(): void {
    if (![...this.live.values()].some((l) => !l.finished)) this.reserve.release();
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
