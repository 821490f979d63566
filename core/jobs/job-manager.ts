/**
 * The service side of engine workers for one open project: starts each job in its own process,
 * relays pause/stop, records status and progress in the project's `jobs` table, and notices a
 * worker that dies (killed, out of memory) — its job is marked failed with the reason, and what
 * the worker committed to the project file stays.
 *
 * Writing a job's progress or end can fail (a full disk above all): that never ends the process
 * hosting the studio. The job is asked to pause, its end is reported all the same, and on a full
 * disk its reason is the one line of core/store/disk-full.ts. A little space is held in reserve
 * while jobs run and given back for the writes that record how a job ended (from memory when
 * even that fails; the next open repairs a row left 'running').
 */
import type { ChildProcess } from 'node:child_process';
import { UserError } from '../api/errors.js';
import { DiskReserve, diskFullMessage, isDiskFull } from '../store/disk-full.js';
import { JobStore } from '../store/jobs.js';
import type { Project } from '../store/project.js';
import { forkWorker, stderrTail } from './fork-worker.js';
import type { ControlAction, FromWorker, JobInfo, JobKind, JobOutcome, ToWorker } from './protocol.js';
import { claimRun, processAlive } from './run-lock.js';

export { processAlive };

export interface JobEvents {
  /** A job's status changed (started, paused, done, failed…). */
  changed(job: JobInfo): void;
  /** A running job reported progress. */
  progress(job: JobInfo, progress: unknown): void;
}

export interface StartJob {
  kind: JobKind;
  /** The worker entry module, e.g. `new URL('../train/train-worker.ts', import.meta.url)`. */
  entry: URL;
  params: unknown;
  runId?: number | null;
  env?: NodeJS.ProcessEnv;
  /** Take the run's lock (core/jobs/run-lock.ts) with the job row: refused when another process trains the run. */
  exclusive?: boolean;
}

interface Live {
  child: ChildProcess;
  finished: boolean;
  /** A write for this job hit a full disk: it was asked to pause, and ends paused with the disk-full line. */
  diskFull: boolean;
  stderrTail: () => string;
  settle: (job: JobInfo) => void;
  done: Promise<JobInfo>;
}

export class JobManager {
  private readonly store: JobStore;
  private readonly live = new Map<number, Live>();
  private readonly reserve: DiskReserve;

  constructor(
    private readonly project: Project,
    private readonly events: JobEvents,
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

  start({ kind, entry, params, runId = null, env, exclusive = false }: StartJob): { job: JobInfo; done: Promise<JobInfo> } {
    const created = exclusive && runId !== null ? this.store.get(claimRun(this.project.db, { runId, params }))! : this.store.create(kind, runId, params);
    this.reserve.hold();
    let child: ChildProcess;
    try {
      child = forkWorker(entry, { env, stderr: 'pipe' });
    } catch (err) {
      // Not started: the row (and the run's lock, if it took one) must not stay held by this process.
      this.store.setStatus(created.id, 'failed', null, `The ${kind} worker could not start: ${(err as Error).message}.`);
      throw err;
    }
    let settle!: (job: JobInfo) => void;
    const live: Live = { child, finished: false, diskFull: false, stderrTail: stderrTail(child), settle: (j) => settle(j), done: new Promise((r) => (settle = r)) };
    this.live.set(created.id, live);

    child.on('message', (msg: FromWorker) => this.onMessage(created.id, live, msg));
    child.on('exit', (code, signal) => this.onExit(created.id, live, code, signal));
    child.on('error', (err) => this.finish(created.id, live, 'failed', `The ${kind} worker could not start: ${err.message}.`));

    const job = this.store.setStatus(created.id, 'running', child.pid ?? null);
    this.events.changed(job);
    const start: ToWorker = { type: 'start', jobId: created.id, projectPath: this.project.path, params };
    child.send(start);
    return { job, done: live.done };
  }

  /** Asks a running job to pause or stop at its next safe point. */
  control(jobId: number, action: ControlAction): JobInfo {
    const live = this.live.get(jobId);
    if (!live || live.finished) {
      throw new UserError('not-found', `Job ${jobId} is not running, so it cannot be asked to ${action}.`);
    }
    const msg: ToWorker = { type: 'control', action };
    live.child.send(msg);
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
      // Progress is passed on even when it cannot be stored.
      this.tryWrite(live, () => this.store.setProgress(jobId, msg.progress));
      this.events.progress({ ...this.store.get(jobId)!, progress: msg.progress }, msg.progress);
    } else if (msg.type === 'done') {
      this.finish(jobId, live, statusFor(msg.outcome), null, msg.result);
    } else if (msg.type === 'failed') {
      this.finish(jobId, live, 'failed', msg.error.message);
    }
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
        if (!live.finished && live.child.connected) live.child.send({ type: 'control', action: 'pause' } satisfies ToWorker);
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
    if (live.finished) return;
    this.finish(jobId, live, 'failed', describeDeath(this.store.get(jobId)!.kind, code, signal, live.stderrTail()));
  }

  private finish(jobId: number, live: Live, status: JobInfo['status'], error: string | null, result?: unknown): void {
    if (live.finished) return;
    live.finished = true;
    const hasResult = result !== null && result !== undefined;
    // The disk filled during the job: its reserve makes room for the job's end and its run's.
    if (live.diskFull) this.reserve.release();
    if (hasResult) this.tryWrite(live, () => this.store.setProgress(jobId, result), true);
    // A full disk anywhere along the way (this last write included): the job ends paused, saying so.
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
    const stored = this.store.get(jobId)!;
    // What the job ended as, whether or not the file could take it.
    const job: JobInfo = { ...stored, status, pid: null, error, ...(hasResult ? { progress: result } : {}) };
    this.events.changed(job);
    live.settle(job);
    // The reserve is kept only while jobs run (and not refilled on a disk just found full).
    if (![...this.live.values()].some((l) => !l.finished)) this.reserve.release();
  }

  /** Asks every running worker to pause (they save and exit), waiting up to `graceMs`, then kills the rest. */
  async shutdown(graceMs = 10_000): Promise<void> {
    const running = [...this.live.entries()].filter(([, l]) => !l.finished);
    for (const [id] of running) this.control(id, 'pause');
    const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), graceMs).unref());
    await Promise.race([Promise.all(running.map(([, l]) => l.done)), timeout]);
    for (const [, l] of running) if (!l.finished) l.child.kill('SIGKILL');
  }
}

function statusFor(outcome: JobOutcome): JobInfo['status'] {
  return outcome === 'paused' ? 'paused' : outcome === 'stopped' ? 'cancelled' : 'done';
}

/**
 * Workers that answer requests instead of resuming from a checkpoint (the sampling worker): what
 * they are called, and what to do after one ran out of memory. Its request is simply tried again.
 */
const ONE_SHOT: Partial<Record<JobKind, { name: string; oom: string }>> = {
  sample: { name: 'sampling', oom: 'try a smaller export, or fewer images at once' },
};

/** Why a worker died, in words: the signal, the exit code, what it last printed. */
export function describeDeath(kind: JobKind, code: number | null, signal: NodeJS.Signals | null, stderrTail: string): string {
  // 'OOM' as a word and in capitals (TensorFlow's "OOM when allocating"): not the 'oom' of 'room' or 'boom'.
  const oom = /heap out of memory|Allocation failed|out of memory/i.test(stderrTail) || /\bOOM\b/.test(stderrTail);
  const last = stderrTail.trim().split('\n').filter(Boolean).pop();
  const oneShot = ONE_SHOT[kind];
  if (oneShot) {
    if (oom) return `The ${oneShot.name} worker ran out of memory. Nothing stored was lost; ${oneShot.oom}.`;
    const how =
      signal === 'SIGKILL'
        ? 'was killed (SIGKILL) — often the system running out of memory'
        : signal
          ? `was stopped by ${signal}`
          : `exited unexpectedly (code ${code})${last ? `: ${last.slice(0, 300)}` : ''}`;
    return `The ${oneShot.name} worker ${how}. Nothing stored was lost; try again.`;
  }
  if (oom) {
    return `The ${kind} worker ran out of memory. Everything saved before is kept; use a smaller batch (or resolution) and resume.`;
  }
  if (signal === 'SIGKILL') {
    return `The ${kind} worker was killed (SIGKILL) — often the system running out of memory. Everything saved before is kept; resume to continue from the last checkpoint.`;
  }
  if (signal) return `The ${kind} worker was stopped by ${signal}. Everything saved before is kept; resume to continue.`;
  return `The ${kind} worker exited unexpectedly (code ${code})${last ? `: ${last.slice(0, 300)}` : ''}. Everything saved before is kept.`;
}
