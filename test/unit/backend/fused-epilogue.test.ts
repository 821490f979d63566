/**
 * The fused layer epilogues (core/backend/kernels/fused-epilogue.ts) against the unfused ops on
 * the cpu backend: values, gradients, and gradients of a gradient (an R1-like penalty through two
 * layers; for G's modulation, demodulation and SpatialDot, first order), on edge shapes (1×1 spatial, batch 1, odd channel counts). Then the nets: G's and D's
 * forward passes, D's loss with R1 and both nets' gradients, fused against unfused, on cpu (the
 * fused kernels' cpu versions) and, with ATELIER_TEST_WEBGPU=1, on webgpu against cpu; and no
 * tensor or GPU buffer left behind by a step.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { constant, constantCount } from '../../../core/backend/constants.js';
import { actGrad, biasAct, type BiasActAttrs, type Residual, forceFusedEpilogues, fusedEpilogues, leadSum, modAct, modActNoise } from '../../../core/backend/kernels/fused-epilogue.js';
import { noiseTensor } from '../../../core/backend/kernels/gpu-noise.js';
import { demod, modulate, spatialDot } from '../../../core/backend/kernels/fused-modconv.js';
import { selectBackend } from '../../../core/backend/select.js';
import { Discriminator } from '../../../core/nets/discriminator.js';
import { Generator } from '../../../core/nets/generator.js';
import { r1Penalty } from '../../../core/train/r1.js';
import { randn, relErr, sizeOf } from '../../helpers/numeric.js';

const WEBGPU = process.env['ATELIER_TEST_WEBGPU'] === '1';
const webgpuOnly = { skip: WEBGPU ? false : 'set ATELIER_TEST_WEBGPU=1 to run' };

/** The unfused ops the fused kernel replaces. */
function biasActRef(x: tf.Tensor, bias: tf.Tensor | undefined, a: BiasActAttrs, residual?: Residual): tf.Tensor {
  let z = x.mul(constant(a.xGain));
  if (bias !== undefined) z = z.add(bias.mul(constant(a.biasGain)));
  const y = (a.alpha === 1 ? z : tf.leakyRelu(z, a.alpha)).mul(constant(a.gain));
  return residual === undefined ? y : y.add(residual.y.mul(constant(residual.gain)));
}

function modActRef(x: tf.Tensor4D, d: tf.Tensor2D, noise: tf.Tensor4D, s: tf.Tensor, b: tf.Tensor1D, alpha: number, gain: number): tf.Tensor {
  const [n, , , c] = x.shape;
  const z = x.mul(d.reshape([n, 1, 1, c])).add(noise.mul(s)).add(b);
  return tf.leakyRelu(z, alpha).mul(constant(gain));
}

/** Every float of a list of tensors, in order (then disposes them). */
async function flat(ts: tf.Tensor[]): Promise<Float32Array> {
  const parts = await Promise.all(ts.map((t) => t.data()));
  tf.dispose(ts);
  const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p as Float32Array, o);
    o += p.length;
  }
  return out;
}

type Shape4 = [number, number, number, number];
const SHAPES: Shape4[] = [
  [1, 1, 1, 3], // batch 1, 1×1 spatial, RGB-like
  [1, 3, 5, 7], // odd everything
  [3, 4, 4, 5],
];
const ATTRS: BiasActAttrs[] = [
  { xGain: 0.3, biasGain: 1, alpha: 0.2, gain: Math.SQRT2 }, // EqualConv
  { xGain: 0.01 / Math.sqrt(7), biasGain: 0.01, alpha: 0.2, gain: Math.SQRT2 * 0.7 }, // mapping fc, with an output gain
  { xGain: 0.25, biasGain: 1.5, alpha: 1, gain: Math.SQRT1_2 }, // linear
];

/**
 * Two conv layers with BiasAct epilogues (fused or the unfused ops; the second with a residual) on the current backend: the
 * output, the gradients of Σ out·r, and the gradients of ‖∂(Σ out·r)/∂x‖² (as R1 is) with
 * respect to the weights and biases.
 */
async function biasActCase(shape: Shape4, a: BiasActAttrs, seed: number, fused: boolean): Promise<Float32Array[]> {
  forceFusedEpilogues(fused); // Sum's gradient too
  try {
    return await biasActRun(shape, a, seed, fused);
  } finally {
    forceFusedEpilogues(undefined);
  }
}

async function biasActRun(shape: Shape4, a: BiasActAttrs, seed: number, fused: boolean): Promise<Float32Array[]> {
  const c = shape[3];
  const act = fused ? biasAct : biasActRef;
  const x = tf.tensor4d(randn(sizeOf(shape), seed), shape);
  const w1 = tf.tensor4d(randn(9 * c * c, seed + 1), [3, 3, c, c]);
  const w2 = tf.tensor4d(randn(9 * c * c, seed + 2), [3, 3, c, c]);
  const [b1, b2] = [tf.tensor1d(randn(c, seed + 3)), tf.tensor1d(randn(c, seed + 4))];
  const r = tf.tensor4d(randn(sizeOf(shape), seed + 5), shape);
  const net = (xx: tf.Tensor, ww1: tf.Tensor, bb1: tf.Tensor, ww2: tf.Tensor, bb2: tf.Tensor) => {
    const y1 = act(tf.conv2d(xx as tf.Tensor4D, ww1 as tf.Tensor4D, 1, 'same'), bb1, a);
    // The second layer adds a residual branch (D's skip), a linear function of the input.
    return act(tf.conv2d(y1 as tf.Tensor4D, ww2 as tf.Tensor4D, 1, 'same'), bb2, a, { y: xx.mul(ww1.sum()), gain: 0.6 });
  };
  const value = tf.tidy(() => net(x, w1, b1, w2, b2));
  const first = tf.tidy(() => tf.grads((xx: tf.Tensor, ww1: tf.Tensor, bb1: tf.Tensor, ww2: tf.Tensor, bb2: tf.Tensor) => net(xx, ww1, bb1, ww2, bb2).mul(r).sum())([x, w1, b1, w2, b2]));
  const penalty = (ww1: tf.Tensor, bb1: tf.Tensor, ww2: tf.Tensor, bb2: tf.Tensor) => {
    const g = tf.grad((xx: tf.Tensor) => net(xx, ww1, bb1, ww2, bb2).mul(r).sum())(x);
    return g.mul(g).sum();
  };
  // With leaky ReLU the biases reach the penalty through the masks (zero almost everywhere); with
  // no activation they do not reach it at all (the fused ops record no path: as PyTorch, no gradient).
  const second = tf.tidy(() =>
    a.alpha === 1 ? tf.grads((ww1: tf.Tensor, ww2: tf.Tensor) => penalty(ww1, b1, ww2, b2))([w1, w2]) : tf.grads(penalty)([w1, b1, w2, b2]),
  );
  const out = [await flat([value]), await flat(first), await flat(second)];
  tf.dispose([x, w1, w2, b1, b2, r]);
  return out;
}

/** ModAct (fused or the unfused ops) on the current backend: its output and the gradients of Σ out·r for all five inputs. */
async function modActCase(shape: Shape4, noiseBatch: number, seed: number, fused: boolean): Promise<Float32Array[]> {
  const [n, h, w, c] = shape;
  const x = tf.tensor4d(randn(sizeOf(shape), seed), shape);
  const d = tf.tensor2d(randn(n * c, seed + 1), [n, c]);
  const noise = tf.tensor4d(randn(noiseBatch * h * w, seed + 2), [noiseBatch, h, w, 1]);
  const s = tf.scalar(0.7);
  const b = tf.tensor1d(randn(c, seed + 3));
  const r = tf.tensor4d(randn(sizeOf(shape), seed + 4), shape);
  const f = (...t: tf.Tensor[]) =>
    fused
      ? modAct(t[0] as tf.Tensor4D, t[1] as tf.Tensor2D, t[2] as tf.Tensor4D, t[3] as tf.Tensor, t[4] as tf.Tensor1D, { alpha: 0.2, gain: Math.SQRT2 })
      : modActRef(t[0] as tf.Tensor4D, t[1] as tf.Tensor2D, t[2] as tf.Tensor4D, t[3] as tf.Tensor, t[4] as tf.Tensor1D, 0.2, Math.SQRT2);
  const value = tf.tidy(() => f(x, d, noise, s, b));
  const grads = tf.tidy(() => tf.grads((...t: tf.Tensor[]) => f(...t).mul(r).sum())([x, d, noise, s, b]));
  assert.deepEqual(grads.map((g) => g.shape), [x.shape, d.shape, noise.shape, s.shape, b.shape]);
  const out = [await flat([value]), await flat(grads)];
  tf.dispose([x, d, noise, s, b, r]);
  return out;
}

/**
 * G's modulated conv around the conv — modulation, demodulation, and a SpatialDot as ModAct's
 * gradient uses it — fused or as the unfused ops: outputs and gradients for x, styles, weight.
 */
async function modConvCase(shape: Shape4, cout: number, k: number, seed: number, fused: boolean): Promise<Float32Array[]> {
  const [n, , , c] = shape;
  const x = tf.tensor4d(randn(sizeOf(shape), seed), shape);
  const s = tf.tensor2d(randn(n * c, seed + 1), [n, c]);
  const w = tf.tensor4d(randn(k * k * c * cout, seed + 2), [k, k, c, cout]);
  const r = tf.tensor4d(randn(sizeOf(shape), seed + 3), shape);
  const f = (xx: tf.Tensor, ss: tf.Tensor, ww: tf.Tensor) => {
    const x4 = xx as tf.Tensor4D;
    const s2 = ss as tf.Tensor2D;
    const xs = fused ? modulate(x4, s2) : x4.mul(s2.reshape([n, 1, 1, c]));
    const d = fused ? demod(s2, ww as tf.Tensor4D, 1e-8) : s2.mul(s2).matMul(ww.mul(ww).sum([0, 1]) as tf.Tensor2D).add(1e-8).rsqrt();
    const dot = fused ? spatialDot(xs as tf.Tensor4D, r) : xs.mul(r).sum([1, 2]);
    return { xs, d, dot };
  };
  const values = tf.tidy(() => Object.values(f(x, s, w)));
  const grads = tf.tidy(() =>
    tf.grads((xx: tf.Tensor, ss: tf.Tensor, ww: tf.Tensor) => {
      const o = f(xx, ss, ww);
      return o.xs.mul(r).sum().add(o.d.mul(tf.range(0, n * cout).reshape([n, cout]).sin()).sum()).add(o.dot.square().sum());
    })([x, s, w]),
  );
  const out = [await flat(values), await flat(grads)];
  tf.dispose([x, s, w, r]);
  return out;
}

/**
 * Sums and means over several axis sets and their gradients to second order (∂/∂x of
 * ‖∂(Σ f(x)·r)/∂x‖², f nonlinear) with the fused kernels forced on or off: on, Sum's and Mean's
 * gradients are one Broadcast kernel.
 */
async function reduceCase(fused: boolean): Promise<Float32Array[]> {
  forceFusedEpilogues(fused);
  try {
    const x = tf.tensor4d(randn(2 * 3 * 5 * 4, 31), [2, 3, 5, 4]);
    const f = (t: tf.Tensor) => {
      const a = t.mul(t).sum([0, 1, 2]); // leading axes
      const b = t.mean([1, 2], true).mul(t); // middle axes, kept
      const c = t.sum(3).mean(0); // inner, then leading
      return a.sum().add(b.mul(b).sum()).add(c.mul(c).sum()).add(t.mean().mul(t.sum()));
    };
    const out = tf.tidy(() => {
      const g = tf.grad(f)(x);
      const gg = tf.grad((t: tf.Tensor) => {
        const gt = tf.grad(f)(t);
        return gt.mul(gt).sum();
      })(x);
      return [f(x), g, gg];
    });
    const res = [await flat([out[0] as tf.Tensor]), await flat([out[1] as tf.Tensor]), await flat([out[2] as tf.Tensor])];
    x.dispose();
    return res;
  } finally {
    forceFusedEpilogues(undefined);
  }
}

/** ModActNoise against ModAct given the same noise as a tensor: outputs, and gradients for x, d, s, b. */
async function modActNoiseCase(shape: Shape4, seed: number): Promise<{ made: Float32Array[]; given: Float32Array[] }> {
  const [n, h, w, c] = shape;
  const x = tf.tensor4d(randn(sizeOf(shape), seed), shape);
  const d = tf.tensor2d(randn(n * c, seed + 1), [n, c]);
  const s = tf.scalar(0.7);
  const b = tf.tensor1d(randn(c, seed + 3));
  const r = tf.tensor4d(randn(sizeOf(shape), seed + 4), shape);
  const attrs = { alpha: 0.2, gain: Math.SQRT2 };
  const run = async (f: (...t: tf.Tensor[]) => tf.Tensor) => {
    const value = tf.tidy(() => f(x, d, s, b));
    const grads = tf.tidy(() => tf.grads((...t: tf.Tensor[]) => f(...t).mul(r).sum())([x, d, s, b]));
    return [await flat([value]), await flat(grads)];
  };
  const made = await run((...t) => modActNoise(t[0] as tf.Tensor4D, t[1] as tf.Tensor2D, t[2] as tf.Tensor, t[3] as tf.Tensor1D, attrs, 12345));
  const given = await run((...t) => modAct(t[0] as tf.Tensor4D, t[1] as tf.Tensor2D, noiseTensor([n, h, w, 1], 12345) as tf.Tensor4D, t[2] as tf.Tensor, t[3] as tf.Tensor1D, attrs));
  tf.dispose([x, d, s, b, r]);
  return { made, given };
}

describe('fused epilogue kernels against the unfused ops', () => {
  after(() => forceFusedEpilogues(undefined));

  for (const [si, shape] of SHAPES.entries()) {
    for (const [ai, a] of ATTRS.entries()) {
      it(`BiasAct: values, gradients and second-order gradients, [${shape.join(',')}], alpha ${a.alpha}`, async () => {
        await selectBackend({ prefer: 'cpu' });
        const ref = await biasActCase(shape, a, 100 * si + 10 * ai, false);
        const fused = await biasActCase(shape, a, 100 * si + 10 * ai, true);
        for (const [k, what] of ['values', 'gradients', 'second-order gradients'].entries()) {
          const e = relErr(fused[k] as Float32Array, ref[k] as Float32Array);
          assert.ok(e < 2e-5, `${what}: relative error ${e}`);
        }
        assert.ok((ref[2] as Float32Array).some((v) => v !== 0), 'the second-order gradient is not all zero');
      });

      it(`BiasAct on webgpu against the unfused ops on cpu, [${shape.join(',')}], alpha ${a.alpha}`, webgpuOnly, async () => {
        await selectBackend({ prefer: 'cpu' });
        const ref = await biasActCase(shape, a, 100 * si + 10 * ai, false);
        await selectBackend({ prefer: 'webgpu' });
        const gpu = await biasActCase(shape, a, 100 * si + 10 * ai, true);
        for (const [k, what] of ['values', 'gradients', 'second-order gradients'].entries()) {
          const e = relErr(gpu[k] as Float32Array, ref[k] as Float32Array);
          assert.ok(e < 1e-4, `${what}: relative error ${e}`);
        }
      });
    }

    it(`ModAct: values and gradients, [${shape.join(',')}], noise per sample and shared`, async () => {
      await selectBackend({ prefer: 'cpu' });
      for (const noiseBatch of [shape[0], 1]) {
        const ref = await modActCase(shape, noiseBatch, 1000 + 10 * si, false);
        const fused = await modActCase(shape, noiseBatch, 1000 + 10 * si, true);
        assert.ok(relErr(fused[0] as Float32Array, ref[0] as Float32Array) < 2e-6, 'values');
        assert.ok(relErr(fused[1] as Float32Array, ref[1] as Float32Array) < 2e-5, `gradients: relative error ${relErr(fused[1] as Float32Array, ref[1] as Float32Array)}`);
      }
    });

    it(`ModAct on webgpu against the unfused ops on cpu, [${shape.join(',')}]`, webgpuOnly, async () => {
      for (const noiseBatch of [shape[0], 1]) {
        await selectBackend({ prefer: 'cpu' });
        const ref = await modActCase(shape, noiseBatch, 1000 + 10 * si, false);
        await selectBackend({ prefer: 'webgpu' });
        const gpu = await modActCase(shape, noiseBatch, 1000 + 10 * si, true);
        assert.ok(relErr(gpu[0] as Float32Array, ref[0] as Float32Array) < 1e-5, 'values');
        assert.ok(relErr(gpu[1] as Float32Array, ref[1] as Float32Array) < 1e-4, `gradients: relative error ${relErr(gpu[1] as Float32Array, ref[1] as Float32Array)}`);
      }
    });
  }

  for (const [shape, cout, k] of [
    [[1, 1, 1, 3], 5, 3],
    [[3, 5, 3, 7], 4, 3],
    [[2, 4, 4, 6], 3, 1],
  ] as Array<[Shape4, number, number]>) {
    it(`Modulate, Demod, SpatialDot: values and gradients, x [${shape.join(',')}], ${k}×${k} to ${cout}`, async () => {
      await selectBackend({ prefer: 'cpu' });
      const ref = await modConvCase(shape, cout, k, 77, false);
      const fused = await modConvCase(shape, cout, k, 77, true);
      assert.ok(relErr(fused[0] as Float32Array, ref[0] as Float32Array) < 1e-5, `values: relative error ${relErr(fused[0] as Float32Array, ref[0] as Float32Array)}`);
      assert.ok(relErr(fused[1] as Float32Array, ref[1] as Float32Array) < 1e-4, `gradients: relative error ${relErr(fused[1] as Float32Array, ref[1] as Float32Array)}`);
    });

    it(`Modulate, Demod, SpatialDot on webgpu against the unfused ops on cpu, x [${shape.join(',')}], ${k}×${k} to ${cout}`, webgpuOnly, async () => {
      await selectBackend({ prefer: 'cpu' });
      const ref = await modConvCase(shape, cout, k, 77, false);
      await selectBackend({ prefer: 'webgpu' });
      const gpu = await modConvCase(shape, cout, k, 77, true);
      assert.ok(relErr(gpu[0] as Float32Array, ref[0] as Float32Array) < 1e-4, `values: relative error ${relErr(gpu[0] as Float32Array, ref[0] as Float32Array)}`);
      assert.ok(relErr(gpu[1] as Float32Array, ref[1] as Float32Array) < 1e-4, `gradients: relative error ${relErr(gpu[1] as Float32Array, ref[1] as Float32Array)}`);
    });
  }

  it('ActGrad and LeadSum: their own gradients (linear in dy; a broadcast)', async () => {
    await selectBackend({ prefer: 'cpu' });
    const y = tf.tensor2d(randn(15, 7), [3, 5]);
    const dy = tf.tensor2d(randn(15, 8), [3, 5]);
    const r = tf.tensor2d(randn(15, 9), [3, 5]);
    const [gDy, gY] = tf.grads((a: tf.Tensor, b: tf.Tensor) => actGrad(a, b, undefined, { alpha: 0.2, gain: 3, zGain: 1, biasGain: 0 }).mul(r).sum())([dy, y]);
    const yv = await y.data();
    const rvals = await r.data();
    const expect = Float32Array.from(rvals, (v, i) => v * 3 * ((yv[i] as number) > 0 ? 1 : 0.2));
    assert.ok(relErr(await (gDy as tf.Tensor).data(), expect) < 1e-6);
    assert.deepEqual(Array.from(await (gY as tf.Tensor).data()), new Array<number>(15).fill(0));
    const x = tf.tensor3d(randn(2 * 3 * 4, 10), [2, 3, 4]);
    const s = leadSum(x, 2, 0.5);
    assert.deepEqual(s.shape, [4]);
    assert.ok(relErr(await s.data(), await x.sum([0, 1]).mul(0.5).data()) < 1e-6);
    const gx = tf.grad((t: tf.Tensor) => leadSum(t, 2, 0.5).mul(tf.tensor1d([1, 2, 3, 4])).sum())(x);
    assert.deepEqual(Array.from(await gx.data()), Array.from({ length: 24 }, (_, i) => [0.5, 1, 1.5, 2][i % 4]));
    tf.dispose([y, dy, r, gDy as tf.Tensor, gY as tf.Tensor, x, s, gx]);
  });

  it('Sum and Mean gradients as one Broadcast kernel: to second order, as the unfused ops', async () => {
    await selectBackend({ prefer: 'cpu' });
    const ref = await reduceCase(false);
    const fused = await reduceCase(true);
    for (const [k, what] of ['values', 'gradients', 'second-order gradients'].entries()) {
      assert.ok(relErr(fused[k] as Float32Array, ref[k] as Float32Array) < 1e-5, `${what}: relative error ${relErr(fused[k] as Float32Array, ref[k] as Float32Array)}`);
    }
  });

  it('Sum and Mean gradients on webgpu against cpu, to second order', webgpuOnly, async () => {
    await selectBackend({ prefer: 'cpu' });
    const ref = await reduceCase(false);
    await selectBackend({ prefer: 'webgpu' });
    const gpu = await reduceCase(true);
    for (const [k, what] of ['values', 'gradients', 'second-order gradients'].entries()) {
      assert.ok(relErr(gpu[k] as Float32Array, ref[k] as Float32Array) < 1e-4, `${what}: relative error ${relErr(gpu[k] as Float32Array, ref[k] as Float32Array)}`);
    }
  });

  it('noise made in the kernel: N(0, 1), as ModAct given the same noise as a tensor', async () => {
    await selectBackend({ prefer: 'cpu' });
    const v = await flat([noiseTensor([200_000], 7)]);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const sd = Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length);
    let lag = 0;
    for (let i = 1; i < v.length; i++) lag += ((v[i] as number) - mean) * ((v[i - 1] as number) - mean);
    assert.ok(Math.abs(mean) < 0.01 && Math.abs(sd - 1) < 0.01, `mean ${mean}, sd ${sd}`);
    assert.ok(Math.abs(lag / v.length / sd ** 2) < 0.01, 'neighbours uncorrelated');
    const other = await flat([noiseTensor([1000], 8)]);
    assert.notDeepEqual(Array.from(other), Array.from(v.subarray(0, 1000)), 'another seed, other noise');
    for (const shape of SHAPES) {
      const { made, given } = await modActNoiseCase(shape, 40);
      assert.ok(relErr(made[0] as Float32Array, given[0] as Float32Array) < 1e-6, 'values');
      assert.ok(relErr(made[1] as Float32Array, given[1] as Float32Array) < 1e-5, 'gradients');
    }
  });

  it('noise made in the kernel on webgpu: the same as cpu, and as ModAct given it', webgpuOnly, async () => {
    await selectBackend({ prefer: 'cpu' });
    const ref = await flat([noiseTensor([3, 5, 7, 1], 99)]);
    await selectBackend({ prefer: 'webgpu' });
    const gpu = await flat([noiseTensor([3, 5, 7, 1], 99)]);
    assert.ok(relErr(gpu, ref) < 1e-4, `noise: relative error ${relErr(gpu, ref)}`);
    for (const shape of SHAPES) {
      const { made, given } = await modActNoiseCase(shape, 40);
      assert.ok(relErr(made[0] as Float32Array, given[0] as Float32Array) < 1e-5, 'values');
      assert.ok(relErr(made[1] as Float32Array, given[1] as Float32Array) < 1e-4, 'gradients');
    }
  });

  it('is used on webgpu only, unless forced', async () => {
    await selectBackend({ prefer: 'cpu' });
    assert.equal(fusedEpilogues(), false);
    forceFusedEpilogues(true);
    assert.equal(fusedEpilogues(), true);
    forceFusedEpilogues(undefined);
  });
});

// ---------------------------------------------------------------------------------------------
// Whole nets.

const NET = { resolution: 16, channelBase: 64, channelMax: 8, zDim: 16, wDim: 16, mappingLayers: 2, mbstdGroupSize: 2, seed: 5 };
const N = 4; // minibatch-stddev groups of 2

/** G's images, D's logits, D's loss with R1 and its gradients, G's gradients: one flat array each. */
async function netResults(): Promise<Float32Array[]> {
  const G = new Generator(NET);
  const D = new Discriminator(NET);
  // Non-zero biases and noise strengths, so every term of the epilogues matters.
  for (const p of [...G.params.all(), ...D.params.all()]) {
    if (p.name.endsWith('.bias') || p.name.endsWith('noise_strength')) tf.tidy(() => p.variable.assign(tf.randomNormal(p.variable.shape, 0, 0.3, 'float32', 7)));
  }
  const z = tf.tensor2d(randn(N * 16, 1), [N, 16]);
  const reals = tf.tensor4d(randn(N * 16 * 16 * 3, 2), [N, 16, 16, 3]);
  try {
    const images = tf.tidy(() => G.generate(z, undefined, { noise: 'random', noiseSeed: 11 }));
    const logits = tf.tidy(() => D.apply(images));
    const dVars = D.trainableVariables();
    const d = tf.variableGrads(() => {
      const r = r1Penalty(D, reals);
      return tf.softplus(r.logits).mean().add(r.penalty.mean().mul(constant(5))) as tf.Scalar;
    }, dVars);
    const gVars = G.trainableVariables();
    const g = tf.variableGrads(() => tf.softplus(D.apply(G.generate(z, undefined, { noise: 'random', noiseSeed: 11 })).neg()).mean() as tf.Scalar, gVars);
    return [
      await flat([images]),
      await flat([logits]),
      await flat([d.value, ...dVars.map((v) => d.grads[v.name] as tf.Tensor)]),
      await flat([g.value, ...gVars.map((v) => g.grads[v.name] as tf.Tensor)]),
    ];
  } finally {
    tf.dispose([z, reals]);
    G.dispose();
    D.dispose();
  }
}

const WHAT = ['G images', 'D logits', "D's loss with R1 and its gradients", "G's loss and gradients"];

describe('nets with fused epilogues', () => {
  after(() => forceFusedEpilogues(undefined));

  it('on cpu: forward, R1 and gradients equal the unfused ops', async () => {
    await selectBackend({ prefer: 'cpu' });
    forceFusedEpilogues(false);
    const ref = await netResults();
    forceFusedEpilogues(true);
    const fused = await netResults();
    forceFusedEpilogues(undefined);
    for (const [k, what] of WHAT.entries()) {
      const e = relErr(fused[k] as Float32Array, ref[k] as Float32Array);
      assert.ok(e < 1e-4, `${what}: relative error ${e}`);
    }
  });

  it('on webgpu (fused) against cpu (unfused): forward, R1 and gradients within float tolerance', webgpuOnly, async () => {
    await selectBackend({ prefer: 'cpu' });
    const ref = await netResults();
    await selectBackend({ prefer: 'webgpu' });
    assert.ok(fusedEpilogues());
    const gpu = await netResults();
    for (const [k, what] of WHAT.entries()) {
      const e = relErr(gpu[k] as Float32Array, ref[k] as Float32Array);
      assert.ok(e < 1e-3, `${what}: relative error ${e}`);
    }
  });

  it('on webgpu: a step leaves no tensor and no GPU buffer behind', webgpuOnly, async () => {
    await selectBackend({ prefer: 'webgpu' });
    await netResults(); // compiles, and makes the kept constants
    const tensors = tf.memory().numTensors - constantCount();
    const buffers = tf.backend().numDataIds();
    await netResults();
    assert.equal(tf.memory().numTensors - constantCount(), tensors);
    assert.equal(tf.backend().numDataIds(), buffers);
  });

  it('on cpu: same', async () => {
    await selectBackend({ prefer: 'cpu' });
    forceFusedEpilogues(true);
    await netResults();
    const tensors = tf.memory().numTensors - constantCount();
    await netResults();
    forceFusedEpilogues(undefined);
    assert.equal(tf.memory().numTensors - constantCount(), tensors);
  });
});
