/**
 * The Judges panel's words and chart lines (renderer/src/lib/vision.ts) and the new-run form's
 * vision text fields (renderer/src/lib/train-settings.ts): the series names are the ones a real
 * judge reports (core/vision/judge.ts through the loop), the form's checks agree with the
 * service's (core/presets/vision.ts), and a selection reads as a sentence.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import type { VisionSelection } from '../../../core/api/vision.js';
import { resolveVisionConfig } from '../../../core/presets/vision.js';
import { BACKBONE_INFOS } from '../../../core/vision/catalogue.js';
import { VisionJudge } from '../../../core/vision/judge.js';
import { backboneSpec, BACKBONES } from '../../../core/vision/zoo.js';
import { blankAdvanced, parseAdvanced, TEXT_FIELDS, textProblem } from '../../../renderer/src/lib/train-settings.js';
import { judgeSeries, nextSelectionWords, otherScores, scheduleSentence, selectionWords } from '../../../renderer/src/lib/vision.js';

test("a judge's chart reads the statistics a judge reports", async () => {
  await tf.setBackend('cpu');
  const spec = backboneSpec('mobilenetv2');
  // The backbone is not run here: only the names the judge gives its statistics.
  const backbone = { spec, features: () => [], weights: () => [], dispose: () => undefined };
  const config = resolveVisionConfig({ visionBackbones: 'mobilenetv2', visionK: 1 }, 10, 'cpu');
  const judge = new VisionJudge(backbone, config, { lr: 0.002, betas: [0, 0.99], epsilon: 1e-8, seed: 1 });
  try {
    const names = judgeSeries('mobilenetv2');
    // The loop notes `Loss/D/${name}` and `Loss/G/${name}` (core/train/loop.ts).
    assert.equal(`Loss/D/${judge.name}`, names.lossD);
    assert.equal(`Loss/G/${judge.name}`, names.lossG);
    assert.equal(judge.rtStat, names.rt);
    assert.deepEqual(Object.keys(judge.observe(new Map([[judge.rtStat, 0.5]]), 8)), [names.p]);
  } finally {
    judge.dispose();
  }
});

test('the zoo takes its people-facing strings from the catalogue the service lists', () => {
  assert.deepEqual(
    BACKBONES.map((b) => ({ id: b.id, title: b.title, licence: b.licence, trainingData: b.trainingData, nativeInput: b.nativeInput })),
    BACKBONE_INFOS.map((b) => ({ ...b })),
  );
});

test('a selection in words, the runners-up, and what is still to come', () => {
  const s: VisionSelection = { index: 0, kimg: 0.256, picked: 'mobilenetv2', accuracies: { 'mobilenetv2-1.0': 0.875, mobilenetv2: 0.9612, inception: 0.91 }, images: 100 };
  assert.equal(selectionWords(s, BACKBONE_INFOS), 'Added MobileNetV2 ×1.4 (nsfwjs “mid”) at 0.256 kimg: it told your images from the samples 96% of the time.');
  assert.equal(otherScores(s, BACKBONE_INFOS), 'InceptionV3 (nsfwjs) 91%, MobileNetV2 ×1.0 (nsfwjs) 88%');
  assert.equal(selectionWords({ ...s, picked: null, accuracies: {} }, BACKBONE_INFOS), 'At 0.256 kimg no network was left to add.');
  const config = resolveVisionConfig({ visionK: 2, visionSelectAt: '5,12.5', visionWarmupKimg: 2 }, 50, 'cpu');
  assert.match(nextSelectionWords(config, 0)!, /^No judge yet: the studio picks the first at 5 kimg/);
  assert.equal(nextSelectionWords(config, 1), 'The next judge is picked at 12.5 kimg.');
  assert.equal(nextSelectionWords(config, 2), null);
  assert.match(scheduleSentence(config), /adds up to 2 of them, one at a time, at 5, 12\.5 kimg; each judge steers the generator 2 kimg after it joins .* at 64 × 64\.$/);
});

test("the form's vision lists: text fields, checked as the service checks them", () => {
  assert.deepEqual(TEXT_FIELDS.map((f) => f.key), ['visionBackbones', 'visionSelectAt']);
  const field = (key: string) => TEXT_FIELDS.find((f) => f.key === key)!;
  const serverProblem = (a: { visionBackbones?: string; visionSelectAt?: string }): string | null => {
    try {
      resolveVisionConfig({ visionK: 1, ...a }, 100, 'cpu');
      return null;
    } catch (err) {
      return (err as Error).message;
    }
  };
  for (const text of ['auto', 'mobilenetv2', 'mobilenetv2, inception', 'centernet,mobilenetv2-1.0', 'clip', 'mobilenetv2,mobilenetv2', 'mobilenetv2,,inception']) {
    assert.equal(textProblem(field('visionBackbones'), text) === null, serverProblem({ visionBackbones: text }) === null, text);
  }
  for (const text of ['5', '5,10', '0.5, 1.25', 'five', '5,,10', '10,5', '0', '-1']) {
    assert.equal(textProblem(field('visionSelectAt'), text) === null, serverProblem({ visionSelectAt: text }) === null, text);
  }
  assert.equal(textProblem(field('visionSelectAt'), '500'), null, 'past the run: the service says so when it starts');

  const input = blankAdvanced();
  input.texts.visionBackbones = ' mobilenetv2 ';
  input.texts.visionSelectAt = '0.032';
  input.numbers.visionK = '1';
  assert.deepEqual(parseAdvanced(input, true, true), { advanced: { visionK: 1, visionBackbones: 'mobilenetv2', visionSelectAt: '0.032' }, problems: [] });
  assert.deepEqual(parseAdvanced(input, true, false), { advanced: {}, problems: [] }, 'ADA runs ignore them');
  input.texts.visionBackbones = 'clip';
  assert.deepEqual(parseAdvanced(input, true, true).problems, ['Pretrained judges to pick from: there is no bundled network "clip". Use auto, or some of mobilenetv2, mobilenetv2-1.0, inception, centernet.']);
});
