/**
 * The open project's training as the Train view sees it: the presets and the defaults the studio
 * picked from the dataset, the compute backend report, every run, and the selected run in detail
 * (its metric series, checkpoints and newest preview grid). Follows the open project through the
 * studio (see ProjectScopedState) and is kept current from the service's events: `run.changed`
 * (status), `run.progress` (kimg, rate, a new preview), `dataset.changed` (the defaults follow
 * the images).
 *
 * The selected run's series are a SeriesFeed: fetched once per run, then extended — each tick's
 * progress asks `runs.get` only for the points after the last kimg already held; the same answer
 * brings the run's detail.
 */
import { SvelteMap } from 'svelte/reactivity';
import type {
  BackendChoiceName,
  ComputeBackendReport,
  EvaluationProgress,
  ExtractorInfo,
  PresetInfo,
  RunComparison,
  RunDetail,
  RunStatusName,
  RunSummary,
  StudioEvent,
  TrainDefaults,
  TrainProgress,
  TrainSettings,
  VisionCostReport,
  VisionSelection,
} from '../../../../core/api/contract.js';
import { lastValue, type Series } from '../charts.js';
import { Generation } from './generation.js';
import { ProjectScopedState } from './project-scoped.svelte.js';
import { SeriesFeed } from './series-feed.svelte.js';

export interface PreviewGrid {
  id: number;
  kimg: number;
  dataUrl: string;
}

/** The run detail the panel shows, without the series (kept apart, see `feed`). */
export type RunInfoDetail = Omit<RunDetail, 'series'>;

/** What the user asked a run to do, shown until its status says it happened. */
export type PendingAction = 'pause' | 'stop' | 'resume';

/** Statuses with a worker behind them. */
export function isActive(status: RunStatusName): boolean {
  return status === 'running' || status === 'queued';
}

/** At most one `runs.get` for the series every this many ms while a run trains. */
const SERIES_REFRESH_MS = 400;

export class TrainingState extends ProjectScopedState {
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

  /** What each judge cost per step when last measured here (the new-run form's "Measure"); null: not measured. */
  judgeCost = $state.raw<VisionCostReport | null>(null);
  judgeCostLoading = $state(false);
  judgeCostError = $state<string | null>(null);

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
  /** Vision-aided runs: the judges picked so far, as live progress last said (ahead of the newest checkpoint's). */
  readonly visionLive = new SvelteMap<number, VisionSelection[]>();
  /** Pause, stop or resume asked for and not yet seen in the run's status. */
  readonly pending = new SvelteMap<number, PendingAction>();
  /** The speed the newest run that reported one measured: for the new-run form's time estimate. */
  measured = $state.raw<{ runId: number; imgPerSec: number; backend: string | null } | null>(null);

  /** The selected run's series, for its charts and the metrics panel. */
  readonly feed = new SeriesFeed((afterKimg, current) => this.fetchSelected(afterKimg, current), SERIES_REFRESH_MS);

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

  /** Bumped when the selected run changes: answers about the one before are dropped. */
  private readonly selection = new Generation();
  /** A preview being fetched, so the same one is not asked for twice. */
  private previewWanted = 0;

  get selected(): RunSummary | null {
    return this.runs.find((r) => r.id === this.selectedId) ?? null;
  }

  /** A vision-aided run's selections: what its newest checkpoint holds, or what live progress said when that is further on. */
  visionSelections(runId: number): VisionSelection[] {
    const stored = this.detail?.id === runId ? (this.detail.vision?.selections ?? []) : [];
    const live = this.visionLive.get(runId) ?? [];
    return live.length > stored.length ? live : stored;
  }

  /** Another project (or none): from scratch. */
  protected reset(): void {
    this.presets = [];
    this.defaults = null;
    this.loaded = false;
    this.compute = null;
    this.computeLoading = false;
    this.computeError = null;
    this.judgeCost = null;
    this.judgeCostLoading = false;
    this.judgeCostError = null;
    this.runs = [];
    this.selectedId = null;
    this.detail = null;
    this.preview = null;
    this.live.clear();
    this.visionLive.clear();
    this.pending.clear();
    this.measured = null;
    this.evaluations.clear();
    this.comparing = false;
    this.compareIds = [null, null];
    this.comparison = null;
    this.extractor = null;
    this.feed.reset();
  }

  /** Keeps the newest run's measured speed. */
  private measure(runId: number, imgPerSec: number | null | undefined, backend: string | null): void {
    if (!imgPerSec || !Number.isFinite(imgPerSec) || imgPerSec <= 0) return;
    if (this.measured && this.measured.runId > runId) return;
    this.measured = { runId, imgPerSec, backend };
  }

  /** Presets, defaults and runs; the newest run is shown when nothing is selected yet. */
  async load(): Promise<void> {
    // Dropped also when a run is selected meanwhile (e.g. one just started): it would pick the newest over it.
    const current = this.selectionTicket();
    const [presets, runs] = await Promise.all([this.backend.call('train.presets', {}), this.backend.call('runs.list', {})]);
    if (!current()) return;
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
    const current = this.ticket();
    this.computeLoading = true;
    this.computeError = null;
    const result = await this.backend.call('compute.backends', refresh ? { refresh } : {});
    if (!current()) return;
    this.computeLoading = false;
    if (result.ok) this.compute = result.value;
    else {
      this.computeError = result.error.message;
      if (result.error.code !== 'no-project') this.studio.report(result.error);
    }
  }

  /** Measures what each judge costs per step on a backend (a worker; tens of seconds on a CPU). */
  async measureJudges(params: { backend?: BackendChoiceName; batch?: number; visionInput?: number; backbones?: string }): Promise<void> {
    if (this.judgeCostLoading) return;
    const current = this.ticket();
    this.judgeCostLoading = true;
    this.judgeCostError = null;
    const result = await this.backend.call('vision.cost', params);
    if (!current()) return;
    this.judgeCostLoading = false;
    if (result.ok) this.judgeCost = result.value;
    else this.judgeCostError = result.error.message;
  }

  // -------------------------------------------------------------------------------------------
  // Events.

  protected apply(event: StudioEvent): void {
    switch (event.type) {
      case 'dataset.changed':
        if (this.projectPath === null) break;
        this.judgeCost = null; // measured at the images' old size
        void this.reloadPresets();
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
    const current = this.ticket();
    const r = await this.backend.call('train.presets', {});
    if (!current() || !r.ok) return;
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
    // A run that ended measured this machine's speed: the new-run form's expectations follow.
    if (before !== undefined && isActive(before.status) && !isActive(run.status)) void this.reloadPresets();
    if (run.id !== this.selectedId) return;
    // Resumed: a crashed run may redo ticks after its checkpoint, so the series start over.
    const restarted = before !== undefined && !isActive(before.status) && isActive(run.status);
    // Its judges are read again from the checkpoint it resumed from (its first progress says them too).
    if (restarted) this.visionLive.delete(run.id);
    void this.loadSelected(restarted);
  }

  private progressed(p: TrainProgress): void {
    const before = this.live.get(p.runId);
    this.live.set(p.runId, p);
    if (p.vision !== undefined) this.visionLive.set(p.runId, p.vision.selections);
    this.measure(p.runId, p.imgPerSec, p.backend);
    const run = this.runs.find((r) => r.id === p.runId);
    const backend = p.phase === 'starting' ? (run?.backend ?? null) : p.backend; // 'starting' is not a backend
    if (run && (run.kimgDone !== p.kimg || run.backend !== backend)) this.upsert({ ...run, kimgDone: p.kimg, backend });
    if (!run) void this.refreshRuns();
    if (p.runId !== this.selectedId) return;
    if (p.previewId !== undefined && p.previewId !== this.preview?.id) void this.loadPreview(p.runId, p.previewId);
    // An evaluation writes its values at a checkpoint's kimg, which the series already reached: fetch them all again.
    if (p.evaluation !== undefined) {
      this.feed.restart();
      this.feed.schedule();
      return;
    }
    // A new tick (its statistics changed, or a preview or alerts came with it): fetch the points after the last.
    const newTick = p.previewId !== undefined || p.alerts !== undefined || p.vision?.selected !== undefined || !before || !sameStats(before.stats, p.stats);
    if (newTick) this.feed.schedule();
  }

  /** An on-demand evaluation moved on; its end refreshes the run's detail (its evaluations). */
  private evaluated(p: EvaluationProgress): void {
    this.evaluations.set(p.runId, p);
    if (p.state !== 'running' && p.runId === this.selectedId) this.feed.schedule();
  }

  /** The Train view comes into sight: read again what other views may have changed (a star pins a checkpoint). */
  async revisit(): Promise<void> {
    await this.refreshRuns();
    if (this.selectedId !== null && this.runs.some((r) => r.id === this.selectedId)) void this.loadSelected(true);
  }

  private async refreshRuns(): Promise<void> {
    const current = this.ticket();
    const r = await this.backend.call('runs.list', {});
    if (current() && r.ok) this.runs = r.value;
  }

  // -------------------------------------------------------------------------------------------
  // The selected run.

  /** Shows a run in the panel, or the new-run form with null. */
  select(runId: number | null): void {
    if (runId === this.selectedId && (runId === null || this.detail !== null)) return;
    this.selection.bump();
    this.selectedId = runId;
    this.detail = null;
    this.preview = null;
    this.feed.reset();
    if (runId !== null) void this.loadSelected(true);
  }

  /** A check that stays true while the same project is open and the same run selected. */
  private selectionTicket(): () => boolean {
    const project = this.ticket();
    const selection = this.selection.ticket();
    return () => project() && selection();
  }

  /** The selected run's detail and series (all of them with `full`, else the new points) and its newest preview. */
  private async loadSelected(full: boolean): Promise<void> {
    const runId = this.selectedId;
    if (runId === null) return;
    if (full) {
      this.feed.restart();
      void this.loadPreview(runId);
    }
    await this.feed.fetch();
  }

  /** The feed's loader: one `runs.get` for the selected run, whose detail is kept here and series handed to the feed. */
  private async fetchSelected(afterKimg: number | undefined, fresh: () => boolean): Promise<Record<string, Series> | null> {
    const runId = this.selectedId;
    if (runId === null) return null;
    const current = this.selectionTicket();
    const result = await this.backend.call('runs.get', afterKimg === undefined ? { runId } : { runId, afterKimg });
    // The speed is worth keeping even when the user has moved on (the form's estimate uses it).
    if (result.ok) this.measure(runId, lastValue((result.value.series['img_s'] ?? []).map((p) => p[1])), result.value.backend);
    if (!current() || runId !== this.selectedId || !fresh()) return null;
    if (!result.ok) {
      if (result.error.code === 'not-found') this.select(null);
      else this.studio.report(result.error);
      return null;
    }
    const { series, ...detail } = result.value;
    this.detail = detail;
    this.upsertFromDetail(detail);
    if (!this.preview && detail.previews.length > 0) void this.loadPreview(runId);
    return series;
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

  private async loadPreview(runId: number, previewId?: number): Promise<void> {
    const wanted = previewId ?? -runId;
    if (this.previewWanted === wanted) return;
    this.previewWanted = wanted;
    const current = this.selectionTicket();
    const result = await this.backend.call('runs.preview', previewId === undefined ? { runId } : { runId, previewId });
    if (this.previewWanted === wanted) this.previewWanted = 0;
    if (!current() || runId !== this.selectedId) return;
    if (!result.ok) {
      this.studio.report(result.error);
      return;
    }
    // Out-of-order answers: keep the newest grid.
    if (result.value && (!this.preview || result.value.kimg >= this.preview.kimg)) this.preview = result.value;
  }

  // -------------------------------------------------------------------------------------------
  // User actions.

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

  /** "Continue training": the run gets `addKimg` more and goes on from its newest checkpoint (a finished run too). */
  async continueTraining(runId: number, addKimg: number): Promise<void> {
    this.pending.set(runId, 'resume');
    const run = await this.act('train.resume', { runId, addKimg });
    if (!run) {
      this.pending.delete(runId);
      return;
    }
    const known = this.runs.find((r) => r.id === runId);
    if (known && !isActive(known.status) && known.updatedAt <= run.updatedAt) this.runChanged(run);
    else this.pending.delete(runId);
    void this.loadSelected(true);
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
    const current = this.ticket();
    const r = await this.backend.call('runs.compare', { runIds: [a, b] });
    if (!current() || this.compareIds[0] !== a || this.compareIds[1] !== b) return;
    if (r.ok) this.comparison = r.value;
    else this.studio.report(r.error);
  }

  /** The feature extractor new runs use. */
  async loadExtractor(): Promise<void> {
    const current = this.ticket();
    const r = await this.backend.call('metrics.extractor', {});
    if (current() && r.ok) this.extractor = r.value;
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
    this.visionLive.delete(runId);
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
