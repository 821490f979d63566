/**
 * ADA's strength controller and the augmentation stages in the training loop, on wasm with real
 * emoji: the heuristic's arithmetic (raise while r_t is above the target, lower below, never under
 * 0 or over 1, every `interval` iterations, fixed p stays), p rising when D memorises a tiny real
 * set, a training step with ADA at p > 0 and R1 every step (double backprop through the pipeline
 * on wasm) and with DiffAugment, and an ADA run resumed in a new process continuing exactly (p and
 * the heuristic's accumulators included).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { AdaStage } from '../../../core/augment/ada.js';
import { type AugmentConfig, completeAugmentConfig } from '../../../core/augment/config.js';
import { createAugmentStage } from '../../../core/augment/stage.js';
import { selectBackend } from '../../../core/backend/select.js';
import { STAT } from '../../../core/train/stats.js';
import { tempDir } from '../../helpers/tmp.js';
import { emojiPixels, makeLoop, tinyConfig } from '../../unit/train/helpers.js';

const CHILD = new URL('../../fixtures/train/resume-child.ts', import.meta.url).pathname;
const ada = (over: Partial<AugmentConfig> = {}): AugmentConfig => ({ ...completeAugmentConfig({ kind: 'ada', pipe: 'bgc' }, 1e4, false), ...over });

describe('ADA controller', () => {
  /** One iteration of n reals of which D called a share (1 + r)/2 real. */
  const iterate = (stage: AdaStage, rt: number, n = 8): void => {
    stage.observe(rt * n, n);
    stage.adjust(n);
  };

  it('raises p by batch·interval/(speedKimg·1000) per interval while r_t > target, lowers it below, never under 0', () => {
    const stage = new AdaStage(ada({ speedKimg: 1 })); // 32 images per interval → ±0.032
    assert.equal(stage.p, 0);
    for (let i = 0; i < 3; i++) iterate(stage, 1);
    assert.equal(stage.p, 0, 'nothing before the interval is complete');
    iterate(stage, 1);
    assert.equal(stage.p, 0.032);
    assert.equal(stage.rt, 1);
    for (let i = 0; i < 40; i++) iterate(stage, 0.75); // D overfits for 10 more intervals
    assert.ok(Math.abs(stage.p - 0.352) < 1e-12, `p = ${stage.p}`);
    iterate(stage, 0.6);
    iterate(stage, 0.6);
    iterate(stage, 0.6);
    iterate(stage, 0.6);
    assert.ok(Math.abs(stage.p - 0.352) < 1e-12, 'r_t at the target: p stays');
    const seen: number[] = [];
    for (let i = 0; i < 80; i++) {
      iterate(stage, i % 2 === 0 ? 0.5 : 0); // r_t 0.25 over each interval: below the target
      seen.push(stage.p);
    }
    assert.ok(Math.abs(seen[3]! - 0.32) < 1e-12, `one interval lowers p by 0.032: ${seen[3]}`);
    assert.equal(stage.p, 0, 'lowered back to 0');
    assert.ok(seen.every((p) => p >= 0), 'never below 0');
    assert.ok(Math.abs(stage.rt! - 0.25) < 1e-12);

    const fast = new AdaStage(ada({ speedKimg: 0.01 })); // +3.2 per interval
    for (let i = 0; i < 8; i++) iterate(fast, 1);
    assert.equal(fast.p, 1, 'never above 1');
  });

  it('a fixed p does not move; the interval is counted in iterations, the step in images', () => {
    const fixed = new AdaStage(ada({ p: 0.3 }));
    for (let i = 0; i < 40; i++) iterate(fixed, 1);
    assert.equal(fixed.p, 0.3);
    const two = new AdaStage(ada({ speedKimg: 1, interval: 2 }));
    iterate(two, 1, 16);
    iterate(two, 1, 16); // 2 iterations, 32 images
    assert.equal(two.p, 0.032);
  });

  it('state in the middle of an interval, restored, continues exactly', () => {
    const a = new AdaStage(ada({ speedKimg: 1 }));
    const rts = [1, 0.5, 1, 1, 0.75, 1, 1, 0.25, 1, 1, 1, 0.5, 0.75, 0, 1, 1];
    rts.slice(0, 6).forEach((r) => iterate(a, r));
    const saved = JSON.parse(JSON.stringify(a.state()));
    assert.deepEqual([saved.steps, saved.images, saved.signSum, saved.count], [2, 16, 14, 16]);
    const b = new AdaStage(ada({ speedKimg: 1 }));
    b.restore(saved);
    rts.slice(6).forEach((r) => {
      iterate(a, r);
      iterate(b, r);
      assert.equal(b.p, a.p);
    });
    assert.deepEqual(b.state(), a.state());
    assert.throws(() => createAugmentStage(completeAugmentConfig({ kind: 'none' }, 1, false)).restore(saved), /augmentation is 'ada', this run's is 'none'/);
  });
});

describe('augmentation in the training loop', () => {
  let pixels: Uint8Array;

  before(async () => {
    await selectBackend({ prefer: 'wasm' });
    pixels = await emojiPixels(32);
  });

  it('D memorises a tiny real set: r_t climbs above the target and p rises, by the rule at every interval', async (t) => {
    const config = tinyConfig({ augment: ada({ speedKimg: 0.5 }), dLr: 0.01 }); // ±32/500 per interval
    const stage = new AdaStage(config.augment);
    const loop = makeLoop(config, pixels.subarray(0, 4 * 16 * 16 * 3), { augment: stage }); // 4 reals
    const rts: number[] = [];
    for (let i = 1; i <= 25; i++) {
      const before = stage.p;
      await loop.runStep();
      await loop.flushStats();
      rts.push(loop.stats.collect()[STAT.rt]!);
      // Statistics act one step late: during step i, p takes in step i − 1's r_t.
      if (i === 1 || (i - 1) % 4 !== 0) {
        assert.equal(stage.p, before, `step ${i}: p only moves every 4 iterations, one step late`);
        continue;
      }
      const rt = rts.slice(-5, -1).reduce((a, b) => a + b) / 4;
      assert.ok(Math.abs(stage.rt! - rt) < 1e-6, `step ${i}: r_t over the interval ${stage.rt} = ${rt}`);
      assert.ok(Math.abs(stage.p - Math.max(0, before + Math.sign(rt - 0.6) * 0.064)) < 1e-9, `step ${i}: ${before} → ${stage.p} at r_t ${rt}`);
    }
    t.diagnostic(`r_t per step: ${rts.map((r) => r.toFixed(2)).join(' ')}; p ${stage.p.toFixed(3)}`);
    const late = rts.slice(8);
    assert.ok(late.reduce((a, b) => a + b) / late.length > 0.6, `D calls the 4 reals real: r_t ${late.join(', ')}`);
    assert.ok(stage.p >= 0.1, `p rose to ${stage.p}`);
    loop.disposeAll();
  });

  for (const [label, augment] of [
    ['ADA bgcfnc at p = 0.7', ada({ pipe: 'bgcfnc', p: 0.7 })],
    ['DiffAugment', completeAugmentConfig({ kind: 'diffaugment' }, 1, false)],
  ] as const) {
    it(`${label}: steps with R1 every step run on wasm, report Augment/p, leave no tensor behind`, async () => {
      const loop = makeLoop(tinyConfig({ augment, r1Interval: 1 }), pixels);
      await loop.runStep();
      const before = tf.memory().numTensors;
      await loop.runStep();
      assert.equal(tf.memory().numTensors, before);
      const stats = loop.stats.collect();
      for (const [name, v] of Object.entries(stats)) assert.ok(Number.isFinite(v), `${name} = ${v}`);
      assert.ok(stats[STAT.lossR1]! > 0, 'R1 through the augmentation');
      assert.equal(stats['Augment/p'], augment.kind === 'ada' ? 0.7 : 1);
      loop.disposeAll();
    });
  }

  it('an ADA run resumed in a new process continues exactly: p, the accumulators, the weights', async (t) => {
    // Target −2 (below any r_t): p rises by 32/200 every 4 iterations whatever D says; the checkpoint falls mid-interval.
    // Statistics act one step late: after 11 steps p has taken in 10 steps' r_t; the checkpoint holds step 11's.
    const config = tinyConfig({ augment: ada({ target: -2, speedKimg: 0.2 }) });
    const whole = makeLoop(config, pixels);
    for (let i = 0; i < 11; i++) await whole.runStep();
    const expected = await whole.capture();
    whole.disposeAll();
    assert.ok(Math.abs(expected.state.augment.p - 0.32) < 1e-9, `p after 11 steps: ${expected.state.augment.p}`);

    const half = makeLoop(config, pixels);
    for (let i = 0; i < 6; i++) await half.runStep();
    const mid = await half.capture();
    half.disposeAll();
    assert.ok(Math.abs(mid.state.augment.p - 0.16) < 1e-9);
    assert.deepEqual([mid.state.augment.steps, mid.state.augment.images, mid.state.augment.count], [1, 8, 8], 'mid-interval');
    assert.equal(mid.state.pendingStats?.step, 6, "step 6's statistics, read but not yet acted on");
    assert.equal(mid.state.pendingStats?.names.filter((n) => n === STAT.rt).length, 1);

    const dir = tempDir(t);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    writeFileSync(join(dir, 'mid.bin'), mid.weights);
    writeFileSync(join(dir, 'mid.json'), JSON.stringify(mid.state));
    execFileSync(process.execPath, ['--import', 'tsx', CHILD, join(dir, 'config.json'), join(dir, 'mid.bin'), join(dir, 'mid.json'), '5', join(dir, 'out')], { stdio: 'inherit' });
    const resumed = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
    assert.deepEqual(resumed, JSON.parse(JSON.stringify(expected.state)), 'step, RNG, data cursor, optimisers and the augmentation state');
    assert.ok(readFileSync(join(dir, 'out.bin')).equals(expected.weights), 'weights, bit for bit');
  });
});
