/**
 * What a checkpoint's `state` column holds, and reading it back: the loop's state, the config the
 * run trained with, the class names and the backend. The session writes it; resume, the gallery
 * and evaluations read it.
 */
import { UserError } from '../api/errors.js';
import { type TrainConfig, trainConfigFromJson } from './config.js';
import type { LoopState } from './loop.js';

/** What a checkpoint's `state` column holds. */
export interface CheckpointState {
  format: 1;
  loop: LoopState;
  /** The config the run trained with (the batch may differ from the one first resolved). */
  config: TrainConfig;
  /** Class names, index = class id (empty: unconditional). */
  classNames: string[];
  /** The backend it was written on. */
  backend: string;
}

export function checkpointState(value: unknown, what: string): CheckpointState {
  const s = value as Partial<CheckpointState> | null;
  if (s === null || typeof s !== 'object' || s.format !== 1 || s.loop === undefined || s.config === undefined) {
    throw new UserError('corrupt', `${what} was written by another version of the studio and cannot be resumed. Start a new run (advanced: transfer from this run).`);
  }
  return { format: 1, loop: s.loop, config: trainConfigFromJson(s.config, what), classNames: s.classNames ?? [], backend: s.backend ?? 'unknown' };
}
