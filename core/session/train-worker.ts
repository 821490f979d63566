/**
 * The train worker's entry (a child process started by the JobManager, one per training session):
 * opens the project file on its own connection and runs core/session/train-session.ts for the run in its
 * params, relaying progress and the user's pause/stop. The service sets the run's status from how
 * this process ends.
 */
import type Database from 'better-sqlite3';
import type { JobSpec } from '../jobs/kinds.js';
import { runWorker } from '../jobs/worker-runtime.js';
import { diskFullMessage, isDiskFull } from '../store/disk-full.js';
import { openProjectDb } from '../store/project-file.js';
import { RunStore } from '../store/runs.js';
import { trainSession } from './train-session.js';

runWorker<JobSpec<'train'>>(async (ctx) => {
  const db = openProjectDb(ctx.projectPath, { role: 'worker' });
  try {
    const { outcome, result } = await trainSession({
      db,
      runId: ctx.params.runId,
      ...(ctx.params.backend !== undefined ? { backend: ctx.params.backend } : {}),
      ...(ctx.params.reseed !== undefined ? { reseed: ctx.params.reseed } : {}),
      progress: (p) => ctx.progress(p),
      requested: () => ctx.requested,
    });
    return { outcome, result };
  } catch (err) {
    // A full disk: nothing more can be saved; what was saved is kept. The run pauses, saying why.
    if (!isDiskFull(err)) throw err;
    const saved = savedUpTo(db, ctx.params.runId);
    return { outcome: 'paused', result: { runId: ctx.params.runId, ...saved, pausedBecause: diskFullMessage(ctx.projectPath) } };
  } finally {
    db.close();
  }
});

/** Where the run's newest checkpoint stands (reading still works on a full disk): where a resume continues. */
function savedUpTo(db: Database.Database, runId: number): { step: number; kimg: number } {
  try {
    const newest = new RunStore(db).listCheckpoints(runId).reduce<{ step: number; kimg: number } | null>((a, c) => (a === null || c.step > a.step ? c : a), null);
    return { step: newest?.step ?? 0, kimg: newest?.kimg ?? 0 };
  } catch {
    return { step: 0, kimg: 0 };
  }
}
