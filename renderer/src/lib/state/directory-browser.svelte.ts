/**
 * The browser mode's folder browsing, on top of `files.list`, shared by the two choosers (the
 * project/export chooser and the import-source chooser): the folder shown, whether a listing is
 * on its way, and why the last one failed. One folder at a time under the root the server
 * offers; only the newest request's answer is shown (a quick double click cannot land in the
 * folder asked for first).
 */
import type { DirListing, FileEntry } from '../../../../core/api/contract.js';
import type { IBackend } from '../backend/backend.js';
import { Generation } from './generation.js';

export class DirectoryBrowser {
  /** The folder shown; null until the first listing comes. */
  listing = $state.raw<DirListing | null>(null);
  loading = $state(false);
  /** Why the last listing failed (shown above the list), or null. */
  problem = $state<string | null>(null);
  readonly entries: FileEntry[] = $derived(this.listing?.entries ?? []);
  /** There is a folder above this one (the root has none) and nothing is loading. */
  readonly canGoUp: boolean = $derived(!!this.listing?.parent && !this.loading);

  readonly #backend: Pick<IBackend, 'call'>;
  readonly #onlisted: ((listing: DirListing) => void) | undefined;
  readonly #requests = new Generation();

  /** `onlisted` is told each folder shown (the chooser resets its cursor, the studio remembers it for the next chooser). */
  constructor(backend: Pick<IBackend, 'call'>, onlisted?: (listing: DirListing) => void) {
    this.#backend = backend;
    this.#onlisted = onlisted;
  }

  /**
   * Lists `dir` (the root with undefined). With `fallbackToRoot`, a folder that cannot be listed
   * (moved, deleted, outside the root) shows the root instead of an error: for the first folder,
   * which comes from an earlier chooser.
   */
  async open(dir: string | undefined, fallbackToRoot = false): Promise<void> {
    this.#requests.bump();
    const current = this.#requests.ticket();
    this.loading = true;
    const result = await this.#backend.call('files.list', dir === undefined ? {} : { dir });
    if (!current()) return; // another folder was asked for meanwhile
    this.loading = false;
    if (!result.ok) {
      if (fallbackToRoot && dir !== undefined) return this.open(undefined);
      this.problem = result.error.message;
      return;
    }
    this.problem = null;
    this.listing = result.value;
    this.#onlisted?.(result.value);
  }

  /** The folder above, if there is one. */
  up(): void {
    const parent = this.listing?.parent;
    if (parent) void this.open(parent);
  }
}
