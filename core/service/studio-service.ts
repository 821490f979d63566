/**
 * The core service: owns the open project and answers StudioApi. Electron's main process and
 * `atelier serve` each build one and wrap it in their transport; nothing here knows which.
 *
 * The handler table is the merge of one slice per domain (./slices.ts), as the contract is the
 * merge of the methods' slices: project (here), dataset (./dataset.ts), train (./training.ts),
 * metrics (./evaluation.ts), gallery and models (./gallery.ts), merge (./merging.ts). The open project's services share
 * one JobManager (./open-project.ts).
 */
import { basename, dirname, extname, join } from 'node:path';
import { plainFileName } from '../api/vocabulary.js';
import { ImportStore } from '../store/imports.js';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import type { ProjectSummary, StudioEvent } from '../api/contract.js';
import type { Handlers } from '../api/dispatch.js';
import { UserError } from '../api/errors.js';
import type { projectMethods } from '../api/project.js';
import { APP_VERSION } from '../api/version.js';
import type { ImportHandle } from '../data/import-job.js';
import { Project } from '../store/project.js';
import { SCHEMA_VERSION } from '../store/migrations/index.js';
import { datasetHandlers } from './dataset.js';
import { withDiskFullReason } from './disk-full-guard.js';
import { metricsHandlers } from './evaluation.js';
import { chooserPlaces, listDir } from './file-chooser.js';
import { galleryHandlers, modelsHandlers } from './gallery.js';
import type { Host } from './host.js';
import { OpenProject } from './open-project.js';
import { RecentList } from './recent.js';
import { RootedPaths, canonicalPath, exportFolderFor, isInside, widenHint, withProjectExtension } from './paths.js';
import { nativeDialog, type ProjectPart, type ServiceContext, type SliceHandlers } from './slices.js';
import { trainHandlers } from './training.js';
import { mergeHandlers } from './merging.js';

export type { Host };

export type Listener = (event: StudioEvent) => void;

export class StudioService {
  private readonly host: Host;
  private readonly recent: RecentList;
  private readonly listeners = new Set<Listener>();
  private open: OpenProject | null = null;

  constructor(host: Host) {
    this.host = host;
    // Browser mode: a recent project outside the served folder is listed, with why it cannot be opened here.
    const paths = host.paths;
    this.recent = new RecentList(
      host.appHome,
      paths instanceof RootedPaths ? (p) => (isInside(paths.root, canonicalPath(p)) ? null : `Outside the folder this server offers (${paths.root}). ${widenHint(paths.root)}`) : () => null,
    );
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
    return this.open?.project ?? null;
  }

  /** The running import, for callers in the same process (tests, the CLI). */
  get currentImport(): ImportHandle | null {
    return this.open?.datasetIfStarted?.currentImport ?? null;
  }

  /**
   * A path from the renderer: canonical, and one the user picked (on the desktop, a project in the
   * recent list counts as picked). In the browser mode the root is the only rule: the recent list
   * is shared with the desktop app, and a project opened there may lie outside `--root`.
   */
  private allowed(raw: string): string {
    const path = canonicalPath(raw);
    if (this.host.mode === 'browser' || !this.recent.has(path)) this.host.paths.check(path, 'project');
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
    if (this.open?.project.path === path) return this.open.project.summary();
    return this.adopt(Project.open(path));
  }

  /** Lets go of the open project: the import is cancelled, training runs save and pause. */
  private async release(): Promise<void> {
    const open = this.open;
    if (!open) return;
    this.open = null;
    await open.close();
  }

  private async adopt(project: Project): Promise<ProjectSummary> {
    await this.release();
    this.open = new OpenProject(project, (e) => this.emit(e), this.host.appHome);
    const summary = project.summary();
    const recent = this.recent.touch(project.path, summary.name);
    this.emit({ type: 'project.changed', project: summary });
    this.emit({ type: 'recent.changed', recent });
    return summary;
  }

  async closeProject(): Promise<null> {
    if (this.open) {
      await this.release();
      this.emit({ type: 'project.changed', project: null });
    }
    return null;
  }

  private requireOpen(): OpenProject {
    if (!this.open) throw new UserError('no-project', 'No project is open: open or create a project first; the dataset belongs to it.');
    return this.open;
  }

  /** One of the open project's services, as a slice reaches it. */
  private part<T>(get: (open: OpenProject) => T): ProjectPart<T> {
    return { require: () => get(this.requireOpen()), current: () => (this.open ? get(this.open) : null) };
  }

  /** What the slices use of the service: the host, events, the checks on paths from the renderer. */
  private context(): ServiceContext {
    return {
      host: this.host,
      emit: (e) => this.emit(e),
      allowedSource: (raw) => {
        const path = canonicalPath(raw);
        this.host.paths.check(path, 'read');
        if (!existsSync(path)) throw new UserError('not-found', `${path} does not exist (moved or deleted?). Pick the files or folder again.`, path);
        return path;
      },
      // The browser mode's root confines links inside a picked folder too; the desktop reads anywhere the user picked.
      readRoot: this.host.paths instanceof RootedPaths ? this.host.paths.root : null,
      // Never the open project or a folder holding it: replacing it would delete the project.
      allowedOutput: (raw) => {
        const path = canonicalPath(raw);
        this.host.paths.check(path, 'write');
        const project = this.current;
        if (project && isInside(path, project.path)) {
          throw new UserError('forbidden', `${path} holds the open project (${project.path}); an export there could replace it. Pick another name or folder.`, path);
        }
        return path;
      },
    };
  }

  /** The project slice: the app, projects, the recent list, the built-in chooser and the desktop's project dialogs. */
  private projectHandlers(): SliceHandlers<typeof projectMethods> {
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
      'project.current': () => this.open?.project.summary() ?? null,
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
        const root = this.host.paths.root;
        const recentDirs = [...new Set(this.recent.list().filter((r) => r.exists).map((r) => dirname(r.path)))];
        return listDir(root, dir, chooserPlaces(root, { recentDirs }));
      },
      'dialog.pickProject': async ({ mode, suggestedName }) => {
        const path = await nativeDialog(this.host, 'pickProject')(mode, suggestedName);
        if (path !== null) this.host.paths.grant(mode === 'create' ? withProjectExtension(path) : path, 'project');
        return { path };
      },
      'project.exportFolder': () => ({ dir: this.exportFolder() }),
      'dialog.pickExportPath': async ({ suggestedName }) => {
        const pick = nativeDialog(this.host, 'pickExportPath');
        const folder = this.open ? this.exportFolder() : null;
        const name = suggestedName === undefined ? undefined : plainFileName(suggestedName);
        const path = await pick(folder === null ? name : join(folder, name ?? ''));
        if (path !== null) this.host.paths.grant(path, 'write');
        return { path };
      },
    };
  }

  /** The open project's export folder, made when missing (see exportFolderFor). */
  private exportFolder(): string {
    const project = this.requireOpen().project;
    // A picked file's folder is a source folder too.
    const sources = new ImportStore(project.db).sourcePaths().map((p) => (existsSync(p) && statSync(p).isDirectory() ? p : dirname(p)));
    const dir = exportFolderFor(project.path, sources);
    mkdirSync(dir, { recursive: true });
    return dir;
  }

  /**
   * The handler table: the domains' slices merged, typed off StudioApi, so a missing method does
   * not compile; a full disk under the open project is said in one line, whichever slice met it.
   */
  handlers(): Handlers {
    return withDiskFullReason(this.handlerTable(), () => this.current?.path ?? null);
  }

  private handlerTable(): Handlers {
    const ctx = this.context();
    const gallery = this.part((o) => o.gallery);
    return {
      ...this.projectHandlers(),
      ...datasetHandlers(ctx, this.part((o) => o.dataset)),
      ...trainHandlers(this.part((o) => o.training)),
      ...metricsHandlers(ctx, this.part((o) => o.evaluation)),
      ...galleryHandlers(ctx, gallery),
      ...modelsHandlers(ctx, gallery),
      ...mergeHandlers(ctx, this.part((o) => o.merging)),
    };
  }

  async dispose(): Promise<void> {
    await this.closeProject();
    this.listeners.clear();
  }
}
