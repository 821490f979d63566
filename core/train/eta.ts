/**
 * A steady "time left": the speed is measured over training steps only — never the first steps of
 * a session (graph compilation, kernel warm-up: a resumed run's first step can take seconds), never
 * checkpoints, previews or evaluations — as images over seconds within a sliding window of recent
 * steps; the time left is the images left at that speed plus what the planned evaluations still
 * cost, and the shown value follows a countdown that moves only when the estimate drifts away from
 * it by more than a tenth.
 */

export interface EtaOptions {
  /** Steps of each session left out of the speed (compilation, warm-up); default 3. */
  warmupSteps?: number;
  /** Seconds of step time the speed averages over; default 60 (a minute of steps: R1 steps and hiccups average out, a machine that really slows down shows within a minute). */
  windowSeconds?: number;
  /** How far the estimate may drift from the countdown before the countdown moves to it (share); default 0.1. */
  tolerance?: number;
}

export class EtaEstimator {
  private readonly warmup: number;
  private readonly window: number;
  private readonly tolerance: number;
  private seen = 0;
  private readonly steps: Array<{ images: number; seconds: number }> = [];
  private images = 0;
  private seconds = 0;
  /** The countdown shown: seconds left as of `shownAt` (wall-clock seconds). */
  private shown: number | null = null;
  private shownAt = 0;

  constructor(o: EtaOptions = {}) {
    this.warmup = o.warmupSteps ?? 3;
    this.window = o.windowSeconds ?? 60;
    this.tolerance = o.tolerance ?? 0.1;
  }

  /** One training step: `images` shown to D in `seconds` of step time. */
  step(images: number, seconds: number): void {
    this.seen++;
    if (this.seen <= this.warmup || !(seconds > 0) || !(images > 0)) return;
    this.steps.push({ images, seconds });
    this.images += images;
    this.seconds += seconds;
    // Keep the recent window (at least 2 steps).
    while (this.steps.length > 2 && this.seconds - this.steps[0]!.seconds >= this.window) {
      const old = this.steps.shift()!;
      this.images -= old.images;
      this.seconds -= old.seconds;
    }
  }

  /** Images per second of training, or null during warm-up. */
  rate(): number | null {
    return this.steps.length > 0 && this.seconds > 0 ? this.images / this.seconds : null;
  }

  /**
   * Seconds left at `now` (wall-clock seconds): `imagesLeft` at the measured speed plus `extraSeconds`
   * (evaluations still planned), smoothed as a countdown. Null until the speed is known.
   */
  eta(imagesLeft: number, now: number, extraSeconds = 0): number | null {
    const r = this.rate();
    if (r === null) return null;
    const estimate = Math.max(0, imagesLeft / r + Math.max(0, extraSeconds));
    const countdown = this.shown === null ? null : Math.max(0, this.shown - (now - this.shownAt));
    if (countdown === null || Math.abs(estimate - countdown) > this.tolerance * Math.max(estimate, 30)) {
      this.shown = estimate;
      this.shownAt = now;
      return Math.round(estimate);
    }
    return Math.round(countdown);
  }
}
