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

export type JobKind = 'import' | 'train' | 'merge' | 'evaluate' | 'sample' | 'export';
export type JobStatus = 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'cancelled';
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

export interface JobInfo {
  id: number;
  kind: JobKind;
  status: JobStatus;
  runId: number | null;
  /** The worker's process id while it runs. */
  pid: number | null;
  /** The last progress the worker reported (kind-specific). */
  progress: unknown;
  /** Why it failed, in words a user can act on. */
  error: string | null;
  createdAt: string;
  updatedAt: string;
}
