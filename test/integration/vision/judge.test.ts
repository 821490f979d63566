/**
 * A vision-aided judge in the training loop, on real emoji and the real MobileNetV2 ×1.0: it joins
 * only when selected; in the D phase only its head changes (the backbone stays frozen), in the G
 * phase its term appears once the warm-up is over; a step leaves tf.memory().numTensors as it
 * found it; its state (when it joined, the selection, its ADA) round-trips through the loop's; and
 * a conditional run's judge is conditional; the batch fitted to the backend's memory counts the
 * judges' memory.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { readFloats } from '../../../core/backend/read.js';
import { selectBackend } from '../../../core/backend/select.js';
import { resolveVisionConfig } from '../../../core/presets/vision.js';
import { VisionEnsemble } from '../../../core/vision/ensemble.js';
import { fitBatch, predictedPeak } from '../../../core/train/memory.js';
import { emojiPixels, emojiSource, makeLoop, makeNets, tinyConfig } from '../../unit/train/helpers.js';

describe('vision judge in the loop', () => {
  let pixels: Uint8Array;
  before(async () => {
    await selectBackend({ prefer: 'wasm' });
    pixels = await emojiPixels(16);
  });

  it('joins when selected, trains only its head, steers G after the warm-up, leaks nothing, and its state round-trips', async () => {
    const config = tinyConfig({ batch: 4 });
    const vision = resolveVisionConfig({ visionBackbones: 'mobilenetv2-1.0', visionK: 1, visionSelectAt: '0.008', visionWarmupKimg: 0.008, visionInput: 32 }, 1, 'cpu');
    const ensemble = await VisionEnsemble.load(vision, { lr: config.dLr, betas: config.betas, epsilon: config.epsilon, seed: config.seed });
    const [judge] = ensemble.judges;
    const loop = makeLoop(config, pixels, { extras: ensemble.judges });
    try {
      await loop.runStep(); // 4 images: not selected yet
      assert.equal(judge!.optimizer.step, 0);
      assert.equal(ensemble.due(loop.kimg), false);
      await loop.runStep(); // 8 images = 0.008 kimg: the selection point
      assert.equal(ensemble.due(loop.kimg), true);
      const s = await ensemble.select(loop.kimg, loop.nets.G_ema, emojiSource(pixels, config));
      assert.equal(s?.picked, 'mobilenetv2-1.0');
      assert.ok(s!.accuracies['mobilenetv2-1.0']! >= 0 && s!.accuracies['mobilenetv2-1.0']! <= 1);
      assert.equal(ensemble.due(loop.kimg), false);

      // The backbone's weights (a layers model's variables) before training with it.
      const backboneVars = judge!.backbone.weights();
      assert.ok(backboneVars.length > 100);
      const before = await Promise.all(backboneVars.slice(0, 8).map((v) => readFloats(v)));
      const headBefore = await readFloats(judge!.head.params.all()[0]!.variable);

      await loop.runStep(); // in warm-up: D phase only
      await loop.flushStats();
      let stats = loop.stats.collect();
      assert.ok(Number.isFinite(stats['Loss/D/vision.mobilenetv2-1.0']));
      assert.equal(stats['Loss/G/vision.mobilenetv2-1.0'], undefined, 'no G term during the warm-up');
      assert.ok(Number.isFinite(stats['Vision/mobilenetv2-1.0/r_t']));
      assert.equal(stats['Vision/mobilenetv2-1.0/p'], undefined, "its ADA takes the step's r_t in during the next step");
      assert.equal(judge!.optimizer.step, 1);

      await loop.runStep(); // 16 images: past the warm-up
      const numTensors = tf.memory().numTensors;
      await loop.runStep();
      assert.equal(tf.memory().numTensors, numTensors, 'a step with the judge leaks no tensors');
      await loop.flushStats();
      stats = loop.stats.collect();
      assert.ok(Number.isFinite(stats['Loss/G/vision.mobilenetv2-1.0']), 'G term after the warm-up');
      assert.ok(Number.isFinite(stats['Vision/mobilenetv2-1.0/r_t']) && Number.isFinite(stats['Vision/mobilenetv2-1.0/p']));

      const after = await Promise.all(backboneVars.slice(0, 8).map((v) => readFloats(v)));
      before.forEach((b, i) => assert.deepEqual(after[i], b, 'the backbone is frozen'));
      assert.notDeepEqual(await readFloats(judge!.head.params.all()[0]!.variable), headBefore, 'the head trained');

      // State round trip: a fresh ensemble restored from the loop's state knows the selection.
      const state = loop.state();
      const saved = state.extras?.['vision.mobilenetv2-1.0'];
      assert.ok(saved);
      const again = await VisionEnsemble.load(vision, { lr: config.dLr, betas: config.betas, epsilon: config.epsilon, seed: config.seed });
      again.judges[0]!.restore(JSON.parse(JSON.stringify(saved)));
      assert.deepEqual(again.history, ensemble.history);
      assert.equal(again.judges[0]!.ada.p, judge!.ada.p);
      assert.equal(again.due(loop.kimg), false);
      again.dispose();
    } finally {
      loop.disposeAll();
      ensemble.dispose();
    }
  });

  it('in a conditional run the judge is conditional too: its class table trains from the labels', async () => {
    const config = tinyConfig({ batch: 4 }, 3);
    assert.equal(config.net.numClasses, 3);
    const vision = resolveVisionConfig({ visionBackbones: 'mobilenetv2-1.0', visionK: 1, visionSelectAt: '0.004', visionWarmupKimg: 0, visionInput: 32 }, 1, 'cpu', config.net.numClasses);
    const ensemble = await VisionEnsemble.load(vision, { lr: config.dLr, betas: config.betas, epsilon: config.epsilon, seed: config.seed });
    const [judge] = ensemble.judges;
    const loop = makeLoop(config, pixels, { extras: ensemble.judges });
    try {
      const table = judge!.head.params.all().find((p) => p.name.endsWith('mlp.embed.weight'));
      assert.ok(table, judge!.head.params.all().map((p) => p.name).join(', '));
      assert.deepEqual(table.variable.shape, [3, vision.headChannels]);
      const before = await readFloats(table.variable);
      await loop.runStep();
      await ensemble.select(loop.kimg, loop.nets.G_ema, emojiSource(pixels, config));
      for (let i = 0; i < 2; i++) await loop.runStep();
      await loop.flushStats();
      const stats = loop.stats.collect();
      assert.ok(Number.isFinite(stats['Loss/D/vision.mobilenetv2-1.0']) && Number.isFinite(stats['Loss/G/vision.mobilenetv2-1.0']), JSON.stringify(stats));
      assert.notDeepEqual(await readFloats(table.variable), before, 'the class table trained');
    } finally {
      loop.disposeAll();
      ensemble.dispose();
    }
  });

  it("fits the batch with the judges' memory: a budget that holds batch 8 of the nets alone holds less with a judge at 64²", async () => {
    const config = tinyConfig({ batch: 8 });
    const nets = makeNets(config);
    const vision = resolveVisionConfig({ visionBackbones: 'mobilenetv2-1.0,mobilenetv2', visionK: 1, visionInput: 64 }, 1, 'cpu');
    const ensemble = await VisionEnsemble.load(vision, { lr: config.dLr, betas: config.betas, epsilon: config.epsilon, seed: config.seed });
    try {
      const alone = await fitBatch(nets, 8, Number.MAX_SAFE_INTEGER, config.loss);
      // Each judge's peak grows with the batch; k = 1: the larger of the two is counted, not both.
      const [a, b] = ensemble.judges.map((j) => j.probePeak.bind(j));
      const [a2, a4, b2, b4] = [await a!(2, 16, 3), await a!(4, 16, 3), await b!(2, 16, 3), await b!(4, 16, 3)];
      assert.ok(a4 > a2 && b4 > b2, `peaks ${a2} → ${a4}, ${b2} → ${b4}`);
      assert.ok(Math.abs((await ensemble.peakBytes(4, 16, 3)) - Math.max(a4, b4)) < 1024, 'k = 1: one judge counted'); // a few scalars' bytes vary
      // Room for the nets at batch 8 and a judge at batch 2: the nets alone fit 8, with the judge less.
      const budget = predictedPeak(alone, 8) + 1.1 * Math.max(a2, b2);
      assert.equal((await fitBatch(nets, 8, budget, config.loss)).batch, 8);
      const withJudges = await fitBatch(nets, 8, budget, config.loss, (n) => ensemble.peakBytes(n, 16, 3));
      assert.ok(withJudges.batch >= 1 && withJudges.batch < 8 && withJudges.perImageBytes > alone.perImageBytes, JSON.stringify({ alone, withJudges, budget }));
      assert.ok(predictedPeak(withJudges, withJudges.batch) <= budget);
    } finally {
      ensemble.dispose();
      Object.values(nets).forEach((n) => n.dispose());
    }
  });
});
