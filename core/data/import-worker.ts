/**
 * The import worker's entry (a child process started by the JobManager, kind 'import'). It
 * writes to the project file itself; the service only relays. A stop (or a pause, or the service
 * going away) cancels: what the import decided is committed, and it exits.
 */
import type { JobSpec } from '../jobs/kinds.js';
import { runWorker } from '../jobs/worker-runtime.js';
import { runImport } from './import-pipeline.js';

runWorker<JobSpec<'import'>>(async (ctx) => {
  const report = await runImport({ projectPath: ctx.projectPath, ...ctx.params }, { onProgress: (p) => ctx.progress(p), cancelled: () => ctx.requested !== null });
  return { outcome: report.status === 'cancelled' ? 'stopped' : 'completed', result: { importId: report.importId, status: report.status } };
});
