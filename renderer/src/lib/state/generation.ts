/**
 * A generation counter that drops stale answers: take a ticket before a call, check it when the
 * answer comes; a `bump()` in between (another project, another run, another filter) makes every
 * earlier ticket stale. Plain TypeScript: nothing here needs to be reactive.
 */
export class Generation {
  #n = 0;

  /** Makes every ticket taken so far stale. */
  bump(): void {
    this.#n++;
  }

  /** A check that stays true until the next `bump()`. */
  ticket(): () => boolean {
    const n = this.#n;
    return () => n === this.#n;
  }
}
