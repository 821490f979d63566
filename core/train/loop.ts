/**
 * The training loop (StyleGAN2-ADA's training_loop.py, cut down to what the studio runs): given a
 * config, a data source and the networks, it trains until `config.kimg` thousand reals have been
 * shown to D. It does no I/O: the host reaches in through callbacks (tick, snapshot, requested)
 * and writes what they hand it.
 *
 * One iteration:  Gmain → (Dmain → Dreg every r1Interval D steps) × dStepsPerG → G_ema → state.
 * Everything random comes from one seeded stream whose state is part of the loop's state, so a
 * run restored from a checkpoint continues exactly as the uninterrupted run would have.
 */
import * as tf from '@tensorflow/tfjs';
import { type AugmentStage, type AugmentState, NoAugment, type SeedSource } from '../augment/stage.js';
import { readFloats } from '../backend/read.js';
import type { Discriminator } from '../nets/discriminator.js';
import { type Generator, oneHotLabels } from '../nets/generator.js';
import type { NamedVariable } from '../nets/params.js';
import { Adam } from './adam.js';
import { assignNamed, checkTensors, decodeTensors, encodeTensors, type Expected, readNamed } from '../nets/checkpoint-format.js';
import type { TrainConfig } from './config.js';
import type { DataSource, DataSourceState } from '../data/data-source.js';
import { copyWeights, emaBeta, updateEma } from './ema.js';
import { dMainLoss, dRegLoss, gMainLoss, lazyRegScale, logitStats, r1Terms } from './losses.js';
import { Rng, type RngState, withSeededMathRandom } from '../random/rng.js';
import { STAT, StatsCollector } from './stats.js';

export interface Nets {
  G: Generator;
  D: Discriminator;
  /** The moving average of G (previews, samples, exports). */
  G_ema: Generator;
}

/**
 * An extra discriminator with its own loss, optimiser, augmentation and schedule (vision-aided
 * judges: a frozen pretrained backbone with a small trainable head, core/vision/). It sees the
 * images before D's augmentation and augments them itself; it takes its own D-phase update.
 */
export interface ExtraDiscriminator {
  /** Names its statistics (`Loss/G/<name>`, `Loss/D/<name>`), checkpoint tensors (`<name>/…`) and state. */
  readonly name: string;
  /** Whether it judges (and trains) at this point of the run. */
  enabledAt(kimg: number): boolean;
  /**
   * Its term in G's loss (weight included) for G's images [N, R, R, C] before D's augmentation,
   * inside G's tape; null: no term at this point (a judge still warming up).
   */
  gLoss(images: tf.Tensor4D, c: tf.Tensor2D | undefined, seeds: SeedSource, kimg: number): tf.Scalar | null;
  /**
   * One update of its trainable parameters on reals and fakes [N, R, R, C] (not augmented by D's
   * stage); returns its loss. `note` records a scalar read at the end of the step (see `observe`).
   */
  dStep(reals: tf.Tensor4D, fakes: tf.Tensor4D, c: tf.Tensor2D | undefined, fc: tf.Tensor2D | undefined, seeds: SeedSource, note: (name: string, t: tf.Scalar) => void): tf.Scalar;
  /** After each iteration it was enabled in: the values its notes read, by name, and the reals shown; returns statistics to report (its ADA p). */
  observe?(values: ReadonlyMap<string, number>, images: number): Record<string, number> | void;
  /** Everything it checkpoints (trainable heads and any buffers). */
  params(): readonly NamedVariable[];
  /**
   * False while it has not joined the run and still holds the weights it was made with (a judge
   * not picked yet): its tensors stay out of checkpoints, which restore it from its state. Absent:
   * always saved.
   */
  joined?(): boolean;
  /** Its optimiser, over its trainable parameters. */
  readonly optimizer: Adam;
  /** Its state beyond tensors (its augmentation strength, when it joined), saved with the loop's. */
  state?(): unknown;
  restore?(state: unknown): void;
}

/** Where the run is: saved with every checkpoint, restored on resume. */
export interface LoopState {
  /** Iterations done (G updates). */
  step: number;
  /** Reals shown to D. */
  nimg: number;
  /** D updates done (the lazy R1 interval counts these). */
  dSteps: number;
  rng: RngState;
  data: DataSourceState;
  augment: AugmentState;
  /** Each optimiser's step count t, by name ('G', 'D', extras' names). */
  optimizers: Record<string, number>;
  /** Extra discriminators' own state, by name (absent: none has any). */
  extras?: Record<string, unknown>;
  /**
   * The last step's statistics, read but not yet acted on (ADA's p and the extras' observe act on
   * a step's statistics during the next step: see `runStep`). Absent in checkpoints written before
   * statistics were read one step late, and before the first step.
   */
  pendingStats?: PendingStatsState;
}

/** A step's noted statistics as a checkpoint holds them. */
export interface PendingStatsState {
  /** The step they came from (1-based: the step count after it). */
  step: number;
  /** Noted names, in order (a name noted once per D step repeats). */
  names: string[];
  /** The values, in the same order (null: not finite; such a step stops the run before any checkpoint). */
  values: Array<number | null>;
  /** The extras enabled in that step (only they observe its statistics). */
  extras: string[];
}

/** A step's statistics on their way back from the backend. */
interface PendingStats {
  step: number;
  kimg: number;
  names: string[];
  extras: string[];
  /** The values as a tensor, disposed once read (null: restored from a checkpoint). */
  tensor: tf.Tensor | null;
  /** Resolves to the values (the read was started at the end of the step). */
  read: Promise<Float32Array>;
  values?: Float32Array;
  /** Added to the tick's statistics (and checked for divergence) already. */
  reported: boolean;
}

export interface TickInfo {
  step: number;
  nimg: number;
  kimg: number;
  /** Means since the previous tick, by name (see STAT). */
  stats: Record<string, number>;
  /** Seconds of training in this tick (without the host's work at the previous tick). */
  seconds: number;
}

export type SnapshotReason = 'interval' | 'pause' | 'stop' | 'done';
/** 'diverged': a loss or logit went NaN/±∞ (or the host's tick said so); left without a snapshot of the broken weights. */
export type LoopOutcome = 'completed' | 'paused' | 'stopped' | 'diverged';

/** Where and how a run diverged. */
export interface LoopDivergence {
  step: number;
  kimg: number;
  /** The statistic that was not finite (or the host's reason). */
  stat: string;
  value: number;
}

/** What the host makes of a tick: nothing, or that the run has diverged (say, a loss exploded). */
export type TickVerdict = void | { diverged: { stat: string; value: number } };

export interface LoopCallbacks {
  /** After each iteration (cheap: the host throttles what it does with it). */
  stepped?(info: { step: number; nimg: number; kimg: number; seconds: number }): void;
  /** Once per tick, with the tick's statistics; `{ diverged }` ends the run without a snapshot. */
  tick(info: TickInfo): Promise<TickVerdict> | TickVerdict;
  /** A checkpoint is due: the host calls `capture()` and writes it. */
  snapshot(reason: SnapshotReason): Promise<void> | void;
  /** Checked between iterations: null keeps going. */
  requested(): 'pause' | 'stop' | null;
}

export interface LoopOptions {
  augment?: AugmentStage;
  extras?: ExtraDiscriminator[];
}

/** D's parameters in its first `blocks` blocks (from full resolution down): frozen when transferring (Freeze-D). */
export function frozenDPrefixes(resolution: number, blocks: number): string[] {
  const out: string[] = [];
  for (let r = resolution, i = 0; r > 4 && i < blocks; r /= 2, i++) out.push(`D.b${r}.`);
  return out;
}

export class TrainingLoop {
  readonly stats = new StatsCollector();
  readonly optG: Adam;
  readonly optD: Adam;
  private readonly augment: AugmentStage;
  private readonly extras: ExtraDiscriminator[];
  private rng: Rng;
  private stepCount = 0;
  private nimgCount = 0;
  private dSteps = 0;
  private lastSnapshotStep = 0;
  private divergence: LoopDivergence | null = null;
  /** The previous step's statistics, read one step late (see `runStep`). */
  private pending: PendingStats | null = null;

  constructor(
    readonly config: TrainConfig,
    readonly data: DataSource,
    readonly nets: Nets,
    opts: LoopOptions = {},
  ) {
    const { G, D } = nets;
    if (data.resolution !== G.config.resolution || data.channels !== G.config.imageChannels) {
      throw new Error(`data are ${data.resolution}²×${data.channels}, G makes ${G.config.resolution}²×${G.config.imageChannels}`);
    }
    if (data.numClasses !== G.config.numClasses) throw new Error(`data have ${data.numClasses} classes, G has ${G.config.numClasses}`);
    this.augment = opts.augment ?? new NoAugment();
    this.extras = opts.extras ?? [];
    this.rng = Rng.fromSeed(config.seed);
    const [beta1, beta2] = config.betas;
    this.optG = new Adam(G.params.all().filter((p) => p.trainable), { lr: config.gLr, beta1, beta2, epsilon: config.epsilon });
    // Lazy R1 takes D steps of its own: scale D's lr and betas to make up (StyleGAN2 appendix B).
    const c = config.r1Gamma > 0 ? lazyRegScale(config.r1Interval) : 1;
    const frozen = frozenDPrefixes(config.net.resolution, config.freezeD);
    const dParams = D.params.all().filter((p) => p.trainable && !frozen.some((f) => p.name.startsWith(f)));
    this.optD = new Adam(dParams, { lr: config.dLr * c, beta1: beta1 ** c, beta2: beta2 ** c, epsilon: config.epsilon });
    copyWeights(nets.G_ema, G);
  }

  get step(): number {
    return this.stepCount;
  }

  get nimg(): number {
    return this.nimgCount;
  }

  get kimg(): number {
    return this.nimgCount / 1000;
  }

  /** Set when a step's losses or logits were not finite (the loop then stops without a snapshot). */
  get diverged(): LoopDivergence | null {
    return this.divergence;
  }

  /**
   * Continues on a fresh random stream (a run resumed after diverging, or branched from an
   * earlier checkpoint: replaying the same stream would repeat what happened).
   */
  reseed(stream: number): void {
    this.rng = Rng.fromSeed(this.config.seed, stream);
  }

  /** One iteration: Gmain, Dmain (and Dreg when due) × dStepsPerG, G_ema, state. */
  async runStep(): Promise<void> {
    const { G, D, G_ema } = this.nets;
    const cfg = this.config;
    const n = cfg.batch;
    const zDim = G.config.zDim;
    const k = G.config.numClasses;
    const rng = this.rng;
    const kimg = this.kimg;
    const extras = this.extras.filter((e) => e.enabledAt(kimg));
    const onehot = (labels: Int32Array | null): tf.Tensor2D | undefined => (labels === null ? undefined : oneHotLabels(Array.from(labels), k));
    const aug = (images: tf.Tensor4D): tf.Tensor4D => this.augment.apply(images, rng);
    // Scalars to read once at the end of the step: (name, kept tensor).
    const noted: Array<[string, tf.Scalar]> = [];
    const note = (name: string, t: tf.Scalar): void => void noted.push([name, tf.keep(t)]);

    // A data source that makes its reals asynchronously (core/merge) makes this step's now.
    if (this.data.prepare !== undefined) await this.data.prepare(new Array<number>(cfg.dStepsPerG).fill(n), rng);

    withSeededMathRandom(rng, () =>
      tf.tidy(() => {
        // Gmain: fresh latents (labels drawn as the data's) → G → augmentation → D; G's update.
        const gc = onehot(this.data.sampleLabels(n, rng));
        const zSeed = rng.tfSeed();
        const gLoss = this.optG.minimize(
          () => {
            const z = tf.randomNormal([n, zDim], 0, 1, 'float32', zSeed) as tf.Tensor2D; // [N, zDim]
            const images = G.generate(z, gc, { updateWAvg: true }); // [N, R, R, C]
            let loss = gMainLoss(cfg.loss, D.apply(aug(images), gc));
            for (const e of extras) {
              const term = e.gLoss(images, gc, rng, kimg);
              if (term === null) continue;
              note(`Loss/G/${e.name}`, term);
              loss = loss.add(term);
            }
            return loss;
          },
          true,
          this.optG.variables(),
        ) as tf.Scalar;
        note(STAT.lossG, gLoss);

        for (let d = 0; d < cfg.dStepsPerG; d++) {
          // Fetch reals; fakes are made outside the tape (D's gradients do not need G's graph).
          const reals = this.data.next(n, rng);
          const c = onehot(reals.labels);
          const fc = onehot(this.data.sampleLabels(n, rng));
          const fakes = G.generate(tf.randomNormal([n, zDim], 0, 1, 'float32', rng.tfSeed()) as tf.Tensor2D, fc); // [N, R, R, C]

          // Dmain: D's loss on augmented fakes and reals; D's update.
          const dLoss = this.optD.minimize(
            () => {
              const realLogits = D.apply(aug(reals.images), c); // [N, 1]
              const fakeLogits = D.apply(aug(fakes), fc); // [N, 1]
              const s = logitStats(realLogits, fakeLogits);
              note(STAT.logitReal, s.logitReal);
              note(STAT.logitFake, s.logitFake);
              note(STAT.accReal, s.accReal);
              note(STAT.accFake, s.accFake);
              note(STAT.rt, s.signReal);
              return dMainLoss(cfg.loss, realLogits, fakeLogits).loss;
            },
            true,
            this.optD.variables(),
          ) as tf.Scalar;
          note(STAT.lossD, dLoss);

          // Extra discriminators: their own augmentation, loss and optimiser, on the same reals and fakes.
          for (const e of extras) note(`Loss/D/${e.name}`, e.dStep(reals.images, fakes, c, fc, rng, note));

          // Dreg: lazy R1 on the same reals, every r1Interval D steps, gradient taken before augmentation.
          if (cfg.r1Gamma > 0 && this.dSteps % cfg.r1Interval === 0) {
            this.optD.minimize(
              () => {
                const { penalty } = r1Terms((x) => D.apply(aug(x), c), reals.images);
                note(STAT.lossR1, penalty.mean());
                return dRegLoss(penalty, cfg.r1Gamma, cfg.r1Interval);
              },
              false,
              this.optD.variables(),
            );
          }
          this.dSteps++;
        }
      }),
    );

    // Update G_ema (β from the images seen before this step, as StyleGAN2-ADA).
    updateEma(G_ema, G, emaBeta(n, cfg.emaKimg, cfg.emaRampup, this.nimgCount));

    // Update state.
    this.stepCount++;
    this.nimgCount += n * cfg.dStepsPerG;

    // Read this step's statistics in one go, one step late: start the read now, then wait for the
    // previous step's (long since back), so a GPU works on this step while the next one is queued
    // instead of idling at a sync point every step. ADA's p and the extras act on step k's
    // statistics during step k + 1, the same whether or not the run was checkpointed in between
    // (a checkpoint holds them: `pendingStats`).
    const stacked = tf.stack(noted.map(([, t]) => t));
    tf.dispose(noted.map(([, t]) => t));
    const read = readFloats(stacked);
    read.catch(() => {}); // awaited later; not an unhandled rejection meanwhile
    const previous = this.pending;
    this.pending = { step: this.stepCount, kimg: this.kimg, names: noted.map(([name]) => name), extras: extras.map((e) => e.name), tensor: stacked, read, reported: false };
    if (previous !== null) {
      const settled = await this.settle(previous);
      if (this.divergence === null) this.act(settled); // broken values change nothing: the loop stops
    }
  }

  /**
   * Adds the last step's statistics to the tick's (and checks them for divergence) now instead of
   * during the next step; what they change in training still waits for the next step. The loop
   * calls it before each tick and checkpoint; tests call it to see the last step's statistics.
   */
  async flushStats(): Promise<void> {
    if (this.pending !== null) await this.settle(this.pending);
  }

  /** Waits for a step's values; the first time, reports them and checks they are finite. */
  private async settle(p: PendingStats): Promise<PendingStats & { values: Float32Array }> {
    if (p.values === undefined) {
      try {
        p.values = await p.read;
      } finally {
        p.tensor?.dispose();
        p.tensor = null;
      }
    }
    const values = p.values;
    if (!p.reported) {
      p.reported = true;
      p.names.forEach((name, i) => {
        const v = values[i] as number;
        this.stats.report(name, v);
        // Not finite: the weights are broken from here on.
        if (!Number.isFinite(v) && this.divergence === null) this.divergence = { step: p.step, kimg: p.kimg, stat: name, value: v };
      });
    }
    return p as PendingStats & { values: Float32Array };
  }

  /** A step's statistics acting on training: ADA's heuristic, then the extras that were enabled in it. */
  private act(p: PendingStats & { values: Float32Array }): void {
    const cfg = this.config;
    const n = cfg.batch;
    let signSum = 0;
    // By name, the mean of what was noted under it that step (a name noted once per D step).
    const read = new Map<string, number>();
    const times = new Map<string, number>();
    p.names.forEach((name, i) => {
      const v = p.values[i] as number;
      const k = (times.get(name) ?? 0) + 1;
      times.set(name, k);
      read.set(name, (read.get(name) ?? 0) + (v - (read.get(name) ?? 0)) / k);
      if (name === STAT.rt) signSum += v * n;
    });
    this.augment.observe(signSum, n * cfg.dStepsPerG);
    this.augment.adjust(n * cfg.dStepsPerG);
    if (this.augment.kind !== 'none') this.stats.report('Augment/p', this.augment.p);
    for (const e of this.extras) {
      if (!p.extras.includes(e.name)) continue;
      const more = e.observe?.(read, n * cfg.dStepsPerG);
      if (more) for (const [name, v] of Object.entries(more)) this.stats.report(name, v);
    }
  }

  /** Trains until `config.kimg`, or until the host asks to pause or stop. */
  async run(cb: LoopCallbacks): Promise<LoopOutcome> {
    const cfg = this.config;
    const totalNimg = Math.round(cfg.kimg * 1000);
    const tickNimg = Math.max(1, Math.round(cfg.tickKimg * 1000));
    const snapshotNimg = tickNimg * cfg.snapshotTicks;
    let tickStartNimg = this.nimgCount;
    let tickStart = performance.now();
    if (this.nimgCount >= totalNimg) return 'completed'; // a finished run, restored

    while (true) {
      // Let events in: pause/stop arrive as IPC messages, and on wasm every read resolves as a
      // microtask, so without this the loop would never give them a turn.
      await new Promise<void>((r) => setImmediate(r));

      // Leave at a safe point when asked; the host saves a checkpoint first (unless nothing changed).
      const asked = cb.requested();
      if (asked !== null) {
        // The last step's statistics first: a step that diverged is not saved.
        await this.flushStats();
        if (this.divergence !== null) return 'diverged';
        if (this.stepCount !== this.lastSnapshotStep) await this.snapshot(cb, asked);
        return asked === 'pause' ? 'paused' : 'stopped';
      }

      // Train one iteration; leave at once, without a snapshot, if it diverged.
      const t0 = performance.now();
      await this.runStep();
      if (this.divergence !== null) return 'diverged';
      cb.stepped?.({ step: this.stepCount, nimg: this.nimgCount, kimg: this.kimg, seconds: (performance.now() - t0) / 1000 });
      const done = this.nimgCount >= totalNimg;

      // Perform maintenance once per tick; ticks fall on multiples of tickKimg, so resuming keeps the cadence.
      const crossed = (every: number): boolean => Math.floor(this.nimgCount / every) > Math.floor(tickStartNimg / every);
      if (!done && !crossed(tickNimg)) continue;
      await this.flushStats(); // the tick's last step counts in its means
      if (this.divergence !== null) return 'diverged';
      const seconds = (performance.now() - tickStart) / 1000;
      const stats = this.stats.collect();
      stats[STAT.imgPerSec] = seconds > 0 ? (this.nimgCount - tickStartNimg) / seconds : NaN;
      const verdict = await cb.tick({ step: this.stepCount, nimg: this.nimgCount, kimg: this.kimg, stats, seconds });
      if (verdict && 'diverged' in verdict) {
        this.divergence = { step: this.stepCount, kimg: this.kimg, ...verdict.diverged };
        return 'diverged';
      }

      // Save a checkpoint every snapshotTicks ticks, and at the end.
      if (done || crossed(snapshotNimg)) await this.snapshot(cb, done ? 'done' : 'interval');
      if (done) return 'completed';
      tickStartNimg = this.nimgCount;
      tickStart = performance.now();
    }
  }

  private async snapshot(cb: LoopCallbacks, reason: SnapshotReason): Promise<void> {
    await cb.snapshot(reason);
    this.lastSnapshotStep = this.stepCount;
  }

  // -------------------------------------------------------------------------------------------
  // Checkpoints.

  /** Every tensor a checkpoint holds, by name: G, D, G_ema, the optimisers' moments, the extras. */
  namedTensors(): Array<{ name: string; tensor: tf.Variable }> {
    const { G, D, G_ema } = this.nets;
    const nets = [
      ...G.params.all().map((p) => ({ name: p.name, tensor: p.variable })),
      ...D.params.all().map((p) => ({ name: p.name, tensor: p.variable })),
      ...emaNamed(G_ema),
    ];
    const opts = [...this.optG.namedMoments('optG'), ...this.optD.namedMoments('optD')];
    const extras = this.savedExtras().flatMap((e) => [
      ...e.params().map((p) => ({ name: `${e.name}/${p.name}`, tensor: p.variable })),
      ...e.optimizer.namedMoments(`opt/${e.name}`),
    ]);
    return [...nets, ...(opts as Array<{ name: string; tensor: tf.Variable }>), ...(extras as Array<{ name: string; tensor: tf.Variable }>)];
  }

  /** The extras whose tensors a checkpoint holds: those that joined (their initial weights are remade, not saved). */
  private savedExtras(): ExtraDiscriminator[] {
    return this.extras.filter((e) => e.joined?.() ?? true);
  }

  state(): LoopState {
    const optimizers: Record<string, number> = { G: this.optG.step, D: this.optD.step };
    for (const e of this.extras) optimizers[e.name] = e.optimizer.step;
    const extras: Record<string, unknown> = {};
    for (const e of this.extras) if (e.state !== undefined) extras[e.name] = e.state();
    return {
      step: this.stepCount,
      nimg: this.nimgCount,
      dSteps: this.dSteps,
      rng: this.rng.state(),
      data: this.data.state(),
      augment: this.augment.state(),
      optimizers,
      ...(Object.keys(extras).length > 0 ? { extras } : {}),
      ...(this.pending !== null ? { pendingStats: this.pendingState(this.pending) } : {}),
    };
  }

  private pendingState(p: PendingStats): PendingStatsState {
    if (p.values === undefined) throw new Error('state(): the last step\'s statistics are still being read (await flushStats() or use capture())');
    return { step: p.step, names: p.names, values: Array.from(p.values, (v) => (Number.isFinite(v) ? v : null)), extras: p.extras };
  }

  /** The weights as one Buffer (checkpoint-format) and the state, read asynchronously. */
  async capture(): Promise<{ weights: Buffer; state: LoopState }> {
    await this.flushStats();
    const state = this.state();
    const weights = encodeTensors(await readNamed(this.namedTensors()));
    return { weights, state };
  }

  /** Restores a checkpoint from `capture()`: every tensor, the step, the streams, the optimisers. */
  restore(weights: Uint8Array, state: LoopState, what = 'the checkpoint'): void {
    // The extras' state first: it says which of them joined, and so which tensors the checkpoint holds.
    for (const e of this.extras) {
      e.optimizer.setStep(state.optimizers[e.name] ?? 0);
      const saved = state.extras?.[e.name];
      if (saved !== undefined) e.restore?.(saved);
    }
    const targets = this.namedTensors().map((t) => ({ name: t.name, variable: t.tensor }));
    const decoded = decodeTensors(weights, what);
    // Checkpoints written before unjoined extras were left out hold their (never trained) tensors too.
    const unjoined = this.extras.filter((e) => !(e.joined?.() ?? true)).flatMap((e) => [`${e.name}/`, `opt/${e.name}/`]);
    for (const name of [...decoded.keys()]) if (unjoined.some((prefix) => name.startsWith(prefix))) decoded.delete(name);
    checkTensors(decoded, targets.map((t) => ({ name: t.name, shape: t.variable.shape })), what);
    assignNamed(decoded, targets);
    this.optG.setStep(state.optimizers['G'] ?? 0);
    this.optD.setStep(state.optimizers['D'] ?? 0);
    this.stepCount = state.step;
    this.nimgCount = state.nimg;
    this.dSteps = state.dSteps;
    this.rng = Rng.fromState(state.rng);
    this.data.restore(state.data);
    this.augment.restore(state.augment);
    this.lastSnapshotStep = state.step;
    this.stats.reset();
    // The saved step's statistics act during the next step, as they would have without the break
    // (their means went into the tick before the checkpoint). Older checkpoints have none.
    // A malformed entry (not a name per value) counts as absent: the run resumes, its ADA one step behind.
    const ps = wellFormed(state.pendingStats) ? state.pendingStats : undefined;
    this.pending?.tensor?.dispose();
    if (ps === undefined) {
      this.pending = null;
    } else {
      const values = Float32Array.from(ps.values, (v) => v ?? NaN);
      this.pending = { step: ps.step, kimg: state.nimg / 1000, names: ps.names, extras: ps.extras, values, tensor: null, read: Promise.resolve(values), reported: true };
    }
    this.divergence = null;
  }

  /** Optimisers' state; the networks and data belong to the caller. */
  dispose(): void {
    this.pending?.tensor?.dispose();
    this.pending = null;
    this.optG.dispose();
    this.optD.dispose();
  }
}

/** Whether a checkpoint's pending statistics have a value (number or null) per name, and a list of extras. */
function wellFormed(ps: PendingStatsState | undefined): ps is PendingStatsState {
  return (
    ps !== undefined &&
    Array.isArray(ps.names) &&
    Array.isArray(ps.values) &&
    Array.isArray(ps.extras) &&
    ps.names.length === ps.values.length &&
    ps.names.every((n) => typeof n === 'string') &&
    ps.values.every((v) => v === null || typeof v === 'number')
  );
}

/** G_ema's parameters named `G_ema.<name without "G.">`. */
function emaNamed(G_ema: Generator): Array<{ name: string; tensor: tf.Variable }> {
  return G_ema.params.all().map((p) => ({ name: `G_ema.${p.name.replace(/^G\./, '')}`, tensor: p.variable }));
}

/** The network tensors (G, D, G_ema) another run's checkpoint must have for transfer learning. */
export function networkTensors(nets: Nets): Array<{ name: string; variable: tf.Variable }> {
  return [
    ...nets.G.params.all().map((p) => ({ name: p.name, variable: p.variable })),
    ...nets.D.params.all().map((p) => ({ name: p.name, variable: p.variable })),
    ...emaNamed(nets.G_ema).map((t) => ({ name: t.name, variable: t.tensor })),
  ];
}

/**
 * Transfer learning: G, D and G_ema from another run's checkpoint (its optimisers and step are
 * not taken: the new run starts at step 0). Must be called before training starts, after the loop
 * is made (the loop copies G into G_ema when it is made).
 */
export function loadNetworks(nets: Nets, weights: Uint8Array, what: string): void {
  const targets = networkTensors(nets);
  const decoded = decodeTensors(weights, what);
  const expected: Expected[] = targets.map((t) => ({ name: t.name, shape: t.variable.shape }));
  checkTensors(decoded, expected, what, 'ignore');
  assignNamed(decoded, targets);
}
