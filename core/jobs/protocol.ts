/**
 * The messages between the service and an engine worker (Node IPC, structured clone).
 *
 *   service → worker   start (once), control (pause | stop)
 *   worker  → service  progress (any number), done | failed (once, last)
 *
 * Pause and stop both mean "write what you have (a checkpoint) and exit at the next safe point";
 * resuming starts a new worker that picks up from the project file. A worker whose IPC channel
 * closes (the service died) treats it as a pause.
 */
import type { ApiError } from '../api/errors.js';
import type { JobInfo, JobKind, JobStatus } from '../store/jobs.js';

export type { JobInfo, JobKind, JobStatus };

export type ControlAction = 'pause' | 'stop';

/** How a worker's main function ended: finished its work, or left early because it was asked to. */
export type JobOutcome = 'completed' | 'paused' | 'stopped';

export interface StartMessage {
  type: 'start';
  jobId: number;
  projectPath: string;
  params: unknown;
}
export interface ControlMessage {
  type: 'control';
  action: ControlAction;
}
export type ToWorker = StartMessage | ControlMessage;

export interface ProgressMessage {
  type: 'progress';
  progress: unknown;
}
export interface DoneMessage {
  type: 'done';
  outcome: JobOutcome;
  result: unknown;
}
export interface FailedMessage {
  type: 'failed';
  error: ApiError;
}
export type FromWorker = ProgressMessage | DoneMessage | FailedMessage;
