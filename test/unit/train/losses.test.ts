/**
 * The numeric pieces of the engine, each against a reference computed another way: the three
 * losses against float64 formulas; R1 against the analytic gradient of a linear D and against
 * core/train/r1.ts on the real D; Adam against a float64 implementation and against tf.train.adam;
 * the EMA's β against its half-life definition.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { readFloats, readFloatsAndDispose, readScalarAndDispose } from '../../../core/backend/read.js';
import { selectBackend } from '../../../core/backend/select.js';
import { Discriminator } from '../../../core/nets/discriminator.js';
import { Generator } from '../../../core/nets/generator.js';
import { ParamStore } from '../../../core/nets/params.js';
import { Adam } from '../../../core/train/adam.js';
import { type LossKind } from '../../../core/train/config.js';
import { emaBeta, updateEma } from '../../../core/train/ema.js';
import { frozenDPrefixes } from '../../../core/train/loop.js';
import { dMainLoss, dRegLoss, gMainLoss, lazyRegScale, logitStats, r1Terms } from '../../../core/train/losses.js';
import { r1Penalty } from '../../../core/train/r1.js';
import { randn, relErr } from '../../helpers/numeric.js';

const softplus = (x: number): number => Math.log1p(Math.exp(x));
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;

describe('losses', () => {
  before(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  const real = [2.5, -0.3, 0.7, -4, 0.01];
  const fake = [-1.2, 0.4, 3, -0.05];
  const reference: Record<LossKind, { g: number; d: number }> = {
    logistic: { g: mean(fake.map((f) => softplus(-f))), d: mean(fake.map(softplus)) + mean(real.map((r) => softplus(-r))) },
    hinge: { g: mean(fake.map((f) => -f)), d: mean(fake.map((f) => Math.max(0, 1 + f))) + mean(real.map((r) => Math.max(0, 1 - r))) },
    lsgan: { g: mean(fake.map((f) => 0.5 * (f - 1) ** 2)), d: mean(fake.map((f) => 0.5 * f * f)) + mean(real.map((r) => 0.5 * (r - 1) ** 2)) },
  };

  for (const kind of ['logistic', 'hinge', 'lsgan'] as const) {
    it(`${kind}: Gmain and Dmain match the float64 formulas`, async () => {
      const r = tf.tensor2d(real, [real.length, 1]);
      const f = tf.tensor2d(fake, [fake.length, 1]);
      const g = await readScalarAndDispose(tf.tidy(() => gMainLoss(kind, f)));
      const d = await readScalarAndDispose(tf.tidy(() => dMainLoss(kind, r, f).loss));
      assert.ok(Math.abs(g - reference[kind].g) < 1e-6, `G ${g} vs ${reference[kind].g}`);
      assert.ok(Math.abs(d - reference[kind].d) < 1e-6, `D ${d} vs ${reference[kind].d}`);
      tf.dispose([r, f]);
    });
  }

  it('logit statistics: accuracies, means and r_t', async () => {
    const r = tf.tensor2d(real, [real.length, 1]);
    const f = tf.tensor2d(fake, [fake.length, 1]);
    const s = tf.tidy(() => logitStats(r, f));
    const v = await Promise.all([s.accReal, s.accFake, s.logitReal, s.logitFake, s.signReal].map((t) => readScalarAndDispose(t)));
    const expect = [3 / 5, 2 / 4, mean(real), mean(fake), (3 - 2) / 5];
    v.forEach((x, i) => assert.ok(Math.abs(x - (expect[i] as number)) < 1e-6, `stat ${i}: ${x} vs ${expect[i]}`));
    tf.dispose([r, f]);
  });

  it('R1 of a linear D is ‖w‖² for every sample; the lazy loss scales by γ/2 · interval', async () => {
    const w = tf.tensor4d(randn(16 * 16 * 3, 1), [1, 16, 16, 3]);
    const x = tf.tensor4d(randn(4 * 16 * 16 * 3, 2), [4, 16, 16, 3]);
    const { penalty, loss } = tf.tidy(() => {
      const t = r1Terms((imgs) => imgs.mul(w).sum([1, 2, 3]).reshape([-1, 1]) as tf.Tensor2D, x);
      return { penalty: t.penalty, loss: dRegLoss(t.penalty, 0.5, 16) };
    });
    const wv = await readFloats(w);
    const norm2 = Array.from(wv).reduce((a, b) => a + b * b, 0);
    const p = await readFloatsAndDispose(penalty);
    for (const v of p) assert.ok(Math.abs(v - norm2) / norm2 < 1e-5, `${v} vs ${norm2}`);
    assert.ok(Math.abs((await readScalarAndDispose(loss)) - norm2 * 0.25 * 16) / (norm2 * 4) < 1e-5);
    assert.equal(lazyRegScale(16), 16 / 17);
    tf.dispose([w, x]);
  });

  it('R1 through the real D matches core/train/r1.ts', async () => {
    const D = new Discriminator({ resolution: 16, channelBase: 256, channelMax: 16, seed: 4 });
    const x = tf.tensor4d(randn(4 * 16 * 16 * 3, 3), [4, 16, 16, 3]);
    const ours = await readFloatsAndDispose(tf.tidy(() => r1Terms((imgs) => D.apply(imgs), x).penalty));
    const ref = await readFloatsAndDispose(tf.tidy(() => r1Penalty(D, x).penalty));
    assert.ok(relErr(ours, ref) < 1e-6);
    assert.ok(ref.every((v) => v > 0));
    x.dispose();
    D.dispose();
  });

  it('Adam matches a float64 implementation and tf.train.adam over several steps', async () => {
    const store = new ParamStore(1, 'T.');
    const p = store.normal('p', [3, 5]);
    const p0 = await readFloats(p);
    const target = randn(15, 9);
    const opts = { lr: 0.01, beta1: 0.5, beta2: 0.99, epsilon: 1e-8 };
    const adam = new Adam(store.all(), opts);
    const lossOf = (v: tf.Tensor) => v.sub(tf.tensor2d(target, [3, 5])).square().mul(tf.range(1, 16).reshape([3, 5])).sum() as tf.Scalar;
    for (let i = 0; i < 6; i++) adam.minimize(() => lossOf(p), false, adam.variables());
    const ours = await readFloats(p);
    // Float64 reference: the same objective, gradient 2·k·(p − t).
    const ref = Float64Array.from(p0);
    const m = new Float64Array(15);
    const v = new Float64Array(15);
    for (let t = 1; t <= 6; t++) {
      for (let i = 0; i < 15; i++) {
        const g = 2 * (i + 1) * ((ref[i] as number) - (target[i] as number));
        m[i] = opts.beta1 * (m[i] as number) + (1 - opts.beta1) * g;
        v[i] = opts.beta2 * (v[i] as number) + (1 - opts.beta2) * g * g;
        const denom = Math.sqrt(v[i] as number) / Math.sqrt(1 - opts.beta2 ** t) + opts.epsilon;
        ref[i] = (ref[i] as number) - (opts.lr / (1 - opts.beta1 ** t)) * ((m[i] as number) / denom);
      }
    }
    assert.ok(relErr(ours, ref) < 1e-6, `float64 reference: ${relErr(ours, ref)}`);
    assert.ok(relErr(ours, p0) > 1e-3, 'the weights moved');
    assert.equal(adam.step, 6);
    // tf.train.adam on a copy.
    const q = tf.variable(tf.tensor2d(p0, [3, 5]));
    const tfAdam = tf.train.adam(opts.lr, opts.beta1, opts.beta2, opts.epsilon);
    for (let i = 0; i < 6; i++) tfAdam.minimize(() => lossOf(q), false, [q]);
    assert.ok(relErr(ours, await readFloats(q)) < 1e-5);
    tfAdam.dispose();
    q.dispose();
    adam.dispose();
    store.dispose();
  });

  it('EMA: β halves the weight of the past every emaKimg·1000 images; ramp-up; the update is a lerp', async () => {
    const beta = emaBeta(32, 10, null, 1e9);
    assert.ok(Math.abs(beta ** (10_000 / 32) - 0.5) < 1e-12);
    assert.equal(emaBeta(32, 10, 0.05, 0), 0, 'at the start G_ema = G');
    assert.ok(Math.abs(emaBeta(32, 10, 0.05, 1000) - 0.5 ** (32 / 50)) < 1e-12, 'ramp-up: half-life 5% of the images so far');
    const cfg = { resolution: 16, channelBase: 256, channelMax: 16, zDim: 8, wDim: 8 };
    const G = new Generator({ ...cfg, seed: 1 });
    const E = new Generator({ ...cfg, seed: 2 });
    const g = await Promise.all(G.params.all().map((p) => readFloats(p.variable)));
    const e = await Promise.all(E.params.all().map((p) => readFloats(p.variable)));
    updateEma(E, G, 0.75);
    const after = await Promise.all(E.params.all().map((p) => readFloats(p.variable)));
    G.params.all().forEach((p, i) => {
      const expect = p.trainable ? Array.from(g[i]!, (gv, j) => gv + ((e[i]![j] as number) - gv) * 0.75) : Array.from(g[i]!);
      assert.ok(relErr(after[i]!, expect) < 1e-6, `${p.name} (${p.trainable ? 'lerp' : 'copied'})`);
    });
    G.dispose();
    E.dispose();
  });

  it("Freeze-D names D's first blocks from full resolution down", () => {
    assert.deepEqual(frozenDPrefixes(64, 2), ['D.b64.', 'D.b32.']);
    assert.deepEqual(frozenDPrefixes(16, 9), ['D.b16.', 'D.b8.']);
    assert.deepEqual(frozenDPrefixes(16, 0), []);
  });
});
