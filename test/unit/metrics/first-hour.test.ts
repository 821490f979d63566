/**
 * The first hour's arithmetic, pure: when evaluations fit the budget on a CPU run (several over a
 * default run, always one at the last checkpoint, never more than the budget), where the quality
 * scale puts a KID between its two anchors (checked against the KID of feature sets built to sit
 * at known places: the dataset's own features, noise, halfway mixtures), the nearest pairs
 * (against a brute-force search), the steady time left, and the speed table.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { Project } from '../../../core/store/project.js';
import { RunStore } from '../../../core/store/runs.js';
import { MetricsStore } from '../../../core/store/metrics.js';
import { evaluationFits, type ScheduleInput } from '../../../core/evaluation/in-training.js';
import { featureSet, FeaturePair } from '../../../core/metrics/features.js';
import { kernelInceptionDistance } from '../../../core/metrics/kid.js';
import { defaultMetricsConfig, planSizes, evaluationOverhead } from '../../../core/metrics/options.js';
import { nearestReals, qualityScore } from '../../../core/metrics/quality.js';
import { Rng } from '../../../core/random/rng.js';
import { EtaEstimator } from '../../../core/train/eta.js';
import { expectedSpeed, recognisableKimg, recordSpeed, stillBlurry } from '../../../core/train/speed-table.js';
import { continueKimg } from '../../../core/service/training.js';
import { moreTime, qualityWords, runVerdict } from '../../../renderer/src/lib/metrics.js';

/**
 * A default CPU run as the session sees it: `kimg` at `imgPerSec`, a checkpoint every `perCheckpoint`
 * kimg, each evaluation costing `evalSeconds` (the first `firstSeconds`). Returns the kimg of the
 * checkpoints evaluated and the share of training time spent evaluating.
 */
function simulate(o: { kimg: number; imgPerSec: number; perCheckpoint: number; evalSeconds: number; firstSeconds: number; budget?: number }): { evaluated: number[]; share: number } {
  const budget = o.budget ?? 0.1;
  const evaluated: number[] = [];
  let spent = 0;
  const checkpoints = Math.round(o.kimg / o.perCheckpoint);
  for (let i = 1; i <= checkpoints; i++) {
    const kimg = i * o.perCheckpoint;
    const trainSeconds = (kimg * 1000) / o.imgPerSec;
    const predicted = evaluated.length === 0 ? o.firstSeconds : o.evalSeconds;
    const oneTime = predicted - o.evalSeconds;
    const input: ScheduleInput = {
      budget,
      trainSeconds,
      projectedSeconds: (o.kimg * 1000) / o.imgPerSec,
      progress: kimg / o.kimg,
      spent,
      predicted,
      oneTime,
      final: i === checkpoints,
      finalReserve: o.evalSeconds,
      planned: 4,
    };
    if (evaluationFits(input)) {
      evaluated.push(kimg);
      spent += predicted;
    }
  }
  return { evaluated, share: spent / ((o.kimg * 1000) / o.imgPerSec) };
}

describe('evaluations on a CPU run', () => {
  it('a default 16² CPU run (50 kimg at ~85 img/s, a checkpoint every 5 kimg) gets several evaluations, the last checkpoint among them, within 10%', () => {
    // MobileNetV2 at ~12 features/s: sizes planned at the first checkpoint from the run's projected 590 s.
    const m = defaultMetricsConfig(2000, 'cpu');
    assert.equal(m.features, 'mobilenet', 'a CPU run is judged by MobileNetV2');
    const plan = planSizes({ reals: m.reals, fakes: m.fakes, images: 2000, budgetSeconds: 0.1 * 590, checkpointsLeft: 10, featuresPerSecond: 12, uncached: (n) => n, overhead: evaluationOverhead('mobilenet'), anchorsPending: true });
    const each = plan.fakes / 12 + 1;
    const first = (plan.reals + 3 * plan.fakes) / 12 + 1;
    const r = simulate({ kimg: 50, imgPerSec: 85, perCheckpoint: 5, evalSeconds: each, firstSeconds: first });
    assert.ok(r.evaluated.length >= 4, `evaluated at ${r.evaluated.join(', ')} kimg (sizes ${plan.reals} + ${plan.fakes})`);
    assert.equal(r.evaluated.at(-1), 50, 'the last checkpoint is evaluated');
    assert.ok(r.evaluated[0]! <= 15, `the first evaluation comes early: ${r.evaluated[0]} kimg`);
    assert.ok(r.share <= 0.1 + 1e-9, `within the budget: ${(r.share * 100).toFixed(1)}%`);
  });

  it('the issue’s run (0.512 kimg at 32² on wasm, ~2 img/s, 7 checkpoints) now evaluates, at the last checkpoint too', () => {
    // 256 s of training: 25.6 s of budget; MobileNetV2 sized 16 + 8: the first ~4 s, later ~1.7 s.
    const r = simulate({ kimg: 0.512, imgPerSec: 2, perCheckpoint: 0.512 / 7, evalSeconds: 8 / 12 + 1, firstSeconds: (16 + 24) / 12 + 1 });
    assert.ok(r.evaluated.length >= 3, `evaluated at ${r.evaluated.map((k) => k.toFixed(3)).join(', ')}`);
    assert.ok(Math.abs(r.evaluated.at(-1)! - 0.512) < 1e-9, 'the last checkpoint is evaluated');
    assert.ok(r.share <= 0.1 + 1e-9);
  });

  it('the InceptionV3 at CPU speed (the old behaviour’s cost) still fits nothing but what the budget allows', () => {
    // 2 features/s, 48 + 16 images: ~50 s a first evaluation, over 10% of a 100 s run: none, the last included.
    const r = simulate({ kimg: 1, imgPerSec: 10, perCheckpoint: 0.2, evalSeconds: 16 / 2 + 2, firstSeconds: 64 / 2 + 2 });
    assert.deepEqual(r.evaluated, []);
  });

  it('never spends past the budget, however cheap, and keeps the last checkpoint’s share free', () => {
    for (const evalSeconds of [0.5, 2, 5, 10]) {
      const r = simulate({ kimg: 20, imgPerSec: 50, perCheckpoint: 1, evalSeconds, firstSeconds: 3 * evalSeconds });
      assert.ok(r.share <= 0.1 + 1e-9, `${evalSeconds} s each: ${(r.share * 100).toFixed(1)}%`);
      if (3 * evalSeconds + evalSeconds <= 40) assert.equal(r.evaluated.at(-1), 20, `${evalSeconds} s each: the last checkpoint is evaluated (${r.evaluated.join(', ')})`);
    }
    assert.equal(evaluationFits({ budget: 0, trainSeconds: 1, projectedSeconds: 1, progress: 0.1, spent: 100, predicted: 100, final: false, finalReserve: 10, planned: 4 }), true, 'budget 0: no limit');
  });
});

/** n random feature vectors of `dim` around `centre` with spread `s`. */
function cloud(rng: Rng, n: number, dim: number, centre: number, s: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) out[i] = centre + s * (rng.nextFloat() * 2 - 1);
  return out;
}

describe('the quality scale', () => {
  const dim = 16;
  const rng = Rng.fromSeed(5);
  const reals = cloud(rng, 64, dim, 1, 0.5);
  const kid = (fakes: Float32Array): number => kernelInceptionDistance(new FeaturePair(featureSet(reals, dim), featureSet(fakes, dim)), { seed: 1 }).kid;
  // The anchors as the studio measures them: other dataset images (same distribution), the untrained generator (far away).
  const self = kid(cloud(rng, 32, dim, 1, 0.5));
  const untrained = kid(cloud(rng, 32, dim, -2, 0.1));

  it('puts the untrained generator at 0, the dataset against itself at 100, and what lies between in order', () => {
    assert.ok(untrained > 0.1 && Math.abs(self) < untrained / 100, `anchors: untrained ${untrained}, self ${self}`);
    assert.equal(qualityScore(untrained, { untrained, self }), 0);
    assert.equal(qualityScore(self, { untrained, self }), 100);
    assert.equal(qualityScore(untrained * 2, { untrained, self }), 0, 'worse than untrained: 0');
    assert.equal(qualityScore(-1, { untrained, self }), 100, 'below the floor: 100');
    // Fakes moving from the untrained cloud toward the dataset score higher as they come closer.
    const scores = [-1, 0, 0.5, 0.9].map((centre) => qualityScore(kid(cloud(rng, 32, dim, centre, 0.3)), { untrained, self })!);
    for (let i = 1; i < scores.length; i++) assert.ok(scores[i]! > scores[i - 1]!, `closer scores higher: ${scores.map((s) => s.toFixed(1)).join(' < ')}`);
  });

  it('is logarithmic between the ends: a tenth of the untrained KID is a third of the way when the floor is a thousandth', () => {
    const a = { untrained: 1, self: 0 }; // the floor: 1e-3 of untrained
    assert.ok(Math.abs(qualityScore(0.1, a)! - 100 / 3) < 1e-9);
    assert.ok(Math.abs(qualityScore(0.01, a)! - 200 / 3) < 1e-9);
    assert.ok(Math.abs(qualityScore(0.001, a)! - 100) < 1e-9);
    // A self anchor above the floor sets the top: KID 0.01 against self 0.01 is 100.
    assert.equal(qualityScore(0.01, { untrained: 1, self: 0.01 }), 100);
    assert.ok(Math.abs(qualityScore(0.1, { untrained: 1, self: 0.01 })! - 50) < 1e-9);
    assert.equal(qualityScore(0.5, { untrained: 0, self: 0 }), null, 'no scale without an untrained KID');
  });

  it('finds each sample’s nearest dataset image as a brute-force search does, and a copy has a small ratio', () => {
    const r = cloud(rng, 20, dim, 0, 1);
    const f = cloud(rng, 6, dim, 0, 1);
    f.set(r.subarray(7 * dim, 8 * dim), 0); // sample 0 copies real 7
    const pairs = nearestReals(featureSet(r, dim), featureSet(f, dim), 4);
    assert.equal(pairs.length, 4);
    for (const p of pairs) {
      let best = -1;
      let bestD = Infinity;
      for (let j = 0; j < 20; j++) {
        let d = 0;
        for (let k = 0; k < dim; k++) d += (f[p.fake * dim + k]! - r[j * dim + k]!) ** 2;
        if (d < bestD) [bestD, best] = [d, j];
      }
      assert.equal(p.real, best);
      assert.ok(Math.abs(p.distance - Math.sqrt(bestD)) < 1e-3);
    }
    assert.equal(pairs[0]!.real, 7);
    assert.ok(pairs[0]!.ratio < 0.01, `a copy: ratio ${pairs[0]!.ratio}`);
    assert.ok(pairs.slice(1).every((p) => p.ratio > 0.3), 'the others are not copies');
  });
});

describe('the time left', () => {
  it('leaves warm-up steps out, averages over recent steps, and does not swing with one slow step', () => {
    const eta = new EtaEstimator({ warmupSteps: 3, windowSeconds: 30, tolerance: 0.1 });
    // Compilation: three slow first steps (as after a resume); then 16 images in 0.2 s (80 img/s).
    for (const s of [5, 3, 2]) eta.step(16, s);
    assert.equal(eta.rate(), null, 'nothing until warm-up is over');
    assert.equal(eta.eta(50_000, 0), null);
    let now = 0;
    for (let i = 0; i < 50; i++) eta.step(16, 0.2);
    assert.ok(Math.abs(eta.rate()! - 80) < 1e-9);
    const first = eta.eta(40_000, now)!;
    assert.equal(first, 500);
    // One slow step (an R1 step, a hiccup) and a few seconds on: the countdown goes on, no jump.
    eta.step(16, 1);
    now += 10;
    const later = eta.eta(40_000 - 800, now)!;
    assert.equal(later, 490, 'a countdown from the shown value');
    // The machine really slows down (another job): the estimate moves once it drifts past a tenth.
    for (let i = 0; i < 200; i++) eta.step(16, 0.4);
    now += 80;
    const slower = eta.eta(30_000, now)!;
    assert.equal(slower, 750, '30,000 images at 40 img/s');
  });

  it('adds the evaluations still planned', () => {
    const eta = new EtaEstimator({ warmupSteps: 0 });
    for (let i = 0; i < 10; i++) eta.step(10, 0.1);
    assert.equal(eta.eta(1000, 0, 20), 30);
  });
});

describe('the speed table', () => {
  it('uses what this machine measured, else the bench’s typical speed, slower at larger resolutions', () => {
    const bench16 = expectedSpeed({}, 'wasm', 16)!;
    const bench32 = expectedSpeed({}, 'wasm', 32)!;
    assert.equal(bench16.measured, false);
    assert.ok(bench16.imgPerSec > bench32.imgPerSec);
    let t = recordSpeed({}, 'wasm', 16, 60);
    assert.deepEqual(expectedSpeed(t, 'wasm', 16), { imgPerSec: 60, measured: true });
    t = recordSpeed(t, 'wasm', 16, 100);
    assert.equal(expectedSpeed(t, 'wasm', 16)!.imgPerSec, 80, 'the second report averages with the first');
    for (let i = 0; i < 20; i++) t = recordSpeed(t, 'wasm', 16, 40);
    assert.ok(Math.abs(expectedSpeed(t, 'wasm', 16)!.imgPerSec - 40) < 0.5, 'follows recent runs');
    assert.equal(expectedSpeed(t, 'wasm', 32)!.measured, false, 'per resolution');
    assert.equal(recordSpeed(t, 'wasm', 16, NaN), t, 'a non-finite report changes nothing');
    assert.equal(expectedSpeed({}, 'no-such-backend', 16), null);
  });
});

describe('a finished run in plain words', () => {
  it('suggests continuing to where samples usually become recognisable, else as much again, in round figures', () => {
    const target = recognisableKimg(16)! * 1.2;
    assert.equal(continueKimg(16, 0.384), Math.ceil((target - 0.384) / 5) * 5);
    assert.equal(continueKimg(16, target + 10), Math.ceil((target + 10) / 5) * 5, 'past it: as much again');
    assert.ok(continueKimg(16, 0.384) + 0.384 >= target);
  });

  it('says what the quality means and what to do next', () => {
    assert.equal(qualityWords(12), 'still blurry');
    assert.equal(qualityWords(45), 'taking shape');
    assert.equal(qualityWords(70), 'recognisable');
    assert.equal(moreTime(12 * 60), 'about 12 more minutes');
    assert.equal(moreTime(30), 'about 1 more minute');
    assert.equal(moreTime(3 * 3600), 'about 3 more hours');
    assert.deepEqual(runVerdict(12, 600), { level: 'blurry', text: 'Still blurry — this is normal for a run this short; continue training for about 10 more minutes.' });
    assert.equal(runVerdict(50, 600).level, 'shaping');
    assert.equal(runVerdict(90, 600).level, 'good');
    assert.match(runVerdict(null, null).text, /^Finished, not judged yet: evaluate its last checkpoint/);
  });
});

describe('nearest pairs in the project file', () => {
  it('are kept with their evaluation, read back as PNG data URLs, and go with a deleted run', () => {
    const dir = mkdtempSync(join(tmpdir(), 'atelier-nearest-'));
    const p = Project.create(join(dir, 'p.atelier'), 'p', { appVersion: 'test' });
    try {
      const runs = new RunStore(p.db);
      const store = new MetricsStore(p.db);
      const [a, b] = [runs.createRun('a', 'baseline', {}, 1).id, runs.createRun('b', 'baseline', {}, 1).id];
      const evaluate = (runId: number) => store.addEvaluation({ runId, checkpointId: null, kimg: 1, source: 'training', extractor: 'x', reference: false, realCount: 4, fakeCount: 4, metrics: { 'Metrics/kid': 0.1 }, seconds: 1 });
      const [ea, eb] = [evaluate(a), evaluate(b)];
      const pair = { realImageId: 7, ratio: 0.3, distance: 1.5, samplePng: Buffer.from([1, 2]), realPng: Buffer.from([3]) };
      store.saveNearest(ea.id, [pair]);
      store.saveNearest(eb.id, [pair, { ...pair, ratio: NaN }]);
      assert.deepEqual(store.nearest(eb.id)[0], { imageId: 7, ratio: 0.3, sample: 'data:image/png;base64,AQI=', real: 'data:image/png;base64,Aw==' });
      assert.ok(Number.isNaN(store.nearest(eb.id)[1]!.ratio));
      runs.deleteRun(a);
      store.pruneNearest();
      assert.deepEqual(store.nearest(ea.id), []);
      assert.equal(store.nearest(eb.id).length, 2);
    } finally {
      p.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('when samples become recognisable, as measured', () => {
  it('promises a time only where a run measured it; elsewhere says where a measured run was still blurry', () => {
    assert.equal(recognisableKimg(16), 25);
    assert.equal(recognisableKimg(32), null, 'the measured 32² run never got there');
    assert.equal(stillBlurry(16), null);
    assert.deepEqual(stillBlurry(32), { resolution: 32, kimg: 40 });
    assert.deepEqual(stillBlurry(64), { resolution: 32, kimg: 40 }, 'a larger picture takes at least as long');
    assert.equal(stillBlurry(256), null, 'the CPU measurement says nothing of GPU sizes');
    assert.equal(continueKimg(32, 40), 40, 'where nothing measured recognisable: as much again');
  });

  it('a speed measured at other widths than the defaults is not offered as this machine\'s', () => {
    const untagged = { 'wasm@32': { imgPerSec: 110, samples: 4, updatedAt: '2026-12-07T00:00:00Z' }, 'wasm@16': { imgPerSec: 150, samples: 2, updatedAt: '2026-12-07T00:00:00Z' } };
    assert.equal(expectedSpeed(untagged, 'wasm', 32, '1024/64')!.measured, false, 'written before tags, at the old 32² widths 512/32');
    assert.deepEqual(expectedSpeed(untagged, 'wasm', 16, '512/32'), { imgPerSec: 150, measured: true }, '16² widths did not change');
    const t = recordSpeed(untagged, 'wasm', 32, 40, new Date(), '1024/64');
    assert.deepEqual([t['wasm@32']!.imgPerSec, t['wasm@32']!.samples, t['wasm@32']!.capacity], [40, 1, '1024/64'], 'starts over at the new widths');
    assert.deepEqual(expectedSpeed(t, 'wasm', 32, '1024/64'), { imgPerSec: 40, measured: true });
    assert.equal(expectedSpeed(t, 'wasm', 32, '512/32')!.measured, false);
  });
});
