/**
 * The live series of one run, for its charts: fetched whole once, then extended — each fetch asks
 * only for the points after the last kimg held (`afterKimg`), and the points that come back are
 * appended to each series. A progress event asks for a fetch (`schedule`: at most one per
 * `minIntervalMs`, one in flight at a time); another run empties the feed (`reset`); an answer
 * that must replace what is shown (an evaluation wrote values at a kimg already reached, a resumed
 * run redoes ticks) is asked for with `restart`, and the old points stay on screen until it comes.
 *
 * The series live outside Svelte's proxies (a chart reads thousands of points; nothing should wrap
 * them) and `version` says when they changed.
 */
import type { Series } from '../charts.js';
import { Generation } from './generation.js';

/**
 * Fetches the points after `afterKimg` (all of them when undefined), by series name; null when
 * there is nothing to add (failed, or no longer wanted). `current()` turns false once the feed has
 * started over, so the loader can drop what else came with the answer.
 */
export type SeriesLoader = (afterKimg: number | undefined, current: () => boolean) => Promise<Record<string, Series> | null>;

export class SeriesFeed {
  /** The series by name; grows in place (see `version`). Plain on purpose: charts read thousands of points. */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  readonly series = new Map<string, Series>();
  /** Bumped whenever `series` changed: charts redraw on it. */
  version = $state(0);

  readonly #load: SeriesLoader;
  readonly #minIntervalMs: number;
  /** Highest kimg of any point held (the next `afterKimg`); -1: none, ask for everything. */
  #kimg = -1;
  /** Bumped when the feed starts over: answers asked for before are dropped. */
  readonly #epoch = new Generation();
  /** The next answer replaces the series instead of extending them. */
  #replace = false;
  #loading = false;
  #again = false;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #lastFetch = Number.NEGATIVE_INFINITY;

  constructor(load: SeriesLoader, minIntervalMs = 400) {
    this.#load = load;
    this.#minIntervalMs = minIntervalMs;
  }

  /** What the next fetch asks after: the last kimg held, or undefined for everything. */
  get afterKimg(): number | undefined {
    return this.#kimg < 0 ? undefined : this.#kimg;
  }

  /** Another run (or none): empty at once, and the next fetch asks for everything. */
  reset(): void {
    this.series.clear();
    this.restart();
    this.#replace = false;
    this.version++;
  }

  /** The next fetch asks for every point and replaces what is shown when it arrives (no blank charts meanwhile). */
  restart(): void {
    this.#epoch.bump();
    this.#kimg = -1;
    this.#replace = true;
    this.#cancelTimer();
  }

  /** Appends, per series, the points after the last one it holds; true when any was new. */
  append(incoming: Readonly<Record<string, Series>>): boolean {
    let changed = false;
    for (const [name, points] of Object.entries(incoming)) {
      let s = this.series.get(name);
      if (!s) this.series.set(name, (s = []));
      const last = s.length > 0 ? s[s.length - 1]![0] : -Infinity;
      for (const point of points) {
        if (point[0] <= last) continue;
        s.push(point);
        changed = true;
        if (point[0] > this.#kimg) this.#kimg = point[0];
      }
    }
    if (changed) this.version++;
    return changed;
  }

  /** A fetch soon: at once when the last one was long enough ago, else once the interval has passed. */
  schedule(): void {
    if (this.#timer !== null) return;
    const wait = Math.max(0, this.#lastFetch + this.#minIntervalMs - Date.now());
    this.#timer = setTimeout(() => {
      this.#timer = null;
      void this.fetch();
    }, wait);
  }

  /** One fetch at a time: asked for while one is in flight, it runs again once that one is back. */
  async fetch(): Promise<void> {
    if (this.#loading) {
      this.#again = true;
      return;
    }
    const current = this.#epoch.ticket();
    this.#loading = true;
    this.#lastFetch = Date.now();
    let incoming: Record<string, Series> | null;
    try {
      incoming = await this.#load(this.afterKimg, current);
    } finally {
      this.#loading = false;
    }
    // Asked for again meanwhile, or the feed started over (another run, a resume): once more.
    const again = this.#again || !current();
    this.#again = false;
    if (again) this.schedule();
    if (incoming === null || !current()) return;
    if (this.#replace) {
      this.#replace = false;
      this.series.clear();
      this.version++;
    }
    this.append(incoming);
  }

  #cancelTimer(): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
