/**
 * Metrics while a run trains, as the train worker's session drives them: evaluations of G_ema at
 * checkpoints (so the best snapshot is always a real checkpoint, marked and kept through pruning),
 * inside a time budget, and the health monitor fed by every tick and every evaluation (and, at the
 * start of a session, by the run's stored history).
 *
 * The budget: evaluations take at most `budget` of the session's projected training time
 * (measured speed × kimg left), spent at a pace: an evaluation that is due runs when the time
 * spent evaluating, plus what this one is expected to take, stays within the share of the budget
 * the run has reached (plus one planned evaluation's worth, so the first can pay for the dataset's
 * features), and leaves enough for an evaluation at the last checkpoint, which always gets one
 * when it fits the whole budget (`evaluationFits`). Its cost is predicted from the extractor's
 * speed (measured by the previous evaluation; before that, a prior by backend and extractor) and
 * the images it must look at (the dataset's, until they are cached, and the generated ones; the
 * first also measures the quality scale's ends). On CPU backends runs are judged by the bundled
 * MobileNetV2 at 128² (~15 features/s on wasm here, against ~2 for the InceptionV3), so even a
 * short CPU run gets several evaluations.
 */
import type Database from 'better-sqlite3';
import type { BestSnapshot, EvaluationSummary, RunAlert } from '../api/contract.js';
import { Generator } from '../nets/generator.js';
import type { NetConfig } from '../api/run-config.js';
import { MetricsStore } from '../store/metrics.js';
import { RunStore } from '../store/runs.js';
import { evaluateGenerator, type EvaluationOutcome, sampleRealIds } from './evaluate.js';
import { type Divergence, type HealthHistory, HealthMonitor, type HealthOptions } from '../metrics/health.js';
import { bundledExtractorId } from '../metrics/extractor-info.js';
import { evaluationOverhead, type MetricsConfig, PLANNED_EVALUATIONS, planSizes } from '../metrics/options.js';
import { currentBest, rankOf, shownValue } from './best.js';
import { METRICS } from '../metrics/registry.js';

/**
 * Features per second before the first evaluation has measured it, by extractor and backend
 * (bench/metrics.ts on wasm, 2 shared cores: InceptionV3 at 299² ~2, MobileNetV2 at 128² ~14).
 */
const PRIOR_RATE: Record<'inception' | 'mobilenet', Record<string, number>> = {
  inception: { 'tensorflow-gpu': 200, webgpu: 20, tensorflow: 15, wasm: 2, cpu: 0.05 },
  mobilenet: { 'tensorflow-gpu': 1000, webgpu: 150, tensorflow: 100, wasm: 12, cpu: 0.4 },
};

/** Whether an evaluation that is due fits the budget now (see the file's comment); pure, for tests. */
export interface ScheduleInput {
  /** Share of training time evaluations may take (0: no limit). */
  budget: number;
  /** Seconds trained in this session so far, and this session's projected total. */
  trainSeconds: number;
  projectedSeconds: number;
  /** How far through this session's kimg the run is, 0–1. */
  progress: number;
  /** Seconds spent evaluating in this session. */
  spent: number;
  /** This evaluation's predicted seconds. */
  predicted: number;
  /** Of those, what is paid once (dataset features not cached yet, the scale's ends): outside the pace, inside the budget. */
  oneTime?: number;
  /** The run's last checkpoint. */
  final: boolean;
  /** What an evaluation at the last checkpoint should cost (kept free for it). */
  finalReserve: number;
  /** Evaluations the sizes were planned for. */
  planned: number;
}

export function evaluationFits(i: ScheduleInput): boolean {
  if (i.budget <= 0) return true;
  const total = i.budget * Math.max(i.projectedSeconds, i.trainSeconds);
  // The last checkpoint: whatever is left of the whole budget.
  if (i.final) return i.spent + i.predicted <= total;
  const paced = total * Math.min(1, Math.max(0, i.progress) + 1 / Math.max(1, i.planned));
  return i.spent + i.predicted <= paced + (i.oneTime ?? 0) && i.spent + i.predicted + i.finalReserve <= total;
}

export interface RunMetricsOptions {
  db: Database.Database;
  runId: number;
  /** The run's metrics settings; automatic sizes are decided in place at the first checkpoint (the caller saves them). */
  metrics: MetricsConfig;
  /** The run's plan: where this session starts, where it ends, kimg between checkpoints. */
  startKimg: number;
  kimgTotal: number;
  kimgPerCheckpoint: number;
  /** The sizes were decided (`metrics` changed): keep them with the run. */
  onSized?(m: MetricsConfig): void;
  /** The run's seed: the evaluation's latents. */
  seed: number;
  conditional: boolean;
  /** Backend name (for the speed prior). */
  backend: string;
  /** The run's networks: the untrained generator (the quality scale's 0) is built from it. */
  net?: NetConfig;
  /** Uses ADA's adaptive strength (the overfitting advice differs). */
  ada: boolean;
  health?: Partial<HealthOptions>;
  log(line: string): void;
}

export interface EvaluationResult {
  evaluation: EvaluationSummary;
  /** This evaluation made its checkpoint the best. */
  best: boolean;
  alerts: RunAlert[];
}

export class RunMetrics {
  readonly health: HealthMonitor;
  private readonly runs: RunStore;
  private readonly store: MetricsStore;
  private trainSeconds = 0;
  private evalSeconds = 0;
  private rate: number;
  private checkpoints = 0;
  private bestSnapshot: BestSnapshot | null;
  /** The best snapshot's rank (METRICS[metric].rank: lower is better). */
  private bestRank = Infinity;
  /** Why evaluations failed in this session (each is an alert once). */
  private readonly failedReasons = new Set<string>();

  constructor(private readonly o: RunMetricsOptions) {
    this.runs = new RunStore(o.db);
    this.store = new MetricsStore(o.db);
    this.rate = PRIOR_RATE[o.metrics.features]?.[o.backend] ?? 1;
    this.bestSnapshot = currentBest(this.runs, this.store, o.runId, o.metrics);
    if (this.bestSnapshot) this.bestRank = rankOf(this.bestSnapshot);
    this.health = new HealthMonitor(
      {
        ada: o.ada,
        best: () => this.bestSnapshot,
        lastCheckpoint: () => this.runs.listCheckpoints(o.runId).at(-1) ?? null,
      },
      o.health,
    );
    this.health.resume(this.history());
  }

  /** What the run's earlier sessions left for the health monitor (a resume, a branch). */
  private history(): HealthHistory {
    const alerts = this.store.alerts(this.o.runId);
    const diversity = this.store
      .evaluations(this.o.runId)
      .filter((e) => e.source === 'training' && e.metrics['Metrics/diversity'] !== undefined)
      .map((e) => ({ kimg: e.kimg, ratio: e.metrics['Metrics/diversity']! }));
    // The ticks since the newest overfitting alert (has it cleared since?).
    const overfit = alerts.filter((a) => a.code === 'd-overfit').at(-1);
    const ticks = new Map<number, Record<string, number>>();
    if (overfit) {
      for (const [name, points] of Object.entries(this.runs.metricSeries(this.o.runId, overfit.kimg))) {
        for (const [kimg, value] of points) {
          if (value === null) continue;
          let stats = ticks.get(kimg);
          if (!stats) ticks.set(kimg, (stats = {}));
          stats[name] = value;
        }
      }
    }
    return { alerts, diversity, ticks: [...ticks].map(([kimg, stats]) => ({ kimg, stats })) };
  }

  get best(): BestSnapshot | null {
    return this.bestSnapshot;
  }

  /** A tick's statistics: the health signals, and its seconds of training for the budget. Stores and returns new alerts. */
  tick(kimg: number, stats: Readonly<Record<string, number>>, seconds: number): RunAlert[] {
    if (Number.isFinite(seconds)) this.trainSeconds += seconds;
    return this.health.observeTick(kimg, stats).map((a) => this.store.addAlert(this.o.runId, a));
  }

  /** An evaluation failed (the run goes on): an alert says so, once per reason in a session (null: already said). */
  failed(kimg: number, err: unknown): RunAlert | null {
    const reason = ((err as Error)?.message ?? String(err)).split('\n')[0]!.replace(/\.$/, '');
    this.o.log(`run ${this.o.runId}: evaluation at ${kimg.toFixed(3)} kimg failed: ${reason}`);
    if (this.failedReasons.has(reason)) return null;
    this.failedReasons.add(reason);
    return this.store.addAlert(this.o.runId, {
      kimg,
      code: 'evaluation-failed',
      severity: 'info',
      what: `The metrics could not be computed at ${Number(kimg.toFixed(3))} kimg: ${reason}.`,
      todo: 'Training goes on; fix what the message names (or turn evaluations off in a new run: the advanced settings apply to new runs), and evaluate the checkpoint again from its list.',
    });
  }

  /** The run diverged: the stored alert. */
  diverged(kimg: number, d: Divergence): RunAlert {
    return this.store.addAlert(this.o.runId, this.health.diverged(kimg, d));
  }

  /**
   * Whether the checkpoint about to be saved should be evaluated (counts checkpoints; checks the
   * budget). The first one decides the automatic sizes (asked before it is saved: it records them).
   */
  due(reason: 'interval' | 'done', kimg: number): boolean {
    const m = this.o.metrics;
    if (m.everyCheckpoints <= 0) return false;
    this.checkpoints++;
    if (m.budget > 0 && m.autoSize) this.size(kimg);
    if (reason !== 'done' && this.checkpoints % m.everyCheckpoints !== 0) return false;
    if (m.budget <= 0) return true;
    const predicted = this.predictedSeconds();
    const projected = this.projectedSeconds(kimg);
    const span = this.o.kimgTotal - this.o.startKimg;
    const fits = evaluationFits({
      budget: m.budget,
      trainSeconds: this.trainSeconds,
      projectedSeconds: projected,
      progress: span > 0 ? (kimg - this.o.startKimg) / span : 1,
      spent: this.evalSeconds,
      predicted,
      oneTime: predicted - this.o.metrics.fakes / this.rate - evaluationOverhead(m.features),
      final: reason === 'done',
      finalReserve: this.o.metrics.fakes / this.rate + evaluationOverhead(m.features),
      planned: PLANNED_EVALUATIONS,
    });
    if (fits) return true;
    this.o.log(`run ${this.o.runId}: evaluation at ${kimg.toFixed(3)} kimg left for later (about ${predicted.toFixed(0)} s; ${(m.budget * 100).toFixed(0)}% of the ~${projected.toFixed(0)} s this session trains allows ${Math.max(0, m.budget * projected - this.evalSeconds).toFixed(0)} s more, paced over the run)`);
    return false;
  }

  /** This session's training seconds: so far, plus the kimg left at the speed so far. */
  private projectedSeconds(kimg: number): number {
    const trained = kimg - this.o.startKimg;
    if (trained <= 0 || this.trainSeconds <= 0) return this.trainSeconds;
    return this.trainSeconds + Math.max(0, this.o.kimgTotal - kimg) * (this.trainSeconds / trained);
  }

  /**
   * Picks the evaluation sizes from the run's measured speed (once; kept with the run): the largest
   * with which the planned evaluations fit the budget of its projected training time.
   */
  private size(kimg: number): void {
    const m = this.o.metrics;
    const trained = kimg - this.o.startKimg;
    if (trained <= 0 || this.trainSeconds <= 0) return;
    const projected = this.projectedSeconds(kimg);
    const checkpointsLeft = 1 + Math.floor(Math.max(0, this.o.kimgTotal - kimg) / this.o.kimgPerCheckpoint + 1e-9);
    const plan = planSizes({
      reals: m.reals,
      fakes: m.fakes,
      images: sampleRealIds(this.o.db, Number.MAX_SAFE_INTEGER, this.o.conditional).length,
      budgetSeconds: m.budget * projected - this.evalSeconds,
      checkpointsLeft: Math.ceil(checkpointsLeft / m.everyCheckpoints),
      featuresPerSecond: this.rate,
      overhead: evaluationOverhead(m.features),
      uncached: (n) => this.uncachedReals(n),
      anchorsPending: m.anchors === undefined,
    });
    m.reals = plan.reals;
    m.fakes = plan.fakes;
    m.autoSize = false;
    this.o.onSized?.(m);
    this.o.log(
      `run ${this.o.runId}: evaluations sized to ${plan.reals} dataset and ${plan.fakes} generated images, so that ${plan.evaluations} of them (about ${plan.seconds.toFixed(0)} s) ` +
        `fit in ${(m.budget * 100).toFixed(0)}% of the ~${projected.toFixed(0)} s this run trains (features at ${this.rate.toFixed(2)}/s)`,
    );
  }

  /** Seconds the next evaluation should take: images not yet cached plus the generated ones (twice, while the scale's ends are unknown), at the known speed. */
  predictedSeconds(): number {
    const m = this.o.metrics;
    const anchors = this.anchorsKnown() ? 0 : m.fakes * 2; // the untrained generator's images, and other dataset images (at most)
    return (this.uncachedReals(m.reals) + m.fakes + anchors) / this.rate + evaluationOverhead(m.features);
  }

  private anchorsKnown(): boolean {
    const a = this.o.metrics.anchors;
    return a !== undefined && a.fakes === this.o.metrics.fakes && a.reals === Math.min(this.o.metrics.reals, sampleRealIds(this.o.db, this.o.metrics.reals, this.o.conditional).length);
  }

  private uncachedReals(count: number): number {
    const ids = sampleRealIds(this.o.db, count, this.o.conditional);
    // A custom extractor's id hashes its files, known once loaded: count its reals as not cached (the cost is overestimated, never under).
    if (this.o.metrics.extractor !== null) return ids.length;
    return ids.length - this.store.imageFeatures(bundledExtractorId(this.o.metrics.features), ids).size;
  }

  /**
   * Evaluates G_ema at checkpoint `checkpointId`: writes the `Metrics/…` series at its kimg, the
   * evaluation, the best mark, and collapse alerts. Null when `shouldStop` interrupted it.
   */
  async evaluate(G: Generator, checkpointId: number, kimg: number, o: { shouldStop: () => boolean; onProgress: (done: number, total: number) => void }): Promise<EvaluationResult | null> {
    const m = this.o.metrics;
    const t0 = performance.now();
    let outcome: EvaluationOutcome | null;
    // The speed it really goes at (the prior, or another process's load, may be off): stop early
    // when the rest would take it past the budget (dataset features done so far stay cached).
    let progress = { done: 0, total: 0 };
    // The speed is timed from the first batch done on (loading the extractor and its first, compiling batch are not its pace).
    let first: { done: number; at: number } | null = null;
    let overBudget = false;
    const shouldStop = (): boolean => {
      if (o.shouldStop()) return true;
      const now = performance.now();
      const elapsed = (now - t0) / 1000;
      overBudget =
        m.budget > 0 &&
        first !== null &&
        pastBudget({ done: progress.done - first.done, total: progress.total - first.done, elapsed: (now - first.at) / 1000, before: elapsed - (now - first.at) / 1000, spent: this.evalSeconds, allowed: m.budget * Math.max(this.trainSeconds, this.projectedSeconds(kimg)) });
      return overBudget;
    };
    // The quality scale's 0: the run's generator as it was built (its initial weights are seeded by the run's config).
    const untrained = this.anchorsKnown() || !this.o.net ? null : new Generator(this.o.net);
    try {
      outcome = await evaluateGenerator(
        this.o.db,
        G,
        { reals: m.reals, fakes: m.fakes, seed: this.o.seed, conditional: this.o.conditional, extractor: m.extractor, features: m.features, anchors: m.anchors ?? null, untrained },
        {
          shouldStop,
          onProgress: (done, total) => {
            progress = { done, total };
            first ??= { done, at: performance.now() };
            o.onProgress(done, total);
          },
        },
      );
    } finally {
      untrained?.dispose();
      const elapsed = (performance.now() - t0) / 1000;
      this.evalSeconds += elapsed;
      if (progress.done > 0 && elapsed > 0) this.rate = progress.done / elapsed;
    }
    if (outcome === null) {
      if (overBudget) {
        this.o.log(`run ${this.o.runId}: evaluation at ${kimg.toFixed(3)} kimg stopped after ${progress.done} of ${progress.total} images: at ${this.rate.toFixed(2)} features/s the rest would take it past ${(m.budget * 100).toFixed(0)}% of the training time (the dataset images done are kept for later)`);
      }
      return null;
    }
    if (Number.isFinite(outcome.featuresPerSecond) && outcome.featuresPerSecond > 0) this.rate = outcome.featuresPerSecond;
    // The scale's ends, measured now: kept with the run (its config), so later evaluations and sessions reuse them.
    if (outcome.anchors && outcome.anchors !== m.anchors) {
      m.anchors = outcome.anchors;
      this.o.onSized?.(m);
    }
    // The best snapshot by the run's metric (lower rank is better).
    const rank = METRICS[m.metric].rank(outcome.values);
    const best = Number.isFinite(rank) && rank < this.bestRank;
    const before = { snapshot: this.bestSnapshot, rank: this.bestRank };
    // The series, the evaluation, the best mark and the alerts: all of them or none.
    let written: { evaluation: EvaluationSummary; alerts: RunAlert[] };
    try {
      written = this.o.db.transaction(() => {
        this.runs.reportTick(this.o.runId, kimg, outcome.values);
        const evaluation = this.store.addEvaluation({
          runId: this.o.runId,
          checkpointId,
          kimg,
          source: 'training',
          extractor: outcome.extractor.id,
          reference: outcome.extractor.reference,
          realCount: outcome.realCount,
          fakeCount: outcome.fakeCount,
          metrics: outcome.values,
          seconds: outcome.seconds,
        });
        if (outcome.nearest.length > 0) this.store.saveNearest(evaluation.id, outcome.nearest);
        if (best) {
          this.runs.markBest(this.o.runId, checkpointId);
          this.bestSnapshot = { checkpointId, kimg, metric: m.metric, value: shownValue(m.metric, rank) };
          this.bestRank = rank;
        }
        const alerts = this.health.observeDiversity(kimg, outcome.values['Metrics/diversity'] ?? NaN).map((a) => this.store.addAlert(this.o.runId, a));
        return { evaluation, alerts };
      })();
    } catch (err) {
      // Rolled back: so is the best snapshot this session knows.
      this.bestSnapshot = before.snapshot;
      this.bestRank = before.rank;
      throw err;
    }
    const { evaluation, alerts } = written;
    this.o.log(
      `run ${this.o.runId}: evaluated at ${kimg.toFixed(3)} kimg in ${outcome.seconds.toFixed(1)} s (${outcome.extracted} images, ${outcome.featuresPerSecond.toFixed(2)} features/s): ` +
        `quality ${outcome.values['Metrics/quality'] === undefined ? '—' : outcome.values['Metrics/quality'].toFixed(0)}/100, KID ${fmt(outcome.values['Metrics/kid'])}, FID ${fmt(outcome.values['Metrics/fid'])}, precision ${fmt(outcome.values['Metrics/precision'])}, recall ${fmt(outcome.values['Metrics/recall'])}${best ? ' (best so far)' : ''}`,
    );
    return { evaluation, best, alerts };
  }

  /** Seconds the evaluations still planned should take from `kimg` to the end (for the time left): at most what the budget has left. */
  remainingSeconds(kimg: number): number {
    const m = this.o.metrics;
    if (m.everyCheckpoints <= 0) return 0;
    const perCheckpoint = this.o.kimgPerCheckpoint * m.everyCheckpoints;
    const left = Math.max(0, Math.min(PLANNED_EVALUATIONS, Math.ceil((this.o.kimgTotal - kimg) / Math.max(1e-9, perCheckpoint) - 1e-9)));
    const each = m.fakes / this.rate + evaluationOverhead(m.features);
    const want = left * each;
    if (m.budget <= 0) return want;
    return Math.max(0, Math.min(want, m.budget * this.projectedSeconds(kimg) - this.evalSeconds));
  }

  /** Seconds spent training and evaluating in this session (for the log and tests). */
  time(): { train: number; evaluate: number } {
    return { train: this.trainSeconds, evaluate: this.evalSeconds };
  }
}

const fmt = (v: number | undefined): string => (v === undefined || !Number.isFinite(v) ? '—' : Math.abs(v) < 0.01 ? v.toExponential(2) : v.toFixed(3));

/**
 * Whether an evaluation under way should stop: once it has a measured speed (8 images or more
 * timed, after its first batch), the time it has taken (`before` the timing began, plus `elapsed`)
 * and the rest at that speed would take the evaluation total past the budget by more than a fifth.
 */
export function pastBudget(p: { done: number; total: number; elapsed: number; before?: number; spent: number; allowed: number }): boolean {
  if (p.done < 8 || p.elapsed <= 0) return false;
  const rest = ((p.total - p.done) * p.elapsed) / p.done;
  return p.spent + (p.before ?? 0) + p.elapsed + rest > 1.2 * p.allowed;
}
