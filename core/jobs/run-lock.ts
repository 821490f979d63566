/**
 * One trainer per run, across processes. The lock is the run's live `train` job row: its `pid`
 * (the worker's, or the claiming process's until the worker is forked) must be alive. Checking
 * and taking happen in one IMMEDIATE transaction, so two `atelier train --resume 8` started
 * together cannot both see the run free: the second waits for the first's write lock, then sees
 * its row. A holder that was killed leaves a row whose process is gone: that row is marked failed
 * and the lock is taken over. (A reused pid can make a dead holder look alive: the refusal names
 * the process, so the user can see it is not the studio.)
 *
 * Self-contained (its own SQL on the `jobs` table) so it moves with the job code as a unit.
 */
import type Database from 'better-sqlite3';
import { UserError } from '../api/errors.js';
import { processAlive } from '../store/jobs.js';

export interface RunHolder {
  jobId: number;
  pid: number;
}

export interface ClaimRun {
  runId: number;
  /** The job's params, stored on its row. */
  params: unknown;
  /** The process holding the lock until the worker's pid replaces it (default: this one). */
  pid?: number;
  /** Liveness test (tests swap it). */
  alive?: (pid: number) => boolean;
}

interface LiveRow {
  id: number;
  pid: number | null;
}

const LIVE = "SELECT id, pid FROM jobs WHERE kind = 'train' AND run_id = ? AND status IN ('queued', 'running') ORDER BY id";

/** The live process training `runId`, or null. Rows whose process is gone do not count. */
export function runHolder(db: Database.Database, runId: number, alive: (pid: number) => boolean = processAlive): RunHolder | null {
  const rows = db.prepare<[number], LiveRow>(LIVE).all(runId);
  const held = rows.find((r) => r.pid !== null && alive(r.pid));
  return held ? { jobId: held.id, pid: held.pid! } : null;
}

/** The refusal when another process holds the run. */
export function runBusyError(runId: number, holder: RunHolder): UserError {
  return new UserError(
    'exists',
    `Run ${runId} is already being trained by process ${holder.pid} (the studio or \`atelier train\`). Pause it there, or wait for it to finish; then resume it here.`,
  );
}

/**
 * Takes the lock on `runId` and creates its `train` job row (status 'queued', pid = the claimer):
 * the row's id. Throws `runBusyError` when a live process holds the run. Stale rows of the run
 * (their process gone) are marked failed on the way.
 */
export function claimRun(db: Database.Database, { runId, params, pid = process.pid, alive = processAlive }: ClaimRun): number {
  const now = new Date().toISOString();
  const take = db.transaction((): number => {
    const holder = runHolder(db, runId, alive);
    if (holder) throw runBusyError(runId, holder);
    db.prepare<[string, string, number]>("UPDATE jobs SET status = 'failed', error = ?, updated_at = ? WHERE kind = 'train' AND run_id = ? AND status IN ('queued', 'running')").run(
      'The process training this run stopped without finishing its job (killed?). Everything it saved is kept; the run was resumed from its last checkpoint.',
      now,
      runId,
    );
    const { lastInsertRowid } = db
      .prepare<[number, number, string, string, string]>("INSERT INTO jobs (kind, status, run_id, pid, params, created_at, updated_at) VALUES ('train', 'queued', ?, ?, ?, ?, ?)")
      .run(runId, pid, JSON.stringify(params ?? {}), now, now);
    return Number(lastInsertRowid);
  });
  // IMMEDIATE: the write lock is taken before the check, so the check and the insert are one step for every other process.
  return take.immediate();
}
