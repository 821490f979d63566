/**
 * The open project's dataset as the Dataset view sees it: the stats, the running import, the
 * last import's report, a paged cache of thumbnails for the virtualised grid, the filter, the
 * selection and the image shown in detail. Follows the open project through the studio (see
 * ProjectScopedState) and is kept current from the service's events (`import.progress`,
 * `import.finished`, `dataset.changed`); paths dropped onto the desktop window (`files.dropped`)
 * wait here for the view to offer an import.
 */
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import type {
  DatasetExportResult,
  DatasetImage,
  DatasetItem,
  DatasetStats,
  DuplicatePair,
  ImportProgress,
  ImportReport,
  LabelSource,
  NormaliseSettings,
  Params,
  ResultOf,
  StudioEvent,
} from '../../../../core/api/contract.js';
import { Generation } from './generation.js';
import { ProjectScopedState } from './project-scoped.svelte.js';

/** Which images the grid shows: every one, one label's (by id), or those without a label. */
export type LabelFilter = 'all' | 'unlabelled' | number;

/** Thumbnails per `dataset.page` call. */
export const PAGE_SIZE = 120;
/** Pages kept in memory; the ones farthest from the visible rows go first. */
const MAX_CACHED_PAGES = 48;
/** While an import runs, the grid and stats are refreshed at most this often (ms). */
const LIVE_REFRESH_MS = 1500;

export interface ImportRequest {
  sources: string[];
  /** Only for the first import of a project; later imports use the stored settings. */
  settings?: NormaliseSettings;
  labels: LabelSource;
  /** Perceptual-hash distance (of 64 bits) at or below which a copy is dropped; -1: exact copies only. */
  nearThreshold: number;
  /** With labels from folders: folders imported without their label, and folders left out (tiny classes). */
  unlabelledFolders?: string[];
  leaveOutFolders?: string[];
}

export class DatasetState extends ProjectScopedState {
  /** Counts, labels, duplicates and skipped files of the open project; null until loaded. */
  stats = $state.raw<DatasetStats | null>(null);
  /** The running import's latest progress, or null. */
  progress = $state.raw<ImportProgress | null>(null);
  /** The report of the import that finished while the studio watched; dismissable. */
  report = $state.raw<ImportReport | null>(null);
  /** An export is being written. */
  exporting = $state(false);
  exported = $state.raw<DatasetExportResult | null>(null);

  filter = $state<LabelFilter>('all');
  /** Images under the filter (from the latest page). */
  total = $state(0);
  /** Thumbnail pages by index (offset / PAGE_SIZE). */
  readonly pages = new SvelteMap<number, DatasetItem[]>();
  /** Selected image ids. */
  readonly selected = new SvelteSet<number>();
  /** The image in the detail panel. */
  detail = $state.raw<DatasetImage | null>(null);
  detailLoading = $state(false);
  /** Paths dropped onto the desktop window, waiting for the import dialog. */
  dropped = $state.raw<string[] | null>(null);

  /** Every duplicate pair of every import; null until asked for. */
  duplicatePairs = $state.raw<DuplicatePair[] | null>(null);

  /** Bumped whenever cached pages become stale (another project, filter or data): answers from before are dropped. */
  private readonly pageGeneration = new Generation();
  // Bookkeeping only, never shown: a plain Set on purpose (reading it must not re-run the grid's effect).
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly inflight = new Set<number>();
  /** Pages the grid shows now (first, last), for refreshes and eviction. */
  private visiblePages: [number, number] = [0, 0];
  private lastLiveRefresh = 0;
  private lastLiveImported = 0;

  /** Whether a project is open and its stats are loaded. */
  get ready(): boolean {
    return this.stats !== null;
  }

  get importing(): boolean {
    return this.progress !== null;
  }

  /** Another project (or none): from scratch. */
  protected reset(): void {
    this.pageGeneration.bump();
    this.inflight.clear();
    this.pages.clear();
    this.selected.clear();
    this.stats = null;
    this.progress = null;
    this.report = null;
    this.detail = null;
    this.exported = null;
    this.duplicatePairs = null;
    this.filter = 'all';
    this.total = 0;
  }

  /** Stats, the running import (if any) and the first page of thumbnails. */
  async load(): Promise<void> {
    const stats = await this.read('dataset.stats', {});
    if (!stats) return;
    this.setStats(stats);
    this.progress = stats.importing;
    this.refreshPages();
  }

  private setStats(stats: DatasetStats): void {
    this.stats = stats;
    this.duplicatePairs = null; // loaded again when the list is opened
    const f = this.filter;
    if (typeof f === 'number' && !stats.labels.some((l) => l.id === f)) this.setFilter('all'); // merged or emptied
  }

  protected apply(event: StudioEvent): void {
    switch (event.type) {
      case 'import.progress':
        this.progress = event.progress;
        this.liveRefresh(event.progress);
        break;
      case 'import.finished':
        this.progress = null;
        this.report = event.report;
        break;
      case 'dataset.changed':
        if (this.projectPath === null) break;
        this.setStats(event.stats);
        this.refreshPages();
        break;
      case 'files.dropped':
        this.dropped = event.paths;
        break;
    }
  }

  /** Images are committed every half second: show them while the import goes on. */
  private liveRefresh(progress: ImportProgress): void {
    const now = Date.now();
    if (progress.imported === this.lastLiveImported || now - this.lastLiveRefresh < LIVE_REFRESH_MS) return;
    this.lastLiveRefresh = now;
    this.lastLiveImported = progress.imported;
    const current = this.ticket();
    void this.backend.call('dataset.stats', {}).then((r) => {
      if (r.ok && current() && this.projectPath !== null) {
        this.setStats(r.value);
        this.refreshPages();
      }
    });
  }

  // -------------------------------------------------------------------------------------------
  // The thumbnail cache.

  /** The item at `index` under the filter, or undefined while its page loads. */
  itemAt(index: number): DatasetItem | undefined {
    return this.pages.get(Math.floor(index / PAGE_SIZE))?.[index % PAGE_SIZE];
  }

  /** Makes sure the pages holding items first..last are loaded or on their way. */
  ensureRange(first: number, last: number): void {
    if (this.projectPath === null) return;
    const from = Math.max(0, Math.floor(first / PAGE_SIZE));
    const to = Math.max(from, Math.floor(Math.max(first, last) / PAGE_SIZE));
    this.visiblePages = [from, to];
    for (let p = from; p <= to; p++) {
      if (p * PAGE_SIZE >= Math.max(this.total, 1)) break;
      if (!this.pages.has(p) && !this.inflight.has(p)) void this.fetchPage(p);
    }
    this.evict();
  }

  private async fetchPage(index: number): Promise<void> {
    const current = this.pageGeneration.ticket();
    this.inflight.add(index);
    const f = this.filter;
    const params: Params<'dataset.page'> = { offset: index * PAGE_SIZE, limit: PAGE_SIZE };
    if (f !== 'all') params.label = f;
    const result = await this.backend.call('dataset.page', params);
    if (!current()) return; // the project, the filter or the data changed meanwhile
    this.inflight.delete(index);
    if (!result.ok) {
      if (result.error.code !== 'no-project') this.studio.report(result.error);
      return;
    }
    this.total = result.value.total;
    this.pages.set(index, result.value.items);
    // Pages past the end (after a removal) would show images that are gone.
    for (const p of this.pages.keys()) if (p * PAGE_SIZE >= this.total && p !== 0) this.pages.delete(p);
  }

  /** Reloads the pages on screen (keeping them shown until the new ones arrive); drops the rest. */
  refreshPages(): void {
    this.pageGeneration.bump();
    this.inflight.clear();
    const [from, to] = this.visiblePages;
    for (const p of [...this.pages.keys()]) if (p < from || p > to) this.pages.delete(p);
    for (let p = from; p <= to; p++) void this.fetchPage(p);
  }

  private evict(): void {
    if (this.pages.size <= MAX_CACHED_PAGES) return;
    const [from, to] = this.visiblePages;
    const distance = (p: number): number => (p < from ? from - p : p > to ? p - to : 0);
    const far = [...this.pages.keys()].sort((a, b) => distance(b) - distance(a));
    for (const p of far.slice(0, this.pages.size - MAX_CACHED_PAGES)) this.pages.delete(p);
  }

  setFilter(filter: LabelFilter): void {
    if (filter === this.filter) return;
    this.filter = filter;
    this.selected.clear();
    this.pageGeneration.bump();
    this.inflight.clear();
    this.pages.clear();
    this.total = this.countFor(filter);
    this.visiblePages = [0, 0];
    void this.fetchPage(0);
  }

  /** What the stats say the filter holds (before its first page answers). */
  countFor(filter: LabelFilter): number {
    const s = this.stats;
    if (!s) return 0;
    if (filter === 'all') return s.images;
    if (filter === 'unlabelled') return s.unlabelled;
    return s.labels.find((l) => l.id === filter)?.count ?? 0;
  }

  /** Ids of the items first..last (inclusive), loading the pages that are missing. */
  async idsInRange(first: number, last: number): Promise<number[]> {
    const [a, b] = first <= last ? [first, last] : [last, first];
    const missing: number[] = [];
    for (let p = Math.floor(a / PAGE_SIZE); p <= Math.floor(b / PAGE_SIZE); p++) if (!this.pages.has(p)) missing.push(p);
    await Promise.all(missing.map((p) => this.fetchPage(p)));
    const ids: number[] = [];
    for (let i = a; i <= b; i++) {
      const item = this.itemAt(i);
      if (item) ids.push(item.id);
    }
    return ids;
  }

  // -------------------------------------------------------------------------------------------
  // User actions.

  /** Suggested normalisation for these sources (first import); null when the call failed (the error is shown). */
  async suggest(sources: string[]): Promise<ResultOf<'dataset.suggest'> | null> {
    return this.act('dataset.suggest', { sources });
  }

  async storedSettings(): Promise<NormaliseSettings | null | undefined> {
    const result = await this.backend.call('dataset.settings', {});
    if (!result.ok) {
      this.studio.report(result.error);
      return undefined;
    }
    return result.value;
  }

  /** Starts an import; true when it started (progress then arrives as events). */
  async startImport(request: ImportRequest): Promise<boolean> {
    const params: Params<'dataset.import'> = { sources: request.sources, labels: request.labels, nearThreshold: request.nearThreshold };
    if (request.unlabelledFolders?.length) params.unlabelledFolders = request.unlabelledFolders;
    if (request.leaveOutFolders?.length) params.leaveOutFolders = request.leaveOutFolders;
    if (request.settings) params.settings = request.settings;
    this.report = null;
    this.exported = null;
    const started = await this.act('dataset.import', params);
    if (!started) return false;
    this.lastLiveImported = 0;
    // Show the bar at once: the first progress event may take a moment (or the import may be done already).
    this.progress ??= {
      importId: started.importId,
      done: 0,
      total: null,
      imported: 0,
      duplicates: 0,
      skipped: 0,
      unchanged: 0,
      imagesPerSecond: 0,
      etaSeconds: null,
    };
    if (this.finished(started.importId)) this.progress = null; // it ended before the reply came
    return true;
  }

  private finished(importId: number): boolean {
    return this.report !== null && this.report.importId === importId;
  }

  async cancelImport(): Promise<void> {
    await this.act('dataset.cancelImport', {});
  }

  dismissReport(): void {
    this.report = null;
  }

  async remove(ids: number[]): Promise<boolean> {
    const stats = await this.act('dataset.remove', { ids });
    if (!stats) return false;
    for (const id of ids) this.selected.delete(id);
    if (this.detail && ids.includes(this.detail.id)) this.detail = null;
    this.setStats(stats);
    this.refreshPages();
    return true;
  }

  async relabel(ids: number[], label: string | null): Promise<boolean> {
    const stats = await this.act('dataset.relabel', { ids, label });
    if (!stats) return false;
    this.setStats(stats);
    this.refreshPages();
    if (this.detail && ids.includes(this.detail.id)) void this.openDetail(this.detail.id);
    return true;
  }

  /** Lets files removed earlier be imported again. */
  async forgetRemoved(): Promise<boolean> {
    const stats = await this.act('dataset.forgetRemoved', {});
    if (!stats) return false;
    this.setStats(stats);
    return true;
  }

  async renameLabel(id: number, name: string): Promise<boolean> {
    const stats = await this.act('dataset.renameLabel', { id, name });
    if (!stats) return false;
    this.setStats(stats);
    this.refreshPages();
    return true;
  }

  async openDetail(id: number): Promise<void> {
    this.detailLoading = true;
    const image = await this.act('dataset.image', { id });
    this.detailLoading = false;
    if (image) this.detail = image;
  }

  closeDetail(): void {
    this.detail = null;
  }

  /** Every import's duplicate pairs, for the stats panel's list. */
  async loadDuplicatePairs(): Promise<void> {
    const stats = this.stats;
    const last = stats?.lastImport?.importId ?? 0;
    const ids = Array.from({ length: last }, (_, i) => i + 1);
    const reports = await Promise.all(ids.map((importId) => this.backend.call('dataset.report', { importId })));
    const pairs: DuplicatePair[] = [];
    for (const r of reports) {
      if (!r.ok) {
        this.studio.report(r.error);
        return;
      }
      if (r.value) pairs.push(...r.value.duplicatePairs);
    }
    if (this.stats === stats) this.duplicatePairs = pairs; // else newer stats asked again
  }

  /** Desktop: the native dialog for files (images, DICOM, zips) or one folder; [] when cancelled. */
  async pickSources(kind: 'files' | 'folder'): Promise<string[]> {
    const picked = await this.act('dialog.pickImportSources', { kind });
    return picked?.paths ?? [];
  }

  /** Desktop: the native save dialog; null when cancelled. */
  async pickExportPath(suggestedName: string): Promise<string | null> {
    const picked = await this.act('dialog.pickExportPath', { suggestedName });
    return picked?.path ?? null;
  }

  async exportTo(out: string, labels: 'auto' | 'none'): Promise<boolean> {
    this.exported = null;
    this.exporting = true;
    try {
      const result = await this.act('dataset.export', { out, labels });
      if (result) this.exported = result;
      return result !== null;
    } finally {
      this.exporting = false;
    }
  }

  dismissExported(): void {
    this.exported = null;
  }

  /** The dropped paths, handed over once. */
  takeDropped(): string[] | null {
    const paths = this.dropped;
    this.dropped = null;
    return paths;
  }
}
