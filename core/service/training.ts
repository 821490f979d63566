/**
 * Training for the open project: runs in the project file, each trained by an engine worker
 * (core/train/train-worker.ts) under the JobManager. The worker reads its run's config, resumes
 * from the newest checkpoint when there is one, and writes ticks, previews and checkpoints into
 * the file; this side sets the run's status from the job's fate and relays progress.
 */
import type {
  ComputeBackendReport,
  PresetInfo,
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
import type { JobInfo } from '../jobs/protocol.js';
import { presetInfos } from '../presets/index.js';
import type { DatasetStore } from '../store/dataset.js';
import type { Project } from '../store/project.js';
import { RunStore, type RunInfo, type RunStatus } from '../store/runs.js';
import { computeClassOf, defaultBatch, defaultKimg, resolveTrainConfig, type ComputeClass, type DatasetFacts } from '../train/config.js';
import { probeBackends } from '../backend/probe.js';

export const TRAIN_WORKER = new URL('../train/train-worker.ts', import.meta.url);

/** What the train worker is started with. */
export interface TrainJobParams {
  runId: number;
  /** Overrides the run's backend for this session (resume on another device). */
  backend?: BackendChoiceName;
}

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
  /** Live job of each run being trained. */
  private readonly jobOfRun = new Map<number, number>();
  private backends: Promise<ComputeBackendReport> | null = null;

  constructor(
    private readonly project: Project,
    private readonly dataset: () => DatasetStore,
    private readonly emit: (event: StudioEvent) => void,
  ) {
    this.runs = new RunStore(project.db);
    this.jobs = new JobManager(project, {
      changed: (job) => this.jobChanged(job),
      progress: (job, progress) => {
        if (job.kind === 'train') this.emit({ type: 'run.progress', progress: progress as TrainProgress });
      },
    });
    // Runs the studio was training when it stopped: the worker is gone, the checkpoints are not.
    for (const run of this.runs.listRuns()) {
      if (run.status === 'running' || run.status === 'queued') {
        this.runs.setStatus(run.id, 'paused', 'The studio closed while this run was training. Resume to continue from its last checkpoint.');
      }
    }
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
    const config = resolveTrainConfig(settings, this.facts(), await this.computeClass(settings.backend));
    const n = this.runs.listRuns().length + 1;
    const run = this.runs.createRun(settings.name ?? `Run ${n} · ${config.preset}`, config.preset, config, config.kimg);
    return this.launch(run.id, settings.backend);
  }

  resume(runId: number, backend?: BackendChoiceName): RunSummary {
    const run = this.requireRun(runId);
    if (this.jobOfRun.has(runId)) throw new UserError('exists', `"${run.name}" is already training.`);
    if (run.status === 'done') throw new UserError('invalid-request', `"${run.name}" has finished its ${run.kimgTotal} kimg. Start a new run from its weights (advanced: transfer from) to train further.`);
    return this.launch(runId, backend);
  }

  private launch(runId: number, backend?: BackendChoiceName): RunSummary {
    const params: TrainJobParams = backend ? { runId, backend } : { runId };
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
      config: run.config,
      series: this.runs.metricSeries(runId, afterKimg),
      checkpoints: this.runs.listCheckpoints(runId).map(({ runId: _r, ...c }) => c),
      previews: this.runs.listPreviews(runId),
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
    if (this.jobOfRun.has(runId)) throw new UserError('invalid-request', `"${run.name}" is training: pause or stop it before deleting it.`);
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
    if (job.kind !== 'train' || job.runId === null) return;
    const status = RUN_STATUS[job.status];
    if (status !== 'running') {
      this.jobOfRun.delete(job.runId);
      const error = job.status === 'failed' ? job.error : null;
      this.runs.setStatus(job.runId, status, error);
    }
    const run = this.runs.getRun(job.runId);
    if (run) this.emit({ type: 'run.changed', run: this.summary(run) });
  }

  /** Pauses every run (each saves a checkpoint), waiting a little for them. */
  dispose(): Promise<void> {
    return this.jobs.shutdown();
  }
}
