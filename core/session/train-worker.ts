/**
 * The train worker's entry (a child process started by the JobManager, one per training session):
 * opens the project file on its own connection and runs core/session/train-session.ts for the run in its
 * params, relaying progress and the user's pause/stop. The service sets the run's status from how
 * this process ends.
 */
import type { TrainJobParams } from '../jobs/kinds.js';
import { openDatasetDb } from '../store/dataset.js';
import { runWorker } from '../jobs/worker-runtime.js';
import { trainSession } from './train-session.js';

// Ctrl+C in a terminal reaches the whole process group: the parent relays it as a pause, so the
// worker must not die of it before saving.
process.on('SIGINT', () => {});
// A message sent just as the parent dies fails with EPIPE, emitted on `process`: unhandled, it
// would kill the worker before the 'disconnect' pause saves a checkpoint.
process.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE' && err.code !== 'ERR_IPC_CHANNEL_CLOSED' && err.code !== 'ERR_IPC_DISCONNECTED') throw err;
});

runWorker<TrainJobParams>(async (ctx) => {
  const db = openDatasetDb(ctx.projectPath);
  db.pragma('busy_timeout = 5000');
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
