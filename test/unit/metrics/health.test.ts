/**
 * Health alerts on constructed runs: an overfitting D (r_t high, or D separating everything), a
 * collapsing generator, a divergence (NaN, ±∞, an exploding loss) — and none on a healthy run;
 * and a resumed session picking up the run's history (a collapse across a pause, no repeats).
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { findDivergence, HealthMonitor } from '../../../core/metrics/health.js';
import { RunMetrics } from '../../../core/evaluation/in-training.js';
import { MetricsStore } from '../../../core/store/metrics.js';
import { Project } from '../../../core/store/project.js';
import { RunStore } from '../../../core/store/runs.js';
import { tempDir } from '../../helpers/tmp.js';
import { Rng } from '../../../core/random/rng.js';

const ctx = (ada = false, best: { kimg: number } | null = { kimg: 12 }) => ({ ada, best: () => best, lastCheckpoint: () => ({ kimg: 14 }) });

/** A tick's statistics as the loop reports them. */
function tick(rt: number, accReal: number, accFake: number, loss = 0.7): Record<string, number> {
  return { 'Loss/G': loss + 0.3, 'Loss/D': loss, 'Loss/R1': 0.05, r_t: rt, 'D/acc/real': accReal, 'D/acc/fake': accFake, 'D/logit/real': rt * 2, 'D/logit/fake': -rt, img_s: 17 };
}

test('a healthy run (r_t around ADA’s 0.6, D right about 60–75%, diversity rising then steady) raises nothing', () => {
  const rng = Rng.fromSeed(1);
  const h = new HealthMonitor(ctx());
  for (let i = 0; i < 200; i++) {
    const rt = 0.55 + 0.2 * rng.nextFloat();
    assert.deepEqual(h.observeTick(i, tick(rt, 0.6 + 0.15 * rng.nextFloat(), 0.6 + 0.15 * rng.nextFloat())), []);
    assert.equal(findDivergence(tick(rt, 0.7, 0.7)), null);
  }
  // An untrained G starts far less diverse than the data and becomes more so: not a collapse.
  for (const [k, r] of [[1, 0.12], [2, 0.3], [3, 0.55], [4, 0.8], [5, 0.78], [6, 0.85]] as const) assert.deepEqual(h.observeDiversity(k, r), []);
});

test('an overfitting D: r_t ≥ 0.9 for 20 ticks raises one alert with what and what to do; it can come back after clearing', () => {
  const h = new HealthMonitor(ctx());
  for (let i = 0; i < 19; i++) assert.deepEqual(h.observeTick(i, tick(0.97, 0.99, 0.6)), [], `tick ${i}: not yet`);
  const [a, ...rest] = h.observeTick(19, tick(0.97, 0.99, 0.6));
  assert.equal(rest.length, 0);
  assert.equal(a!.code, 'd-overfit');
  assert.equal(a!.severity, 'warning');
  assert.equal(a!.kimg, 19);
  assert.match(a!.what, /^The discriminator has memorised your images \(r_t 0\.97 for 20 ticks\)/);
  assert.match(a!.todo, /Turn on ADA/);
  // Sustained: no repeat.
  for (let i = 20; i < 40; i++) assert.deepEqual(h.observeTick(i, tick(0.95, 0.99, 0.6)), []);
  // Cleared, then again for 20 ticks: raised again.
  h.observeTick(40, tick(0.6, 0.7, 0.7));
  const again = Array.from({ length: 20 }, (_, i) => h.observeTick(41 + i, tick(0.93, 0.99, 0.6))).flat();
  assert.equal(again.length, 1);
  // A short burst is not overfitting.
  const brief = new HealthMonitor(ctx());
  const alerts = Array.from({ length: 100 }, (_, i) => brief.observeTick(i, i % 20 < 15 ? tick(0.95, 0.99, 0.6) : tick(0.5, 0.7, 0.7))).flat();
  assert.deepEqual(alerts, []);
});

test('D telling every real from every fake counts as memorising; with ADA on the advice is to raise its target', () => {
  const h = new HealthMonitor(ctx(true), { overfitTicks: 5 });
  const alerts = Array.from({ length: 6 }, (_, i) => h.observeTick(i, tick(0.8, 1, 0.995))).flat();
  assert.equal(alerts.length, 1);
  assert.match(alerts[0]!.what, /told 100% of the real images and 100% of the generated ones apart/);
  assert.match(alerts[0]!.todo, /Raise ADA’s target/);
});

test('a collapsing generator: diversity falling well below the dataset’s raises one alert', () => {
  const h = new HealthMonitor(ctx());
  assert.deepEqual(h.observeDiversity(2, 0.4), []);
  assert.deepEqual(h.observeDiversity(4, 0.85), []);
  assert.deepEqual(h.observeDiversity(6, 0.6), [], 'lower but not well below the dataset');
  const [a] = h.observeDiversity(8, 0.3);
  assert.equal(a!.code, 'mode-collapse');
  assert.equal(a!.what, 'The samples are collapsing to a few look-alikes: they now differ from each other 30% as much as your images do (it was 85%).');
  assert.match(a!.todo, /^Start a new run from the best snapshot \(at 12 kimg\)/);
  assert.deepEqual(h.observeDiversity(10, 0.2), [], 'raised once');
  assert.deepEqual(h.observeDiversity(12, 0.7), []);
  assert.equal(h.observeDiversity(14, 0.25).length, 1, 'raised again after recovering');
});

test('a divergence: NaN, ±∞, or a loss past 1e4 is found; the alert says the run paused and where to resume', () => {
  assert.deepEqual(findDivergence({ ...tick(0.6, 0.7, 0.7), 'Loss/D': NaN }), { stat: 'Loss/D', value: NaN });
  assert.deepEqual(findDivergence({ ...tick(0.6, 0.7, 0.7), 'D/logit/fake': -Infinity }), { stat: 'D/logit/fake', value: -Infinity });
  assert.deepEqual(findDivergence({ ...tick(0.6, 0.7, 0.7), 'Loss/G': 2.5e5 }), { stat: 'Loss/G', value: 2.5e5 });
  assert.equal(findDivergence({ ...tick(0.6, 0.7, 0.7), 'Loss/G': 40 }), null, 'large but not exploding');
  // NaN is reported before an explosion elsewhere.
  assert.equal(findDivergence({ ...tick(0.6, 0.7, 0.7), 'Loss/G': 1e9, 'Loss/R1': NaN })!.stat, 'Loss/R1');

  const h = new HealthMonitor(ctx());
  const a = h.diverged(15.5, { stat: 'Loss/D', value: NaN });
  assert.equal(a.code, 'diverged');
  assert.equal(a.severity, 'critical');
  assert.equal(a.what, 'Training diverged (NaN in Loss/D at 15.5 kimg) and paused itself; no checkpoint was written from the broken weights.');
  assert.match(a.todo, /^Resume from the best snapshot \(at 12 kimg\): it continues on a fresh random stream/);
  assert.match(new HealthMonitor(ctx(false, null)).diverged(3, { stat: 'Loss/G', value: 3e5 }).what, /Loss\/G reached 3\.0e\+5 at 3 kimg/);
  assert.match(new HealthMonitor(ctx(false, null)).diverged(3, { stat: 'Loss/G', value: Infinity }).todo, /^Resume from the last checkpoint \(at 14 kimg\)/);
});

test('a collapsed batch of features gives a low diversity ratio, and the alert fires on it', async () => {
  const { meanPairwiseDistance } = await import('../../../core/evaluation/evaluate.js');
  const { FeaturePair, featureSet } = await import('../../../core/metrics/features.js');
  const rng = Rng.fromSeed(9);
  const dim = 16;
  const spread = (n: number): Float32Array => Float32Array.from({ length: n * dim }, () => rng.nextFloat());
  // 40 generated images that are two look-alike faces with a little noise (a mean pairwise distance
  // cannot see a collapse onto a few *distant* modes: 3 random faces keep ~2/3 of the spread).
  const face = spread(1);
  const faces = Float32Array.from({ length: 2 * dim }, (_, i) => face[i % dim]! + 0.1 * rng.nextFloat());
  const collapsed = Float32Array.from({ length: 40 * dim }, (_, i) => faces[(Math.floor(i / dim) % 2) * dim + (i % dim)]! + 0.02 * rng.nextFloat());
  const healthy = new FeaturePair(featureSet(spread(40), dim), featureSet(spread(40), dim));
  const bad = new FeaturePair(featureSet(spread(40), dim), featureSet(collapsed, dim));
  const ratio = (p: InstanceType<typeof FeaturePair>): number => meanPairwiseDistance(p.fakeGram(), 40) / meanPairwiseDistance(p.realGram(), 40);
  assert.ok(Math.abs(ratio(healthy) - 1) < 0.1, `same distribution: ratio ${ratio(healthy)}`);
  assert.ok(ratio(bad) < 0.5, `collapsed: ratio ${ratio(bad)}`);
  const h = new HealthMonitor(ctx());
  assert.deepEqual(h.observeDiversity(1, ratio(healthy)), []);
  assert.equal(h.observeDiversity(2, ratio(bad))[0]?.code, 'mode-collapse');
});

test('a resumed monitor continues the run’s history: a collapse across a pause is flagged, a standing alert is not raised again, a cleared one can be', () => {
  // Before the pause the samples reached 85% of the dataset's spread; after it, 30%.
  const collapse = new HealthMonitor(ctx());
  collapse.resume({ diversity: [{ kimg: 2, ratio: 0.4 }, { kimg: 4, ratio: 0.85 }], alerts: [], ticks: [] });
  const [a] = collapse.observeDiversity(6, 0.3);
  assert.equal(a?.code, 'mode-collapse');
  assert.match(a!.what, /30% as much as your images do \(it was 85%\)/);
  assert.deepEqual(new HealthMonitor(ctx()).observeDiversity(6, 0.3), [], 'a fresh monitor does not see it (what the resume fixes)');

  // Raised before the pause and not recovered since: not again. Recovered since: again.
  const standing = new HealthMonitor(ctx());
  standing.resume({ diversity: [{ kimg: 4, ratio: 0.85 }, { kimg: 6, ratio: 0.3 }], alerts: [{ kimg: 6, code: 'mode-collapse' }], ticks: [] });
  assert.deepEqual(standing.observeDiversity(8, 0.25), []);
  const recovered = new HealthMonitor(ctx());
  recovered.resume({ diversity: [{ kimg: 4, ratio: 0.85 }, { kimg: 6, ratio: 0.3 }, { kimg: 7, ratio: 0.7 }], alerts: [{ kimg: 6, code: 'mode-collapse' }], ticks: [] });
  assert.equal(recovered.observeDiversity(8, 0.25).length, 1);

  // D overfitting: raised at 19 kimg, still overfitting at every tick since: no repeat after 20 more ticks.
  const overfit = new HealthMonitor(ctx());
  overfit.resume({ diversity: [], alerts: [{ kimg: 19, code: 'd-overfit' }], ticks: [{ kimg: 20, stats: tick(0.95, 0.99, 0.6) }] });
  assert.deepEqual(Array.from({ length: 25 }, (_, i) => overfit.observeTick(21 + i, tick(0.95, 0.99, 0.6))).flat(), []);
  // …but it had cleared at 20 kimg: the new stretch is a new alert.
  const cleared = new HealthMonitor(ctx());
  cleared.resume({ diversity: [], alerts: [{ kimg: 19, code: 'd-overfit' }], ticks: [{ kimg: 20, stats: tick(0.6, 0.7, 0.7) }] });
  assert.equal(Array.from({ length: 20 }, (_, i) => cleared.observeTick(21 + i, tick(0.95, 0.99, 0.6))).flat().length, 1);
});

test('a session’s metrics pick up the run’s stored history: its training evaluations’ best diversity and the alerts it raised', (t) => {
  const project = Project.create(join(tempDir(t), 'h.atelier'), 'h', { appVersion: 'test' });
  t.after(() => project.close());
  const runs = new RunStore(project.db);
  const store = new MetricsStore(project.db);
  const run = runs.createRun('r', 'baseline', { seed: 1 }, 10);
  // An earlier session: evaluations (one on demand, which does not count), ticks, an overfitting alert still standing.
  const evaluation = (kimg: number, source: 'training' | 'on-demand', diversity: number): void => {
    store.addEvaluation({ runId: run.id, checkpointId: null, kimg, source, extractor: 'x', reference: false, realCount: 4, fakeCount: 4, metrics: { 'Metrics/diversity': diversity }, seconds: 1 });
  };
  evaluation(1, 'training', 0.3);
  evaluation(2, 'training', 0.9);
  evaluation(3, 'on-demand', 2);
  for (let k = 1; k <= 4; k++) runs.reportTick(run.id, k, tick(0.95, 0.99, 0.6));
  store.addAlert(run.id, { kimg: 3, code: 'd-overfit', severity: 'warning', what: 'Memorised.', todo: 'ADA.' });
  const session = () =>
    new RunMetrics({ db: project.db, runId: run.id, metrics: { metric: 'kid', everyCheckpoints: 1, reals: 4, fakes: 4, budget: 0, autoSize: false, extractor: null, features: 'inception' }, startKimg: 4, kimgTotal: 10, kimgPerCheckpoint: 1, seed: 1, conditional: false, backend: 'cpu', ada: false, log: () => {} });

  const m = session();
  assert.deepEqual(Array.from({ length: 25 }, (_, i) => m.tick(5 + i / 10, tick(0.95, 0.99, 0.6), 1)).flat(), [], 'the overfitting alert is not raised again');
  const [collapse] = m.health.observeDiversity(5, 0.4);
  assert.equal(collapse?.code, 'mode-collapse', '0.4 after a best of 0.9 (stored) is a collapse');
  assert.match(collapse!.what, /it was 90%/);
  assert.deepEqual(store.alerts(run.id).map((a) => a.code), ['d-overfit']);
});
