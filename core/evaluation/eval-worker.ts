/**
 * The evaluate worker's entry (a child process started by the JobManager): evaluates a checkpoint
 * on demand, or checks a user's feature extractor, on its own connection to the project file.
 */
import type { JobSpec } from '../jobs/kinds.js';
import { runWorker } from '../jobs/worker-runtime.js';
import { openProjectDb } from '../store/project-file.js';
import { checkExtractor, evaluateCheckpoint } from './evaluate-checkpoint.js';

export type { EvalJobParams } from '../jobs/kinds.js';

runWorker<JobSpec<'evaluate'>>(async (ctx) => {
  const p = ctx.params;
  if (p.kind === 'check-extractor') return { outcome: 'completed', result: await checkExtractor(p.spec) };
  const db = openProjectDb(ctx.projectPath, { role: 'worker' });
  try {
    let last = 0;
    const evaluation = await evaluateCheckpoint(db, p, {
      shouldStop: () => ctx.requested !== null,
      onProgress: (done, total) => {
        if (Date.now() - last < 500 && done < total) return;
        last = Date.now();
        ctx.progress({ done, total });
      },
      log: (line) => process.stderr.write(`${line}\n`),
    });
    return evaluation === null ? { outcome: 'stopped' } : { outcome: 'completed', result: { evaluation } };
  } finally {
    db.close();
  }
});
