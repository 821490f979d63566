import { test } from 'node:test';
import assert from 'node:assert/strict';
import { computeClassOf, defaultBatch, resolveTrainConfig } from '../../../core/train/config.js';
import { channelsAt } from '../../../core/nets/config.js';

const FACTS = { images: 500, resolution: 64, channels: 3, numClasses: 0 };

test('CPU backends get small nets and GPU backends StyleGAN2-ADA-like ones; the user still wins', () => {
  assert.equal(computeClassOf('wasm'), 'cpu');
  assert.equal(computeClassOf('tensorflow'), 'cpu');
  assert.equal(computeClassOf('tensorflow-gpu'), 'gpu');
  assert.equal(computeClassOf('webgpu'), 'gpu');
  const cpu = resolveTrainConfig({ preset: 'baseline', kimg: 10 }, FACTS, 'cpu');
  const gpu = resolveTrainConfig({ preset: 'baseline', kimg: 10 }, FACTS, 'gpu');
  assert.ok(channelsAt(cpu.net, 4) <= 64 && channelsAt(gpu.net, 4) >= 256, 'widths follow the compute');
  assert.ok(cpu.net.zDim < gpu.net.zDim);
  assert.equal(cpu.batch, defaultBatch(64, 'cpu'));
  assert.equal(cpu.r1Gamma, (0.0002 * 64 * 64) / cpu.batch, 'auto γ from the batch actually used');
  const mine = resolveTrainConfig({ preset: 'baseline', kimg: 10, batch: 4, advanced: { channelBase: 1024, channelMax: 16 } }, FACTS, 'gpu');
  assert.equal(mine.batch, 4);
  assert.equal(channelsAt(mine.net, 4), 16);
});

test('bad settings are refused with the setting named', () => {
  assert.throws(() => resolveTrainConfig({ preset: 'nope', kimg: 1 }, FACTS), /no training preset named "nope"/);
  assert.throws(() => resolveTrainConfig({ preset: 'baseline', kimg: 1 }, { ...FACTS, images: 0 }), /dataset is empty/);
  assert.throws(() => resolveTrainConfig({ preset: 'baseline', kimg: 1, advanced: { conditional: true } }, FACTS), /conditional run needs at least 2 labels/);
  assert.throws(() => resolveTrainConfig({ preset: 'baseline', kimg: 1, advanced: { channelBase: 256, channelMax: 8 } }, { ...FACTS, resolution: 512 }), /channelBase 256 is too small for 512².*advanced settings/);
});
