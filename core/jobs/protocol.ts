/**
 * The messages between the service and an engine worker (Node IPC or Electron's parentPort;
 * structured clone either way), typed by the job's kind (core/jobs/kinds.ts):
 *
 *   service → worker   start (once, with the kind's params), control (pause | stop)
 *   worker  → service  progress (the kind's progress, any number), done (the kind's result) | failed (once, last)
 *
 * Pause and stop both mean "write what you have (a checkpoint) and exit at the next safe point";
 * resuming starts a new worker that picks up from the project file. A worker whose channel
 * closes (the service died) treats it as a pause.
 */
import type { ApiError } from '../api/errors.js';
import type { JobInfo, JobKind, JobStatus } from '../store/jobs.js';
import type { KindSpec } from './kinds.js';

export type { JobInfo, JobKind, JobStatus };

export type ControlAction = 'pause' | 'stop';

/** How a worker's main function ended: finished its work, or left early because it was asked to. */
export type JobOutcome = 'completed' | 'paused' | 'stopped';

export interface StartMessage<P = unknown> {
  type: 'start';
  jobId: number;
  projectPath: string;
  params: P;
}
export interface ControlMessage {
  type: 'control';
  action: ControlAction;
}
export type ToWorker<S extends KindSpec = KindSpec> = StartMessage<S['params']> | ControlMessage;

export interface ProgressMessage<P = unknown> {
  type: 'progress';
  progress: P;
}
export interface DoneMessage<R = unknown> {
  type: 'done';
  outcome: JobOutcome;
  result: R | null;
}
export interface FailedMessage {
  type: 'failed';
  error: ApiError;
}
export type FromWorker<S extends KindSpec = KindSpec> = ProgressMessage<S['progress']> | DoneMessage<S['result']> | FailedMessage;
