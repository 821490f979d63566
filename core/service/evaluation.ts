/**
 * Evaluation of the open project behind StudioApi: any checkpoint evaluated on demand in an
 * evaluate worker (a job of the project's JobManager, kind 'evaluate'), and the feature extractor
 * new runs and evaluations use (a user's FID Inception is checked in a worker before it is kept).
 * Evaluations during training run inside the train worker (core/evaluation/in-training.ts).
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import type { BackendChoiceName, EvaluationProgress, ExtractorInfo, StudioEvent } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import type { metricsMethods } from '../api/metrics.js';
import type { JobManager } from '../jobs/job-manager.js';
import type { EvalJobParams } from '../jobs/kinds.js';
import { DEFAULT_INPUT_RANGE, extractorInfo } from '../metrics/extractor-info.js';
import { metricsConfigFromJson } from '../metrics/options.js';
import { MetricsStore } from '../store/metrics.js';
import { RunStore } from '../store/runs.js';
import { canonicalPath } from './paths.js';
import type { ProjectPart, ServiceContext, SliceHandlers } from './slices.js';

export const EVAL_WORKER = new URL('../evaluation/eval-worker.ts', import.meta.url);

export interface EvaluateRequest {
  runId: number;
  checkpointId?: number;
  reals?: number;
  fakes?: number;
  backend?: BackendChoiceName;
  extractor?: { path: string; inputRange: [number, number] } | null;
}

export class Evaluation {
  readonly runs: RunStore;
  readonly metricsStore: MetricsStore;
  /** On-demand evaluations running, by job id. */
  private readonly evaluating = new Map<number, { progress: EvaluationProgress; done: Promise<EvaluationProgress> }>();

  constructor(
    readonly jobs: JobManager,
    private readonly emit: (event: StudioEvent) => void,
  ) {
    this.runs = new RunStore(jobs.project.db);
    this.metricsStore = new MetricsStore(jobs.project.db);
  }

  /**
   * Evaluates a checkpoint in an evaluate worker. `done` settles when it finished, failed or was
   * stopped; progress goes out as `run.evaluation` events meanwhile.
   */
  evaluate(p: EvaluateRequest): { progress: EvaluationProgress; done: Promise<EvaluationProgress> } {
    const run = this.runs.getRun(p.runId);
    if (!run) throw new UserError('not-found', `There is no run ${p.runId} in this project.`);
    const cp = p.checkpointId !== undefined ? this.runs.getCheckpoint(p.checkpointId) : this.runs.latestCheckpoint(p.runId);
    if (!cp || cp.runId !== p.runId) {
      const kept = this.runs.listCheckpoints(p.runId).map((c) => `${c.id} (${c.kimg} kimg)`);
      throw new UserError(
        'not-found',
        p.checkpointId !== undefined
          ? `"${run.name}" has no checkpoint ${p.checkpointId}${kept.length ? `; it keeps ${kept.join(', ')}` : ''}.`
          : `"${run.name}" has no checkpoint yet: train it for a while first.`,
      );
    }
    for (const e of this.evaluating.values()) {
      if (e.progress.runId === p.runId && e.progress.state === 'running') throw new UserError('exists', `"${run.name}" is already being evaluated. Wait for it to finish.`);
    }
    const m = metricsConfigFromJson((run.config as { metrics?: unknown } | null)?.metrics);
    const params: EvalJobParams = { kind: 'evaluate', runId: p.runId, checkpointId: cp.id };
    if (p.reals !== undefined) params.reals = p.reals;
    if (p.fakes !== undefined) params.fakes = p.fakes;
    if (p.backend !== undefined) params.backend = p.backend;
    if (p.extractor !== undefined) params.extractor = p.extractor;
    const { job, done } = this.jobs.start({
      kind: 'evaluate',
      entry: EVAL_WORKER,
      params,
      runId: p.runId,
      onProgress: ({ done: n, total }, j) => {
        const e = this.evaluating.get(j.id);
        if (!e) return;
        e.progress = { ...e.progress, done: n, total };
        this.emit({ type: 'run.evaluation', progress: e.progress });
      },
    });
    const progress: EvaluationProgress = { runId: p.runId, jobId: job.id, checkpointId: cp.id, state: 'running', done: 0, total: (p.fakes ?? m.fakes) + (p.reals ?? m.reals), evaluation: null, error: null };
    const entry = {
      progress,
      done: done.then((finished): EvaluationProgress => {
        const result = finished.result !== null && 'evaluation' in finished.result ? finished.result.evaluation : null;
        const state = finished.status === 'done' && result !== null ? 'done' : 'failed';
        const error = state === 'failed' ? (finished.error ?? (finished.status === 'cancelled' ? 'The evaluation was stopped.' : 'The evaluation ended without a result.')) : null;
        const final: EvaluationProgress = { ...entry.progress, state, done: entry.progress.total, evaluation: result, error };
        entry.progress = final;
        this.evaluating.delete(job.id);
        this.emit({ type: 'run.evaluation', progress: final });
        return final;
      }),
    };
    this.evaluating.set(job.id, entry);
    this.emit({ type: 'run.evaluation', progress });
    return entry;
  }

  /** Asks an on-demand evaluation to stop (what it computed is not kept). */
  stop(jobId: number): void {
    this.jobs.control(jobId, 'stop');
  }

  /** The feature extractor new runs and evaluations use. */
  extractorInfo(): ExtractorInfo {
    return extractorInfo(this.metricsStore.extractor());
  }

  /** Checks the user's FID Inception in a worker (it must load and give 2048 features), then keeps it; null: the bundled one again. */
  async setExtractor(path: string | null, inputRange?: [number, number]): Promise<ExtractorInfo> {
    if (path === null) {
      this.metricsStore.setExtractor(null);
      return this.extractorInfo();
    }
    const spec = { path, inputRange: inputRange ?? DEFAULT_INPUT_RANGE };
    const { done } = this.jobs.start({ kind: 'evaluate', entry: EVAL_WORKER, params: { kind: 'check-extractor', spec } });
    const job = await done;
    if (job.status !== 'done') throw new UserError('invalid-request', job.error ?? `The feature extractor ${path} could not be checked.`, path);
    this.metricsStore.setExtractor(spec);
    return this.extractorInfo();
  }

  /** Stops the evaluations still running, waiting a little for them. */
  dispose(): Promise<void> {
    return this.jobs.shutdown(10_000, ['evaluate']);
  }
}

/** The metrics slice of the handler table. */
export function metricsHandlers(ctx: ServiceContext, evaluation: ProjectPart<Evaluation>): SliceHandlers<typeof metricsMethods> {
  return {
    'runs.evaluate': (params) => evaluation.require().evaluate(params).progress,
    'metrics.extractor': () => evaluation.require().extractorInfo(),
    'metrics.setExtractor': ({ path, inputRange }) => {
      // The model file is one the user picked, like any other path from the renderer.
      const picked = path === null ? null : canonicalPath(path);
      if (picked !== null) ctx.host.paths.check(picked, 'read');
      // A folder (the desktop dialog picks folders on Windows and Linux): its model.json.
      const file = picked !== null && statSync(picked, { throwIfNoEntry: false })?.isDirectory() ? join(picked, 'model.json') : picked;
      return evaluation.require().setExtractor(file, inputRange);
    },
  };
}
