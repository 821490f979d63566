/**
 * The core service: owns the open project and answers StudioApi. Electron's main process and
 * `atelier serve` each build one and wrap it in their transport; nothing here knows which.
 */
import { basename, dirname, extname, join } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import type { AppInfo, DatasetStats, ImportProgress, Params, ProjectSummary, StudioEvent } from '../api/contract.js';
import type { Handlers } from '../api/dispatch.js';
import { UserError } from '../api/errors.js';
import { startImport, type ImportHandle } from '../data/import-job.js';
import { suggestSettings } from '../data/suggest.js';
import { exportDatasetZip } from '../export/dataset-zip.js';
import { DatasetStore } from '../store/dataset.js';
import { Project } from '../store/project.js';
import { SCHEMA_VERSION } from '../store/migrations/index.js';
import { listDir } from './file-chooser.js';
import { RecentList } from './recent.js';
import { RootedPaths, canonicalPath, isInside, withProjectExtension, type PathPolicy } from './paths.js';
import { APP_VERSION } from '../api/version.js';
import { Training } from './training.js';
import { Gallery } from './gallery.js';

/** What differs between the desktop app and the browser mode. */
export interface Host {
  mode: AppInfo['mode'];
  /** Where per-user state (recent list) lives. */
  appHome: string;
  /** Which renderer-supplied paths may be used. */
  paths: PathPolicy;
  /** Desktop: shows a native dialog. Absent in the browser mode. */
  pickProject?: (mode: 'open' | 'create', suggestedName?: string) => Promise<string | null>;
  /** Desktop: a native dialog for files (images, DICOM, zips) or one folder to import; [] if cancelled. */
  pickImportSources?: (kind: 'files' | 'folder') => Promise<string[]>;
  /** Desktop: a native save dialog for an export; null if cancelled. */
  pickExportPath?: (suggestedName?: string) => Promise<string | null>;
  /** Desktop: a native dialog to pick a generator export (a folder or its model.json) to import; null if cancelled. */
  pickModelImport?: () => Promise<string | null>;
}

export type Listener = (event: StudioEvent) => void;

export class StudioService {
  private readonly host: Host;
  private readonly recent: RecentList;
  private readonly listeners = new Set<Listener>();
  private project: Project | null = null;
  /** The open project's dataset tables (same connection as `project`). */
  private dataset: DatasetStore | null = null;
  /** Training in the open project, created on first use. */
  private training: Training | null = null;
  /** Gallery, models and exports of the open project, created on first use. */
  private gallery: Gallery | null = null;
  /** The import running in the open project, if any. */
  private importing: ImportHandle | null = null;
  private importStarting = false;

  constructor(host: Host) {
    this.host = host;
    this.recent = new RecentList(host.appHome);
  }

  /** Events for every connected window. Returns an unsubscribe. */
  subscribe(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: StudioEvent): void {
    for (const l of this.listeners) l(event);
  }

  /** The open project, for code in the same process (jobs, import). */
  get current(): Project | null {
    return this.project;
  }

  /** A path from the renderer: canonical, and one the user picked (or one in the recent list). */
  private allowed(raw: string): string {
    const path = canonicalPath(raw);
    if (!this.recent.has(path)) this.host.paths.check(path, 'project');
    return path;
  }

  createProject(rawPath: string, name?: string): Promise<ProjectSummary> {
    const path = this.allowed(withProjectExtension(rawPath));
    const parent = dirname(path);
    if (!existsSync(parent) || !statSync(parent).isDirectory()) {
      throw new UserError('not-found', `The folder ${parent} does not exist. Pick an existing folder for the new project.`, parent);
    }
    const projectName = name ?? basename(path, extname(path));
    const project = Project.create(path, projectName, { appVersion: APP_VERSION });
    return this.adopt(project);
  }

  async openProject(rawPath: string): Promise<ProjectSummary> {
    const path = this.allowed(rawPath);
    if (this.project?.path === path) return this.project.summary();
    return this.adopt(Project.open(path));
  }

  /** Lets go of the open project: the import is cancelled, training runs save and pause. */
  private async release(): Promise<void> {
    const project = this.project;
    if (!project) return;
    this.stopImport();
    const training = this.training;
    const gallery = this.gallery;
    this.training = null;
    this.gallery = null;
    this.project = null;
    this.dataset = null;
    await Promise.all([training?.dispose(), gallery?.dispose()]);
    project.close();
  }

  private async adopt(project: Project): Promise<ProjectSummary> {
    await this.release();
    this.project = project;
    const summary = project.summary();
    const recent = this.recent.touch(project.path, summary.name);
    this.emit({ type: 'project.changed', project: summary });
    this.emit({ type: 'recent.changed', recent });
    return summary;
  }

  async closeProject(): Promise<null> {
    if (this.project) {
      await this.release();
      this.emit({ type: 'project.changed', project: null });
    }
    return null;
  }

  /** Training in the open project (runs, workers). */
  trainingFor(): Training {
    const project = this.requireProject();
    this.training ??= new Training(project, () => this.datasetStore(), (e) => this.emit(e));
    return this.training;
  }

  /** Gallery, models and exports in the open project (sampling workers). */
  galleryFor(): Gallery {
    const project = this.requireProject();
    this.gallery ??= new Gallery(project, (e) => this.emit(e));
    return this.gallery;
  }

  /**
   * An export destination from the renderer: canonical, picked for saving, and never the open
   * project or a folder holding it (replacing it would delete the project).
   */
  private allowedOutput(raw: string): string {
    const path = canonicalPath(raw);
    this.host.paths.check(path, 'write');
    if (this.project && isInside(path, this.project.path)) {
      throw new UserError('forbidden', `${path} holds the open project (${this.project.path}); an export there could replace it. Pick another name or folder.`, path);
    }
    return path;
  }

  // -------------------------------------------------------------------------------------------
  // Dataset.

  private requireProject(): Project {
    if (!this.project) throw new UserError('no-project', 'No project is open: open or create a project first; the dataset belongs to it.');
    return this.project;
  }

  /** The dataset tables of the open project. */
  datasetStore(): DatasetStore {
    const project = this.requireProject();
    if (!this.dataset) {
      this.dataset = new DatasetStore(project.db);
      // An import the studio was running when it last quit shows as interrupted, not running.
      if (!this.importing) this.dataset.markInterrupted();
    }
    return this.dataset;
  }

  /** A source path from the renderer: canonical, existing, and one the user picked. */
  private allowedSource(raw: string): string {
    const path = canonicalPath(raw);
    this.host.paths.check(path, 'read');
    if (!existsSync(path)) throw new UserError('not-found', `${path} does not exist (moved or deleted?). Pick the files or folder again.`, path);
    return path;
  }

  /** Starts an import in a worker; progress and the end arrive as events. */
  async importSources(params: Params<'dataset.import'>): Promise<{ importId: number; settings: ImportHandle['settings'] }> {
    const project = this.requireProject();
    if (this.importing || this.importStarting) {
      throw new UserError('exists', 'An import is already running in this project. Wait for it to finish, or cancel it, then import again.');
    }
    const sources = params.sources.map((s) => this.allowedSource(s));
    this.importStarting = true;
    let handle: ImportHandle;
    try {
      handle = await startImport(project.path, this.datasetStore(), {
        sources,
        settings: params.settings,
        options: { labels: params.labels, nearThreshold: params.nearThreshold },
      });
    } finally {
      this.importStarting = false;
    }
    this.importing = handle;
    handle.onProgress((progress) => this.emit({ type: 'import.progress', progress }));
    void handle.done.then((report) => {
      if (this.importing === handle) this.importing = null;
      this.emit({ type: 'import.finished', report });
      if (this.project === project) {
        this.emit({ type: 'dataset.changed', stats: this.datasetStats() });
        this.emit({ type: 'project.changed', project: project.summary() });
      }
    });
    return { importId: handle.importId, settings: handle.settings };
  }

  /** Cancels the running import (if any); the handle's `done` reports how it ended. */
  cancelImport(): boolean {
    if (!this.importing) return false;
    this.importing.cancel();
    return true;
  }

  /** The running import, for callers in the same process (tests, the CLI). */
  get currentImport(): ImportHandle | null {
    return this.importing;
  }

  private stopImport(): void {
    this.importing?.cancel();
    this.importing = null;
  }

  private importProgress(): ImportProgress | null {
    return this.importing?.latest() ?? null;
  }

  datasetStats(): DatasetStats {
    return this.datasetStore().stats(this.importProgress());
  }

  /** After an edit: the new stats to every window (and the project's counts). */
  private datasetEdited(): DatasetStats {
    const stats = this.datasetStats();
    this.emit({ type: 'dataset.changed', stats });
    this.emit({ type: 'project.changed', project: this.requireProject().summary() });
    return stats;
  }

  private async exportDataset(params: Params<'dataset.export'>) {
    const out = this.allowedOutput(params.out);
    const parent = dirname(out);
    if (!existsSync(parent) || !statSync(parent).isDirectory()) {
      throw new UserError('not-found', `The folder ${parent} does not exist. Pick an existing folder for the archive.`, parent);
    }
    return exportDatasetZip(this.datasetStore(), out, { labels: params.labels ?? 'auto', overwrite: params.overwrite ?? false });
  }

  /** The handler table: typed off StudioApi, so a missing method does not compile. */
  handlers(): Handlers {
    return {
      'app.info': () => ({
        version: APP_VERSION,
        mode: this.host.mode,
        nativeDialogs: this.host.pickProject !== undefined,
        schemaVersion: SCHEMA_VERSION,
        platform: process.platform,
      }),
      'project.create': ({ path, name }) => this.createProject(path, name),
      'project.open': ({ path }) => this.openProject(path),
      'project.close': () => this.closeProject(),
      'project.current': () => this.project?.summary() ?? null,
      'project.recent': () => this.recent.list(),
      'project.forget': ({ path }) => {
        const recent = this.recent.forget(path);
        this.emit({ type: 'recent.changed', recent });
        return recent;
      },
      'files.list': ({ dir }) => {
        if (!(this.host.paths instanceof RootedPaths)) {
          throw new UserError('unavailable', 'The desktop app uses the system file dialogs; the built-in chooser is for the browser mode.');
        }
        return listDir(this.host.paths.root, dir);
      },
      'dialog.pickProject': async ({ mode, suggestedName }) => {
        if (!this.host.pickProject) {
          throw new UserError('unavailable', 'Native dialogs exist only in the desktop app; the browser mode uses the built-in chooser.');
        }
        const path = await this.host.pickProject(mode, suggestedName);
        if (path !== null) this.host.paths.grant(mode === 'create' ? withProjectExtension(path) : path, 'project');
        return { path };
      },
      'dialog.pickImportSources': async ({ kind }) => {
        if (!this.host.pickImportSources) {
          throw new UserError('unavailable', 'Native dialogs exist only in the desktop app; the browser mode uses the built-in chooser.');
        }
        const paths = await this.host.pickImportSources(kind);
        for (const p of paths) this.host.paths.grant(p, 'read');
        return { paths };
      },
      'dialog.pickExportPath': async ({ suggestedName }) => {
        if (!this.host.pickExportPath) {
          throw new UserError('unavailable', 'Native dialogs exist only in the desktop app; the browser mode uses the built-in chooser.');
        }
        const path = await this.host.pickExportPath(suggestedName);
        if (path !== null) this.host.paths.grant(path, 'write');
        return { path };
      },
      'dataset.suggest': ({ sources }) => suggestSettings(sources.map((s) => this.allowedSource(s))),
      'dataset.settings': () => this.datasetStore().settings(),
      'dataset.import': (params) => this.importSources(params),
      'dataset.cancelImport': () => ({ cancelled: this.cancelImport() }),
      'dataset.importStatus': () => this.importProgress(),
      'dataset.report': ({ importId }) => this.datasetStore().report(importId),
      'dataset.stats': () => this.datasetStats(),
      'dataset.page': ({ offset, limit, label }) => this.datasetStore().page(offset, limit, label),
      'dataset.image': ({ id }) => this.datasetStore().image(id),
      'dataset.remove': ({ ids }) => {
        this.datasetStore().remove(ids);
        return this.datasetEdited();
      },
      'dataset.forgetRemoved': () => {
        this.datasetStore().forgetRemoved();
        return this.datasetEdited();
      },
      'dataset.relabel': ({ ids, label }) => {
        this.datasetStore().relabel(ids, label);
        return this.datasetEdited();
      },
      'dataset.renameLabel': ({ id, name }) => {
        this.datasetStore().renameLabel(id, name);
        return this.datasetEdited();
      },
      'dataset.export': (params) => this.exportDataset(params),
      'train.presets': () => this.trainingFor().presets(),
      'compute.backends': ({ refresh }) => this.trainingFor().computeBackends(refresh),
      'train.start': (settings) => this.trainingFor().start(settings),
      'train.resume': ({ runId, backend, checkpointId }) => this.trainingFor().resume(runId, backend, checkpointId),
      'train.pause': ({ runId }) => this.trainingFor().pause(runId),
      'train.stop': ({ runId }) => this.trainingFor().stop(runId),
      'runs.list': () => this.trainingFor().list(),
      'runs.get': ({ runId, afterKimg }) => this.trainingFor().get(runId, afterKimg),
      'runs.preview': ({ runId, previewId }) => this.trainingFor().preview(runId, previewId),
      'runs.delete': ({ runId }) => this.trainingFor().delete(runId),
      // Gallery, models and export
      'gallery.sources': () => this.galleryFor().sources(),
      'gallery.open': ({ source }) => this.galleryFor().open(source),
      'gallery.sample': (params) => this.galleryFor().sample(params),
      'gallery.cancel': ({ requestIds }) => ({ cancelled: this.galleryFor().cancel(requestIds) }),
      'gallery.save': (params) => this.galleryFor().save(params),
      'gallery.items': (params) => this.galleryFor().page(params),
      'gallery.update': (params) => this.galleryFor().update(params),
      'gallery.delete': ({ ids }) => ({ deleted: this.galleryFor().delete(ids) }),
      'gallery.exportItems': (params) => this.galleryFor().exportItems(params, this.allowedOutput(params.out)),
      'gallery.exportStrip': (params) => this.galleryFor().exportStrip(params, this.allowedOutput(params.out)),
      'models.list': () => this.galleryFor().listModels(),
      'models.promote': (params) => this.galleryFor().promote(params),
      'models.rename': ({ modelId, name }) => this.galleryFor().rename(modelId, name),
      'models.delete': ({ modelId }) => this.galleryFor().deleteModel(modelId),
      'models.import': ({ path, name }) => this.galleryFor().importModel(this.allowedSource(path), name),
      'models.export': (params) => this.galleryFor().exportModel(params, this.allowedOutput(params.out)),
      'dialog.pickModelImport': async () => {
        if (!this.host.pickModelImport) {
          throw new UserError('unavailable', 'Native dialogs exist only in the desktop app; the browser mode uses the built-in chooser.');
        }
        const path = await this.host.pickModelImport();
        if (path !== null) this.host.paths.grant(path, 'read');
        return { path };
      },
      // Metrics.
      'runs.evaluate': (params) => this.trainingFor().evaluate(params).progress,
      'runs.compare': ({ runIds }) => this.trainingFor().compare(runIds),
      'metrics.extractor': () => this.trainingFor().extractorInfo(),
      'metrics.setExtractor': ({ path, inputRange }) => {
        // The model file is one the user picked, like any other path from the renderer.
        const picked = path === null ? null : canonicalPath(path);
        if (picked !== null) this.host.paths.check(picked, 'read');
        // A folder (the desktop dialog picks folders on Windows and Linux): its model.json.
        const file = picked !== null && statSync(picked, { throwIfNoEntry: false })?.isDirectory() ? join(picked, 'model.json') : picked;
        return this.trainingFor().setExtractor(file, inputRange);
      },
    };
  }

  async dispose(): Promise<void> {
    await this.closeProject();
    this.listeners.clear();
  }
}
