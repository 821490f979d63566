/**
 * The dataset of the open project behind StudioApi: the import lifecycle (one import at a time, as
 * a job of the project's JobManager — core/data/import-job.ts), browsing (stats, pages, images),
 * edits (remove, relabel, rename labels) and the archive export. Reads and edits are plain SQLite
 * on the service's connection; the import worker writes through its own.
 */
import { dirname } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import type { DatasetStats, ImportProgress, NormaliseSettings, Params, StudioEvent } from '../api/contract.js';
import type { datasetMethods } from '../api/dataset.js';
import { UserError } from '../api/errors.js';
import { startImport, type ImportHandle } from '../data/import-job.js';
import { suggestSettings } from '../data/suggest.js';
import { exportDatasetZip } from '../export/dataset-zip.js';
import type { JobManager } from '../jobs/job-manager.js';
import { DatasetStore } from '../store/dataset.js';
import { ImportStore } from '../store/imports.js';
import { nativeDialog, type ProjectPart, type ServiceContext, type SliceHandlers } from './slices.js';

export class DatasetService {
  /** Browsing and edits. */
  readonly store: DatasetStore;
  /** Import bookkeeping (reports). */
  readonly imports: ImportStore;
  /** The import running in the project, if any. */
  private importing: ImportHandle | null = null;
  private importStarting = false;
  private closed = false;

  constructor(
    private readonly jobs: JobManager,
    private readonly emit: (event: StudioEvent) => void,
  ) {
    this.store = new DatasetStore(jobs.project.db);
    this.imports = new ImportStore(jobs.project.db);
    // An import the studio was running when it last quit shows as interrupted, not running.
    this.imports.markInterrupted();
  }

  /**
   * Starts an import in a worker; progress and the end arrive as events. `allowed` checks each
   * source path; `confine` (the browser mode's root) is checked against every link inside them.
   */
  async startImport(params: Params<'dataset.import'>, allowed: (raw: string) => string, confine: string | null = null): Promise<{ importId: number; settings: NormaliseSettings }> {
    if (this.importing || this.importStarting) {
      throw new UserError('exists', 'An import is already running in this project. Wait for it to finish, or cancel it, then import again.');
    }
    const sources = params.sources.map(allowed);
    this.importStarting = true;
    let handle: ImportHandle;
    try {
      handle = await startImport(this.jobs, { sources, settings: params.settings, options: { labels: params.labels, nearThreshold: params.nearThreshold, unlabelledFolders: params.unlabelledFolders, leaveOutFolders: params.leaveOutFolders }, confine });
    } finally {
      this.importStarting = false;
    }
    this.importing = handle;
    handle.onProgress((progress) => this.emit({ type: 'import.progress', progress }));
    void handle.done.then((report) => {
      if (this.importing === handle) this.importing = null;
      this.emit({ type: 'import.finished', report });
      if (!this.closed) {
        this.emit({ type: 'dataset.changed', stats: this.stats() });
        this.emit({ type: 'project.changed', project: this.jobs.project.summary() });
      }
    });
    return { importId: handle.importId, settings: handle.settings };
  }

  /** Cancels the running import (if any); its handle's `done` reports how it ended. */
  cancelImport(): boolean {
    if (!this.importing) return false;
    this.importing.cancel();
    return true;
  }

  /** The running import, for callers in the same process (tests, the CLI). */
  get currentImport(): ImportHandle | null {
    return this.importing;
  }

  progress(): ImportProgress | null {
    return this.importing?.latest() ?? null;
  }

  stats(): DatasetStats {
    return this.store.stats(this.progress());
  }

  /** After an edit: the new stats to every window (and the project's counts). */
  edited(): DatasetStats {
    const stats = this.stats();
    this.emit({ type: 'dataset.changed', stats });
    this.emit({ type: 'project.changed', project: this.jobs.project.summary() });
    return stats;
  }

  /** Writes the dataset as a StyleGAN2-ADA zip to `out` (already checked as a destination, in an existing folder). */
  exportZip(params: Params<'dataset.export'>, out: string) {
    return exportDatasetZip(this.store, out, { labels: params.labels ?? 'auto', overwrite: params.overwrite ?? false });
  }

  /** The project is closing: the import is cancelled (the JobManager's shutdown waits for it). */
  close(): void {
    this.closed = true;
    this.importing?.cancel();
  }
}

/** The dataset slice of the handler table. */
export function datasetHandlers(ctx: ServiceContext, dataset: ProjectPart<DatasetService>): SliceHandlers<typeof datasetMethods> {
  return {
    'dialog.pickImportSources': async ({ kind }) => {
      const paths = await nativeDialog(ctx.host, 'pickImportSources')(kind);
      for (const p of paths) ctx.host.paths.grant(p, 'read');
      return { paths };
    },
    'dataset.suggest': ({ sources }) => suggestSettings(sources.map((s) => ctx.allowedSource(s)), ctx.readRoot),
    'dataset.settings': () => dataset.require().store.settings(),
    'dataset.import': (params) => dataset.require().startImport(params, (s) => ctx.allowedSource(s), ctx.readRoot),
    'dataset.cancelImport': () => ({ cancelled: dataset.current()?.cancelImport() ?? false }),
    'dataset.importStatus': () => dataset.current()?.progress() ?? null,
    'dataset.report': ({ importId }) => dataset.require().imports.report(importId),
    'dataset.stats': () => dataset.require().stats(),
    'dataset.page': ({ offset, limit, label }) => dataset.require().store.page(offset, limit, label),
    'dataset.image': ({ id }) => dataset.require().store.image(id),
    'dataset.remove': ({ ids }) => {
      const d = dataset.require();
      d.store.remove(ids);
      return d.edited();
    },
    'dataset.forgetRemoved': () => {
      const d = dataset.require();
      d.store.forgetRemoved();
      return d.edited();
    },
    'dataset.relabel': ({ ids, label }) => {
      const d = dataset.require();
      d.store.relabel(ids, label);
      return d.edited();
    },
    'dataset.renameLabel': ({ id, name }) => {
      const d = dataset.require();
      d.store.renameLabel(id, name);
      return d.edited();
    },
    'dataset.export': (params) => {
      const out = ctx.allowedOutput(params.out);
      const parent = dirname(out);
      if (!existsSync(parent) || !statSync(parent).isDirectory()) {
        throw new UserError('not-found', `The folder ${parent} does not exist. Pick an existing folder for the archive.`, parent);
      }
      return dataset.require().exportZip(params, out);
    },
  };
}
