/**
 * The service side of engine workers for one open project: starts each job in its own process,
 * relays pause/stop, records status and progress in the project's `jobs` table, and notices a
 * worker that dies (killed, out of memory) — its job is marked failed with the reason, and what
 * the worker committed to the project file stays.
 */
import type { ChildProcess } from 'node:child_process';
import { UserError } from '../api/errors.js';
import { JobStore } from '../store/jobs.js';
import type { Project } from '../store/project.js';
import { forkWorker, stderrTail } from './fork-worker.js';
import type { ControlAction, FromWorker, JobInfo, JobKind, JobOutcome, ToWorker } from './protocol.js';

export interface JobEvents {
  /** A job's status changed (started, paused, done, failed…). */
  changed(job: JobInfo): void;
  /** A running job reported progress. */
  progress(job: JobInfo, progress: unknown): void;
}

export interface StartJob {
  kind: JobKind;
  /** The worker entry module, e.g. `new URL('../session/train-worker.ts', import.meta.url)`. */
  entry: URL;
  params: unknown;
  runId?: number | null;
  env?: NodeJS.ProcessEnv;
}

interface Live {
  child: ChildProcess;
  finished: boolean;
  stderrTail: () => string;
  settle: (job: JobInfo) => void;
  done: Promise<JobInfo>;
}

export class JobManager {
  private readonly store: JobStore;
  private readonly live = new Map<number, Live>();

  constructor(
    private readonly project: Project,
    private readonly events: JobEvents,
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

  start({ kind, entry, params, runId = null, env }: StartJob): { job: JobInfo; done: Promise<JobInfo> } {
    const created = this.store.create(kind, runId, params);
    const child = forkWorker(entry, { env, stderr: 'pipe' });
    let settle!: (job: JobInfo) => void;
    const live: Live = { child, finished: false, stderrTail: stderrTail(child), settle: (j) => settle(j), done: new Promise((r) => (settle = r)) };
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
      this.store.setProgress(jobId, msg.progress);
      this.events.progress(this.store.get(jobId)!, msg.progress);
    } else if (msg.type === 'done') {
      if (msg.result !== null && msg.result !== undefined) this.store.setProgress(jobId, msg.result);
      this.finish(jobId, live, statusFor(msg.outcome), null);
    } else if (msg.type === 'failed') {
      this.finish(jobId, live, 'failed', msg.error.message);
    }
  }

  private onExit(jobId: number, live: Live, code: number | null, signal: NodeJS.Signals | null): void {
    if (live.finished) return;
    this.finish(jobId, live, 'failed', describeDeath(this.store.get(jobId)!.kind, code, signal, live.stderrTail()));
  }

  private finish(jobId: number, live: Live, status: JobInfo['status'], error: string | null): void {
    if (live.finished) return;
    live.finished = true;
    const job = this.store.setStatus(jobId, status, null, error);
    this.events.changed(job);
    live.settle(job);
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

/** Whether process `pid` exists (signal 0 only checks; EPERM: it exists, under another user). */
export function processAlive(pid: number | null): boolean {
  if (pid === null || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
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
