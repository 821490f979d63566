/**
 * One training session of one run, as the train worker runs it (and as tests run it in-process):
 * read the run's config from the project file, start the backend, load the dataset, build the
 * networks, restore the newest checkpoint (or transfer another run's weights), run the loop, and
 * write ticks, preview grids and checkpoints back into the file. Asked to pause or stop, it saves
 * a checkpoint first; a resumed session continues at the checkpoint's exact step and state.
 */
import type Database from 'better-sqlite3';
import type { BackendChoiceName, TrainProgress } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { createAugmentStage } from '../augment/stage.js';
import { BackendUnavailableError, type BackendChoice, describeChoice, selectBackend } from '../backend/select.js';
import { findDivergence } from '../metrics/health.js';
import { RunMetrics } from '../evaluation/in-training.js';
import { Discriminator } from '../nets/discriminator.js';
import { Generator } from '../nets/generator.js';
import { type Checkpoint, RunStore } from '../store/runs.js';
import { CheckpointFormatError } from '../nets/checkpoint-format.js';
import { type TrainConfig, trainConfigFromJson, withBatch } from '../train/config.js';
import { type DataSource, loadProjectData } from '../data/data-source.js';
import { loadNetworks, type Nets, type SnapshotReason, type TickInfo, type TickVerdict, TrainingLoop } from '../train/loop.js';
import { type BatchFit, evaluationOutOfMemoryMessage, fitBatch, isOutOfMemory, memoryBudget, outOfMemoryMessage } from '../train/memory.js';
import { PreviewGrid } from '../train/preview.js';
import { checkpointState, type CheckpointState } from '../train/checkpoint-state.js';
import { EtaEstimator } from '../train/eta.js';
import { VisionEnsemble } from '../vision/ensemble.js';

export interface SessionOptions {
  /** The project's database, opened by the caller (WAL, busy_timeout). */
  db: Database.Database;
  runId: number;
  /** Overrides the run's backend for this session. */
  backend?: BackendChoiceName;
  progress(p: TrainProgress): void;
  /** null: keep going. */
  requested(): 'pause' | 'stop' | null;
  /** Progress at most this often between ticks, in ms; default 1000. */
  progressEveryMs?: number;
  /** Where to say what is happening (backend, batch); default stderr. */
  log?(line: string): void;
  /** Bytes a step may use, instead of the backend's own budget (tests, and hosts that know better). */
  memoryBudget?: number;
  /** Continue on a fresh random stream numbered this (resuming after a divergence, or a branch from an earlier checkpoint). */
  reseed?: number;
}

export interface SessionResult {
  /** A run that diverged pauses itself: 'paused', with `pausedBecause`. */
  outcome: 'completed' | 'paused' | 'stopped';
  result: { runId: number; step: number; kimg: number; pausedBecause?: string };
}

/** Trains run `runId` until it is done or asked to pause or stop. */
export async function trainSession(o: SessionOptions): Promise<SessionResult> {
  const runs = new RunStore(o.db);
  const log = o.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const run = runs.getRun(o.runId);
  if (!run) throw new UserError('not-found', `There is no run ${o.runId} in this project.`);
  let config = trainConfigFromJson(run.config, `run ${o.runId}`);
  const checkpoint = runs.latestCheckpoint(o.runId);
  const saved = checkpoint ? checkpointState(checkpoint.state, `The checkpoint of "${run.name}" at ${checkpoint.kimg} kimg`) : null;
  // A run continues with the settings it started with; only its length can grow ("Continue training" extends the run's kimg).
  if (saved) config = { ...saved.config, kimg: Math.max(saved.config.kimg, config.kimg) };

  const base = { runId: o.runId, kimgTotal: config.kimg, step: saved?.loop.step ?? 0, kimg: (saved?.loop.nimg ?? 0) / 1000, imgPerSec: 0, etaSeconds: null, stats: {} };
  let backendName = 'starting';
  const send = (p: Partial<TrainProgress> & Pick<TrainProgress, 'phase'>): void => o.progress({ ...base, backend: backendName, ...p });
  send({ phase: 'starting' });

  // Start the compute backend.
  const choice = await startBackend(o.backend ?? config.backend, o.backend !== undefined ? 'the backend picked for this session' : `the settings of "${run.name}"`, config.threads);
  backendName = choice.name;
  runs.setBackend(o.runId, choice.name);
  log(`run ${o.runId}: ${describeChoice(choice)}`);

  // Load the training set.
  send({ phase: 'loading' });
  const { source: data, report } = await loadProjectData(o.db, {
    resolution: config.net.resolution,
    channels: config.net.imageChannels,
    conditional: config.net.numClasses > 0,
    seed: config.seed,
    mirror: config.mirror,
  });
  if (data.numClasses !== config.net.numClasses) {
    throw new UserError('invalid-request', `"${run.name}" was set up for ${config.net.numClasses} classes; the dataset now has ${data.numClasses} labels with images. Start a new run.`);
  }
  if (saved && saved.classNames.join('\n') !== data.classNames.join('\n')) {
    throw new UserError('invalid-request', `The labels changed since "${run.name}" was paused (${saved.classNames.join(', ')} → ${data.classNames.join(', ')}); it cannot continue with them. Start a new run.`);
  }
  if (report.unlabelledSkipped > 0) log(`run ${o.runId}: ${report.unlabelledSkipped} unlabelled images left out of this conditional run`);

  // Construct networks; on a fresh run, fit an automatic batch to the backend's memory.
  const nets: Nets = { G: new Generator(config.net), D: new Discriminator(config.net), G_ema: new Generator(config.net) };
  let loop: TrainingLoop | null = null;
  let preview: PreviewGrid | null = null;
  let fit: BatchFit | null = null;
  let vision: VisionEnsemble | null = null;
  try {
    // Vision-aided: every candidate backbone, frozen, with its head (joins the loop when picked);
    // loaded first, so the batch is fitted with their memory.
    if (config.vision !== null) {
      vision = await VisionEnsemble.load(config.vision, { lr: config.dLr, betas: config.betas, epsilon: config.epsilon, seed: config.seed });
      log(`run ${o.runId}: vision-aided judges to pick from: ${config.vision.candidates.join(', ')} (up to ${config.vision.k}, at ${config.vision.selectAt.join(', ')} kimg, ${config.vision.inputSize}² input)`);
    }
    const budget = o.memoryBudget !== undefined ? { bytes: o.memoryBudget, why: 'the memory budget given' } : memoryBudget(choice.name);
    if (!saved && budget !== null) {
      const judges = vision;
      const judgesPeak = judges !== null ? (batch: number) => judges.peakBytes(batch, config.net.resolution, config.net.imageChannels) : undefined;
      fit = await fitBatch(nets, config.batch, budget.bytes, config.loss, judgesPeak);
      if (fit.batch === 0) {
        throw new UserError('invalid-request', `Even one ${config.net.resolution}² image per step needs more memory than ${budget.why} allows. Lower the capacity (advanced: channel base)${vision !== null ? ', the judges’ image size' : ''} or the resolution, or use another backend.`, 'batch');
      }
      if (config.auto.batch && fit.batch < config.batch) {
        log(`run ${o.runId}: batch ${config.batch} needs about ${(fit.predicted / 2 ** 30).toFixed(1)} GB; ${budget.why}: using batch ${fit.batch}`);
        config = withBatch(config, fit.batch);
        runs.setConfig(o.runId, config);
      }
    }
    loop = new TrainingLoop(config, data, nets, { augment: createAugmentStage(config.augment), ...(vision !== null ? { extras: vision.judges } : {}) });

    // Resume from the newest checkpoint, else start from another run's weights if asked.
    if (checkpoint && saved) {
      loop.restore(checkpoint.weights, saved.loop, `The checkpoint of "${run.name}" at ${checkpoint.kimg} kimg`);
      if (o.reseed !== undefined) loop.reseed(o.reseed);
      log(`run ${o.runId}: resumed at step ${saved.loop.step}, ${(saved.loop.nimg / 1000).toFixed(3)} kimg${o.reseed !== undefined ? ' on a fresh random stream' : ''}`);
    } else if (config.transferFrom) {
      const source = transferSource(runs, config.transferFrom);
      loadNetworks(nets, source.weights, `The checkpoint of run ${source.runId} at ${source.kimg} kimg`);
      log(`run ${o.runId}: starting from run ${source.runId}'s weights at ${source.kimg} kimg${config.freezeD > 0 ? `, D's first ${config.freezeD} blocks frozen` : ''}`);
    }
    preview = new PreviewGrid(nets.G_ema, { seed: config.seed, cols: config.previewGrid[0], rows: config.previewGrid[1] });

    // Metrics and health: evaluations at checkpoints, alerts from every tick.
    const metrics = new RunMetrics({
      db: o.db,
      runId: o.runId,
      metrics: config.metrics,
      startKimg: loop.kimg,
      kimgTotal: config.kimg,
      kimgPerCheckpoint: config.tickKimg * config.snapshotTicks,
      // Sizes decided at the first checkpoint: the run's config (checkpoints carry `config`, the same object) and its row.
      onSized: () => runs.setConfig(o.runId, config),
      seed: config.seed,
      conditional: config.net.numClasses > 0,
      backend: choice.name,
      net: config.net,
      ada: config.augment.kind === 'ada' && (config.augment.p ?? null) === null,
      log,
    });

    // Train, reporting each tick and writing checkpoints.
    const outcome = await runLoop(o, runs, loop, preview, metrics, nets, config, send, data.classNames, choice.name, vision, data);
    const result = { runId: o.runId, step: loop.step, kimg: loop.kimg };
    const d = loop.diverged;
    if (outcome === 'diverged' && d !== null) {
      // Paused itself: the alert says what happened and what to do; no checkpoint of these weights.
      const alert = metrics.diverged(d.kimg, { stat: d.stat, value: d.value });
      send({ phase: 'training', step: loop.step, kimg: loop.kimg, alerts: [alert] });
      log(`run ${o.runId}: ${alert.what}`);
      return { outcome: 'paused', result: { ...result, pausedBecause: `${alert.what} ${alert.todo}` } };
    }
    const t = metrics.time();
    if (t.evaluate > 0) log(`run ${o.runId}: evaluations took ${t.evaluate.toFixed(0)} s of ${t.train.toFixed(0)} s of training (${((100 * t.evaluate) / Math.max(1e-9, t.train)).toFixed(1)}%)`);
    return { outcome: outcome as SessionResult['outcome'], result };
  } catch (err) {
    // Already said in words (an evaluation that ran out of memory, among others).
    if (err instanceof UserError) throw err;
    if (isOutOfMemory(err)) throw new UserError('invalid-request', outOfMemoryMessage(choice.name, config.batch, fit), 'batch');
    if (err instanceof CheckpointFormatError) throw new UserError('corrupt', `${err.message} Start a new run, or transfer from another.`);
    throw err;
  } finally {
    try {
      preview?.dispose();
      loop?.dispose();
      vision?.dispose();
      data.dispose();
      nets.G.dispose();
      nets.D.dispose();
      nets.G_ema.dispose();
    } catch {
      // After running out of memory the wasm module is unusable: the process ends anyway, and the
      // error above is the one to report.
    }
  }
}

async function startBackend(prefer: BackendChoiceName, source: string, threads: number | null): Promise<BackendChoice> {
  try {
    return await selectBackend({ prefer, preferSource: source, threads });
  } catch (err) {
    if (err instanceof BackendUnavailableError) throw new UserError('unavailable', err.message);
    throw err;
  }
}

function transferSource(runs: RunStore, from: NonNullable<TrainConfig['transferFrom']>): Checkpoint {
  const cp = from.checkpointId !== undefined ? runs.getCheckpoint(from.checkpointId) : runs.latestCheckpoint(from.runId);
  if (!cp || cp.runId !== from.runId) {
    throw new UserError('not-found', `Run ${from.runId} has no ${from.checkpointId !== undefined ? `checkpoint ${from.checkpointId}` : 'checkpoint'} to start from. Pick a run that has trained for a while.`);
  }
  return cp;
}

async function runLoop(
  o: SessionOptions,
  runs: RunStore,
  loop: TrainingLoop,
  preview: PreviewGrid,
  metrics: RunMetrics,
  nets: Nets,
  config: TrainConfig,
  send: (p: Partial<TrainProgress> & Pick<TrainProgress, 'phase'>) => void,
  classNames: readonly string[],
  backend: string,
  vision: VisionEnsemble | null,
  data: DataSource,
): Promise<'completed' | 'paused' | 'stopped' | 'diverged'> {
  const every = o.progressEveryMs ?? 1000;
  let lastProgress = 0;
  let stats: Record<string, number> = {};
  let imgPerSec = 0;
  // Time left: the speed of training steps only (not warm-up, checkpoints or evaluations), plus the evaluations still planned.
  const timer = new EtaEstimator();
  let lastNimg = Math.round(loop.kimg * 1000);
  const eta = (kimg: number): number | null => timer.eta((config.kimg - kimg) * 1000, performance.now() / 1000, metrics.remainingSeconds(kimg));
  const at = (): Pick<TrainProgress, 'step' | 'kimg'> => ({ step: loop.step, kimg: loop.kimg });

  // A resumed vision-aided run says which judges it already has.
  const history = vision?.history ?? [];
  send({ phase: 'training', ...at(), imgPerSec, etaSeconds: null, stats, ...(history.length > 0 ? { vision: { selections: history } } : {}) });
  return loop.run({
    requested: o.requested,
    stepped: ({ nimg, kimg, seconds }) => {
      timer.step(nimg - lastNimg, seconds);
      lastNimg = nimg;
      imgPerSec = timer.rate() ?? imgPerSec;
      if (Date.now() - lastProgress < every) return;
      lastProgress = Date.now();
      send({ phase: 'training', ...at(), imgPerSec, etaSeconds: eta(kimg), stats });
    },
    tick: async (t: TickInfo): Promise<TickVerdict> => {
      stats = t.stats;
      imgPerSec = timer.rate() ?? (Number.isFinite(t.stats['img_s']) ? (t.stats['img_s'] as number) : imgPerSec);
      runs.reportTick(o.runId, t.kimg, t.stats);
      // An exploding loss or logit: stop here, before a checkpoint of these weights.
      const exploded = findDivergence(t.stats);
      if (exploded) return { diverged: exploded };
      // Vision-aided: add a judge when a selection point has passed (before this tick's checkpoint, which keeps it).
      if (vision !== null && vision.due(t.kimg)) {
        const selected = await vision.select(t.kimg, nets.G_ema, data, () => o.requested() !== null);
        if (selected !== null) {
          const acc = Object.entries(selected.accuracies).map(([id, a]) => `${id} ${(100 * (a as number)).toFixed(0)}%`).join(', ');
          (o.log ?? ((line: string) => process.stderr.write(`${line}\n`)))(`run ${o.runId}: at ${t.kimg.toFixed(3)} kimg added ${selected.picked ?? 'no judge'} (probe accuracy: ${acc})`);
          send({ phase: 'training', ...at(), imgPerSec, etaSeconds: eta(t.kimg), stats, vision: { selections: vision.history, selected } });
        }
      }
      const alerts = metrics.tick(t.kimg, t.stats, t.seconds);
      const previewId = runs.addPreview(o.runId, t.kimg, await preview.render());
      lastProgress = Date.now();
      send({ phase: 'training', ...at(), imgPerSec, etaSeconds: eta(t.kimg), stats, previewId, ...(alerts.length > 0 ? { alerts } : {}) });
    },
    snapshot: async (reason: SnapshotReason) => {
      send({ phase: 'saving', ...at(), imgPerSec, etaSeconds: eta(loop.kimg), stats });
      // Evaluate G_ema at this checkpoint when due and within the time budget (not on pause or stop: the user is waiting).
      // Asked before the checkpoint is built: the first one decides the evaluation sizes, which it must record.
      const evaluate = (reason === 'interval' || reason === 'done') && metrics.due(reason, loop.kimg);
      const { weights, state } = await loop.capture();
      const full: CheckpointState = { format: 1, loop: state, config, classNames: [...classNames], backend };
      const checkpointId = runs.saveCheckpoint(o.runId, { kimg: loop.kimg, step: loop.step, weights, state: full }, config.keepCheckpoints);
      // A checkpoint between ticks (pause, stop) moves the run's progress too.
      if (reason === 'pause' || reason === 'stop') runs.reportTick(o.runId, loop.kimg, {});
      if (evaluate) {
        let lastSent = 0;
        try {
          const r = await metrics.evaluate(nets.G_ema, checkpointId, loop.kimg, {
            shouldStop: () => o.requested() !== null,
            onProgress: (done, total) => {
              if (Date.now() - lastSent < every && done < total) return;
              lastSent = Date.now();
              send({ phase: 'evaluating', ...at(), imgPerSec, etaSeconds: eta(loop.kimg), stats, evaluating: { done, total } });
            },
          });
          if (r) send({ phase: 'training', ...at(), imgPerSec, etaSeconds: eta(loop.kimg), stats, evaluation: { ...r.evaluation, best: r.best }, ...(r.alerts.length > 0 ? { alerts: r.alerts } : {}) });
        } catch (err) {
          // Out of memory leaves the backend unusable: that ends the run (the evaluation's fault, not the batch's). Anything else ends only this evaluation.
          if (isOutOfMemory(err)) throw new UserError('invalid-request', evaluationOutOfMemoryMessage(backend, loop.kimg));
          const alert = metrics.failed(loop.kimg, err);
          if (alert) send({ phase: 'training', ...at(), imgPerSec, etaSeconds: eta(loop.kimg), stats, alerts: [alert] });
        }
        lastProgress = Date.now();
      }
    },
  });
}
