/**
 * Training for the open project: runs in the project file, each trained by an engine worker
 * (core/session/train-worker.ts) under the JobManager. The worker reads its run's config, resumes
 * from the newest checkpoint when there is one, and writes ticks, previews and checkpoints into
 * the file; this side sets the run's status from the job's fate and relays progress.
 */
import type {
  ComputeBackendReport,
  EvaluationProgress,
  EvaluationSummary,
  ExtractorInfo,
  PresetInfo,
  RunComparison,
  RunDetail,
  RunSummary,
  StudioEvent,
  TrainDefaults,
  TrainProgress,
  TrainSettings,
  BackendChoiceName,
} from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { JobManager } from '../jobs/job-manager.js';
import type { TrainJobParams } from '../jobs/kinds.js';
import type { JobInfo } from '../jobs/protocol.js';
import { presetInfos } from '../presets/index.js';
import type { DatasetStore } from '../store/dataset.js';
import type { Project } from '../store/project.js';
import { RunStore, type RunInfo, type RunStatus } from '../store/runs.js';
import { computeClassOf, defaultBatch, defaultKimg, resolveTrainConfig, trainConfigFromJson, type ComputeClass, type DatasetFacts, type TrainConfig } from '../train/config.js';
import { probeBackends } from '../backend/probe.js';
import { currentBest } from '../evaluation/best.js';
import type { EvalJobParams } from '../evaluation/eval-worker.js';
import { DEFAULT_INPUT_RANGE, extractorInfo } from '../metrics/extractor-info.js';
import { metricsConfigFromJson } from '../metrics/options.js';
import { MetricsStore } from '../store/metrics.js';
import { branchRun } from '../store/run-branch.js';

export const TRAIN_WORKER = new URL('../session/train-worker.ts', import.meta.url);
export const EVAL_WORKER = new URL('../evaluation/eval-worker.ts', import.meta.url);


const RUN_STATUS: Record<JobInfo['status'], RunStatus> = {
  queued: 'queued',
  running: 'running',
  paused: 'paused',
  cancelled: 'stopped',
  done: 'done',
  failed: 'failed',
};

export class Training {
  readonly runs: RunStore;
  readonly jobs: JobManager;
  readonly metricsStore: MetricsStore;
  /** On-demand evaluations running, by job id. */
  private readonly evaluating = new Map<number, { progress: EvaluationProgress; done: Promise<EvaluationProgress> }>();
  /** Live job of each run being trained. */
  private readonly jobOfRun = new Map<number, number>();
  private backends: Promise<ComputeBackendReport> | null = null;

  constructor(
    private readonly project: Project,
    private readonly dataset: () => DatasetStore,
    private readonly emit: (event: StudioEvent) => void,
  ) {
    this.runs = new RunStore(project.db);
    this.metricsStore = new MetricsStore(project.db);
    this.jobs = new JobManager(project, {
      changed: (job) => this.jobChanged(job),
      progress: (job, progress) => {
        if (job.kind === 'train') this.emit({ type: 'run.progress', progress: progress as TrainProgress });
        else if (job.kind === 'evaluate') this.evaluationProgressed(job, progress);
      },
    });
    // Runs the studio was training when it stopped: the worker is gone, the checkpoints are not.
    // (A run another process is training has a live job: left alone.)
    for (const run of this.runs.listRuns()) {
      if ((run.status === 'running' || run.status === 'queued') && !this.trainedElsewhere(run.id)) {
        this.runs.setStatus(run.id, 'paused', 'The studio closed while this run was training. Resume to continue from its last checkpoint.');
      }
    }
  }

  /** Another process (the studio, `atelier train`) is training this run: its job is live and not ours. */
  private trainedElsewhere(runId: number): boolean {
    return this.jobs.running().some((j) => j.kind === 'train' && j.runId === runId && !this.jobs.isRunning(j.id));
  }

  private facts(): DatasetFacts {
    const stats = this.dataset().stats();
    return {
      images: stats.images,
      resolution: stats.settings?.resolution ?? 0,
      channels: stats.settings?.colourMode === 'grayscale' ? 1 : 3,
      numClasses: stats.labels.filter((l) => l.count > 0).length,
    };
  }

  /** CPU or GPU sizes: from the backend asked for, else from the one the probe picked. */
  private async computeClass(backend?: BackendChoiceName): Promise<ComputeClass> {
    if (backend && backend !== 'auto') return computeClassOf(backend);
    try {
      return computeClassOf((await this.computeBackends()).chosen);
    } catch {
      return 'cpu';
    }
  }

  async presets(): Promise<{ presets: PresetInfo[]; defaults: TrainDefaults | null }> {
    const f = this.facts();
    const compute = await this.computeClass();
    const defaults = f.images > 0 && f.resolution > 0
      ? { images: f.images, resolution: f.resolution, channels: f.channels, numClasses: f.numClasses, batch: defaultBatch(f.resolution, compute), kimg: defaultKimg(f.resolution, compute) }
      : null;
    return { presets: presetInfos({ images: f.images, numClasses: f.numClasses }), defaults };
  }

  computeBackends(refresh = false): Promise<ComputeBackendReport> {
    if (refresh || !this.backends) {
      this.backends = probeBackends();
      this.backends.catch(() => (this.backends = null));
    }
    return this.backends;
  }

  async start(settings: TrainSettings): Promise<RunSummary> {
    const config = resolveTrainConfig(settings, this.facts(), await this.computeClass(settings.backend), this.metricsStore.extractor());
    const n = this.runs.listRuns().length + 1;
    const run = this.runs.createRun(settings.name ?? `Run ${n} · ${config.preset}`, config.preset, config, config.kimg);
    return this.launch(run.id, settings.backend);
  }

  /**
   * Continues a run from its newest checkpoint; from an older one (`checkpointId`: the best, say),
   * a new run branches off there and continues on a fresh random stream, the original kept as it
   * was. After a divergence the run itself also continues on a fresh stream (the same one would
   * diverge again).
   */
  resume(runId: number, backend?: BackendChoiceName, checkpointId?: number): RunSummary {
    const run = this.requireRun(runId);
    if (this.jobOfRun.has(runId)) throw new UserError('exists', `"${run.name}" is already training.`);
    if (this.trainedElsewhere(runId)) throw new UserError('exists', `"${run.name}" is being trained by another process (the studio or \`atelier train\`). Pause it there first.`);
    const latest = this.runs.latestCheckpoint(runId);
    if (checkpointId !== undefined && checkpointId !== latest?.id) {
      const cp = this.runs.getCheckpoint(checkpointId);
      if (!cp || cp.runId !== runId) throw new UserError('not-found', `"${run.name}" has no checkpoint ${checkpointId} (it may have been pruned). Pick one from its checkpoint list.`);
      const branch = branchRun(this.project.db, run, cp, `${run.name} ↳ ${Number(cp.kimg.toFixed(3))} kimg`);
      return this.launch(branch.id, backend, branch.id);
    }
    if (run.status === 'done') throw new UserError('invalid-request', `"${run.name}" has finished its ${run.kimgTotal} kimg. Start a new run from its weights (advanced: transfer from) to train further.`);
    const lastAlert = this.metricsStore.alerts(runId).at(-1);
    const afterDivergence = lastAlert?.code === 'diverged' && (latest === undefined || lastAlert.kimg >= latest.kimg);
    return this.launch(runId, backend, afterDivergence ? lastAlert.id : undefined);
  }

  private launch(runId: number, backend?: BackendChoiceName, reseed?: number): RunSummary {
    const params: TrainJobParams = { runId, ...(backend ? { backend } : {}), ...(reseed !== undefined ? { reseed } : {}) };
    this.runs.setStatus(runId, 'running');
    const { job } = this.jobs.start({ kind: 'train', entry: TRAIN_WORKER, params, runId });
    this.jobOfRun.set(runId, job.id);
    return this.summary(this.requireRun(runId));
  }

  pause(runId: number): RunSummary {
    return this.control(runId, 'pause');
  }

  stop(runId: number): RunSummary {
    return this.control(runId, 'stop');
  }

  private control(runId: number, action: 'pause' | 'stop'): RunSummary {
    const run = this.requireRun(runId);
    const jobId = this.jobOfRun.get(runId);
    if (jobId === undefined) throw new UserError('invalid-request', `"${run.name}" is not training, so it cannot ${action}.`);
    this.jobs.control(jobId, action);
    return this.summary(run);
  }

  list(): RunSummary[] {
    return this.runs.listRuns().map((r) => this.summary(r));
  }

  get(runId: number, afterKimg?: number): RunDetail {
    const run = this.requireRun(runId);
    return {
      ...this.summary(run),
      config: storedConfig(run),
      series: this.runs.metricSeries(runId, afterKimg),
      checkpoints: this.runs.listCheckpoints(runId).map(({ runId: _r, ...c }) => c),
      previews: this.runs.listPreviews(runId),
      ...this.metricsDetail(run),
    };
  }

  preview(runId: number, previewId?: number): { id: number; kimg: number; dataUrl: string } | null {
    this.requireRun(runId);
    const p = previewId === undefined ? this.runs.latestPreview(runId) : this.runs.getPreview(previewId);
    if (!p || ('runId' in p && p.runId !== runId)) return null;
    return { id: p.id, kimg: p.kimg, dataUrl: `data:image/png;base64,${p.png.toString('base64')}` };
  }

  delete(runId: number): RunSummary[] {
    const run = this.requireRun(runId);
    if (this.jobOfRun.has(runId) || this.trainedElsewhere(runId)) throw new UserError('invalid-request', `"${run.name}" is training: pause or stop it before deleting it.`);
    this.runs.deleteRun(runId);
    return this.list();
  }

  private requireRun(runId: number): RunInfo {
    const run = this.runs.getRun(runId);
    if (!run) throw new UserError('not-found', `There is no run ${runId} in this project.`);
    return run;
  }

  private summary(run: RunInfo): RunSummary {
    const cps = this.runs.listCheckpoints(run.id);
    const { config: _config, ...rest } = run;
    return { ...rest, latestCheckpointKimg: cps.length ? Math.max(...cps.map((c) => c.kimg)) : null };
  }

  private jobChanged(job: JobInfo): void {
    if (job.kind === 'evaluate') return this.evaluationChanged(job);
    if (job.kind !== 'train' || job.runId === null) return;
    const status = RUN_STATUS[job.status];
    if (status !== 'running') {
      this.jobOfRun.delete(job.runId);
      // A run that paused itself (it diverged) says why in its result.
      const pausedBecause = job.status === 'paused' ? ((job.progress as { pausedBecause?: string } | null)?.pausedBecause ?? null) : null;
      const error = job.status === 'failed' ? job.error : pausedBecause;
      this.runs.setStatus(job.runId, status, error);
    }
    const run = this.runs.getRun(job.runId);
    if (run) this.emit({ type: 'run.changed', run: this.summary(run) });
  }

  /** Pauses every run (each saves a checkpoint), waiting a little for them. */
  dispose(): Promise<void> {
    return this.jobs.shutdown();
  }

  // -------------------------------------------------------------------------------------------
  // Metrics.

  private metricsDetail(run: RunInfo): Pick<RunDetail, 'alerts' | 'evaluations' | 'best' | 'metrics'> {
    return metricsDetail(this.runs, this.metricsStore, run);
  }

  /**
   * Evaluates a checkpoint in an evaluate worker. `done` settles when it finished, failed or was
   * stopped; progress goes out as `run.evaluation` events meanwhile.
   */
  evaluate(p: { runId: number; checkpointId?: number; reals?: number; fakes?: number; backend?: BackendChoiceName; extractor?: { path: string; inputRange: [number, number] } | null }): {
    progress: EvaluationProgress;
    done: Promise<EvaluationProgress>;
  } {
    const run = this.requireRun(p.runId);
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
    const { job, done } = this.jobs.start({ kind: 'evaluate', entry: EVAL_WORKER, params, runId: p.runId });
    const progress: EvaluationProgress = { runId: p.runId, jobId: job.id, checkpointId: cp.id, state: 'running', done: 0, total: (p.fakes ?? m.fakes) + (p.reals ?? m.reals), evaluation: null, error: null };
    const entry = {
      progress,
      done: done.then((finished): EvaluationProgress => {
        const result = (finished.progress as { evaluation?: EvaluationSummary } | null)?.evaluation ?? null;
        const state = finished.status === 'done' && result !== null ? 'done' : 'failed';
        const error = state === 'failed' ? (finished.error ?? (finished.status === 'cancelled' ? 'The evaluation was stopped.' : 'The evaluation ended without a result.')) : null;
        return { ...entry.progress, state, done: entry.progress.total, evaluation: result, error };
      }),
    };
    this.evaluating.set(job.id, entry);
    this.emit({ type: 'run.evaluation', progress });
    return entry;
  }

  private evaluationProgressed(job: JobInfo, raw: unknown): void {
    const e = this.evaluating.get(job.id);
    const p = raw as { done?: number; total?: number } | null;
    if (!e || typeof p?.done !== 'number') return;
    e.progress = { ...e.progress, done: p.done, total: p.total ?? e.progress.total };
    this.emit({ type: 'run.evaluation', progress: e.progress });
  }

  private evaluationChanged(job: JobInfo): void {
    const e = this.evaluating.get(job.id);
    if (!e || job.status === 'running') return;
    void e.done.then((final) => {
      e.progress = final;
      this.evaluating.delete(job.id);
      this.emit({ type: 'run.evaluation', progress: final });
    });
  }

  /** Two runs side by side: their settings' differences and their metric curves. */
  compare(runIds: readonly number[]): RunComparison {
    const runs = runIds.map((id) => this.requireRun(id));
    const flat = runs.map((r) => flatten(r.config));
    const keys = [...new Set(flat.flatMap((f) => [...f.keys()]))].sort();
    const configDiff: RunComparison['configDiff'] = [];
    let sameCount = 0;
    for (const key of keys) {
      const values = flat.map((f) => f.get(key) ?? '—');
      if (values.every((v) => v === values[0])) sameCount++;
      else configDiff.push({ key, values });
    }
    const keep = (name: string): boolean => name.startsWith('Metrics/') || name === 'Loss/G' || name === 'Loss/D';
    const evaluated = runs.flatMap((r) => this.metricsStore.evaluations(r.id).filter((e) => e.source === 'training'));
    return {
      runs: runs.map((r) => this.summary(r)),
      configDiff,
      sameCount,
      series: runs.map((r) => Object.fromEntries(Object.entries(this.runs.metricSeries(r.id)).filter(([name]) => keep(name)))),
      best: runs.map((r) => this.metricsDetail(r).best),
      evaluatedAlike: { sizes: new Set(evaluated.map((e) => `${e.realCount}/${e.fakeCount}`)).size <= 1, extractor: new Set(evaluated.map((e) => e.extractor)).size <= 1 },
    };
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
    const params: EvalJobParams = { kind: 'check-extractor', spec };
    const { done } = this.jobs.start({ kind: 'evaluate', entry: EVAL_WORKER, params });
    const job = await done;
    if (job.status !== 'done') throw new UserError('invalid-request', job.error ?? `The feature extractor ${path} could not be checked.`, path);
    this.metricsStore.setExtractor(spec);
    return this.extractorInfo();
  }
}

/** A run's metrics as the detail shows them: alerts, evaluations, the best snapshot, the metric and extractor. From the store alone (no workers). */
export function metricsDetail(runs: RunStore, store: MetricsStore, run: RunInfo): Pick<RunDetail, 'alerts' | 'evaluations' | 'best' | 'metrics'> {
  const m = metricsConfigFromJson((run.config as { metrics?: unknown } | null)?.metrics);
  return {
    alerts: store.alerts(run.id),
    evaluations: store.evaluations(run.id),
    best: currentBest(runs, store, run.id, m),
    metrics: { metric: m.metric, extractor: extractorInfo(m.extractor) },
  };
}

/**
 * A run's stored config as the renderer sees it: completed with fields added since it was written.
 * A config too old or damaged to complete is shown as stored (the run cannot resume; its settings
 * are still worth reading).
 */
function storedConfig(run: RunInfo): TrainConfig {
  try {
    return trainConfigFromJson(run.config, `run ${run.id}`);
  } catch {
    return run.config as TrainConfig;
  }
}

/** A config flattened to 'net.channelBase' → '256' (arrays joined with ' × '). */
function flatten(config: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const add = (prefix: string, value: unknown): void => {
    if (value === null || value === undefined) out.set(prefix, '—');
    else if (Array.isArray(value)) out.set(prefix, value.map(String).join(' × '));
    else if (typeof value === 'object') for (const [k, v] of Object.entries(value)) add(prefix ? `${prefix}.${k}` : k, v);
    else out.set(prefix, String(value));
  };
  add('', config);
  return out;
}
