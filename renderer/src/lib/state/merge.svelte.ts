/**
 * The Merge view's state: the generators that can be merged (the project's models and runs with
 * checkpoints, plus files the user added), the project's merges (kept current from
 * `merge.changed`), the selected merge's detail (its preview strip per class and per-class
 * quality, fetched again when its progress says there are new ones) and its live progress; the
 * user's actions — start, pause, resume, stop, delete. An ONNX file the user adds is read first
 * (`merge.probeSource`): what the studio inferred and a preview are shown for the user to confirm
 * or correct, and only then does it join the generators to merge.
 */
import type { GallerySources, MergeDetail, MergeProgressInfo, MergeRequest, MergeSummary, OnnxProbeInfo, StudioEvent } from '../../../../core/api/contract.js';
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

/** How an ONNX file is read: the user's corrections to what the studio inferred. */
export type OnnxOptions = NonNullable<Extract<MergeRequest['sources'][number], { kind: 'onnx' }>['options']>;

/** An ONNX file being read and confirmed before it joins the generators to merge. */
export interface OnnxCheck {
  path: string;
  /** The corrections the last reading was asked with. */
  options: OnnxOptions;
  /** The last reading that worked (kept while a correction is read). */
  info: OnnxProbeInfo | null;
  /** Why the file (with these corrections) cannot be used, in words. */
  error: string | null;
  reading: boolean;
}

export class MergeViewState extends ProjectScopedState {
  /** The ONNX file being checked, if any. */
  onnx = $state.raw<OnnxCheck | null>(null);
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
    this.onnx = null;
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

  /** Adds a TF.js export folder the user picked; an ONNX file is read and shown for confirmation first. */
  addFile(path: string): void {
    if (/\.onnx$/i.test(path)) {
      void this.checkOnnx(path, {});
      return;
    }
    const name = path.split(/[\\/]/).filter((s) => s.length > 0).at(-1) ?? path;
    const key = `file:${path}`;
    if (this.files.some((f) => f.key === key)) return;
    this.files = [...this.files, { key, label: name, detail: `TF.js export ${path}`, source: { kind: 'tfjs', path } }];
  }

  /** Reads an ONNX file with the user's corrections (`merge.probeSource`): what was inferred, a preview, or why not. */
  async checkOnnx(path: string, options: OnnxOptions): Promise<void> {
    const previous = this.onnx?.path === path ? this.onnx.info : null;
    this.onnx = { path, options, info: previous, error: null, reading: true };
    const current = this.ticket();
    const r = await this.backend.call('merge.probeSource', { path, ...(Object.keys(options).length > 0 ? { options } : {}) });
    if (!current() || this.onnx?.path !== path || this.onnx.options !== options) return; // another file or correction since
    this.onnx = r.ok ? { path, options, info: r.value, error: null, reading: false } : { path, options, info: previous, error: r.error.message, reading: false };
  }

  /** The user confirmed what was read: the file joins the generators, read with the corrections. */
  confirmOnnx(): void {
    const c = this.onnx;
    if (c === null || c.info === null || c.error !== null || c.reading) return;
    const key = `file:${c.path}`;
    const label = c.info.label.replace(/\.onnx$/i, '');
    const i = c.info;
    const candidate: MergeCandidate = {
      key,
      label,
      detail: `ONNX file ${c.path} · ${i.output.resolution}×${i.output.resolution}${i.classInput ? ` · ${i.classInput.count} classes` : ''}`,
      source: { kind: 'onnx', path: c.path, ...(Object.keys(c.options).length > 0 ? { options: c.options } : {}) },
    };
    this.files = [...this.files.filter((f) => f.key !== key), candidate];
    this.onnx = null;
  }

  cancelOnnx(): void {
    this.onnx = null;
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
