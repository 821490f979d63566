/**
 * A run branched from one of another run's checkpoints ("resume from the best snapshot"): a new
 * run with the same settings whose first checkpoint is a copy of that one, and whose history (the
 * metric series, evaluations and newest preview up to that kimg) is the original's. The original
 * run keeps everything it had; the branch goes on from the copy on a fresh random stream (the
 * service starts it with `reseed`).
 */
import type Database from 'better-sqlite3';
import { type Checkpoint, type RunInfo, RunStore } from './runs.js';

/** Where a branch came from (kept in its config). */
export interface BranchOrigin {
  runId: number;
  checkpointId: number;
  kimg: number;
}

export function branchRun(db: Database.Database, source: RunInfo, cp: Checkpoint, name: string): RunInfo {
  const runs = new RunStore(db);
  return db.transaction(() => {
    const config = { ...(source.config as object), branchedFrom: { runId: source.id, checkpointId: cp.id, kimg: cp.kimg } satisfies BranchOrigin };
    const run = runs.createRun(name, source.preset, config, source.kimgTotal ?? cp.kimg);
    const at = new Date().toISOString();
    const copied = Number(
      db
        .prepare('INSERT INTO checkpoints (run_id, kimg, step, weights, state, is_best, created_at) SELECT ?, kimg, step, weights, state, 0, ? FROM checkpoints WHERE id = ?')
        .run(run.id, at, cp.id).lastInsertRowid,
    );
    db.prepare('INSERT INTO metrics (run_id, name, kimg, value, at) SELECT ?, name, kimg, value, at FROM metrics WHERE run_id = ? AND kimg <= ?').run(run.id, source.id, cp.kimg);
    db.prepare(
      `INSERT INTO evaluations (run_id, checkpoint_id, kimg, source, extractor, reference, real_count, fake_count, metrics, seconds, created_at)
       SELECT ?, CASE WHEN checkpoint_id = ? THEN ? ELSE NULL END, kimg, source, extractor, reference, real_count, fake_count, metrics, seconds, created_at
       FROM evaluations WHERE run_id = ? AND kimg <= ? ORDER BY id`,
    ).run(run.id, cp.id, copied, source.id, cp.kimg);
    db.prepare('INSERT INTO previews (run_id, kimg, png, created_at) SELECT ?, kimg, png, created_at FROM previews WHERE run_id = ? AND kimg <= ? ORDER BY kimg DESC, id DESC LIMIT 1').run(
      run.id,
      source.id,
      cp.kimg,
    );
    // The copy was evaluated while training: it is the branch's best so far.
    const evaluated = db.prepare("SELECT 1 FROM evaluations WHERE run_id = ? AND checkpoint_id = ? AND source = 'training'").get(run.id, copied);
    if (evaluated) runs.markBest(run.id, copied);
    runs.reportTick(run.id, cp.kimg, {});
    runs.setStatus(run.id, 'paused');
    return runs.getRun(run.id)!;
  })();
}
