/**
 * Health signals, from what the loop already reports each tick (the field's practice: watch D's
 * accuracy and logits, not the losses alone) and from each evaluation's collapse statistic. Each
 * alert is two plain sentences: what happened, what to do.
 *
 *   d-overfit      r_t ≥ 0.9 (D calls nearly every real real, ADA's overfitting heuristic), or D
 *                  right about ≥ 99% of reals and ≥ 99% of fakes, for `overfitTicks` ticks in a row.
 *   mode-collapse  the generated images' mean pairwise feature distance, relative to the dataset's,
 *                  falls below `collapseRatio` and below `collapseDrop` of its best value so far
 *                  (an untrained G starts low and rises; that is not collapse).
 *   diverged       a loss or logit is NaN or ±∞, or explodes past `explodeAt`: the run pauses
 *                  itself, without a checkpoint of the broken weights.
 *
 * An alert is raised once when its condition starts; it can be raised again after the condition
 * has cleared. A session that resumes a run picks up its history (`resume`): the best diversity so
 * far, and the alerts raised before whose condition has not cleared since. (An evaluation that
 * fails is an 'evaluation-failed' alert from core/evaluation/in-training.ts.)
 */
import type { AlertSeverity } from '../api/contract.js';
import type { NewAlert } from '../store/metrics.js';

export type AlertCode = 'd-overfit' | 'mode-collapse' | 'diverged';

export interface HealthOptions {
  /** r_t at or above this counts towards D overfitting (ADA's target is 0.6). */
  overfitRt: number;
  /** Share of reals and of fakes D gets right at or above this counts too. */
  separatedAcc: number;
  /** Ticks in a row before the overfitting alert. */
  overfitTicks: number;
  /** Generated diversity / dataset diversity below this may be collapse… */
  collapseRatio: number;
  /** …when it is also below this share of its best value so far. */
  collapseDrop: number;
  /** A loss or mean logit past ±this has exploded. */
  explodeAt: number;
}

export const DEFAULT_HEALTH: HealthOptions = {
  overfitRt: 0.9,
  separatedAcc: 0.99,
  overfitTicks: 20,
  collapseRatio: 0.5,
  collapseDrop: 0.7,
  explodeAt: 1e4,
};

/** What the messages may mention about the run. */
export interface HealthContext {
  /** ADA adapting its strength (the advice differs). */
  ada: boolean;
  /** The best snapshot so far, for "resume from …" advice. */
  best(): { kimg: number } | null;
  /** The newest checkpoint. */
  lastCheckpoint(): { kimg: number } | null;
}

/** The statistics a divergence is checked on. */
const WATCHED = ['Loss/G', 'Loss/D', 'Loss/R1', 'D/logit/real', 'D/logit/fake'];

const fmt = (v: number, digits = 2): string => (Math.abs(v) >= 1e4 ? v.toExponential(1) : v.toFixed(digits));
const kimgText = (k: number): string => `${Number(k.toFixed(3))} kimg`;

export interface Divergence {
  stat: string;
  value: number;
}

/** The first watched statistic that is not finite or has exploded, or null. */
export function findDivergence(stats: Readonly<Record<string, number>>, explodeAt = DEFAULT_HEALTH.explodeAt): Divergence | null {
  for (const name of WATCHED) {
    const v = stats[name];
    if (v === undefined) continue;
    if (!Number.isFinite(v)) return { stat: name, value: v };
  }
  for (const name of WATCHED) {
    const v = stats[name];
    if (v !== undefined && Math.abs(v) > explodeAt) return { stat: name, value: v };
  }
  return null;
}

/** What a run's earlier sessions left: `resume` picks up from it. */
export interface HealthHistory {
  /** 'Metrics/diversity' of the run's training evaluations. */
  diversity: ReadonlyArray<{ kimg: number; ratio: number }>;
  /** The alerts raised so far, oldest first. */
  alerts: ReadonlyArray<{ kimg: number; code: string }>;
  /** Tick statistics, at least those after the newest 'd-overfit' alert. */
  ticks: ReadonlyArray<{ kimg: number; stats: Readonly<Record<string, number>> }>;
}

export class HealthMonitor {
  private readonly o: HealthOptions;
  private overfitRun = 0;
  private overfitRaised = false;
  private bestDiversity = -Infinity;
  private collapseRaised = false;

  constructor(
    private readonly ctx: HealthContext,
    options: Partial<HealthOptions> = {},
  ) {
    this.o = { ...DEFAULT_HEALTH, ...options };
  }

  /**
   * Continues from the run's history: a collapse is measured against the best diversity of the
   * whole run, and an alert already raised is not raised again while its condition lasts.
   */
  resume(h: HealthHistory): void {
    for (const d of h.diversity) if (Number.isFinite(d.ratio)) this.bestDiversity = Math.max(this.bestDiversity, d.ratio);
    const newest = (code: AlertCode): { kimg: number } | undefined => h.alerts.filter((a) => a.code === code).at(-1);
    const collapse = newest('mode-collapse');
    this.collapseRaised = collapse !== undefined && !h.diversity.some((d) => d.kimg > collapse.kimg && d.ratio >= this.o.collapseRatio);
    const overfit = newest('d-overfit');
    this.overfitRaised = overfit !== undefined && !h.ticks.some((t) => t.kimg > overfit.kimg && !this.overfitting(t.stats));
  }

  /** Whether a tick's statistics count towards D overfitting. */
  private overfitting(stats: Readonly<Record<string, number>>): boolean {
    const rt = stats['r_t'];
    const accReal = stats['D/acc/real'];
    const accFake = stats['D/acc/fake'];
    const rtHigh = rt !== undefined && rt >= this.o.overfitRt;
    const separated = accReal !== undefined && accFake !== undefined && accReal >= this.o.separatedAcc && accFake >= this.o.separatedAcc;
    return rtHigh || separated;
  }

  /** One tick's means (STAT names). Returns the alerts it raises (a divergence is reported by `diverged`). */
  observeTick(kimg: number, stats: Readonly<Record<string, number>>): NewAlert[] {
    const out: NewAlert[] = [];
    const rt = stats['r_t'];
    const accReal = stats['D/acc/real'];
    const accFake = stats['D/acc/fake'];
    const rtHigh = rt !== undefined && rt >= this.o.overfitRt;
    if (this.overfitting(stats)) this.overfitRun++;
    else {
      this.overfitRun = 0;
      this.overfitRaised = false;
    }
    if (this.overfitRun >= this.o.overfitTicks && !this.overfitRaised) {
      this.overfitRaised = true;
      const n = this.overfitRun;
      const what = rtHigh
        ? `The discriminator has memorised your images (r_t ${fmt(rt!)} for ${n} ticks): it calls nearly every real image real, so it no longer teaches the generator.`
        : `The discriminator has memorised your images: for ${n} ticks it told ${Math.round(accReal! * 100)}% of the real images and ${Math.round(accFake! * 100)}% of the generated ones apart.`;
      const todo = this.ctx.ada
        ? 'Raise ADA’s target (advanced) in a new run started from the best snapshot, or add more images.'
        : 'Turn on ADA (the ADA preset) in a new run started from the best snapshot, or add more images.';
      out.push({ kimg, code: 'd-overfit', severity: 'warning', what, todo });
    }
    return out;
  }

  /** One evaluation's 'Metrics/diversity' (generated spread / dataset spread). */
  observeDiversity(kimg: number, ratio: number): NewAlert[] {
    if (!Number.isFinite(ratio)) return [];
    const best = this.bestDiversity;
    this.bestDiversity = Math.max(best, ratio);
    const collapsing = ratio < this.o.collapseRatio && ratio < this.o.collapseDrop * best;
    if (!collapsing) {
      if (ratio >= this.o.collapseRatio) this.collapseRaised = false;
      return [];
    }
    if (this.collapseRaised) return [];
    this.collapseRaised = true;
    const bestSnapshot = this.ctx.best();
    return [
      {
        kimg,
        code: 'mode-collapse',
        severity: 'warning',
        what: `The samples are collapsing to a few look-alikes: they now differ from each other ${Math.round(ratio * 100)}% as much as your images do (it was ${Math.round(best * 100)}%).`,
        todo: `Start a new run from the best snapshot${bestSnapshot ? ` (at ${kimgText(bestSnapshot.kimg)})` : ''} with ADA on or lower learning rates (advanced), or add more images.`,
      },
    ];
  }

  /** The alert for a divergence: the run pauses itself. */
  diverged(kimg: number, d: Divergence): NewAlert {
    const what = Number.isFinite(d.value)
      ? `Training diverged (${d.stat} reached ${fmt(d.value)} at ${kimgText(kimg)}) and paused itself; no checkpoint was written from the broken weights.`
      : `Training diverged (${Number.isNaN(d.value) ? 'NaN' : d.value > 0 ? '+∞' : '−∞'} in ${d.stat} at ${kimgText(kimg)}) and paused itself; no checkpoint was written from the broken weights.`;
    const best = this.ctx.best();
    const last = this.ctx.lastCheckpoint();
    const todo = best
      ? `Resume from the best snapshot (at ${kimgText(best.kimg)}): it continues on a fresh random stream; if it diverges again, start a new run from it with lower learning rates (advanced).`
      : last
        ? `Resume from the last checkpoint (at ${kimgText(last.kimg)}); if it diverges again, start a new run from it with lower learning rates (advanced).`
        : 'Start a new run with lower learning rates (advanced): this one had not saved a checkpoint yet.';
    return { kimg, code: 'diverged', severity: 'critical' as AlertSeverity, what, todo };
  }
}
