/**
 * The train worker's entry (a child process started by the JobManager, one per training session):
 * opens the project file on its own connection and runs core/session/train-session.ts for the run in its
 * params, relaying progress and the user's pause/stop. The service sets the run's status from how
 * this process ends.
 */
import type { JobSpec } from '../jobs/kinds.js';
import { runWorker } from '../jobs/worker-runtime.js';
import { openProjectDb } from '../store/project-file.js';
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
  } finally {
    db.close();
  }
});
