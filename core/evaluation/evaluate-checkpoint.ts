/**
 * On-demand work of the evaluate worker: evaluate any checkpoint of a run (`atelier eval`, the
 * Train view's "Evaluate"), and check a user's feature extractor before the project adopts it.
 * Both run in their own worker process, never on the service's event loop.
 */
import type Database from 'better-sqlite3';
import type { EvaluationSummary } from '../api/contract.js';
import type { EvaluateCheckpointParams, ExtractorCheck } from '../jobs/kinds.js';
import { UserError } from '../api/errors.js';
import { BackendUnavailableError, selectBackend } from '../backend/select.js';
import { buildGenerator } from '../generator/weights.js';
import { checkpointMeta } from '../generator/source.js';
import { MetricsStore } from '../store/metrics.js';
import { type Checkpoint, RunStore } from '../store/runs.js';
import { CheckpointFormatError } from '../nets/checkpoint-format.js';
import { evaluateGenerator } from './evaluate.js';
import { Generator } from '../nets/generator.js';
import { trainConfigFromJson } from '../train/config.js';
import { type CustomExtractorSpec, loadCustomExtractor } from '../metrics/inception.js';

export type { EvaluateCheckpointParams };

/** Resolves the checkpoint an evaluation is asked for, with a reason when there is none. */
export function checkpointToEvaluate(runs: RunStore, runId: number, checkpointId?: number): Checkpoint {
  const run = runs.getRun(runId);
  if (!run) throw new UserError('not-found', `There is no run ${runId} in this project.`);
  const cp = checkpointId !== undefined ? runs.getCheckpoint(checkpointId) : runs.latestCheckpoint(runId);
  if (!cp || cp.runId !== runId) {
    const kept = runs.listCheckpoints(runId).map((c) => `${c.id} (${c.kimg} kimg)`);
    throw new UserError(
      'not-found',
      checkpointId !== undefined
        ? `"${run.name}" has no checkpoint ${checkpointId}${kept.length ? `; it keeps ${kept.join(', ')}` : ''}.`
        : `"${run.name}" has no checkpoint yet: train it for a while first.`,
    );
  }
  return cp;
}

export async function evaluateCheckpoint(
  db: Database.Database,
  p: EvaluateCheckpointParams,
  ctx: { shouldStop: () => boolean; onProgress: (done: number, total: number) => void; log: (line: string) => void },
): Promise<EvaluationSummary | null> {
  const runs = new RunStore(db);
  const cp = checkpointToEvaluate(runs, p.runId, p.checkpointId);
  const run = runs.getRun(p.runId)!;
  // G_ema and the config it trained with, as the gallery reads a checkpoint.
  const what = `The checkpoint of "${run.name}" at ${cp.kimg} kimg`;
  const { meta, tensors, config } = corruptIsUserError(() => checkpointMeta(db, cp.id));
  try {
    await selectBackend({ prefer: p.backend ?? config.backend, preferSource: p.backend !== undefined ? '--backend' : `the settings of "${run.name}"` });
  } catch (err) {
    if (err instanceof BackendUnavailableError) throw new UserError('unavailable', err.message);
    throw err;
  }
  const G = corruptIsUserError(() => buildGenerator(meta, new Map(tensors.map((t) => [t.name, t])), what));
  // At the run's own sizes and extractor, an evaluation of a run not yet on the quality scale measures its ends (the run keeps them).
  const m = config.metrics;
  const runsOwn = (p.reals ?? m.reals) === m.reals && (p.fakes ?? m.fakes) === m.fakes && p.extractor === undefined;
  const untrained = runsOwn && m.anchors === undefined ? new Generator(config.net) : null;
  try {
    const outcome = await evaluateGenerator(
      db,
      G,
      { reals: p.reals ?? m.reals, fakes: p.fakes ?? m.fakes, seed: config.seed, conditional: config.net.numClasses > 0, extractor: p.extractor === undefined ? m.extractor : p.extractor, features: m.features, anchors: m.anchors ?? null, untrained },
      { shouldStop: ctx.shouldStop, onProgress: ctx.onProgress },
    );
    if (outcome === null) return null;
    if (untrained && outcome.anchors) {
      const stored = trainConfigFromJson(runs.getRun(p.runId)!.config, `run ${p.runId}`);
      runs.setConfig(p.runId, { ...stored, metrics: { ...stored.metrics, anchors: outcome.anchors } });
    }
    ctx.log(`run ${p.runId}: checkpoint ${cp.id} at ${cp.kimg} kimg evaluated in ${outcome.seconds.toFixed(1)} s (${outcome.featuresPerSecond.toFixed(2)} features/s)`);
    const store = new MetricsStore(db);
    const evaluation = store.addEvaluation({
      runId: p.runId,
      checkpointId: cp.id,
      kimg: cp.kimg,
      source: 'on-demand',
      extractor: outcome.extractor.id,
      reference: outcome.extractor.reference,
      realCount: outcome.realCount,
      fakeCount: outcome.fakeCount,
      metrics: outcome.values,
      seconds: outcome.seconds,
    });
    if (outcome.nearest.length > 0) store.saveNearest(evaluation.id, outcome.nearest);
    return evaluation;
  } finally {
    untrained?.dispose();
    G.dispose();
  }
}

/** Runs `f`; a checkpoint that does not decode is a UserError saying it cannot be evaluated. */
function corruptIsUserError<T>(f: () => T): T {
  try {
    return f();
  } catch (err) {
    if (err instanceof CheckpointFormatError) throw new UserError('corrupt', `${err.message} It cannot be evaluated.`);
    throw err;
  }
}

/** Loads the user's extractor on the best backend and checks it (2048 features per image); the info the service keeps. */
export async function checkExtractor(spec: CustomExtractorSpec): Promise<ExtractorCheck> {
  await selectBackend();
  const e = await loadCustomExtractor(spec);
  try {
    return { title: e.title, dim: e.dim, inputSize: e.inputSize };
  } finally {
    e.dispose();
  }
}
