/**
 * The evaluate worker's entry (a child process started by the JobManager): evaluates a checkpoint
 * on demand, or checks a user's feature extractor, on its own connection to the project file.
 */
import { runWorker } from '../jobs/worker-runtime.js';
import { openDatasetDb } from '../store/dataset.js';
import { checkExtractor, evaluateCheckpoint, type EvaluateCheckpointParams } from './evaluate-checkpoint.js';
import type { CustomExtractorSpec } from '../metrics/extractor-info.js';

export type EvalJobParams = ({ kind: 'evaluate' } & EvaluateCheckpointParams) | { kind: 'check-extractor'; spec: CustomExtractorSpec };

// Ctrl+C in a terminal reaches the whole process group: the parent relays it as a stop.
process.on('SIGINT', () => {});

runWorker<EvalJobParams>(async (ctx) => {
  const p = ctx.params;
  if (p.kind === 'check-extractor') return { outcome: 'completed', result: await checkExtractor(p.spec) };
  const db = openDatasetDb(ctx.projectPath);
  db.pragma('busy_timeout = 5000');
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
