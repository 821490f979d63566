/**
 * The open project's training as the Train view sees it: the presets and the defaults the studio
 * picked from the dataset, the compute backend report, every run, and the selected run in detail
 * (its metric series, checkpoints and newest preview grid). Kept current from the service's
 * events: `run.changed` (status), `run.progress` (kimg, rate, a new preview), `dataset.changed`
 * (the defaults follow the images), `project.changed`.
 *
 * The series are fetched once per run, then extended: each tick's progress asks `runs.get` only
 * for the points after the last kimg already held. They live outside Svelte's proxies (a chart
 * reads thousands of points; nothing should wrap them) and `seriesVersion` says when they grew.
 */
import { SvelteMap } from 'svelte/reactivity';
import type {
  BackendChoiceName,
  ComputeBackendReport,
  EvaluationProgress,
  ExtractorInfo,
  Method,
  Params,
  PresetInfo,
  ResultOf,
  RunComparison,
  RunDetail,
  RunStatusName,
  RunSummary,
  StudioEvent,
  TrainDefaults,
  TrainProgress,
  TrainSettings,
} from '../../../../core/api/contract.js';
import type { IBackend } from '../backend/backend.js';
import { lastValue, type Series } from '../charts.js';
import type { StudioState } from './studio.svelte.js';


export interface PreviewGrid {
  id: number;
  kimg: number;
  dataUrl: string;
}

/** The run detail the panel shows, without the series (kept apart, see `series`). */
export type RunInfoDetail = Omit<RunDetail, 'series'>;

/** What the user asked a run to do, shown until its status says it happened. */
export type PendingAction = 'pause' | 'stop' | 'resume';

/** Statuses with a worker behind them. */
export function isActive(status: RunStatusName): boolean {
  return status === 'running' || status === 'queued';
}

/** At most one `runs.get` for the series every this many ms while a run trains. */
const SERIES_REFRESH_MS = 400;

export class TrainingState {
  readonly backend: IBackend;
  readonly studio: StudioState;

  presets = $state.raw<PresetInfo[]>([]);
  /** Defaults for the open dataset; null when it has no images. */
  defaults = $state.raw<TrainDefaults | null>(null);
  /** The presets have been loaded for the open project. */
  loaded = $state(false);

  /** Which backend training would use, and why not the better ones; null until probed. */
  compute = $state.raw<ComputeBackendReport | null>(null);
  computeLoading = $state(false);
  /** Why the probe failed, when it did. */
  computeError = $state<string | null>(null);

  /** Every run of the project, newest first. */
  runs = $state.raw<RunSummary[]>([]);
  /** The run shown in the panel; null: the new-run form. */
  selectedId = $state<number | null>(null);
  /** The selected run's config, checkpoints and previews; null while loading. */
  detail = $state.raw<RunInfoDetail | null>(null);
  /** The selected run's newest preview grid. */
  preview = $state.raw<PreviewGrid | null>(null);
  /** The latest progress of each run that trained while the studio watched. */
  readonly live = new SvelteMap<number, TrainProgress>();
  /** Pause, stop or resume asked for and not yet seen in the run's status. */
  readonly pending = new SvelteMap<number, PendingAction>();
  /** A call the user made is in flight. */
  busy = $state(false);
  /** The speed the newest run that reported one measured: for the new-run form's time estimate. */
  measured = $state.raw<{ runId: number; imgPerSec: number; backend: string | null } | null>(null);

  /** The selected run's series by name; grows in place (see `seriesVersion`). Plain on purpose: charts read thousands of points. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly series = new Map<string, Series>();
  /** Bumped whenever `series` changes: charts redraw on it. */
  seriesVersion = $state(0);

  // Metrics.
  /** The latest on-demand evaluation of each run (`runs.evaluate`). */
  readonly evaluations = new SvelteMap<number, EvaluationProgress>();
  /** The compare view is shown instead of a run. */
  comparing = $state(false);
  /** The two runs compared (null: not picked yet). */
  compareIds = $state<[number | null, number | null]>([null, null]);
  comparison = $state.raw<RunComparison | null>(null);
  /** The feature extractor new runs use; null until asked for. */
  extractor = $state.raw<ExtractorInfo | null>(null);

  private projectPath: string | null = null;
  /** Bumped when the project or the selected run changes: answers from before are dropped. */
  private generation = 0;
  /** Highest kimg of any point in `series` (the next `afterKimg`). */
  private seriesKimg = -1;
  /** Bumped when `series` starts over: answers asked for before are dropped. */
  private seriesEpoch = 0;
  private seriesLoading = false;
  private seriesAgain = false;
  /** The next answer replaces the series instead of extending them. */
  private seriesReplace = false;
  private seriesTimer: ReturnType<typeof setTimeout> | null = null;
  private lastSeriesFetch = 0;
  /** A preview being fetched, so the same one is not asked for twice. */
  private previewWanted = 0;

  constructor(backend: IBackend, studio: StudioState) {
    this.backend = backend;
    this.studio = studio;
    backend.subscribe((event) => this.apply(event));
    backend.onConnection((status) => {
      if (status.state === 'open' && this.projectPath !== null) void this.load(); // events may have been missed
    });
  }

  get selected(): RunSummary | null {
    return this.runs.find((r) => r.id === this.selectedId) ?? null;
  }

  /** Follows the open project: a different one (or none) starts from scratch. */
  sync(projectPath: string | null): void {
    if (projectPath === this.projectPath) return;
    this.projectPath = projectPath;
    this.reset();
    if (projectPath !== null) void this.load();
  }

  private reset(): void {
    this.generation++;
    this.presets = [];
    this.defaults = null;
    this.loaded = false;
    this.compute = null;
    this.computeError = null;
    this.runs = [];
    this.selectedId = null;
    this.detail = null;
    this.preview = null;
    this.live.clear();
    this.pending.clear();
    this.measured = null;
    this.evaluations.clear();
    this.comparing = false;
    this.compareIds = [null, null];
    this.comparison = null;
    this.extractor = null;
    this.clearSeries();
  }

  /** Keeps the newest run's measured speed. */
  private measure(runId: number, imgPerSec: number | null | undefined, backend: string | null): void {
    if (!imgPerSec || !Number.isFinite(imgPerSec) || imgPerSec <= 0) return;
    if (this.measured && this.measured.runId > runId) return;
    this.measured = { runId, imgPerSec, backend };
  }

  /** Presets, defaults and runs; the newest run is shown when nothing is selected yet. */
  async load(): Promise<void> {
    const gen = this.generation;
    const [presets, runs] = await Promise.all([this.backend.call('train.presets', {}), this.backend.call('runs.list', {})]);
    if (gen !== this.generation) return;
    for (const r of [presets, runs]) {
      if (!r.ok) {
        if (r.error.code !== 'no-project') this.studio.report(r.error);
        return;
      }
    }
    if (!presets.ok || !runs.ok) return;
    this.presets = presets.value.presets;
    this.defaults = presets.value.defaults;
    this.runs = runs.value;
    this.loaded = true;
    const keep = this.selectedId !== null && this.runs.some((r) => r.id === this.selectedId);
    if (keep) void this.loadSelected(true);
    else this.select(this.runs[0]?.id ?? null);
  }

  /** Asks (once per project, or again with `refresh`) which compute backends load; takes a few seconds. */
  async probeCompute(refresh = false): Promise<void> {
    if (this.computeLoading || (this.compute && !refresh)) return;
    const gen = this.generation;
    this.computeLoading = true;
    this.computeError = null;
    const result = await this.backend.call('compute.backends', refresh ? { refresh } : {});
    if (gen !== this.generation) return;
    this.computeLoading = false;
    if (result.ok) this.compute = result.value;
    else {
      this.computeError = result.error.message;
      if (result.error.code !== 'no-project') this.studio.report(result.error);
    }
  }

  // -------------------------------------------------------------------------------------------
  // Events.

  private apply(event: StudioEvent): void {
    switch (event.type) {
      case 'project.changed':
        this.sync(event.project?.path ?? null);
        break;
      case 'dataset.changed':
        if (this.projectPath !== null) void this.reloadPresets();
        break;
      case 'run.changed':
        if (this.projectPath !== null) this.runChanged(event.run);
        break;
      case 'run.progress':
        if (this.projectPath !== null) this.progressed(event.progress);
        break;
      case 'run.evaluation':
        if (this.projectPath !== null) this.evaluated(event.progress);
        break;
    }
  }

  private async reloadPresets(): Promise<void> {
    const gen = this.generation;
    const r = await this.backend.call('train.presets', {});
    if (gen !== this.generation || !r.ok) return;
    this.presets = r.value.presets;
    this.defaults = r.value.defaults;
  }

  private upsert(run: RunSummary): void {
    const i = this.runs.findIndex((r) => r.id === run.id);
    if (i < 0) this.runs = [run, ...this.runs].sort((a, b) => b.id - a.id);
    else this.runs = this.runs.map((r) => (r.id === run.id ? run : r));
  }

  private runChanged(run: RunSummary): void {
    const before = this.runs.find((r) => r.id === run.id);
    this.upsert(run);
    const pending = this.pending.get(run.id);
    if (pending === 'resume' ? isActive(run.status) : !isActive(run.status)) this.pending.delete(run.id);
    if (!isActive(run.status)) this.live.delete(run.id);
    if (run.id !== this.selectedId) return;
    // Resumed: a crashed run may redo ticks after its checkpoint, so the series start over.
    const restarted = before !== undefined && !isActive(before.status) && isActive(run.status);
    void this.loadSelected(restarted);
  }

  private progressed(p: TrainProgress): void {
    const before = this.live.get(p.runId);
    this.live.set(p.runId, p);
    this.measure(p.runId, p.imgPerSec, p.backend);
    const run = this.runs.find((r) => r.id === p.runId);
    const backend = p.phase === 'starting' ? (run?.backend ?? null) : p.backend; // 'starting' is not a backend
    if (run && (run.kimgDone !== p.kimg || run.backend !== backend)) this.upsert({ ...run, kimgDone: p.kimg, backend });
    if (!run) void this.refreshRuns();
    if (p.runId !== this.selectedId) return;
    if (p.previewId !== undefined && p.previewId !== this.preview?.id) void this.loadPreview(p.runId, p.previewId);
    // An evaluation writes its values at a checkpoint's kimg, which the series already reached: fetch them all again.
    if (p.evaluation !== undefined) {
      this.restartSeries();
      this.scheduleSeries();
      return;
    }
    // A new tick (its statistics changed, or a preview or alerts came with it): fetch the points after the last.
    const newTick = p.previewId !== undefined || p.alerts !== undefined || !before || !sameStats(before.stats, p.stats);
    if (newTick) this.scheduleSeries();
  }

  /** An on-demand evaluation moved on; its end refreshes the run's detail (its evaluations). */
  private evaluated(p: EvaluationProgress): void {
    this.evaluations.set(p.runId, p);
    if (p.state !== 'running' && p.runId === this.selectedId) this.scheduleSeries();
  }

  private async refreshRuns(): Promise<void> {
    const gen = this.generation;
    const r = await this.backend.call('runs.list', {});
    if (gen === this.generation && r.ok) this.runs = r.value;
  }

  // -------------------------------------------------------------------------------------------
  // The selected run.

  /** Shows a run in the panel, or the new-run form with null. */
  select(runId: number | null): void {
    if (runId === this.selectedId && (runId === null || this.detail !== null)) return;
    this.generation++;
    this.selectedId = runId;
    this.detail = null;
    this.preview = null;
    this.clearSeries();
    if (runId !== null) void this.loadSelected(true);
  }

  private clearSeries(): void {
    this.series.clear();
    this.restartSeries();
    this.seriesReplace = false;
    this.seriesVersion++;
  }

  /** The next fetch asks for every point and replaces what is shown when it arrives (no blank charts meanwhile). */
  private restartSeries(): void {
    this.seriesEpoch++;
    this.seriesKimg = -1;
    this.seriesReplace = true;
    if (this.seriesTimer !== null) clearTimeout(this.seriesTimer);
    this.seriesTimer = null;
  }

  /** The selected run's detail and series (all of them with `full`, else the new points) and its newest preview. */
  private async loadSelected(full: boolean): Promise<void> {
    const runId = this.selectedId;
    if (runId === null) return;
    if (full) {
      this.restartSeries();
      void this.loadPreview(runId);
    }
    await this.fetchSeries();
  }

  private scheduleSeries(): void {
    if (this.seriesTimer !== null) return;
    const wait = Math.max(0, this.lastSeriesFetch + SERIES_REFRESH_MS - Date.now());
    this.seriesTimer = setTimeout(() => {
      this.seriesTimer = null;
      void this.fetchSeries();
    }, wait);
  }

  /** One `runs.get` at a time; a request while one is in flight runs once it is back. */
  private async fetchSeries(): Promise<void> {
    const runId = this.selectedId;
    if (runId === null) return;
    if (this.seriesLoading) {
      this.seriesAgain = true;
      return;
    }
    const gen = this.generation;
    const epoch = this.seriesEpoch;
    this.seriesLoading = true;
    this.lastSeriesFetch = Date.now();
    const after = this.seriesKimg;
    const result = await this.backend.call('runs.get', after < 0 ? { runId } : { runId, afterKimg: after });
    this.seriesLoading = false;
    // Asked for again meanwhile, or the series started over (another run, a resume): once more.
    const again = this.seriesAgain || epoch !== this.seriesEpoch;
    this.seriesAgain = false;
    if (again) this.scheduleSeries();
    // The speed is worth keeping even when the user has moved on (the form's estimate uses it).
    if (result.ok) this.measure(runId, lastValue((result.value.series['img_s'] ?? []).map((p) => p[1])), result.value.backend);
    if (gen !== this.generation || runId !== this.selectedId || epoch !== this.seriesEpoch) return;
    if (!result.ok) {
      if (result.error.code === 'not-found') this.select(null);
      else this.studio.report(result.error);
      return;
    }
    const { series, ...detail } = result.value;
    this.detail = detail;
    this.upsertFromDetail(detail);
    if (this.seriesReplace) {
      this.seriesReplace = false;
      this.series.clear();
      this.seriesVersion++;
    }
    this.mergeSeries(series);
    if (!this.preview && detail.previews.length > 0) void this.loadPreview(runId);
  }

  /** The list's summary follows what `runs.get` said, unless live progress is ahead of it. */
  private upsertFromDetail(d: RunInfoDetail): void {
    const { config: _config, checkpoints: _checkpoints, previews: _previews, ...summary } = d;
    const known = this.runs.find((r) => r.id === d.id);
    if (known && d.updatedAt < known.updatedAt) return; // an answer older than the last run.changed
    const live = this.live.get(d.id);
    const kimgDone = Math.max(summary.kimgDone, isActive(summary.status) ? (live?.kimg ?? 0) : 0);
    if (!known || known.status !== summary.status || known.latestCheckpointKimg !== summary.latestCheckpointKimg || known.kimgDone !== kimgDone || known.error !== summary.error) {
      this.upsert({ ...summary, kimgDone });
    }
  }

  private mergeSeries(incoming: Record<string, Series>): void {
    let changed = false;
    for (const [name, points] of Object.entries(incoming)) {
      let s = this.series.get(name);
      if (!s) this.series.set(name, (s = []));
      const last = s.length > 0 ? s[s.length - 1]![0] : -Infinity;
      for (const point of points) {
        if (point[0] <= last) continue;
        s.push(point);
        changed = true;
        if (point[0] > this.seriesKimg) this.seriesKimg = point[0];
      }
    }
    if (changed) this.seriesVersion++;
  }

  private async loadPreview(runId: number, previewId?: number): Promise<void> {
    const wanted = previewId ?? -runId;
    if (this.previewWanted === wanted) return;
    this.previewWanted = wanted;
    const gen = this.generation;
    const result = await this.backend.call('runs.preview', previewId === undefined ? { runId } : { runId, previewId });
    if (this.previewWanted === wanted) this.previewWanted = 0;
    if (gen !== this.generation || runId !== this.selectedId) return;
    if (!result.ok) {
      this.studio.report(result.error);
      return;
    }
    // Out-of-order answers: keep the newest grid.
    if (result.value && (!this.preview || result.value.kimg >= this.preview.kimg)) this.preview = result.value;
  }

  // -------------------------------------------------------------------------------------------
  // User actions.

  /** One user action: through StudioState.call (errors shown), with `busy` set meanwhile. */
  private async act<M extends Method>(method: M, params: Params<M>): Promise<ResultOf<M> | null> {
    this.busy = true;
    try {
      return await this.studio.call(method, params);
    } finally {
      this.busy = false;
    }
  }

  /** Creates a run and starts training it; shows it when it started. */
  async start(settings: TrainSettings): Promise<boolean> {
    const run = await this.act('train.start', settings);
    if (!run) return false;
    // Its status may have moved on already (a worker that failed at once): keep the newer one.
    if (!this.runs.some((r) => r.id === run.id)) this.upsert(run);
    this.select(run.id);
    return true;
  }

  async pause(runId: number): Promise<void> {
    await this.control('train.pause', runId, 'pause');
  }

  async stop(runId: number): Promise<void> {
    await this.control('train.stop', runId, 'stop');
  }

  private async control(method: 'train.pause' | 'train.stop', runId: number, action: PendingAction): Promise<void> {
    this.pending.set(runId, action);
    const run = await this.act(method, { runId });
    if (!run) this.pending.delete(runId);
  }

  async resume(runId: number, backend?: BackendChoiceName): Promise<void> {
    this.pending.set(runId, 'resume');
    const run = await this.act('train.resume', backend ? { runId, backend } : { runId });
    if (!run) {
      this.pending.delete(runId);
      return;
    }
    const known = this.runs.find((r) => r.id === runId);
    // The run.changed event may have come first (and may already say it failed again).
    if (known && !isActive(known.status) && known.updatedAt <= run.updatedAt) this.runChanged(run);
    else this.pending.delete(runId);
  }

  /**
   * Resumes from a chosen checkpoint: the newest continues the run; an older one (the best, say)
   * branches into a new run, which is then shown.
   */
  async resumeFrom(runId: number, checkpointId: number): Promise<void> {
    const run = await this.act('train.resume', { runId, checkpointId });
    if (!run) return;
    if (run.id === runId) {
      this.runChanged(run);
      return;
    }
    if (!this.runs.some((r) => r.id === run.id)) this.upsert(run);
    this.select(run.id);
  }

  /** Evaluates a checkpoint (default: the newest) in a worker; progress arrives as events. */
  async evaluate(runId: number, checkpointId?: number): Promise<void> {
    const p = await this.act('runs.evaluate', checkpointId === undefined ? { runId } : { runId, checkpointId });
    if (p) this.evaluations.set(runId, p);
  }

  /** Shows the compare view (the selected run and another one, when there are two). */
  openCompare(): void {
    this.comparing = true;
    const first = this.selectedId ?? this.runs[0]?.id ?? null;
    const second = this.runs.find((r) => r.id !== first)?.id ?? null;
    if (this.compareIds[0] === null || this.compareIds[1] === null) this.compareIds = [first, second];
    void this.loadComparison();
  }

  closeCompare(): void {
    this.comparing = false;
  }

  /** Picks the run on one side of the comparison. */
  setCompared(side: 0 | 1, runId: number | null): void {
    const ids: [number | null, number | null] = [...this.compareIds];
    ids[side] = runId;
    this.compareIds = ids;
    void this.loadComparison();
  }

  async loadComparison(): Promise<void> {
    const [a, b] = this.compareIds;
    if (a === null || b === null || a === b) {
      this.comparison = null;
      return;
    }
    const gen = this.generation;
    const r = await this.backend.call('runs.compare', { runIds: [a, b] });
    if (gen !== this.generation || this.compareIds[0] !== a || this.compareIds[1] !== b) return;
    if (r.ok) this.comparison = r.value;
    else this.studio.report(r.error);
  }

  /** The feature extractor new runs use. */
  async loadExtractor(): Promise<void> {
    const gen = this.generation;
    const r = await this.backend.call('metrics.extractor', {});
    if (gen === this.generation && r.ok) this.extractor = r.value;
  }

  /** Desktop: the native dialog for the FID Inception's model.json (or its folder), which grants it for reading; null when cancelled. */
  async pickExtractor(): Promise<string | null> {
    return (await this.act('dialog.pickModelImport', {}))?.path ?? null;
  }

  /** Uses the user's FID Inception (checked in a worker), or the bundled one again with null. */
  async setExtractor(path: string | null, inputRange?: [number, number]): Promise<boolean> {
    const info = await this.act('metrics.setExtractor', path === null ? { path } : { path, ...(inputRange ? { inputRange } : {}) });
    if (info) this.extractor = info;
    return info !== null;
  }

  async remove(runId: number): Promise<boolean> {
    const runs = await this.act('runs.delete', { runId });
    if (!runs) return false;
    this.runs = runs;
    this.live.delete(runId);
    if (this.selectedId === runId) this.select(this.runs[0]?.id ?? null);
    if (this.compareIds.includes(runId)) this.compareIds = [this.compareIds[0] === runId ? null : this.compareIds[0], this.compareIds[1] === runId ? null : this.compareIds[1]];
    if (this.comparing) void this.loadComparison();
    return true;
  }
}

function sameStats(a: Record<string, number>, b: Record<string, number>): boolean {
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.is(a[k], b[k]));
}
