/**
 * A G+D training step (non-saturating loss, Adam β1 0 β2 0.99) leaks no tensors; truncation and the
 * tracked average w behave as defined; the whole pair computes the same values and gradients on
 * cpu and wasm (so the wasm kernels hold up inside the model, not only in isolation).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../core/backend/select.js';
import { readFloats, readScalarsAndDispose } from '../../../core/backend/read.js';
import type { NetConfig } from '../../../core/nets/config.js';
import { Discriminator } from '../../../core/nets/discriminator.js';
import { Generator, oneHotLabels } from '../../../core/nets/generator.js';
import { BasicTrainer } from '../../../core/train/basic-step.js';
import { randn, relErr } from '../../helpers/numeric.js';

const tiny: Partial<NetConfig> = { resolution: 16, channelBase: 64, channelMax: 16, zDim: 8, wDim: 8, mappingLayers: 2 };

/** Images, logits, G's and D's (with an R1-style term) gradients of one seeded tiny pair on `backend`. */
async function pairOutputs(backend: string): Promise<Float32Array[]> {
  const cfg = { ...tiny, numClasses: 2, seed: 11 };
  const z = randn(4 * 8, 12);
  const reals = randn(4 * 16 * 16 * 3, 13);
  if (backend === 'webgpu') await selectBackend({ prefer: 'webgpu' });
  else await tf.setBackend(backend);
  const G = new Generator(cfg);
  const D = new Discriminator(cfg);
  const out = tf.tidy(() => {
    const c = oneHotLabels([0, 1, 1, 0], 2);
    const zt = tf.tensor2d(z, [4, 8]);
    const img = G.generate(zt, c, { noise: 'const' });
    const logits = D.apply(tf.tensor4d(reals, [4, 16, 16, 3]), c);
    // G's loss gradient through D, and D's loss gradient with R1-style double backprop.
    const gLoss = () => tf.softplus(D.apply(G.generate(zt, c, { noise: 'const' }), c).neg()).mean() as tf.Scalar;
    const dLoss = () => {
      const { value, grad } = tf.valueAndGrad((x: tf.Tensor) => D.apply(x as tf.Tensor4D, c))(tf.tensor4d(reals, [4, 16, 16, 3]));
      return tf.softplus(value.neg()).mean().add(grad.square().sum().mul(0.5)) as tf.Scalar;
    };
    const gGrads = tf.variableGrads(gLoss, G.trainableVariables()).grads;
    const dGrads = tf.variableGrads(dLoss, D.trainableVariables()).grads;
    const flat = (gs: tf.NamedTensorMap, vars: tf.Variable[]) => tf.concat(vars.map((v) => (gs[v.name] ?? tf.zerosLike(v)).flatten()));
    return [img.flatten(), logits.flatten(), flat(gGrads, G.trainableVariables()), flat(dGrads, D.trainableVariables())];
  });
  const values = await Promise.all(out.map((t) => readFloats(t)));
  tf.dispose(out);
  G.dispose();
  D.dispose();
  return values;
}

const OUTPUT_NAMES = ['images', 'logits', 'G gradients', 'D gradients (with R1 term)'];

describe('training step', () => {
  before(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  for (const [label, extra, r1Gamma] of [
    ['unconditional', {}, 0],
    ['3 classes, R1 γ=1', { numClasses: 3 }, 1],
  ] as [string, Partial<NetConfig>, number][]) {
    it(`${label}: tensor count is the same after a step as before it; weights move`, async () => {
      const G = new Generator({ ...tiny, ...extra });
      const D = new Discriminator({ ...tiny, ...extra });
      const trainer = new BasicTrainer(G, D, { r1Gamma });
      const reals = tf.tensor4d(randn(4 * 16 * 16 * 3, 1), [4, 16, 16, 3]).clipByValue(-1, 1) as tf.Tensor4D;
      const c = extra.numClasses !== undefined ? oneHotLabels([0, 1, 2, 0], extra.numClasses) : undefined;
      // The first step creates Adam's moment variables: count from the second.
      const first = await readScalarsAndDispose(trainer.step(reals, c));
      const gBefore = await readFloats(G.trainableVariables()[0] as tf.Variable);
      const dBefore = await readFloats(D.trainableVariables()[0] as tf.Variable);
      const noiseBefore = await readFloats(G.params.get('synthesis.b8.conv0.noise_const'));
      const wAvgBefore = await readFloats(G.wAvg);
      const before = tf.memory().numTensors;
      const losses = trainer.step(reals, c);
      const values = await readScalarsAndDispose(losses);
      assert.equal(tf.memory().numTensors, before);
      for (const v of [first.dLoss, first.gLoss, values.dLoss, values.gLoss]) assert.ok(Number.isFinite(v));
      if (r1Gamma > 0) assert.ok(values.r1 !== undefined && values.r1 > 0);
      assert.notDeepEqual(await readFloats(G.trainableVariables()[0] as tf.Variable), gBefore, 'G updated');
      assert.notDeepEqual(await readFloats(D.trainableVariables()[0] as tf.Variable), dBefore, 'D updated');
      assert.deepEqual(await readFloats(G.params.get('synthesis.b8.conv0.noise_const')), noiseBefore, 'fixed noise is not trained');
      assert.notDeepEqual(await readFloats(G.wAvg), wAvgBefore, 'average w tracked');
      tf.dispose([reals, c]);
      trainer.dispose();
      G.dispose();
      D.dispose();
    });
  }

  it('truncation ψ = 0 gives the average-w image for every z; ψ = ½ halves the distance', async () => {
    const G = new Generator(tiny);
    G.wAvg.assign(tf.tensor1d(randn(8, 5)));
    const z1 = tf.tensor2d(randn(16, 6), [2, 8]);
    const z2 = tf.tensor2d(randn(16, 7), [2, 8]);
    const a = await readFloats(tf.tidy(() => G.generate(z1, undefined, { psi: 0, noise: 'const' })));
    const b = await readFloats(tf.tidy(() => G.generate(z2, undefined, { psi: 0, noise: 'const' })));
    const ref = await readFloats(tf.tidy(() => G.synthesis(G.wAvg.expandDims(0).tile([2, 1]) as tf.Tensor2D, 'const')));
    assert.ok(relErr(a, ref) < 1e-6 && relErr(b, ref) < 1e-6);
    // Different z without truncation give different images (the test above can fail).
    const free = await readFloats(tf.tidy(() => G.generate(z1, undefined, { noise: 'const' })));
    assert.ok(relErr(free, ref) > 1e-3);
    const w = await readFloats(tf.tidy(() => G.mapping(z1)));
    const half = await readFloats(tf.tidy(() => G.mapping(z1, undefined, { psi: 0.5 })));
    const avg = await readFloats(G.wAvg);
    const expect = Array.from(w, (v, i) => ((avg[i % 8] as number) + v) / 2);
    assert.ok(relErr(half, expect) < 1e-6);
    tf.dispose([z1, z2]);
    G.dispose();
  });

  it("noise: a seed reproduces 'random' noise; 'const' is fixed; strength scales it", async () => {
    const G = new Generator(tiny);
    const z = tf.tensor2d(randn(16, 10), [2, 8]);
    const image = (opts: { noise: 'random' | 'const' | 'none'; noiseSeed?: number }) => readFloats(tf.tidy(() => G.generate(z, undefined, opts)));
    // Strength starts at 0: noise has no effect until trained.
    assert.deepEqual(await image({ noise: 'random' }), await image({ noise: 'none' }));
    for (const p of G.params.all()) if (p.name.endsWith('noise_strength')) p.variable.assign(tf.scalar(0.5));
    const a = await image({ noise: 'random', noiseSeed: 1 });
    assert.deepEqual(await image({ noise: 'random', noiseSeed: 1 }), a);
    assert.ok(relErr(await image({ noise: 'random', noiseSeed: 2 }), a) > 1e-3);
    assert.deepEqual(await image({ noise: 'const' }), await image({ noise: 'const' }));
    assert.ok(relErr(await image({ noise: 'none' }), a) > 1e-3);
    z.dispose();
    G.dispose();
  });

  it('the average w moves toward the batch mean by 1 − β', async () => {
    const G = new Generator({ ...tiny, wAvgBeta: 0.9 });
    G.wAvg.assign(tf.tensor1d(randn(8, 8)));
    const old = await readFloats(G.wAvg);
    const z = tf.tensor2d(randn(32, 9), [4, 8]);
    const w = await readFloats(tf.tidy(() => G.mapping(z, undefined, { updateWAvg: true })));
    const now = await readFloats(G.wAvg);
    const expect = Array.from(old, (o, j) => {
      let mean = 0;
      for (let i = 0; i < 4; i++) mean += (w[i * 8 + j] as number) / 4;
      return mean + 0.9 * (o - mean);
    });
    assert.ok(relErr(now, expect) < 1e-6);
    z.dispose();
    G.dispose();
  });

  it('the same seed gives the same networks, and cpu and wasm agree on outputs and gradients', async () => {
    const cpu = await pairOutputs('cpu');
    const wasm = await pairOutputs('wasm');
    cpu.forEach((v, i) => {
      const e = relErr(wasm[i] as Float32Array, v);
      assert.ok(e < 1e-4, `${OUTPUT_NAMES[i]}: cpu vs wasm relative error ${e}`);
    });
  });

  // Opt-in: webgpu on a CPU-only machine runs on a software rasteriser (tens of seconds).
  it('webgpu agrees with cpu on outputs and gradients', { skip: process.env['ATELIER_TEST_WEBGPU'] === '1' ? false : 'set ATELIER_TEST_WEBGPU=1 to run' }, async () => {
    const cpu = await pairOutputs('cpu');
    const webgpu = await pairOutputs('webgpu');
    cpu.forEach((v, i) => {
      const e = relErr(webgpu[i] as Float32Array, v);
      assert.ok(e < 1e-3, `${OUTPUT_NAMES[i]}: cpu vs webgpu relative error ${e}`);
    });
    await tf.setBackend('wasm');
  });
});
