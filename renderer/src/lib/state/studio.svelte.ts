/**
 * The studio as the UI sees it: what host this is, the open project, the recent list, the link's
 * state and the last error. Kept current from the service's events (`project.changed`,
 * `recent.changed`) and refreshed whenever the link comes back. The project-scoped states
 * (dataset, training, gallery, models) follow the open project through here: told once per
 * change, wherever the change came from (the first load, an event, the user's own open/close).
 */
import type { AppInfo, Method, Params, ProjectSummary, RecentProject, ResultOf, StudioEvent } from '../../../../core/api/contract.js';
import type { ApiError } from '../../../../core/api/errors.js';
import type { ConnectionStatus, IBackend } from '../backend/backend.js';

/** A state that follows the open project (see ProjectScopedState). */
export interface ProjectFollower {
  follow(projectPath: string | null): void;
}

export class StudioState {
  readonly backend: IBackend;
  /** What this host is and can do; null until the first answer. */
  app = $state.raw<AppInfo | null>(null);
  project = $state.raw<ProjectSummary | null>(null);
  recent = $state.raw<RecentProject[]>([]);
  connection = $state.raw<ConnectionStatus>({ state: 'connecting', attempts: 0, nextRetryAt: null });
  /** The last failure of something the user asked for, shown until dismissed or the next action. */
  error = $state.raw<ApiError | null>(null);
  /** A user action is in flight. */
  busy = $state(false);
  /** The first load has finished (successfully or not). */
  loaded = $state(false);
  /** The folder the browser-mode chooser showed last. */
  lastDir = $state<string | undefined>(undefined);
  /**
   * The folder the export choosers start in: the open project's export folder (beside the project
   * file, never a folder images came from), then the last folder an export went to.
   */
  exportDir = $state<string | undefined>(undefined);

  readonly nativeDialogs = $derived(this.app?.nativeDialogs ?? false);

  readonly #followers: ProjectFollower[] = [];

  constructor(backend: IBackend) {
    this.backend = backend;
    this.connection = backend.connection;
    backend.subscribe((event) => this.apply(event));
    backend.onConnection((status) => {
      const cameBack = status.state === 'open' && this.connection.state === 'lost';
      this.connection = status;
      if (!cameBack) return;
      if (this.error?.code === 'unavailable') this.error = null; // that was about the link, now back
      void this.refresh(); // events may have been missed while away
    });
  }

  /** Loads everything the shell shows. */
  async refresh(): Promise<void> {
    const [app, project, recent] = await Promise.all([
      this.backend.call('app.info', {}),
      this.backend.call('project.current', {}),
      this.backend.call('project.recent', {}),
    ]);
    if (app.ok) this.app = app.value;
    if (project.ok) this.setProject(project.value);
    if (recent.ok) this.recent = recent.value;
    const failed = [app, project, recent].find((r) => !r.ok);
    if (failed && !failed.ok) this.error = failed.error;
    this.loaded = true;
  }

  private apply(event: StudioEvent): void {
    switch (event.type) {
      case 'project.changed':
        this.setProject(event.project);
        break;
      case 'recent.changed':
        this.recent = event.recent;
        break;
    }
  }

  /**
   * Tells `follower` the open project's path at every change. Registered while the follower is
   * being built, so a project already open is told on the next microtask, once it is complete.
   */
  addFollower(follower: ProjectFollower): void {
    this.#followers.push(follower);
    if (this.project) queueMicrotask(() => follower.follow(this.project?.path ?? null));
  }

  private setProject(project: ProjectSummary | null): void {
    if (project?.path !== this.project?.path) this.exportDir = undefined;
    this.project = project;
    const path = project?.path ?? null;
    for (const f of this.#followers) f.follow(path);
  }

  /**
   * Calls the service for a user action: clears the old error, shows a new one in the alert
   * region, returns the value or null. Every state class's actions go through here.
   */
  async call<M extends Method>(method: M, params: Params<M>): Promise<ResultOf<M> | null> {
    this.error = null;
    const result = await this.backend.call(method, params);
    if (!result.ok) {
      this.error = result.error;
      return null;
    }
    return result.value;
  }

  /** A user action of this class: `call`, with `busy` set meanwhile. */
  private async act<M extends Method>(method: M, params: Params<M>): Promise<ResultOf<M> | null> {
    this.busy = true;
    try {
      return await this.call(method, params);
    } finally {
      this.busy = false;
    }
  }

  /** Before an export chooser opens: its start folder (asks the service once per project). */
  async prepareExportDir(): Promise<string | undefined> {
    if (this.exportDir === undefined && this.project) {
      const r = await this.backend.call('project.exportFolder', {});
      if (r.ok) this.exportDir = r.value.dir;
    }
    return this.exportDir;
  }

  async create(path: string, name?: string): Promise<boolean> {
    const summary = await this.act('project.create', name ? { path, name } : { path });
    if (summary) this.setProject(summary);
    return summary !== null;
  }

  async open(path: string): Promise<boolean> {
    const summary = await this.act('project.open', { path });
    if (summary) this.setProject(summary);
    return summary !== null;
  }

  async close(): Promise<void> {
    if ((await this.act('project.close', {})) === null && this.error === null) this.setProject(null);
  }

  async forget(path: string): Promise<void> {
    const recent = await this.act('project.forget', { path });
    if (recent) this.recent = recent;
  }

  /** Desktop: the native dialog, then create or open what was picked. */
  async pickAndOpen(): Promise<void> {
    const picked = await this.act('dialog.pickProject', { mode: 'open' });
    if (picked?.path) await this.open(picked.path);
  }

  async pickAndCreate(suggestedName?: string): Promise<void> {
    const picked = await this.act('dialog.pickProject', suggestedName ? { mode: 'create', suggestedName } : { mode: 'create' });
    if (picked?.path) await this.create(picked.path);
  }

  /** Shows an error that did not come from a call (e.g. the chooser could not list a folder). */
  report(error: ApiError): void {
    this.error = error;
  }

  dismissError(): void {
    this.error = null;
  }
}
