/**
 * What resuming from a checkpoint does, as the service decides it (core/service/training.ts,
 * `Training.resume`): from the run's newest checkpoint the run itself continues; from an older one
 * a new run branches off. A finished run's newest checkpoint offers neither (the service refuses
 * to train a run past its planned kimg): a new run started from its weights trains further, and
 * its older checkpoints still branch.
 */
import type { CheckpointSummary } from '../../../core/api/contract.js';

/** The newest checkpoint's id (highest kimg, then id), or null when there is none. */
export function newestCheckpointId(checkpoints: ReadonlyArray<Pick<CheckpointSummary, 'id' | 'kimg'>>): number | null {
  let newest: Pick<CheckpointSummary, 'id' | 'kimg'> | null = null;
  for (const c of checkpoints) if (newest === null || c.kimg > newest.kimg || (c.kimg === newest.kimg && c.id > newest.id)) newest = c;
  return newest?.id ?? null;
}

/** 'continue': the run goes on; 'branch': a new run from there; null: nothing to offer (a finished run's newest). */
export function resumeKind(checkpointId: number, newestId: number | null, done: boolean): 'continue' | 'branch' | null {
  if (checkpointId !== newestId) return 'branch';
  return done ? null : 'continue';
}
