/**
 * The core service: owns the open project and answers StudioApi. Electron's main process and
 * `atelier serve` each build one and wrap it in their transport; nothing here knows which.
 */
import { basename, dirname, extname } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import type { AppInfo, ProjectSummary, StudioEvent } from '../api/contract.js';
import type { Handlers } from '../api/dispatch.js';
import { UserError } from '../api/errors.js';
import { Project } from '../store/project.js';
import { SCHEMA_VERSION } from '../store/migrations/index.js';
import { listDir } from './file-chooser.js';
import { RecentList } from './recent.js';
import { RootedPaths, canonicalPath, withProjectExtension, type PathPolicy } from './paths.js';
import { APP_VERSION } from './version.js';

/** What differs between the desktop app and the browser mode. */
export interface Host {
  mode: AppInfo['mode'];
  /** Where per-user state (recent list) lives. */
  appHome: string;
  /** Which renderer-supplied paths may be used. */
  paths: PathPolicy;
  /** Desktop: shows a native dialog. Absent in the browser mode. */
  pickProject?: (mode: 'open' | 'create', suggestedName?: string) => Promise<string | null>;
}

export type Listener = (event: StudioEvent) => void;

export class StudioService {
  private readonly host: Host;
  private readonly recent: RecentList;
  private readonly listeners = new Set<Listener>();
  private project: Project | null = null;

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
    if (!this.recent.has(path)) this.host.paths.check(path);
    return path;
  }

  createProject(rawPath: string, name?: string): ProjectSummary {
    const path = this.allowed(withProjectExtension(rawPath));
    const parent = dirname(path);
    if (!existsSync(parent) || !statSync(parent).isDirectory()) {
      throw new UserError('not-found', `The folder ${parent} does not exist. Pick an existing folder for the new project.`, parent);
    }
    const projectName = name ?? basename(path, extname(path));
    const project = Project.create(path, projectName, { appVersion: APP_VERSION });
    return this.adopt(project);
  }

  openProject(rawPath: string): ProjectSummary {
    const path = this.allowed(rawPath);
    if (this.project?.path === path) return this.project.summary();
    return this.adopt(Project.open(path));
  }

  private adopt(project: Project): ProjectSummary {
    this.project?.close();
    this.project = project;
    const summary = project.summary();
    const recent = this.recent.touch(project.path, summary.name);
    this.emit({ type: 'project.changed', project: summary });
    this.emit({ type: 'recent.changed', recent });
    return summary;
  }

  closeProject(): null {
    if (this.project) {
      this.project.close();
      this.project = null;
      this.emit({ type: 'project.changed', project: null });
    }
    return null;
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
        if (path !== null) this.host.paths.grant(mode === 'create' ? withProjectExtension(path) : path);
        return { path };
      },
    };
  }

  dispose(): void {
    this.closeProject();
    this.listeners.clear();
  }
}
