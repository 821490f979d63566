/**
 * Why a worker died, in words a user can act on. A worker is described by what it is called and
 * what the user does after it died: a job resumes from what it saved (train, evaluate, import);
 * a worker that answers requests (the sampling worker) has the request tried again.
 */
import type { JobKind } from '../store/jobs.js';

export type WorkerDescription =
  /** A job: everything it saved is kept; resume to continue. */
  | { name: string; after: 'resume' }
  /** A request-answering worker: nothing stored was lost; try again (`oom`: what to try after running out of memory). */
  | { name: string; after: 'retry'; oom: string };

/** The worker of a job of kind `kind`. */
export function jobWorker(kind: JobKind): WorkerDescription {
  return { name: kind, after: 'resume' };
}

/** The long-lived sampling worker (core/gallery). */
export const SAMPLING_WORKER: WorkerDescription = { name: 'sampling', after: 'retry', oom: 'try a smaller export, or fewer images at once' };

/** Why a worker died, in words: the signal, the exit code, what it last printed. */
export function describeDeath(worker: WorkerDescription, code: number | null, signal: NodeJS.Signals | null, stderrTail: string): string {
  // 'OOM' as a word and in capitals (TensorFlow's "OOM when allocating"): not the 'oom' of 'room' or 'boom'.
  const oom = /heap out of memory|Allocation failed|out of memory/i.test(stderrTail) || /\bOOM\b/.test(stderrTail);
  const last = stderrTail.trim().split('\n').filter(Boolean).pop();
  const { name } = worker;
  if (worker.after === 'retry') {
    if (oom) return `The ${name} worker ran out of memory. Nothing stored was lost; ${worker.oom}.`;
    const how =
      signal === 'SIGKILL'
        ? 'was killed (SIGKILL) — often the system running out of memory'
        : signal
          ? `was stopped by ${signal}`
          : `exited unexpectedly (code ${code})${last ? `: ${last.slice(0, 300)}` : ''}`;
    return `The ${name} worker ${how}. Nothing stored was lost; try again.`;
  }
  if (oom) {
    return `The ${name} worker ran out of memory. Everything saved before is kept; use a smaller batch (or resolution) and resume.`;
  }
  if (signal === 'SIGKILL') {
    return `The ${name} worker was killed (SIGKILL) — often the system running out of memory. Everything saved before is kept; resume to continue from the last checkpoint.`;
  }
  if (signal) return `The ${name} worker was stopped by ${signal}. Everything saved before is kept; resume to continue.`;
  return `The ${name} worker exited unexpectedly (code ${code})${last ? `: ${last.slice(0, 300)}` : ''}. Everything saved before is kept.`;
}
