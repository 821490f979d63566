/**
 * The ADA preset and the augmentation options: defaults filled in one place, faster adaptation when
 * transferring, DiffAugment picked by pipeline name, refusals that say what to do (in the resolver
 * and at the contract's boundary), old runs' stored configs completed, and which preset the studio
 * suggests for how many images.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ADA_PIPELINES, methods } from '../../../core/api/contract.js';
import { AUGMENT_DEFAULTS } from '../../../core/augment/config.js';
import { presetInfos } from '../../../core/presets/index.js';
import { resolveTrainConfig, trainConfigFromJson } from '../../../core/train/config.js';

const FACTS = { images: 500, resolution: 32, channels: 3, numClasses: 0 };

describe('augmentation settings', () => {
  it('the ADA preset: bgc, adaptive p from 0 toward r_t 0.6, 500 kimg (100 when transferring) but a fifth of the run at most, every 4 iterations', () => {
    const c = resolveTrainConfig({ preset: 'ada', kimg: 5000 }, FACTS);
    assert.equal(c.preset, 'ada');
    assert.deepEqual(c.augment, { kind: 'ada', pipe: 'bgc', p: null, target: 0.6, speedKimg: 500, interval: 4 });
    const speed = (kimg: number, transfer: boolean) => resolveTrainConfig({ preset: 'ada', kimg, advanced: transfer ? { transferFrom: { runId: 1 } } : {} }, FACTS).augment.speedKimg;
    assert.equal(speed(5000, true), AUGMENT_DEFAULTS.speedKimgTransfer);
    assert.equal(speed(50, false), 10, 'a 50 kimg CPU run: p can cross 0 → 1 in 10 kimg');
    assert.equal(speed(50, true), 10);
    assert.equal(speed(100000, false), 500);
    assert.equal(resolveTrainConfig({ preset: 'baseline', kimg: 10 }, FACTS).augment.kind, 'none');
  });

  it('the user’s pipeline, target, fixed p and speed win; diffaugment picks DiffAugment', () => {
    const c = resolveTrainConfig({ preset: 'ada', kimg: 10, advanced: { augPipe: 'bgcfnc', augTarget: 0.7, augP: 0.25, augSpeedKimg: 50 } }, FACTS);
    assert.deepEqual(c.augment, { kind: 'ada', pipe: 'bgcfnc', p: 0.25, target: 0.7, speedKimg: 50, interval: 4 });
    const d = resolveTrainConfig({ preset: 'ada', kimg: 10, advanced: { augPipe: 'diffaugment' } }, FACTS);
    assert.deepEqual([d.augment.kind, d.augment.pipe, d.augment.p], ['diffaugment', 'color,translation,cutout', 1]);
    const part = resolveTrainConfig({ preset: 'ada', kimg: 10, advanced: { augPipe: 'diffaugment:translation,cutout' } }, FACTS);
    assert.equal(part.augment.pipe, 'translation,cutout');
  });

  it('refuses what cannot apply, saying what to do', () => {
    assert.throws(() => resolveTrainConfig({ preset: 'baseline', kimg: 1, advanced: { augPipe: 'bgc' } }, FACTS), /trains without augmentation, so augPipe cannot apply\. Pick the ADA preset/);
    assert.throws(() => resolveTrainConfig({ preset: 'ada', kimg: 1, advanced: { augPipe: 'diffaugment', augTarget: 0.5 } }, FACTS), /DiffAugment augments every image every time, so augTarget cannot apply/);
    assert.throws(() => resolveTrainConfig({ preset: 'ada', kimg: 1, advanced: { augPipe: 'bgx' } }, FACTS), /no augmentation pipeline "bgx"\. Use one of blit, geom/);
    const check = (advanced: object) => {
      const r = methods['train.start'].params.safeParse({ preset: 'ada', kimg: 1, advanced });
      return r.success ? 'ok' : r.error.issues.map((i) => i.message).join(' ');
    };
    assert.equal(check({ augPipe: 'bgcfnc', augTarget: 0.6, augP: 0, augSpeedKimg: 100 }), 'ok');
    assert.equal(check({ augPipe: 'diffaugment:color' }), 'ok');
    assert.match(check({ augPipe: 'bgcx' }), new RegExp(`Use an ADA pipeline \\(${ADA_PIPELINES.join(', ')}\\) or diffaugment`));
    assert.match(check({ augPipe: 'diffaugment:color,color' }), /Use an ADA pipeline/);
    assert.equal(check({ augTarget: 0 }), 'The overfitting target (r_t) must be above 0.');
    assert.equal(check({ augP: 1.5 }), 'A fixed p must be from 0 to 1.');
    assert.equal(check({ augSpeedKimg: 0 }), 'The ADA speed must be more than 0 kimg.');
  });

  it('a run stored before these options gets them filled in', () => {
    const stored = JSON.parse(JSON.stringify(resolveTrainConfig({ preset: 'baseline', kimg: 1 }, FACTS)));
    stored.augment = { kind: 'none' };
    assert.deepEqual(trainConfigFromJson(stored, 'run 1').augment, { kind: 'none', pipe: '', p: 0, target: 0.6, speedKimg: 0.2, interval: 4 });
  });

  it('suggests ADA under 5,000 images and the baseline from 5,000; neither without images', () => {
    const suggested = (images: number) => presetInfos({ images, numClasses: 0 }).filter((p) => p.recommendedBecause).map((p) => p.id);
    assert.deepEqual(suggested(300), ['ada']);
    assert.deepEqual(suggested(4999), ['ada']);
    assert.deepEqual(suggested(5000), ['baseline']);
    const none = presetInfos({ images: 0, numClasses: 0 });
    assert.ok(none.every((p) => !p.available && p.unavailableReason === 'Import images first.'));
    const info = presetInfos({ images: 300, numClasses: 0 }).find((p) => p.id === 'ada')!;
    assert.equal(info.title, 'ADA — for small datasets');
    assert.equal(info.summary.split(/(?<=\.) /).length, 2, 'two plain sentences');
    assert.match(info.recommendedBecause!, /With 300 images, the discriminator would soon memorise them/);
  });
});
