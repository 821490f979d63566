/**
 * The merge worker's entry (a child process started by the JobManager, one per merge session):
 * opens the project file on its own connection and runs ./merge-session.ts for the merge in its
 * params, relaying progress and the user's pause/stop. A merge killed mid-stage continues, on
 * resume, from its last checkpoint at the same stage and step.
 */
import type { JobSpec } from '../jobs/kinds.js';
import { runWorker } from '../jobs/worker-runtime.js';
import { openProjectDb } from '../store/project-file.js';
import { mergeSession } from './merge-session.js';

runWorker<JobSpec<'merge'>>(async (ctx) => {
  const db = openProjectDb(ctx.projectPath, { role: 'worker' });
  try {
    return await mergeSession({ db, params: ctx.params, progress: (p) => ctx.progress(p), requested: () => ctx.requested });
  } finally {
    db.close();
  }
});
