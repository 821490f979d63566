/**
 * The vision-aided preset's settings: defaults scaled to the run's length and the compute, the
 * user's options over them, the CLI flags derived from the options table, and bad input refused
 * with the setting named and what to do.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { resolveTrainConfig } from '../../../core/train/config.js';
import { defaultK, resolveVisionConfig } from '../../../core/presets/vision.js';
import { getPreset, presetInfos } from '../../../core/presets/index.js';
import { settingsFromFlags, trainOptionsUsage } from '../../../core/cli/train-options-cli.js';

const data = { images: 300, resolution: 16, channels: 3, numClasses: 0 };

describe('vision-aided settings', () => {
  it('defaults scale with the run: k, selection points, warm-up, a smaller input on a CPU', () => {
    assert.deepEqual([defaultK(10), defaultK(50), defaultK(200)], [1, 2, 3]);
    const cpu = resolveVisionConfig({}, 50, 'cpu');
    assert.deepEqual(cpu.candidates, ['mobilenetv2', 'mobilenetv2-1.0', 'inception']);
    assert.equal(cpu.k, 2);
    assert.deepEqual(cpu.selectAt, [5, 12.5]);
    assert.equal(cpu.warmupKimg, 2.5);
    assert.equal(cpu.inputSize, 64);
    assert.equal(cpu.adaTarget, 0.3);
    assert.equal(resolveVisionConfig({}, 50, 'gpu').inputSize, 224);
  });

  it('the preset: ADA on, vision config resolved; other presets refuse the vision options', () => {
    assert.equal(getPreset('vision-aided')?.defaults.augment.kind, 'ada');
    assert.equal(presetInfos({ images: 300, numClasses: 0 }).find((p) => p.id === 'vision-aided')?.vision, true);
    const c = resolveTrainConfig({ preset: 'vision-aided', kimg: 20, advanced: { visionK: 1, visionBackbones: 'inception', visionSelectAt: '4' } }, data);
    assert.equal(c.augment.kind, 'ada');
    assert.deepEqual(c.vision?.candidates, ['inception']);
    assert.deepEqual(c.vision?.selectAt, [4]);
    assert.equal(resolveTrainConfig({ preset: 'ada', kimg: 20 }, data).vision, null);
    // With transfer learning: the judges are added as usual (they start fresh; G, D and G_ema come from the other run).
    const t = resolveTrainConfig({ preset: 'vision-aided', kimg: 20, advanced: { transferFrom: { runId: 1 }, freezeD: 2 } }, data);
    assert.equal(t.transferFrom?.runId, 1);
    assert.equal(t.vision?.k, 2);
    assert.equal(t.augment.speedKimg, 4, 'ADA adapts as for any transfer run');
    assert.throws(() => resolveTrainConfig({ preset: 'ada', kimg: 20, advanced: { visionK: 2 } }, data), /adds no pretrained judges, so visionK cannot apply\. Pick the vision-aided preset/);
  });

  it('bad choices are refused with the setting named', () => {
    assert.throws(() => resolveVisionConfig({ visionBackbones: 'resnet' }, 20, 'cpu'), /there is no bundled network "resnet"\. Use auto, or some of mobilenetv2, mobilenetv2-1.0, inception/);
    assert.throws(() => resolveVisionConfig({ visionSelectAt: '5,3' }, 20, 'cpu'), /the points must rise \(5 then 3\)/);
    assert.throws(() => resolveVisionConfig({ visionSelectAt: '30' }, 20, 'cpu'), /30 kimg is outside the run/);
    assert.throws(() => resolveVisionConfig({ visionSelectAt: 'soon' }, 20, 'cpu'), /"soon" is not a list of kimg like 5,10,15/);
    assert.throws(() => resolveVisionConfig({ visionK: 3, visionSelectAt: '5' }, 200, 'cpu'), /1 point\(s\) for 3 judges/);
  });

  it('atelier train flags: --backbones --k --vision-input --warmup-kimg --select-at, in --help and checked by the schema', () => {
    const s = settingsFromFlags({ preset: 'vision-aided', kimg: '20', backbones: 'mobilenetv2', k: '1', 'vision-input': '96', 'warmup-kimg': '1', 'select-at': '2' }, {});
    assert.deepEqual(s.advanced, { visionBackbones: 'mobilenetv2', visionK: 1, visionInput: 96, visionWarmupKimg: 1, visionSelectAt: '2' });
    const help = trainOptionsUsage();
    for (const flag of ['--backbones auto|ID,…', '--k K', '--vision-input N', '--warmup-kimg K', '--select-at K1,K2,…']) assert.ok(help.includes(flag), flag);
    assert.throws(() => settingsFromFlags({ preset: 'vision-aided', kimg: '20', k: '4' }, {}), /--k: /);
    assert.throws(() => settingsFromFlags({ preset: 'vision-aided', kimg: '20', 'vision-input': '16' }, {}), /--vision-input: /);
  });
});
