/**
 * The Merge view's state: the generators that can be merged (the project's models and runs with
 * checkpoints, plus files the user added), the project's merges (kept current from
 * `merge.changed`), the selected merge's detail (its preview strip per class and per-class
 * quality, fetched again when its progress says there are new ones) and its live progress; the
 * user's actions — start, pause, resume, stop, delete.
 */
import type { GallerySources, MergeDetail, MergeProgressInfo, MergeRequest, MergeSummary, StudioEvent } from '../../../../core/api/contract.js';
import { ProjectScopedState } from './project-scoped.svelte.js';

/** A generator the form offers: one of the project's, or a file the user picked. */
export interface MergeCandidate {
  key: string;
  /** "Watercolour cats" (a model), "Run 3 · baseline at 12.8 kimg", a file name. */
  label: string;
  /** Where it is, in words. */
  detail: string;
  source: MergeRequest['sources'][number];
}

export class MergeViewState extends ProjectScopedState {
  candidates = $state.raw<MergeCandidate[]>([]);
  /** Files added with "Add a file…" (TF.js export folders, ONNX files). */
  files = $state.raw<MergeCandidate[]>([]);
  merges = $state.raw<MergeSummary[]>([]);
  loaded = $state(false);
  selectedId = $state<number | null>(null);
  detail = $state.raw<MergeDetail | null>(null);
  progress = $state.raw<MergeProgressInfo | null>(null);
  /** Bumped when the selected merge's evaluations grew (the chart's `version`). */
  evaluationsVersion = $state(0);
  /** A request for the detail is on its way: a burst of events asks once. */
  #refreshing = false;
  #again = false;

  readonly selected = $derived(this.merges.find((m) => m.id === this.selectedId) ?? null);

  protected reset(): void {
    this.candidates = [];
    this.files = [];
    this.merges = [];
    this.loaded = false;
    this.selectedId = null;
    this.detail = null;
    this.progress = null;
  }

  async load(): Promise<void> {
    const [sources, merges] = await Promise.all([this.read('gallery.sources', {}), this.read('merge.list', {})]);
    if (!sources || !merges) return;
    this.candidates = candidatesOf(sources);
    this.merges = merges;
    this.loaded = true;
    if (this.selectedId === null && merges.length > 0) await this.select(merges[0]!.id);
  }

  protected apply(event: StudioEvent): void {
    if (event.type === 'merge.changed') {
      const m = event.merge;
      this.merges = this.merges.some((x) => x.id === m.id) ? this.merges.map((x) => (x.id === m.id ? m : x)) : [m, ...this.merges];
      if (m.id === this.selectedId) {
        if (m.status !== 'running') this.progress = null;
        void this.refresh();
      }
    } else if (event.type === 'merge.progress') {
      const p = event.progress;
      if (p.mergeId !== this.selectedId) return;
      this.progress = p;
      if (p.previews || p.evaluation || p.saved?.reason === 'stage-done') void this.refresh();
    } else if (event.type === 'models.changed' || event.type === 'run.changed') {
      if (this.projectPath !== null) void this.reloadCandidates();
    }
  }

  private async reloadCandidates(): Promise<void> {
    const sources = await this.read('gallery.sources', {});
    if (sources) this.candidates = candidatesOf(sources);
  }

  async select(mergeId: number): Promise<void> {
    this.selectedId = mergeId;
    this.progress = null;
    this.detail = null;
    await this.refresh();
  }

  /** The selected merge's detail, again (at most one request at a time; a burst asks once more at the end). */
  async refresh(): Promise<void> {
    if (this.#refreshing) {
      this.#again = true;
      return;
    }
    this.#refreshing = true;
    try {
      do {
        this.#again = false;
        const id = this.selectedId;
        if (id === null) return;
        const d = await this.read('merge.get', { mergeId: id });
        if (d && d.id === this.selectedId) {
          if (d.evaluations.length !== (this.detail?.evaluations.length ?? 0)) this.evaluationsVersion++;
          this.detail = d;
          this.merges = this.merges.map((x) => (x.id === d.id ? { ...x, ...summaryOf(d) } : x));
        }
      } while (this.#again);
    } finally {
      this.#refreshing = false;
    }
  }

  /** Adds a TF.js export folder or an ONNX file the user picked. */
  addFile(path: string): void {
    const name = path.split(/[\\/]/).filter((s) => s.length > 0).at(-1) ?? path;
    const onnx = /\.onnx$/i.test(path);
    const key = `file:${path}`;
    if (this.files.some((f) => f.key === key)) return;
    const label = name.replace(/\.onnx$/i, '');
    this.files = [...this.files, { key, label, detail: onnx ? `ONNX file ${path}` : `TF.js export ${path}`, source: onnx ? { kind: 'onnx', path } : { kind: 'tfjs', path } }];
  }

  async start(request: MergeRequest): Promise<MergeSummary | null> {
    const m = await this.act('merge.start', request);
    if (m) {
      if (!this.merges.some((x) => x.id === m.id)) this.merges = [m, ...this.merges];
      await this.select(m.id);
    }
    return m;
  }

  async pause(): Promise<void> {
    if (this.selectedId !== null) await this.act('merge.pause', { mergeId: this.selectedId });
  }

  async stop(): Promise<void> {
    if (this.selectedId !== null) await this.act('merge.stop', { mergeId: this.selectedId });
  }

  async resume(): Promise<void> {
    if (this.selectedId === null) return;
    const m = await this.act('merge.resume', { mergeId: this.selectedId });
    if (m) this.merges = this.merges.map((x) => (x.id === m.id ? m : x));
  }

  async remove(mergeId: number): Promise<boolean> {
    const list = await this.act('merge.delete', { mergeId });
    if (!list) return false;
    this.merges = list;
    if (this.selectedId === mergeId) {
      this.selectedId = null;
      this.detail = null;
    }
    return true;
  }
}

const summaryOf = ({ previews: _p, evaluations: _e, ...s }: MergeDetail): MergeSummary => s;

/** The project's generators as the form offers them: models first, then each run's best (or newest) checkpoint. */
function candidatesOf(sources: GallerySources): MergeCandidate[] {
  const models: MergeCandidate[] = sources.models.map((m) => ({
    key: `model:${m.id}`,
    label: m.name,
    detail: `model · ${m.resolution}×${m.resolution}${m.classNames.length > 0 ? ` · ${m.classNames.length} classes` : ''}`,
    source: { kind: 'model', modelId: m.id },
  }));
  const runs: MergeCandidate[] = sources.runs.map((r) => {
    const cp = r.checkpoints.find((c) => c.isBest) ?? r.checkpoints.reduce((a, c) => (c.kimg > a.kimg ? c : a));
    return {
      key: `run:${r.id}:${cp.id}`,
      label: r.name,
      detail: `run · its ${cp.isBest ? 'best' : 'newest'} checkpoint, ${Number(cp.kimg.toFixed(3))} kimg`,
      source: { kind: 'run', runId: r.id, checkpointId: cp.id },
    };
  });
  return [...models, ...runs];
}
