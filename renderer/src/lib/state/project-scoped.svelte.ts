/**
 * The base of every state that describes the open project (dataset, training, gallery, models).
 * It holds what each of them did on its own before:
 * - following the open project: the studio tells it when the project changes (`follow`), once
 *   for the whole renderer — a different project (or none) starts from scratch (`reset`, then
 *   `load`), the same one again changes nothing;
 * - the generation guard: a `ticket()` taken before a call is stale once the project changed, so
 *   an answer about a project no longer open is dropped (`read` does that for plain reads);
 * - `act()`: a user action through `StudioState.call` (the error shown in the alert region), with
 *   `busy` set meanwhile;
 * - loading again when the link comes back (events may have been missed while it was down).
 */
import type { Method, Params, ResultOf, StudioEvent } from '../../../../core/api/contract.js';
import type { IBackend } from '../backend/backend.js';
import { Generation } from './generation.js';
import type { ProjectFollower, StudioState } from './studio.svelte.js';

export abstract class ProjectScopedState implements ProjectFollower {
  readonly backend: IBackend;
  readonly studio: StudioState;
  /** A call the user made is in flight. */
  busy = $state(false);

  #projectPath: string | null = null;
  /** Bumped when the project changes: answers from before are dropped. */
  readonly #project = new Generation();

  constructor(backend: IBackend, studio: StudioState) {
    this.backend = backend;
    this.studio = studio;
    backend.subscribe((event) => this.apply(event));
    backend.onConnection((status) => {
      if (status.state === 'open' && this.#projectPath !== null) void this.load(); // events may have been missed
    });
    studio.addFollower(this);
  }

  /** The project this state describes; null when none is open. */
  get projectPath(): string | null {
    return this.#projectPath;
  }

  /** Called by the studio whenever the open project changes (and once at the start). */
  follow(projectPath: string | null): void {
    if (projectPath === this.#projectPath) return;
    this.#projectPath = projectPath;
    this.#project.bump();
    this.reset();
    if (projectPath !== null) void this.load();
  }

  /** Forgets everything about the previous project. */
  protected abstract reset(): void;

  /** Loads what this state shows for the open project. */
  abstract load(): Promise<void>;

  /** A service event (the project's own changes arrive through `follow`, not here). */
  protected abstract apply(event: StudioEvent): void;

  /** A check that stays true while the same project is open. */
  protected ticket(): () => boolean {
    return this.#project.ticket();
  }

  /**
   * A read for the open project, not a user action: the value, or null when the project changed
   * meanwhile (dropped) or the call failed (shown, unless it only says no project is open).
   */
  protected async read<M extends Method>(method: M, params: Params<M>): Promise<ResultOf<M> | null> {
    const current = this.ticket();
    const result = await this.backend.call(method, params);
    if (!current()) return null;
    if (!result.ok) {
      if (result.error.code !== 'no-project') this.studio.report(result.error);
      return null;
    }
    return result.value;
  }

  /** One user action: through StudioState.call (errors shown), with `busy` set meanwhile. */
  protected async act<M extends Method>(method: M, params: Params<M>): Promise<ResultOf<M> | null> {
    this.busy = true;
    try {
      return await this.studio.call(method, params);
    } finally {
      this.busy = false;
    }
  }
}
