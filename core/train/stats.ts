/**
 * Training statistics by hierarchical name, StyleGAN2-ADA's `training_stats` habit: anything
 * reports a value under a name, and once per tick the loop collects the mean of each name since
 * the last tick, which the worker writes to the project file (metrics table) and sends as progress.
 */

/** The names every run reports (the Train view charts these). */
export const STAT = {
  lossG: 'Loss/G', // Gmain loss
  lossD: 'Loss/D', // Dmain loss (fake + real terms)
  lossR1: 'Loss/R1', // mean R1 penalty ‖∇D(x)‖², on Dreg steps
  accReal: 'D/acc/real', // share of reals D calls real (logit > 0)
  accFake: 'D/acc/fake', // share of fakes D calls fake (logit < 0)
  logitReal: 'D/logit/real', // mean logit on reals
  logitFake: 'D/logit/fake', // mean logit on fakes
  rt: 'r_t', // E[sign(D(real))]: ADA's overfitting heuristic
  imgPerSec: 'img_s', // reals shown to D per second over the tick
} as const;

export type StatName = (typeof STAT)[keyof typeof STAT];

/** Collects values by name; `collect()` gives each name's mean since the last collect. */
export class StatsCollector {
  private readonly sums = new Map<string, { sum: number; n: number }>();

  /** Adds `value` (weighted `weight`, e.g. the images it covers) under `name`. */
  report(name: string, value: number, weight = 1): void {
    const s = this.sums.get(name) ?? { sum: 0, n: 0 };
    s.sum += value * weight;
    s.n += weight;
    this.sums.set(name, s);
  }

  /** Means since the last collect (NaN stays NaN: the store writes it as NULL), then starts over. */
  collect(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [name, { sum, n }] of [...this.sums.entries()].sort(([a], [b]) => a.localeCompare(b))) out[name] = n > 0 ? sum / n : NaN;
    this.sums.clear();
    return out;
  }

  /** Forgets what was reported since the last collect. */
  reset(): void {
    this.sums.clear();
  }
}
