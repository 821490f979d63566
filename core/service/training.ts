/**
 * Training for the open project: runs in the project file, each trained by an engine worker
 * (core/session/train-worker.ts) as a job of the project's JobManager (kind 'train'). The worker
 * reads its run's config, resumes from the newest checkpoint when there is one, and writes
 * ticks, previews and checkpoints into the file; this side sets the run's status from the job's
 * fate and relays progress. On-demand evaluation is ./evaluation.ts.
 */
import type {
  ComputeBackendReport,
  PresetInfo,
  RunComparison,
  RunDetail,
  RunSummary,
  StudioEvent,
  TrainDefaults,
  TrainSettings,
  BackendChoiceName,
  EvaluationSummary,
  VisionCostReport,
  VisionSelection,
} from '../api/contract.js';
import { UserError } from '../api/errors.js';
import type { trainMethods } from '../api/train.js';
import type { JobEnding, JobManager } from '../jobs/job-manager.js';
import type { JobSpec, TrainJobParams } from '../jobs/kinds.js';
import type { JobInfo } from '../jobs/protocol.js';
import { runBusyError, runHolder } from '../jobs/run-lock.js';
import { presetInfos } from '../presets/index.js';
import type { DatasetStore } from '../store/dataset.js';
import { RunStore, type RunInfo, type RunStatus } from '../store/runs.js';
import { capacityOf, computeClassOf, defaultBatch, defaultCapacity, defaultKimg, isDefaultCapacity, resolveTrainConfig, trainConfigFromJson, type ComputeClass, type DatasetFacts, type TrainConfig } from '../train/config.js';
import { probeBackends } from '../backend/probe.js';
import { currentBest } from '../evaluation/best.js';
import { extractorInfo } from '../metrics/extractor-info.js';
import { metricsConfigFromJson } from '../metrics/options.js';
import { featuresWords } from '../metrics/extractor-info.js';
import { qualityScore } from '../metrics/quality.js';
import { expectedSpeed, readSpeedTable, recognisableKimg, recordSpeed, stillBlurry, writeSpeedTable } from '../train/speed-table.js';
import { MetricsStore } from '../store/metrics.js';
import { branchRun } from '../store/run-branch.js';
import { BACKBONE_INFOS } from '../vision/catalogue.js';
import { selectionsFromExtras } from '../vision/history.js';
import { probeVisionCost } from '../vision/cost-probe.js';
import { resolveVisionConfig } from '../presets/vision.js';
import type { ProjectPart, SliceHandlers } from './slices.js';

export const TRAIN_WORKER = new URL('../session/train-worker.ts', import.meta.url);


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
  readonly metricsStore: MetricsStore;
  /** Live job of each run being trained. */
  private readonly jobOfRun = new Map<number, number>();
  private backends: Promise<ComputeBackendReport> | null = null;

  /** `jobs`: the project's JobManager (shared with evaluation and import); `speeds`: the per-user speed table's file (none: the bench's speeds only). */
  constructor(
    readonly jobs: JobManager,
    private readonly dataset: () => DatasetStore,
    private readonly emit: (event: StudioEvent) => void,
    private readonly speeds: string | null = null,
  ) {
    this.runs = new RunStore(jobs.project.db);
    this.metricsStore = new MetricsStore(jobs.project.db);
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
      ? {
          images: f.images,
          resolution: f.resolution,
          channels: f.channels,
          numClasses: f.numClasses,
          batch: defaultBatch(f.resolution, compute),
          kimg: defaultKimg(f.resolution, compute),
          recognisableKimg: recognisableKimg(f.resolution),
          stillBlurry: stillBlurry(f.resolution),
          speeds: this.speedsAt(f.resolution),
        }
      : null;
    // The vision-aided preset lists the networks its runs may pick from.
    const presets = presetInfos({ images: f.images, numClasses: f.numClasses }).map((p) => (p.vision === true ? { ...p, backbones: BACKBONE_INFOS.map((b) => ({ ...b })) } : p));
    return { presets, defaults };
  }

  /** Images/s to expect on each backend at a resolution: measured here, else the bench's. */
  private speedsAt(resolution: number): TrainDefaults['speeds'] {
    const table = this.speeds ? readSpeedTable(this.speeds) : {};
    const out: TrainDefaults['speeds'] = {};
    for (const b of ['tensorflow-gpu', 'webgpu', 'tensorflow', 'wasm', 'cpu']) {
      const s = expectedSpeed(table, b, resolution, defaultCapacity(resolution, computeClassOf(b)));
      if (s) out[b] = s;
    }
    return out;
  }

  /** A tick's smoothed speed, into the per-user table (runs at the studio's default capacity only: others are not what a new run gets). */
  private recordSpeed(runId: number, backend: string, imgPerSec: number): void {
    if (!this.speeds) return;
    const run = this.runs.getRun(runId);
    const config = run ? storedConfig(run) : null;
    if (!config || !isDefaultCapacity(config, computeClassOf(backend))) return;
    try {
      writeSpeedTable(this.speeds, recordSpeed(readSpeedTable(this.speeds), backend, config.net.resolution, imgPerSec, new Date(), capacityOf(config.net)));
    } catch {
      // The table is a convenience: a read-only home folder only loses the estimate.
    }
  }

  computeBackends(refresh = false): Promise<ComputeBackendReport> {
    if (refresh || !this.backends) {
      this.backends = probeBackends();
      this.backends.catch(() => (this.backends = null));
    }
    return this.backends;
  }

  /** What each judge costs per step on a backend, at this dataset's resolution (a worker measures it). */
  async visionCost(p: { backend?: BackendChoiceName | undefined; batch?: number | undefined; visionInput?: number | undefined; backbones?: string | undefined }): Promise<VisionCostReport> {
    const f = this.facts();
    if (f.images === 0 || f.resolution === 0) throw new UserError('invalid-request', 'Import images first: the judges are measured at your images’ size.');
    const compute = await this.computeClass(p.backend);
    const vision = resolveVisionConfig({ ...(p.backbones !== undefined ? { visionBackbones: p.backbones } : {}), ...(p.visionInput !== undefined ? { visionInput: p.visionInput } : {}), visionK: 1 }, 100, compute);
    return probeVisionCost({
      backend: p.backend ?? 'auto',
      batch: p.batch ?? defaultBatch(f.resolution, compute),
      resolution: f.resolution,
      channels: f.channels,
      inputSize: vision.inputSize,
      backbones: vision.candidates,
    });
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
  resume(runId: number, backend?: BackendChoiceName, checkpointId?: number, addKimg?: number): RunSummary {
    let run = this.requireRun(runId);
    if (this.jobOfRun.has(runId)) throw new UserError('exists', `"${run.name}" is already training.`);
    // A quick refusal; the lock itself is taken in launch(), in one transaction with the job row.
    const holder = runHolder(this.jobs.project.db, runId);
    if (holder) throw runBusyError(runId, holder);
    const latest = this.runs.latestCheckpoint(runId);
    if (checkpointId !== undefined && checkpointId !== latest?.id) {
      const cp = this.runs.getCheckpoint(checkpointId);
      if (!cp || cp.runId !== runId) throw new UserError('not-found', `"${run.name}" has no checkpoint ${checkpointId} (it may have been pruned). Pick one from its checkpoint list.`);
      const branch = branchRun(this.jobs.project.db, run, cp, `${run.name} ↳ ${Number(cp.kimg.toFixed(3))} kimg`);
      return this.launch(branch.id, backend, branch.id);
    }
    // "Continue training": a finished run (or any other) gets a longer duration and goes on from its newest checkpoint.
    if (addKimg !== undefined) {
      if (latest === undefined) throw new UserError('invalid-request', `"${run.name}" has no checkpoint to continue from. Start a new run.`);
      const config = storedConfig(run);
      const kimg = Number((Math.max(config.kimg, latest.kimg) + addKimg).toFixed(3));
      this.runs.setConfig(runId, { ...config, kimg });
      this.runs.setKimgTotal(runId, kimg);
      run = this.requireRun(runId);
    } else if (run.status === 'done') {
      throw new UserError('invalid-request', `"${run.name}" has finished its ${run.kimgTotal} kimg. Continue training it (it goes on from its last checkpoint for more kimg), or start a new run from its weights (advanced: transfer from).`);
    }
    const lastAlert = this.metricsStore.alerts(runId).at(-1);
    const afterDivergence = lastAlert?.code === 'diverged' && (latest === undefined || lastAlert.kimg >= latest.kimg);
    return this.launch(runId, backend, afterDivergence ? lastAlert.id : undefined);
  }

  private launch(runId: number, backend?: BackendChoiceName, reseed?: number): RunSummary {
    const params: TrainJobParams = { runId, ...(backend ? { backend } : {}), ...(reseed !== undefined ? { reseed } : {}) };
    this.runs.setStatus(runId, 'running');
    const { job } = this.jobs.start({
      kind: 'train',
      entry: TRAIN_WORKER,
      params,
      runId,
      exclusive: true,
      onProgress: (progress) => {
        if (progress.previewId !== undefined && progress.imgPerSec > 0) this.recordSpeed(runId, progress.backend, progress.imgPerSec);
        this.emit({ type: 'run.progress', progress });
      },
      onChanged: (j, ending) => this.jobChanged(j, ending),
    });
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
    const config = storedConfig(run);
    return {
      ...this.summary(run),
      config,
      series: this.runs.metricSeries(runId, afterKimg),
      checkpoints: this.runs.listCheckpoints(runId).map(({ runId: _r, ...c }) => c),
      previews: this.runs.listPreviews(runId),
      ...this.metricsDetail(run),
      speed: this.runSpeed(run),
      continueKimg: continueKimg(config.net?.resolution ?? 16, run.kimgDone),
      ...(config.vision ? { vision: { selections: this.visionHistory(runId) } } : {}),
    };
  }

  /** A vision-aided run's selections, as its newest checkpoint holds them. */
  private visionHistory(runId: number): VisionSelection[] {
    const state = this.runs.latestCheckpointState(runId) as { loop?: { extras?: unknown } } | undefined;
    return selectionsFromExtras(state?.loop?.extras);
  }

  /** The speed to continue a run at: measured here for its backend and resolution, else its own last ticks. */
  private runSpeed(run: RunInfo): number | null {
    const config = storedConfig(run);
    const resolution = config.net?.resolution;
    if (run.backend && resolution && this.speeds && isDefaultCapacity(config, computeClassOf(run.backend))) {
      const s = expectedSpeed(readSpeedTable(this.speeds), run.backend, resolution, capacityOf(config.net));
      if (s?.measured) return s.imgPerSec;
    }
    const points = (this.runs.metricSeries(run.id, undefined)['img_s'] ?? []).map((p) => p[1]).filter((v): v is number => v !== null && v > 0);
    if (points.length === 0) return null;
    const recent = points.slice(-5).sort((a, b) => a - b);
    return recent[Math.floor(recent.length / 2)]!;
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
    this.metricsStore.pruneNearest(); // its evaluations' sample pairs went with it
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
    return { ...rest, latestCheckpointKimg: cps.length ? Math.max(...cps.map((c) => c.kimg)) : null, starred: this.runs.starredImages(run.id) };
  }

  private jobChanged(job: JobInfo<'train'>, ending: JobEnding<JobSpec<'train'>> | null): void {
    if (job.runId === null) return;
    const runId = job.runId;
    const status = RUN_STATUS[job.status];
    let ended: { status: RunStatus; error: string | null } | null = null;
    if (status !== 'running') {
      this.jobOfRun.delete(runId);
      // A run that paused itself (it diverged, or the disk is full) says why in its result or its job.
      const pausedBecause = job.status === 'paused' ? (ending?.result?.pausedBecause ?? job.error ?? null) : null;
      const end = { status, error: job.status === 'failed' ? job.error : pausedBecause };
      ended = end;
      // On a full disk, with the room the job manager keeps in reserve; failing that, the row keeps
      // 'running' until the next open repairs it, and the event still says how the run ended.
      this.jobs.recordEnd(() => this.runs.setStatus(runId, end.status, end.error));
    }
    const run = this.runs.getRun(runId);
    if (run) this.emit({ type: 'run.changed', run: { ...this.summary(run), ...(ended ?? {}) } });
  }

  /** Pauses every run this Training started (each saves a checkpoint), waiting a little for them. */
  dispose(): Promise<void> {
    return this.jobs.shutdown(10_000, ['train']);
  }

  // -------------------------------------------------------------------------------------------
  // Metrics.

  private metricsDetail(run: RunInfo): Pick<RunDetail, 'alerts' | 'evaluations' | 'best' | 'metrics' | 'quality'> {
    return metricsDetail(this.runs, this.metricsStore, run);
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
}

/** A run's metrics as the detail shows them: alerts, evaluations, the best snapshot, the metric and extractor. From the store alone (no workers). */
export function metricsDetail(runs: RunStore, store: MetricsStore, run: RunInfo): Pick<RunDetail, 'alerts' | 'evaluations' | 'best' | 'metrics' | 'quality'> {
  const m = metricsConfigFromJson((run.config as { metrics?: unknown } | null)?.metrics);
  const evaluations = store.evaluations(run.id);
  return {
    alerts: store.alerts(run.id),
    evaluations,
    best: currentBest(runs, store, run.id, m),
    metrics: { metric: m.metric, extractor: extractorInfo(m.extractor, m.features) },
    quality: runQuality(store, m, evaluations),
  };
}

/**
 * How much longer to train a run that has done `done` kimg: to where samples of this resolution
 * usually become recognisable (and a little past it), else — past it, or where no run measured it —
 * as much again as it has trained: the quality keeps improving roughly with the log of the length.
 */
export function continueKimg(resolution: number, done: number): number {
  const target = (recognisableKimg(resolution) ?? 0) * 1.2;
  const add = done < target ? target - done : done;
  // A round figure: people read "25 kimg", not "23.7".
  const unit = add >= 20 ? 5 : add >= 2 ? 1 : 0.1;
  return Number((Math.ceil(add / unit) * unit).toFixed(3));
}

/** The newest evaluation (by kimg) on the quality scale, with its nearest pairs; null before the first. */
export function runQuality(store: MetricsStore, m: ReturnType<typeof metricsConfigFromJson>, evaluations: readonly EvaluationSummary[]): RunDetail['quality'] {
  const latest = [...evaluations].sort((a, b) => a.kimg - b.kimg || a.id - b.id).at(-1);
  if (!latest) return null;
  const kid = latest.metrics['Metrics/kid'] ?? null;
  const a = m.anchors;
  // An on-demand evaluation at the run's sizes and extractor sits on the same scale.
  const fits = a !== undefined && a.extractor === latest.extractor && a.reals === latest.realCount && a.fakes === latest.fakeCount;
  const score = latest.metrics['Metrics/quality'] ?? (fits && kid !== null ? qualityScore(kid, a) : null);
  return {
    score,
    kimg: latest.kimg,
    kid,
    anchors: fits ? { untrained: a.untrained, self: a.self } : null,
    judge: m.extractor ? 'your feature extractor' : featuresWords(m.features),
    realCount: latest.realCount,
    fakeCount: latest.fakeCount,
    nearest: store.nearest(latest.id),
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

/** The train slice of the handler table. */
export function trainHandlers(training: ProjectPart<Training>): SliceHandlers<typeof trainMethods> {
  return {
    'train.presets': () => training.require().presets(),
    'compute.backends': ({ refresh }) => training.require().computeBackends(refresh),
    'vision.cost': (params) => training.require().visionCost(params),
    'train.start': (settings) => training.require().start(settings),
    'train.resume': ({ runId, backend, checkpointId, addKimg }) => training.require().resume(runId, backend, checkpointId, addKimg),
    'train.pause': ({ runId }) => training.require().pause(runId),
    'train.stop': ({ runId }) => training.require().stop(runId),
    'runs.list': () => training.require().list(),
    'runs.get': ({ runId, afterKimg }) => training.require().get(runId, afterKimg),
    'runs.preview': ({ runId, previewId }) => training.require().preview(runId, previewId),
    'runs.delete': ({ runId }) => training.require().delete(runId),
    'runs.compare': ({ runIds }) => training.require().compare(runIds),
  };
}
