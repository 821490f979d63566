/**
 * Metrics inside a real training session (in-process, wasm, a project of 32 Twemoji at 16²):
 * G_ema evaluated at checkpoints with the bundled MobileNetV2 (a CPU run's extractor), the quality
 * scale's ends measured at the first evaluation, the `Metrics/…` series written at
 * the checkpoints' kimg, the best checkpoint marked and kept when older ones are pruned, the
 * dataset's features cached; the time budget holding evaluations back; and a run that diverges
 * pausing itself without a checkpoint of the broken weights.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { constantCount } from '../../../core/backend/constants.js';
import type { TrainProgress, TrainSettings } from '../../../core/api/contract.js';
import { selectBackend } from '../../../core/backend/select.js';
import { startImport } from '../../../core/data/import-job.js';
import { JobManager } from '../../../core/jobs/job-manager.js';
import { UserError } from '../../../core/api/errors.js';
import { bundledExtractorId } from '../../../core/metrics/extractor-info.js';
import { RunMetrics } from '../../../core/evaluation/in-training.js';
import { MetricsStore } from '../../../core/store/metrics.js';
import { Project } from '../../../core/store/project.js';
import { RunStore } from '../../../core/store/runs.js';
import { resolveTrainConfig, type TrainConfig } from '../../../core/train/config.js';
import type { CheckpointState } from '../../../core/train/checkpoint-state.js';
import { trainSession } from '../../../core/session/train-session.js';
import { EMOJI_DIR, emojiPixels, makeLoop, tinyConfig } from '../../unit/train/helpers.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';

const FACTS = { images: 32, resolution: 16, channels: 3, numClasses: 0 };
const tiny = { channelBase: 256, channelMax: 16, tickKimg: 0.008, snapshotTicks: 1 };

describe('metrics while training', () => {
  let dir: string;
  let project: Project;
  let runs: RunStore;
  let store: MetricsStore;

  before(async () => {
    await selectBackend({ prefer: 'wasm' });
    dir = mkdtempSync(join(tmpdir(), 'atelier-train-metrics-'));
    mkdirSync(join(dir, 'src'));
    for (const f of readdirSync(EMOJI_DIR).filter((n) => n.endsWith('.png')).sort().slice(0, 32)) copyFileSync(join(EMOJI_DIR, f), join(dir, 'src', f));
    project = Project.create(join(dir, 'm.atelier'), 'm', { appVersion: 'test' });
    const report = await (await startImport(new JobManager(project), { sources: [join(dir, 'src')], settings: { resolution: 16 } })).done;
    assert.equal(report.imported, 32);
    runs = new RunStore(project.db);
    store = new MetricsStore(project.db);
  });

  after(() => {
    project.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const create = (settings: Omit<TrainSettings, 'preset'>, edit: (c: TrainConfig) => TrainConfig = (c) => c): number => {
    const config = edit(resolveTrainConfig({ preset: 'baseline', ...settings }, FACTS));
    return runs.createRun(`run ${runs.listRuns().length + 1}`, 'baseline', config, config.kimg).id;
  };
  const session = (runId: number, progress: (p: TrainProgress) => void = () => {}, requested: () => 'pause' | 'stop' | null = () => null) => {
    const logs: string[] = [];
    const done = trainSession({ db: project.db, runId, progress, requested, progressEveryMs: 0, log: (l) => logs.push(l) });
    return { done, logs };
  };

  it('evaluates G_ema at checkpoints, writes the series, marks the best and keeps it through pruning, caches the reals', async () => {
    // Three checkpoints, one kept besides the best; 4 reals and 4 generated images per evaluation, no time limit.
    const runId = create({ kimg: 0.024, batch: 8, seed: 2, advanced: { ...tiny, evalEvery: 1, evalReals: 4, evalFakes: 4, evalBudget: 0 } }, (c) => ({ ...c, keepCheckpoints: 1 }));
    const tensors = tf.memory().numTensors - constantCount(); // kept scalar constants are made on first use
    const seen: TrainProgress[] = [];
    const { done, logs } = session(runId, (p) => seen.push(p));
    assert.equal((await done).outcome, 'completed');
    assert.equal(tf.memory().numTensors - constantCount(), tensors, 'no tensors left behind (networks, extractor)');

    const evaluations = store.evaluations(runId);
    assert.deepEqual(evaluations.map((e) => [e.kimg, e.source, e.realCount, e.fakeCount]), [[0.008, 'training', 4, 4], [0.016, 'training', 4, 4], [0.024, 'training', 4, 4]]);
    assert.ok(evaluations.every((e) => e.extractor === bundledExtractorId('mobilenet') && !e.reference), 'a CPU run is judged by MobileNetV2');
    const series = runs.metricSeries(runId);
    for (const name of ['Metrics/kid', 'Metrics/kid_std', 'Metrics/fid', 'Metrics/precision', 'Metrics/recall', 'Metrics/diversity']) {
      assert.deepEqual(series[name]!.map((pt) => pt[0]), [0.008, 0.016, 0.024], `${name} at the checkpoints' kimg`);
    }
    assert.deepEqual(series['Metrics/kid']!.map((pt) => pt[1]), evaluations.map((e) => e.metrics['Metrics/kid']));
    // Progress said so: 'evaluating' with counts, then each evaluation, the first one best.
    // The first evaluation extracts 4 reals, 4 other dataset images and the 4 fakes of the trained and of the untrained generator (the scale's ends).
    assert.ok(seen.some((p) => p.phase === 'evaluating' && p.evaluating !== undefined && p.evaluating.total === 16), 'the first evaluation extracts 4 + 4 reals and 4 + 4 fakes');
    const anchors = (runs.getRun(runId)!.config as TrainConfig).metrics.anchors!;
    assert.deepEqual([anchors.extractor, anchors.reals, anchors.fakes], [bundledExtractorId('mobilenet'), 4, 4], 'the scale is kept with the run');
    assert.ok(anchors.untrained > anchors.self, `the untrained generator is further from the dataset (${anchors.untrained}) than the dataset from itself (${anchors.self})`);
    assert.ok(evaluations.every((e) => e.metrics['Metrics/quality']! >= 0 && e.metrics['Metrics/quality']! <= 100), 'every evaluation is on the 0–100 scale');
    assert.equal(store.nearest(evaluations[0]!.id).length, 4, 'four samples beside their nearest dataset image');
    const reported = seen.filter((p) => p.evaluation !== undefined).map((p) => p.evaluation!);
    assert.equal(reported.length, 3);
    assert.equal(reported[0]!.best, true);
    // The best by KID is marked and kept; pruning (keep 1 besides the best) removed what never was best.
    const kids = evaluations.map((e) => e.metrics['Metrics/kid']!);
    const bestKimg = evaluations[kids.indexOf(Math.min(...kids))]!.kimg;
    const cps = runs.listCheckpoints(runId);
    assert.deepEqual(cps.filter((c) => c.isBest).map((c) => c.kimg), [bestKimg]);
    assert.ok(cps.some((c) => c.kimg === 0.024), 'the newest is kept');
    const everBest = new Set(reported.filter((e) => e.best).map((e) => e.kimg));
    for (const e of evaluations) if (!everBest.has(e.kimg) && e.kimg !== 0.024) assert.ok(!cps.some((c) => c.kimg === e.kimg), `${e.kimg} kimg was pruned`);
    assert.ok(cps.length <= 3);
    // The reals were extracted once: 4 cached features, and later evaluations extracted only the fakes.
    assert.equal(store.featureCount(bundledExtractorId('mobilenet')), 8);
    assert.equal(seen.filter((p) => p.evaluating !== undefined && p.evaluating.total !== 16).every((p) => p.evaluating!.total === 4), true, 'later evaluations extract only the fakes');
    assert.ok(logs.some((l) => /evaluations took \d+ s of \d+ s of training/.test(l)), logs.join('\n'));
  });

  it('sizes evaluations to the run at its first checkpoint, and holds one back when it would take more than the budget', async () => {
    const runId = create({ kimg: 0.016, batch: 8, seed: 2, advanced: { ...tiny, evalEvery: 1, evalBudget: 10 } });
    assert.equal((runs.getRun(runId)!.config as TrainConfig).metrics.autoSize, true);
    const { done, logs } = session(runId);
    assert.equal((await done).outcome, 'completed');
    // Sized once, from the measured speed, and kept with the run and its checkpoints.
    assert.equal(logs.filter((l) => /evaluations sized to \d+ dataset and \d+ generated images, so that \d+ of them/.test(l)).length, 1, logs.join('\n'));
    const kept = (runs.getRun(runId)!.config as TrainConfig).metrics;
    assert.deepEqual([kept.autoSize, kept.reals, kept.fakes], [false, 16, 8], 'a second of training affords only the smallest sizes');
    assert.equal((runs.latestCheckpoint(runId)!.state as CheckpointState).config.metrics.fakes, 8);
    // Every checkpoint records the decided sizes, the first included (on-demand evaluations and resumes read them there).
    const stored = runs.listCheckpoints(runId).map((c) => (runs.getCheckpoint(c.id)!.state as CheckpointState).config.metrics);
    assert.deepEqual(runs.listCheckpoints(runId).map((c) => c.kimg), [0.008, 0.016]);
    assert.deepEqual(stored.map((m) => [m.autoSize, m.reals, m.fakes]), [[false, 16, 8], [false, 16, 8]]);
    // …and not even those: the evaluation waits.
    assert.deepEqual(store.evaluations(runId), [], 'a second of training does not pay for an evaluation at 10%');
    assert.ok(logs.some((l) => /evaluation at 0\.008 kimg left for later \(about \d+ s; 10% of the ~\d+ s this session trains allows/.test(l)), logs.join('\n'));
    assert.ok(logs.some((l) => /evaluation at 0\.016 kimg left for later/.test(l)), 'not even the last checkpoint: it does not fit the whole budget');
    assert.equal(runs.metricSeries(runId)['Metrics/kid'], undefined);
  });

  it('an evaluation that fails (here: the user’s extractor file is gone) is an alert, and training goes on', async () => {
    const runId = create({ kimg: 0.016, batch: 8, seed: 3, advanced: { ...tiny, snapshotTicks: 2, evalEvery: 1, evalReals: 4, evalFakes: 4, evalBudget: 0 } }, (c) => ({
      ...c,
      metrics: { ...c.metrics, extractor: { path: join(dir, 'gone', 'model.json'), inputRange: [0, 255] } },
    }));
    const { done } = session(runId);
    assert.equal((await done).outcome, 'completed');
    const [alert, ...more] = store.alerts(runId);
    assert.equal(more.length, 0);
    assert.equal(alert!.code, 'evaluation-failed');
    assert.match(alert!.what, /^The metrics could not be computed at 0\.016 kimg: The feature extractor .*gone\/model\.json cannot be read \(ENOENT\)/);
    assert.equal(runs.getRun(runId)!.kimgDone, 0.016);
  });

  it('an evaluation that fails the same way at every checkpoint is one alert in a session, and it says the settings apply to a new run', async () => {
    const runId = create({ kimg: 0.024, batch: 8, seed: 3, advanced: { ...tiny, evalEvery: 1, evalReals: 4, evalFakes: 4, evalBudget: 0 } }, (c) => ({
      ...c,
      metrics: { ...c.metrics, extractor: { path: join(dir, 'also-gone', 'model.json'), inputRange: [0, 255] } },
    }));
    const pushed: NonNullable<TrainProgress['alerts']>[] = [];
    const { done, logs } = session(runId, (p) => p.alerts && pushed.push(p.alerts));
    assert.equal((await done).outcome, 'completed');
    assert.equal(logs.filter((l) => /evaluation at [\d.]+ kimg failed: The feature extractor/.test(l)).length, 3, 'each of the three checkpoints tried');
    const alerts = store.alerts(runId);
    assert.deepEqual(alerts.map((a) => [a.code, a.kimg]), [['evaluation-failed', 0.008]], 'one alert, at the first failure');
    assert.match(alerts[0]!.todo, /turn evaluations off in a new run/);
    assert.deepEqual(pushed.flat().map((a) => a.id), [alerts[0]!.id]);
  });

  it('an evaluation that runs out of memory ends the session naming the evaluation, not the training batch; its checkpoint is kept', async (t) => {
    const runId = create({ kimg: 0.024, batch: 8, seed: 6, advanced: { ...tiny, evalEvery: 1, evalReals: 4, evalFakes: 4, evalBudget: 0 } });
    t.mock.method(RunMetrics.prototype, 'evaluate', async () => {
      throw new RangeError('Array buffer allocation failed');
    });
    const { done } = session(runId);
    await assert.rejects(done, (err: unknown) => {
      assert.ok(err instanceof UserError);
      assert.match(err.message, /^The evaluation at 0\.008 kimg ran out of memory on the wasm backend .*299×299 images.* The checkpoint at 0\.008 kimg is kept\. Start a new run with evaluations off or smaller evaluation sizes/);
      assert.doesNotMatch(err.message, /at batch/);
      return true;
    });
    assert.deepEqual(runs.listCheckpoints(runId).map((c) => c.kimg), [0.008]);
    assert.deepEqual(store.alerts(runId), [], 'not an evaluation-failed alert: the run ended');
  });

  it('a run that diverges pauses itself: an alert, the reason, and no checkpoint of the broken weights', async () => {
    // Train to a checkpoint, then make its learning rates absurd (a constructed divergence) and resume.
    const runId = create({ kimg: 1, batch: 8, seed: 4, advanced: { ...tiny, evalEvery: 0 } });
    let step = 0;
    const first = session(runId, (p) => (step = p.step), () => (step >= 2 ? 'stop' : null));
    assert.equal((await first.done).outcome, 'stopped');
    const good = runs.latestCheckpoint(runId)!;
    const before = runs.listCheckpoints(runId).map((c) => c.id);
    const state = good.state as CheckpointState;
    project.db.prepare('UPDATE checkpoints SET state = ? WHERE id = ?').run(JSON.stringify({ ...state, config: { ...state.config, gLr: 1e3, dLr: 1e3 } }), good.id);

    const alerts: TrainProgress['alerts'][] = [];
    const { done, logs } = session(runId, (p) => p.alerts && alerts.push(p.alerts));
    const r = await done;
    assert.equal(r.outcome, 'paused');
    assert.match(r.result.pausedBecause!, /^Training diverged \(((NaN|\+∞|−∞) in [\w/]+|[\w/]+ reached -?[\d.e+]+) at [\d.]+ kimg\) and paused itself; no checkpoint was written from the broken weights\. Resume from the last checkpoint \(at [\d.]+ kimg\)/);
    assert.deepEqual(runs.listCheckpoints(runId).map((c) => c.id), before, 'no checkpoint was added');
    assert.equal(runs.latestCheckpoint(runId)!.id, good.id, 'the last good checkpoint is still the newest');
    const stored = store.alerts(runId);
    assert.equal(stored.length, 1);
    assert.equal(stored[0]!.code, 'diverged');
    assert.equal(stored[0]!.severity, 'critical');
    assert.deepEqual(alerts.flat().map((a) => a!.id), [stored[0]!.id], 'pushed with the progress');
    assert.ok(logs.some((l) => l.includes('Training diverged')));
  });

  it('the loop stops at the step whose losses go NaN (seen one step late at most), before any tick or snapshot of those weights', async () => {
    const loop = makeLoop(tinyConfig({ gLr: 1e6, dLr: 1e6, kimg: 0.2 }), await emojiPixels(16));
    let ticks = 0;
    let snapshots = 0;
    try {
      const outcome = await loop.run({ tick: () => void ticks++, snapshot: () => void snapshots++, requested: () => null });
      assert.equal(outcome, 'diverged');
      const d = loop.diverged!;
      assert.ok(!Number.isFinite(d.value), `${d.stat} = ${d.value}`);
      // Statistics are read one step late: the loop stops during the next step at the latest.
      assert.ok(loop.step === d.step || loop.step === d.step + 1, `diverged at step ${d.step}, stopped at ${loop.step}`);
      assert.deepEqual([ticks, snapshots], [0, 0]);
    } finally {
      loop.disposeAll();
    }
  });

  it('reseeding a restored loop continues on another random stream (the same state otherwise replays exactly)', async () => {
    const config = tinyConfig({ kimg: 0.2 });
    const pixels = await emojiPixels(16);
    const a = makeLoop(config, pixels);
    const b = makeLoop(config, pixels);
    const c = makeLoop(config, pixels);
    try {
      await a.runStep();
      const { weights, state } = await a.capture();
      b.restore(weights, state);
      c.restore(weights, state);
      c.reseed(12345);
      for (const l of [a, b, c]) await l.runStep();
      const g = async (l: typeof a): Promise<Float32Array> => Float32Array.from(await l.nets.G.params.all()[0]!.variable.data());
      const [ga, gb, gc] = await Promise.all([g(a), g(b), g(c)]);
      assert.deepEqual(gb, ga, 'restored: the same step');
      assert.notDeepEqual(gc, ga, 'reseeded: another step');
    } finally {
      a.disposeAll();
      b.disposeAll();
      c.disposeAll();
    }
  });
});
