/**
 * The new-run form's augmentation fields (renderer/src/lib): they count only for a preset that
 * augments, DiffAugment takes no strength settings, and a run's stored config gives the chart its
 * target line.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { methods } from '../../../core/api/contract.js';
import { augmentOf, TARGET_SERIES, withTarget } from '../../../renderer/src/lib/augment.js';
import { presetInfos } from '../../../core/presets/index.js';
import { AUG_PIPES, blankAdvanced, parseAdvanced } from '../../../renderer/src/lib/train-settings.js';

/** Whether a preset's runs augment, as the Train view learns it (PresetInfo). */
const presetAugments = (id: string): boolean => presetInfos({ images: 100, numClasses: 0 }).find((p) => p.id === id)!.augments;

test('augmentation fields: only for ADA, checked as the contract checks them', () => {
  const input = blankAdvanced();
  input.augPipe = 'bgcfnc';
  input.numbers.augTarget = '0.7';
  input.numbers.augP = '';
  input.numbers.augSpeedKimg = '50';
  input.numbers.channelMax = '32';
  assert.equal(presetAugments('ada'), true);
  assert.equal(presetAugments('baseline'), false);
  assert.deepEqual(parseAdvanced(input, true), { advanced: { augPipe: 'bgcfnc', augTarget: 0.7, augSpeedKimg: 50, channelMax: 32 }, problems: [] });
  assert.deepEqual(parseAdvanced(input, false), { advanced: { channelMax: 32 }, problems: [] }, 'a baseline run ignores them');
  input.augPipe = 'diffaugment';
  assert.deepEqual(parseAdvanced(input, true).advanced, { augPipe: 'diffaugment', channelMax: 32 }, 'DiffAugment: no target or speed');
  input.augPipe = '';
  input.numbers.augTarget = '0';
  input.numbers.augP = '1.2';
  assert.deepEqual(parseAdvanced(input, true).problems, ['Overfitting target (r_t): use more than 0, up to 1.', 'Fixed strength p: use 0 to 1.']);
  // Every menu entry is a pipeline the contract accepts.
  for (const { value } of AUG_PIPES) assert.ok(methods['train.start'].params.safeParse({ preset: 'ada', kimg: 1, advanced: { augPipe: value } }).success, value);
});

test("a run's augmentation for the chart: the target line only when p adapts", () => {
  assert.deepEqual(augmentOf({ augment: { kind: 'ada', p: null, target: 0.6 } }), { kind: 'ada', target: 0.6 });
  assert.deepEqual(augmentOf({ augment: { kind: 'ada', p: 0.3, target: 0.6 } }), { kind: 'ada', target: null });
  assert.deepEqual(augmentOf({ augment: { kind: 'diffaugment', p: 1, target: 0.6 } }), { kind: 'diffaugment', target: null });
  assert.equal(augmentOf({ augment: { kind: 'none' } }), null);
  assert.equal(augmentOf(null), null);
  const series = new Map([['r_t', [[0.1, 0.2], [0.2, 0.9]] as Array<[number, number | null]>]]);
  assert.deepEqual(withTarget(series, 0.6).get(TARGET_SERIES), [[0.1, 0.6], [0.2, 0.6]]);
});
