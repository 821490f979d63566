/** Automatic evaluation sizes: the largest that fit the time budget of the run, never above the configured ones. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { defaultMetricsConfig, metricsConfigFromJson, planSizes, type SizePlanInput } from '../../../core/metrics/options.js';
import { resolveTrainConfig } from '../../../core/train/config.js';

const base: SizePlanInput = { reals: 200, fakes: 64, images: 500, budgetSeconds: 0, checkpointsLeft: 10, featuresPerSecond: 2, uncached: (n) => n };

test('a short CPU run gets small sizes that fit 10% of it; a long one or a warm cache gets larger ones', () => {
  // A default 16² run on wasm: ~520 s of training, 52 s of budget; four evaluations of 32 + 12 images fit.
  const short = planSizes({ ...base, budgetSeconds: 52 });
  assert.deepEqual([short.reals, short.fakes, short.evaluations], [32, 12, 4]);
  assert.ok(short.seconds <= 52);
  // The dataset's features cached by an earlier run: only the generated images cost.
  const warm = planSizes({ ...base, budgetSeconds: 52, uncached: () => 0 });
  assert.ok(warm.fakes > short.fakes && warm.seconds <= 52, JSON.stringify(warm));
  // A long run: the configured sizes, capped by the dataset.
  assert.deepEqual([planSizes({ ...base, budgetSeconds: 3600, images: 150 }).reals, planSizes({ ...base, budgetSeconds: 3600, images: 150 }).fakes], [150, 64]);
  // Nothing fits: the smallest (the budget check may still hold it back).
  assert.deepEqual([planSizes({ ...base, budgetSeconds: 1 }).reals, planSizes({ ...base, budgetSeconds: 1 }).fakes], [16, 8]);
  // Fewer checkpoints left than planned evaluations: plan that many.
  assert.equal(planSizes({ ...base, budgetSeconds: 52, checkpointsLeft: 2 }).evaluations, 2);
});

test('sizes the user set are kept; runs from before the metrics get automatic ones', () => {
  const facts = { images: 300, resolution: 16, channels: 3, numClasses: 0 };
  assert.equal(resolveTrainConfig({ preset: 'baseline', kimg: 1 }, facts).metrics.autoSize, true);
  const set = resolveTrainConfig({ preset: 'baseline', kimg: 1, advanced: { evalFakes: 50, evalBudget: 0, metric: 'fid' } }, facts).metrics;
  assert.deepEqual([set.autoSize, set.fakes, set.reals, set.budget, set.metric], [false, 50, 200, 0, 'fid']);
  assert.equal(metricsConfigFromJson(undefined).autoSize, true);
  assert.equal(metricsConfigFromJson({ ...defaultMetricsConfig(300, 'cpu'), autoSize: false }).autoSize, false);
  assert.equal(defaultMetricsConfig(10_000, 'gpu').reals, 5000);
});

test('an evaluation under way stops when, at the speed it really goes, it would overshoot the budget', async () => {
  const { pastBudget } = await import('../../../core/evaluation/in-training.js');
  // 8 of 88 images in 8 s: 80 more take ~80 s; 20 s allowed → stop.
  assert.equal(pastBudget({ done: 8, total: 88, elapsed: 8, spent: 0, allowed: 20 }), true);
  // The same speed with 120 s allowed: go on.
  assert.equal(pastBudget({ done: 8, total: 88, elapsed: 8, spent: 0, allowed: 120 }), false);
  // Within a fifth over: go on (the prediction is rough).
  assert.equal(pastBudget({ done: 8, total: 88, elapsed: 8, spent: 0, allowed: 80 }), false);
  // Too early to know the speed.
  assert.equal(pastBudget({ done: 4, total: 88, elapsed: 100, spent: 0, allowed: 1 }), false);
  // What earlier evaluations spent counts.
  assert.equal(pastBudget({ done: 8, total: 16, elapsed: 8, spent: 100, allowed: 90 }), true);
});
