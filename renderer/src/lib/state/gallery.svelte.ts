/**
 * The Gallery as the view sees it: which generator is open (a model or a run's checkpoint), ψ
 * and class, an endless grid of seeds filled page by page as it scrolls (the sampling worker
 * streams images as `gallery.image` events; pages that scroll away are cancelled), the items
 * kept from this generator (favourite, rejected, tags), picks for a walk between two images and
 * for latent arithmetic ("A − B + C", each letter one image or the average of a set). Instead of
 * a generator, the items kept from generators since deleted can be shown (no grid: they can be
 * rated, tagged, exported and deleted).
 */
import { SvelteMap } from 'svelte/reactivity';
import type {
  ExportResult,
  GalleryItem,
  GallerySource,
  GallerySources,
  GeneratorInfo,
  LatentRef,
  SampleSpec,
  StudioEvent,
} from '../../../../core/api/contract.js';
import { ProjectScopedState } from './project-scoped.svelte.js';

/** Seeds per request: a page of the grid. */
export const PAGE_SIZE = 12;
/** Seeds the grid holds at first; it grows as the user scrolls near the end. */
const INITIAL_COUNT = PAGE_SIZE * 10;
export const MAX_SEED = 4294967295;
/** Kept items loaded for the open generator (newest first). */
const KEPT_LIMIT = 200;
/** Interpolation frames, ends included. */
export const DEFAULT_FRAMES = 9;

export type WalkMode = 'w-linear' | 'z-slerp';
export type KeptFilter = 'all' | 'favourites' | 'rejected' | 'unrated';

/** An image the user picked, with what it looks like. */
export interface Pick {
  ref: LatentRef;
  label: string;
  dataUrl: string;
}

export function sourceKey(s: GallerySource | null): string {
  return s === null ? '' : s.kind === 'model' ? `model:${s.modelId}` : `checkpoint:${s.checkpointId}`;
}

/** The generator picker's value for the items of deleted generators. */
export const ORPHANED_KEY = 'orphaned';

export function parseSourceKey(key: string): GallerySource | null {
  const m = /^(model|checkpoint):(\d+)$/.exec(key);
  if (!m) return null;
  return m[1] === 'model' ? { kind: 'model', modelId: Number(m[2]) } : { kind: 'checkpoint', checkpointId: Number(m[2]) };
}

const specKey = (seed: number, psi: number, classIndex: number | null): string => `${seed}|${psi}|${classIndex ?? ''}`;

type Purpose = { kind: 'page'; page: number; key: string } | { kind: 'walk'; key: string } | { kind: 'arithmetic'; key: string };

export class GalleryState extends ProjectScopedState {
  sources = $state.raw<GallerySources | null>(null);
  source = $state.raw<GallerySource | null>(null);
  info = $state.raw<GeneratorInfo | null>(null);
  /** Loading the generator into the worker. */
  opening = $state(false);
  psi = $state(0.7);
  classIndex = $state<number | null>(null);
  /** The grid's first seed. */
  startSeed = $state(0);
  /** Seeds the grid holds now (grows as it scrolls). */
  count = $state(INITIAL_COUNT);
  /** Images by seed for the current source, ψ and class. */
  readonly images = new SvelteMap<number, string>();
  /** Bumped whenever the grid starts over (new source, ψ, class or first seed): the grid asks again. */
  gridVersion = $state(0);
  /** When the first image of the current grid arrived (ms after it was asked for). */
  firstImageMs = $state<number | null>(null);

  /** Showing the items kept from deleted generators (no generator open, `source` null). */
  orphaned = $state(false);
  /** Kept items of the open generator, newest first (the grid's stars and crosses). */
  kept = $state.raw<GalleryItem[]>([]);
  /** How many items the open generator (or the deleted ones) has kept. */
  keptTotal = $state(0);
  keptFilter = $state<KeptFilter>('all');
  /** The kept items the filter lets through, newest first (filtered by the service). */
  keptShown = $state.raw<GalleryItem[]>([]);
  tags = $state.raw<string[]>([]);

  /** Images picked for a walk or arithmetic (at most 8). */
  picks = $state.raw<Pick[]>([]);
  walkMode = $state<WalkMode>('w-linear');
  walkFrames = $state(DEFAULT_FRAMES);
  /** The walk's frames (data URLs; missing ones still coming). */
  walk = $state.raw<Array<string | undefined>>([]);
  walkSpecs = $state.raw<SampleSpec[]>([]);
  /** Arithmetic: A − B + C, each a set of picks averaged. */
  arithmetic = $state.raw<{ a: Pick[]; b: Pick[]; c: Pick[] }>({ a: [], b: [], c: [] });
  arithmeticResult = $state<string | null>(null);
  exporting = $state(false);
  exported = $state.raw<ExportResult | null>(null);

  private counter = 0;
  // Bookkeeping only: plain on purpose (reading them must not re-run the grid's effect).
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly inflight = new Map<string, Purpose>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly pagesAsked = new Set<number>();
  private gridStarted = 0;
  private psiTimer: ReturnType<typeof setTimeout> | null = null;

  /** The grid's key: images are kept for one source, ψ and class at a time. */
  private get key(): string {
    return `${sourceKey(this.source)}|${this.psi}|${this.classIndex ?? ''}|${this.startSeed}`;
  }

  /** Another project (or none): no generator open, nothing picked. */
  protected reset(): void {
    this.source = null;
    this.orphaned = false;
    this.info = null;
    this.sources = null;
    this.kept = [];
    this.keptShown = [];
    this.picks = [];
    this.walk = [];
    this.arithmetic = { a: [], b: [], c: [] };
    this.arithmeticResult = null;
    this.resetGrid();
  }

  /** Sources, then the generator last open in this project (or the first there is). */
  async load(): Promise<void> {
    const sources = await this.read('gallery.sources', {});
    if (!sources) return;
    this.sources = sources;
    if (this.source && this.exists(this.source)) return;
    if (this.orphaned && sources.orphaned > 0) return;
    const last = this.remembered()?.source ?? '';
    const remembered = parseSourceKey(last);
    if (last === ORPHANED_KEY && sources.orphaned > 0) {
      this.openOrphaned();
      return;
    }
    const pick = remembered && this.exists(remembered) ? remembered : this.defaultSource();
    if (pick) await this.open(pick);
    else if (sources.orphaned > 0) this.openOrphaned();
  }

  /**
   * Reads the sources again (once loaded): runs deleted or checkpoints pruned while another view
   * was shown leave the picker, and the items they kept show under "Kept from deleted generators".
   */
  refresh(): void {
    if (this.projectPath !== null && this.sources !== null) void this.load();
  }

  private storageKey(): string {
    return `atelier.gallery.source:${this.projectPath ?? ''}`;
  }

  /** What this project's gallery showed last (source, ψ, class): a reload comes back to it. */
  private remembered(): { source: string; psi?: number; classIndex?: number | null } | null {
    try {
      const raw = localStorage.getItem(this.storageKey());
      if (!raw) return null;
      const v = JSON.parse(raw) as { source?: unknown; psi?: unknown; classIndex?: unknown };
      if (typeof v.source !== 'string') return null;
      return {
        source: v.source,
        ...(typeof v.psi === 'number' ? { psi: v.psi } : {}),
        ...(typeof v.classIndex === 'number' || v.classIndex === null ? { classIndex: v.classIndex as number | null } : {}),
      };
    } catch {
      return null;
    }
  }

  private remember(): void {
    try {
      localStorage.setItem(this.storageKey(), JSON.stringify({ source: this.viewKey(), psi: this.psi, classIndex: this.classIndex }));
    } catch {
      // Storage off: the choice lasts this session.
    }
  }

  private exists(s: GallerySource): boolean {
    const src = this.sources;
    if (!src) return false;
    return s.kind === 'model' ? src.models.some((m) => m.id === s.modelId) : src.runs.some((r) => r.checkpoints.some((c) => c.id === s.checkpointId));
  }

  private defaultSource(): GallerySource | null {
    const src = this.sources;
    if (!src) return null;
    if (src.models[0]) return { kind: 'model', modelId: src.models[0].id };
    const run = src.runs[0];
    if (!run) return null;
    const cp = run.checkpoints.find((c) => c.isBest) ?? run.checkpoints[run.checkpoints.length - 1];
    return cp ? { kind: 'checkpoint', checkpointId: cp.id } : null;
  }

  protected apply(event: StudioEvent): void {
    switch (event.type) {
      case 'models.changed':
        if (this.projectPath !== null) void this.load();
        break;
      case 'gallery.changed':
        void this.loadKept();
        break;
      case 'gallery.image':
        this.onImage(event.requestId, event.index, event.dataUrl);
        break;
      case 'gallery.done': {
        const purpose = this.inflight.get(event.requestId);
        this.inflight.delete(event.requestId);
        if (event.error && purpose && purpose.key === this.key) this.studio.report(event.error);
        break;
      }
    }
  }

  private onImage(requestId: string, index: number, dataUrl: string): void {
    const p = this.inflight.get(requestId);
    if (!p || p.key !== this.key) return;
    if (p.kind === 'page') {
      if (this.images.size === 0 && this.firstImageMs === null) this.firstImageMs = Math.round(performance.now() - this.gridStarted);
      this.images.set(this.startSeed + p.page * PAGE_SIZE + index, dataUrl);
    } else if (p.kind === 'walk') {
      const next = [...this.walk];
      next[index] = dataUrl;
      this.walk = next;
    } else {
      this.arithmeticResult = dataUrl;
    }
  }

  // -------------------------------------------------------------------------------------------
  // The generator and the grid.

  async open(source: GallerySource): Promise<void> {
    this.source = source;
    this.orphaned = false;
    this.info = null;
    this.classIndex = null;
    this.picks = [];
    this.walk = [];
    this.arithmetic = { a: [], b: [], c: [] };
    this.arithmeticResult = null;
    this.resetGrid();
    this.opening = true;
    const r = await this.backend.call('gallery.open', { source });
    this.opening = false;
    if (sourceKey(this.source) !== sourceKey(source)) return; // another one was picked meanwhile
    if (!r.ok) {
      this.studio.report(r.error);
      return;
    }
    this.info = r.value;
    const last = this.remembered();
    const k = r.value.classNames.length;
    const sameSource = last?.source === sourceKey(source);
    if (sameSource && last?.psi !== undefined) this.psi = last.psi;
    this.classIndex = k === 0 ? null : sameSource && typeof last?.classIndex === 'number' && last.classIndex < k ? last.classIndex : 0;
    this.remember();
    this.resetGrid();
    void this.loadKept();
  }

  /** Shows the items kept from deleted generators: no generator, so no grid, picks or walks. */
  openOrphaned(): void {
    this.source = null;
    this.orphaned = true;
    this.info = null;
    this.picks = [];
    this.walk = [];
    this.arithmetic = { a: [], b: [], c: [] };
    this.arithmeticResult = null;
    this.kept = [];
    this.keptShown = [];
    this.resetGrid();
    this.remember();
    void this.loadKept();
  }

  /** What the Gallery shows: a generator's key, or ORPHANED_KEY. */
  viewKey(): string {
    return this.orphaned ? ORPHANED_KEY : sourceKey(this.source);
  }

  private resetGrid(): void {
    const stale = [...this.inflight.entries()].filter(([, p]) => p.kind === 'page').map(([id]) => id);
    if (stale.length > 0) void this.backend.call('gallery.cancel', { requestIds: stale });
    for (const id of stale) this.inflight.delete(id);
    this.pagesAsked.clear();
    this.images.clear();
    this.count = INITIAL_COUNT;
    this.firstImageMs = null;
    this.gridStarted = performance.now();
    this.gridVersion++;
  }

  /** ψ from the slider: the grid is redrawn once the slider rests a moment. */
  setPsi(psi: number): void {
    this.psi = Math.round(psi * 100) / 100;
    if (this.psiTimer) clearTimeout(this.psiTimer);
    this.psiTimer = setTimeout(() => {
      this.psiTimer = null;
      this.remember();
      this.resetGrid();
    }, 150);
  }

  setClass(classIndex: number | null): void {
    this.classIndex = classIndex;
    this.remember();
    this.resetGrid();
  }

  /** Shows the grid from `seed` on. */
  goToSeed(seed: number): void {
    this.startSeed = Math.max(0, Math.min(MAX_SEED, Math.floor(seed)));
    this.resetGrid();
  }

  /** The grid shows items first..last: their pages are asked for, pages far away are dropped. */
  ensureRange(first: number, last: number): void {
    if (!this.info || !this.source) return;
    const from = Math.floor(first / PAGE_SIZE);
    const to = Math.floor(last / PAGE_SIZE);
    // Far pages still coming: cancel them (the worker stops at its next batch).
    const far = [...this.inflight.entries()].filter(([, p]) => p.kind === 'page' && (p.page < from - 1 || p.page > to + 1)).map(([id]) => id);
    if (far.length > 0) {
      for (const id of far) {
        const p = this.inflight.get(id);
        if (p?.kind === 'page') this.pagesAsked.delete(p.page);
        this.inflight.delete(id);
      }
      void this.backend.call('gallery.cancel', { requestIds: far });
    }
    for (let page = from; page <= to; page++) {
      if (this.pagesAsked.has(page)) continue;
      const firstSeed = this.startSeed + page * PAGE_SIZE;
      if (firstSeed > MAX_SEED) break;
      this.pagesAsked.add(page);
      const specs: SampleSpec[] = [];
      for (let i = 0; i < PAGE_SIZE && firstSeed + i <= MAX_SEED; i++) specs.push({ kind: 'seed', seed: firstSeed + i, psi: this.psi, classIndex: this.classIndex });
      void this.request({ kind: 'page', page, key: this.key }, specs);
    }
    // Endless: grow when the end comes near.
    if (last > this.count - PAGE_SIZE * 3) this.count = Math.min(this.count + PAGE_SIZE * 10, MAX_SEED - this.startSeed + 1);
  }

  private async request(purpose: Purpose, specs: SampleSpec[]): Promise<string | null> {
    const requestId = `g${++this.counter}-${Math.random().toString(36).slice(2, 8)}`;
    this.inflight.set(requestId, purpose);
    const r = await this.backend.call('gallery.sample', { source: this.source!, specs, requestId });
    if (!r.ok) {
      this.inflight.delete(requestId);
      if (purpose.kind === 'page') this.pagesAsked.delete(purpose.page);
      this.studio.report(r.error);
      return null;
    }
    return requestId;
  }

  // -------------------------------------------------------------------------------------------
  // Kept items.

  /** The kept items of what is shown, and those the filter lets through (one request when it lets all through). */
  async loadKept(): Promise<void> {
    const scope = this.source ? { source: this.source } : this.orphaned ? { orphaned: true as const } : null;
    if (!scope) return;
    const view = this.viewKey();
    const filter = this.keptFilter;
    const [all, shown] = await Promise.all([
      this.backend.call('gallery.items', { ...scope, offset: 0, limit: KEPT_LIMIT }),
      filter === 'all' ? null : this.backend.call('gallery.items', { ...scope, filter, offset: 0, limit: KEPT_LIMIT }),
    ]);
    if (!all.ok || (shown && !shown.ok) || view !== this.viewKey() || filter !== this.keptFilter) return;
    this.kept = all.value.items;
    this.keptTotal = all.value.total;
    this.keptShown = shown?.ok ? shown.value.items : all.value.items;
    this.tags = all.value.tags;
    // The picker's count of items kept from deleted generators follows deletes made here.
    if (this.orphaned && this.sources) this.sources = { ...this.sources, orphaned: all.value.total };
  }

  /** Shows favourites, rejected, neither or all: at once from the items loaded, then the service's full answer. */
  setKeptFilter(filter: KeptFilter): void {
    this.keptFilter = filter;
    this.keptShown = this.kept.filter((i) => (filter === 'favourites' ? i.favourite : filter === 'rejected' ? i.rejected : filter === 'unrated' ? !i.favourite && !i.rejected : true));
    void this.loadKept();
  }

  /** The kept item made from this seed with the grid's ψ and class, if any. */
  keptFor(seed: number): GalleryItem | undefined {
    const key = specKey(seed, this.psi, this.classIndex);
    return this.kept.find((i) => i.origin === 'seed' && i.seed !== null && specKey(i.seed, i.psi ?? 1, i.classIndex) === key);
  }

  private seedSpec(seed: number): SampleSpec {
    return { kind: 'seed', seed, psi: this.psi, classIndex: this.classIndex };
  }

  /** Star (or un-star) the grid's image of `seed`: kept with its provenance when it was not yet. */
  async toggleFavourite(seed: number): Promise<void> {
    const item = this.keptFor(seed);
    if (item) await this.act('gallery.update', { ids: [item.id], favourite: !item.favourite });
    else if (this.source) await this.act('gallery.save', { source: this.source, spec: this.seedSpec(seed), favourite: true });
  }

  async toggleReject(seed: number): Promise<void> {
    const item = this.keptFor(seed);
    if (item) await this.act('gallery.update', { ids: [item.id], rejected: !item.rejected });
    else if (this.source) await this.act('gallery.save', { source: this.source, spec: this.seedSpec(seed), rejected: true });
  }

  async keep(spec: SampleSpec, tags: string[] = []): Promise<GalleryItem | null> {
    if (!this.source) return null;
    return this.act('gallery.save', { source: this.source, spec, tags });
  }

  async setFlags(id: number, flags: { favourite?: boolean; rejected?: boolean }): Promise<void> {
    await this.act('gallery.update', { ids: [id], ...flags });
  }

  async addTag(id: number, tag: string): Promise<void> {
    const t = tag.trim();
    if (!t) return;
    await this.act('gallery.update', { ids: [id], addTags: [t] });
  }

  async removeTag(id: number, tag: string): Promise<void> {
    await this.act('gallery.update', { ids: [id], removeTags: [tag] });
  }

  async deleteKept(id: number): Promise<void> {
    await this.act('gallery.delete', { ids: [id] });
    this.picks = this.picks.filter((p) => !('itemId' in p.ref && p.ref.itemId === id));
  }

  // -------------------------------------------------------------------------------------------
  // Picks, walks and arithmetic.

  pickSeed(seed: number): void {
    const dataUrl = this.images.get(seed);
    if (!dataUrl) return;
    this.addPick({ ref: { seed, psi: this.psi, classIndex: this.classIndex }, label: `seed ${seed}, ψ ${this.psi}`, dataUrl });
  }

  pickItem(item: GalleryItem): void {
    this.addPick({ ref: { itemId: item.id }, label: item.seed !== null ? `kept #${item.id} (seed ${item.seed})` : `kept #${item.id} (${item.origin})`, dataUrl: item.png });
  }

  private addPick(p: Pick): void {
    const same = (a: LatentRef, b: LatentRef): boolean => JSON.stringify(a) === JSON.stringify(b);
    if (this.picks.some((x) => same(x.ref, p.ref))) return;
    this.picks = [...this.picks, p].slice(-8);
  }

  unpick(index: number): void {
    this.picks = this.picks.filter((_, i) => i !== index);
  }

  /** The walk between the first two picks: frames t = 0 … 1. */
  async startWalk(): Promise<void> {
    const [a, b] = this.picks;
    if (!a || !b || !this.source) return;
    const n = Math.max(2, Math.min(64, Math.round(this.walkFrames)));
    const specs: SampleSpec[] = Array.from({ length: n }, (_, i) => ({ kind: 'interpolate', from: a.ref, to: b.ref, t: i / (n - 1), mode: this.walkMode }));
    this.walkSpecs = specs;
    this.walk = Array.from({ length: n }, () => undefined);
    await this.request({ kind: 'walk', key: this.key }, specs);
  }

  addToTerm(term: 'a' | 'b' | 'c', pick: Pick): void {
    const cur = this.arithmetic[term];
    if (cur.some((p) => JSON.stringify(p.ref) === JSON.stringify(pick.ref))) return;
    this.arithmetic = { ...this.arithmetic, [term]: [...cur, pick] };
    this.arithmeticResult = null;
  }

  clearTerm(term: 'a' | 'b' | 'c'): void {
    this.arithmetic = { ...this.arithmetic, [term]: [] };
    this.arithmeticResult = null;
  }

  /** "A − B + C" as a spec (letters left empty are left out); null without A. */
  arithmeticSpec(): SampleSpec | null {
    const { a, b, c } = this.arithmetic;
    if (a.length === 0) return null;
    const terms: Array<{ sign: 1 | -1; refs: LatentRef[] }> = [{ sign: 1, refs: a.map((p) => p.ref) }];
    if (b.length > 0) terms.push({ sign: -1, refs: b.map((p) => p.ref) });
    if (c.length > 0) terms.push({ sign: 1, refs: c.map((p) => p.ref) });
    return { kind: 'arithmetic', terms };
  }

  async computeArithmetic(): Promise<void> {
    const spec = this.arithmeticSpec();
    if (!spec) return;
    this.arithmeticResult = null;
    await this.request({ kind: 'arithmetic', key: this.key }, [spec]);
  }

  /** Desktop: the native save dialog; null when cancelled. */
  async pickExportPath(suggestedName: string): Promise<string | null> {
    const picked = await this.act('dialog.pickExportPath', { suggestedName });
    return picked?.path ?? null;
  }

  /** The kept items shown (e.g. the favourites) as PNGs with a manifest of where each came from; a .zip path makes one archive. */
  async exportKept(out: string, overwrite = false): Promise<boolean> {
    const ids = this.keptShown.map((i) => i.id);
    if (ids.length === 0) return false;
    this.exporting = true;
    this.exported = null;
    try {
      const r = await this.act('gallery.exportItems', { ids, out, overwrite });
      this.exported = r;
      return r !== null;
    } finally {
      this.exporting = false;
    }
  }

  async exportWalk(out: string, format: 'gif' | 'png-sequence', overwrite = false): Promise<boolean> {
    if (!this.source || this.walkSpecs.length < 2) return false;
    this.exporting = true;
    this.exported = null;
    try {
      const r = await this.act('gallery.exportStrip', { source: this.source, specs: this.walkSpecs, format, out, fps: 8, overwrite });
      this.exported = r;
      return r !== null;
    } finally {
      this.exporting = false;
    }
  }
}
