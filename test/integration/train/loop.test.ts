/**
 * The training loop on real emoji at 16² with tiny widths, on wasm: the statistics it reports,
 * no tensor left behind by a step, the same seed giving the same preview bytes, exact resume in a
 * new process, Freeze-D, transfer, the extra-discriminator seam, and the memory probe.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { constantCount } from '../../../core/backend/constants.js';
import { readFloats } from '../../../core/backend/read.js';
import { selectBackend } from '../../../core/backend/select.js';
import { ParamStore } from '../../../core/nets/params.js';
import { Adam } from '../../../core/train/adam.js';
import { dMainLoss, gMainLoss } from '../../../core/train/losses.js';
import { decodeTensors, encodeTensors, readNamed } from '../../../core/nets/checkpoint-format.js';
import type { TrainConfig } from '../../../core/train/config.js';
import { type ExtraDiscriminator, loadNetworks, type TickInfo } from '../../../core/train/loop.js';
import { fitBatch, isOutOfMemory, outOfMemoryMessage, predictedPeak, probeStepPeak } from '../../../core/train/memory.js';
import { PreviewGrid } from '../../../core/train/preview.js';
import { STAT } from '../../../core/train/stats.js';
import { completeAugmentConfig } from '../../../core/augment/config.js';
import { tempDir } from '../../helpers/tmp.js';
import { emojiPixels, makeLoop, makeNets, tinyConfig } from '../../unit/train/helpers.js';

const CHILD = new URL('../../fixtures/train/resume-child.ts', import.meta.url).pathname;

let pixels: Uint8Array;

/** Runs `steps` iterations and renders the preview grid. */
async function previewAfter(config: TrainConfig, steps: number): Promise<Buffer> {
  const loop = makeLoop(config, pixels);
  for (let i = 0; i < steps; i++) await loop.runStep();
  const grid = new PreviewGrid(loop.nets.G_ema, { seed: config.seed });
  const png = await grid.render();
  grid.dispose();
  loop.disposeAll();
  return png;
}

/** A linear head on globally pooled pixels: the smallest extra discriminator. */
function linearHead(name: string): ExtraDiscriminator & { store: ParamStore } {
  const store = new ParamStore(5, `${name}.`);
  const w = store.normal('weight', [3, 1]);
  const b = store.constant('bias', [1], 0);
  const apply = (images: tf.Tensor4D): tf.Tensor2D => images.mean([1, 2]).matMul(w).add(b) as tf.Tensor2D; // [N, 1]
  const optimizer = new Adam(store.all(), { lr: 0.01 });
  return {
    name,
    store,
    enabledAt: (kimg) => kimg >= 0.016, // from 16 images in
    gLoss: (images) => gMainLoss('logistic', apply(images)).mul(0.5) as tf.Scalar,
    dStep: (reals, fakes) => optimizer.minimize(() => dMainLoss('logistic', apply(reals), apply(fakes)).loss, true, optimizer.variables()) as tf.Scalar,
    params: () => store.all(),
    optimizer,
  };
}

describe('training loop', () => {
  before(async () => {
    await selectBackend({ prefer: 'wasm' });
    pixels = await emojiPixels(32);
  });

  it('reports every statistic by name once per tick, with consistent values', async () => {
    const config = tinyConfig({ kimg: 0.064 }); // 8 steps of 8, ticks every 4 steps
    const loop = makeLoop(config, pixels);
    const ticks: TickInfo[] = [];
    const snapshots: string[] = [];
    const outcome = await loop.run({ tick: (t) => void ticks.push(t), snapshot: (r) => void snapshots.push(r), requested: () => null });
    assert.equal(outcome, 'completed');
    assert.deepEqual(ticks.map((t) => [t.step, t.nimg]), [[4, 32], [8, 64]]);
    assert.deepEqual(snapshots, ['interval', 'done']);
    // R1 runs on D steps 0 and 16, … (lazy, interval 16): in the first tick only.
    assert.deepEqual(Object.keys(ticks[0]!.stats).sort(), Object.values(STAT).sort());
    assert.deepEqual(Object.keys(ticks[1]!.stats).sort(), Object.values(STAT).filter((n) => n !== STAT.lossR1).sort());
    for (const { stats } of ticks) {
      for (const [name, v] of Object.entries(stats)) assert.ok(Number.isFinite(v), `${name} = ${v}`);
      for (const name of [STAT.accReal, STAT.accFake]) assert.ok(stats[name]! >= 0 && stats[name]! <= 1);
      // r_t = E[sign D(real)] = P(D > 0) − P(D < 0) = 2·acc_real − 1 (logits are never exactly 0).
      assert.ok(Math.abs(stats[STAT.rt]! - (2 * stats[STAT.accReal]! - 1)) < 1e-6);
      assert.ok(stats[STAT.imgPerSec]! > 0);
    }
    assert.ok(ticks[0]!.stats[STAT.lossR1]! > 0);
    loop.disposeAll();
  });

  for (const [label, overrides, classes] of [
    ['unconditional, R1 every step', { r1Interval: 1 }, 0],
    ['3 classes, 2 D steps per G step, hinge, extra discriminator', { dStepsPerG: 2, loss: 'hinge' }, 3],
  ] as Array<[string, Partial<TrainConfig>, number]>) {
    it(`${label}: a step leaves tf.memory().numTensors as it found it`, async () => {
      const config = tinyConfig(overrides, classes);
      const extra = classes > 0 ? linearHead('probe') : undefined;
      const loop = makeLoop(config, pixels, extra ? { extras: [extra] } : {});
      // The extra joins once 16 images are in (after 1 step of 2 D steps, or 2 of 1): count from there.
      for (let i = 0; i < 3; i++) await loop.runStep();
      const before = tf.memory().numTensors;
      await loop.runStep();
      assert.equal(tf.memory().numTensors, before);
      await loop.flushStats();
      const stats = loop.stats.collect();
      if (extra) {
        assert.ok(Number.isFinite(stats['Loss/D/probe']) && Number.isFinite(stats['Loss/G/probe']), JSON.stringify(stats));
        assert.ok(loop.namedTensors().some((t) => t.name === 'probe/probe.weight'));
        assert.ok(loop.namedTensors().some((t) => t.name === 'opt/probe/m/probe.weight'));
        assert.equal(loop.state().optimizers['probe'], 3 * 2, 'the extra trained from step 2 on, once per D step');
        extra.optimizer.dispose();
        extra.store.dispose();
      }
      loop.disposeAll();
    });
  }

  it('two runs with the same seed give the same preview bytes; another seed does not', async () => {
    const a = await previewAfter(tinyConfig(), 6);
    const b = await previewAfter(tinyConfig(), 6);
    const c = await previewAfter(tinyConfig({ seed: 8 }), 6);
    assert.equal(a.subarray(1, 4).toString('latin1'), 'PNG');
    assert.ok(a.equals(b), 'same seed, same bytes');
    assert.ok(!a.equals(c), 'another seed, other images');
  });

  it('resuming in a new process continues exactly: 8 steps in one go = 4, checkpoint, 4 more', async (t) => {
    const dir = tempDir(t);
    const config = tinyConfig({ r1Interval: 3 }); // Dreg due on resumed steps too
    const whole = makeLoop(config, pixels);
    for (let i = 0; i < 8; i++) await whole.runStep();
    const expected = await whole.capture();
    whole.disposeAll();

    const half = makeLoop(config, pixels);
    for (let i = 0; i < 4; i++) await half.runStep();
    const mid = await half.capture();
    half.disposeAll();
    assert.equal(mid.state.step, 4);
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    writeFileSync(join(dir, 'mid.bin'), mid.weights);
    writeFileSync(join(dir, 'mid.json'), JSON.stringify(mid.state));
    execFileSync(process.execPath, ['--import', 'tsx', CHILD, join(dir, 'config.json'), join(dir, 'mid.bin'), join(dir, 'mid.json'), '4', join(dir, 'out')], { stdio: 'inherit' });
    const resumedState = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8'));
    const resumedWeights = readFileSync(join(dir, 'out.bin'));

    assert.deepEqual(resumedState, JSON.parse(JSON.stringify(expected.state)), 'step, nimg, RNG, data cursor and optimiser steps');
    assert.equal(resumedState.step, 8);
    assert.equal(resumedState.nimg, 64);
    // Bit-exact, tensor by tensor (names the first that differs).
    const want = decodeTensors(expected.weights);
    const got = decodeTensors(resumedWeights);
    for (const [name, v] of want) assert.ok(Buffer.from(v.data.buffer, v.data.byteOffset, v.data.byteLength).equals(Buffer.from(got.get(name)!.data.buffer, got.get(name)!.data.byteOffset, got.get(name)!.data.byteLength)), `${name} differs`);
    assert.ok(resumedWeights.equals(expected.weights));
    assert.ok(!mid.weights.equals(expected.weights), 'the 4 resumed steps changed the weights');
  });

  it("a checkpoint holds the last step's statistics for the next step to act on; one written before that resumes", async () => {
    const config = tinyConfig();
    const loop = makeLoop(config, pixels);
    await loop.runStep();
    await loop.runStep();
    const { weights, state } = await loop.capture();
    assert.equal(state.pendingStats?.step, 2);
    assert.ok(state.pendingStats!.names.includes(STAT.lossG) && state.pendingStats!.values.every((v) => v !== null && Number.isFinite(v)));
    const { pendingStats: _, ...older } = state;
    const resumed = makeLoop(config, pixels);
    resumed.restore(weights, older);
    await resumed.runStep();
    await resumed.flushStats();
    assert.ok(Number.isFinite(resumed.stats.collect()[STAT.lossG]), 'the first resumed step reports its own statistics');
    assert.equal((await resumed.capture()).state.pendingStats?.step, 3);
    resumed.disposeAll();

    loop.disposeAll();
  });

  it("a checkpoint's malformed pending statistics count as absent: ADA never takes in a value that is not a number", async () => {
    // Target −2: p rises at every 4th iteration taken in, whatever D says.
    const config = tinyConfig({ augment: { ...completeAugmentConfig({ kind: 'ada', pipe: 'bgc' }, 1e4, false), target: -2, speedKimg: 0.2 } });
    const loop = makeLoop(config, pixels);
    for (let i = 0; i < 2; i++) await loop.runStep();
    const { weights, state } = await loop.capture();
    loop.disposeAll();
    const broken = makeLoop(config, pixels);
    broken.restore(weights, { ...state, pendingStats: { ...state.pendingStats!, values: state.pendingStats!.names.map(() => 'x' as unknown as number) } });
    for (let i = 0; i < 3; i++) await broken.runStep();
    const after = (await broken.capture()).state;
    assert.ok(Number.isFinite(after.augment.p), `p ${after.augment.p}`);
    assert.equal(after.pendingStats?.step, 5);
    broken.disposeAll();
  });

  it('an extra that has not joined stays out of checkpoints; one that has is saved; an older checkpoint holding it still loads', async () => {
    const config = tinyConfig();
    /** A late judge: joins when told; until then it keeps the weights it was made with. */
    const late = () => {
      const e = linearHead('late');
      let joined = false;
      return Object.assign(e, {
        enabledAt: () => joined,
        joined: () => joined,
        join: () => void (joined = true),
        state: () => ({ joined }),
        restore: (s: unknown) => void (joined = (s as { joined: boolean }).joined),
      });
    };
    const names = (weights: Uint8Array) => [...decodeTensors(weights).keys()];
    const extra = late();
    const loop = makeLoop(config, pixels, { extras: [extra] });
    await loop.runStep();
    const before = await loop.capture();
    assert.ok(!names(before.weights).some((n) => n.includes('late')), names(before.weights).filter((n) => n.includes('late')).join(', '));
    // A checkpoint written before unjoined extras were left out: the same plus the extra's tensors.
    const extraTensors = [...extra.params().map((p) => ({ name: `late/${p.name}`, tensor: p.variable })), ...extra.optimizer.namedMoments('opt/late')];
    const older = encodeTensors([...decodeTensors(before.weights).values(), ...(await readNamed(extraTensors))]);
    extra.join();
    await loop.runStep();
    const after = await loop.capture();
    assert.ok(names(after.weights).includes('late/late.weight') && names(after.weights).includes('opt/late/m/late.weight'));

    for (const [what, weights, state] of [['new', before.weights, before.state], ['older', older, before.state], ['joined', after.weights, after.state]] as const) {
      const again = late();
      const resumed = makeLoop(config, pixels, { extras: [again] });
      resumed.restore(weights, state, what);
      assert.equal(again.joined(), what === 'joined');
      assert.deepEqual(await resumed.capture().then((c) => names(c.weights)), names(what === 'joined' ? after.weights : before.weights), what);
      again.optimizer.dispose();
      again.store.dispose();
      resumed.disposeAll();
    }
    extra.optimizer.dispose();
    extra.store.dispose();
    loop.disposeAll();
  });

  it("Freeze-D leaves D's first block alone and trains the rest; transfer loads G, D and G_ema", async () => {
    const config = tinyConfig({ freezeD: 1 });
    const loop = makeLoop(config, pixels);
    const frozen = loop.nets.D.params.get('b16.conv0.weight');
    const free = loop.nets.D.params.get('b8.conv0.weight');
    const [f0, t0] = [await readFloats(frozen), await readFloats(free)];
    await loop.runStep();
    assert.deepEqual(await readFloats(frozen), f0);
    assert.notDeepEqual(await readFloats(free), t0);
    const { weights } = await loop.capture();

    const nets = makeNets(tinyConfig({ seed: 99 }));
    loadNetworks(nets, weights, 'run 1');
    for (const [a, b] of [[loop.nets.G, nets.G], [loop.nets.D, nets.D], [loop.nets.G_ema, nets.G_ema]] as const) {
      const [pa, pb] = [a.params.all(), b.params.all()];
      for (let i = 0; i < pa.length; i++) assert.deepEqual(await readFloats(pb[i]!.variable), await readFloats(pa[i]!.variable), pa[i]!.name);
    }
    const wrong = makeNets(tinyConfig({ net: { ...config.net, channelMax: 8 } }));
    assert.throws(() => loadNetworks(wrong, weights, 'run 1'), /run 1 does not match these networks \(wrong shape: /);
    for (const n of [nets, wrong]) Object.values(n).forEach((net) => net.dispose());
    loop.disposeAll();
  });

  it('memory: the probe grows with the batch, changes nothing, and fits the batch to a budget', async () => {
    const config = tinyConfig();
    const nets = makeNets(config);
    const g0 = await readFloats(nets.G.params.all()[0]!.variable);
    const before = tf.memory().numTensors - constantCount(); // kept scalar constants are made on first use
    const p2 = await probeStepPeak(nets, 2, 'logistic');
    const p4 = await probeStepPeak(nets, 4, 'logistic');
    assert.equal(tf.memory().numTensors - constantCount(), before);
    assert.ok(p4 > p2 && p2 > tf.memory().numBytes, `${p2} → ${p4}`);
    assert.deepEqual(await readFloats(nets.G.params.all()[0]!.variable), g0);
    const roomy = await fitBatch(nets, 32, 2 ** 40, 'logistic');
    assert.equal(roomy.batch, 32);
    const tight = await fitBatch(nets, 32, predictedPeak(roomy, 5), 'logistic');
    assert.equal(tight.batch, 4);
    assert.equal((await fitBatch(nets, 32, roomy.fixedBytes / 2, 'logistic')).batch, 0);
    assert.ok(Math.abs(roomy.predicted - 1.1 * (roomy.fixedBytes + 32 * roomy.perImageBytes)) < 1);
    Object.values(nets).forEach((n) => n.dispose());

    assert.ok(isOutOfMemory(new Error('RuntimeError: memory access out of bounds')), 'what wasm throws past its 4 GB');
    assert.ok(!isOutOfMemory(new Error('Generator z: expected shape [8, 32]')));
    assert.match(outOfMemoryMessage('wasm', 32, null), /ran out of memory on the wasm backend \(its memory is capped near 4 GB\) at batch 32.*batch 16 or smaller/);
    assert.match(outOfMemoryMessage('wasm', 32, tight), /batch 4 or smaller/);
  });
});
