/**
 * Gradients through the augmentation, on cpu and wasm: for every ADA transform and DiffAugment
 * part, ∂/∂x Σ r·aug(x) is finite, non-zero and equals central finite differences; R1's double
 * backprop through the whole pipeline (∂/∂θ ‖∇ₓ Σ D_θ(aug(x))‖², with a small conv + leakyRelu D)
 * equals finite differences in θ; many calls leave no tensor behind.
 *
 * The D of the R1 check is a conv and a square: smooth, so finite differences mean something
 * (with leakyRelu, ∇ₓD jumps wherever a unit's sign flips, and R1 with it). The real D's leakyRelu
 * under R1 with ADA runs in the loop tests (test/integration/augment/stage.test.ts).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { NO_TRANSFORMS, pipeSpec } from '../../../core/augment/config.js';
import { diffAugment, type DiffAugmentPart } from '../../../core/augment/diffaugment.js';
import { AugmentPipe, type AugmentParams } from '../../../core/augment/pipeline.js';
import { readFloats, readScalar } from '../../../core/backend/read.js';
import { selectBackend } from '../../../core/backend/select.js';
import { Rng } from '../../../core/random/rng.js';
import { randn } from '../../helpers/numeric.js';
import { TRANSFORMS } from './helpers.js';

const SHAPE: [number, number, number, number] = [4, 8, 8, 3];
const SIZE = SHAPE.reduce((a, b) => a * b);
const X = randn(SIZE, 21).map((v) => Math.tanh(v)); // image-like values in (−1, 1)
const WEIGHTS = randn(SIZE, 22);

type Aug = (x: tf.Tensor4D) => tf.Tensor4D;

/** The pipelines under test, each with its random parameters fixed (drawn once). */
function cases(): Array<[string, Aug]> {
  const out: Array<[string, Aug]> = [];
  for (const name of TRANSFORMS) {
    const pipe = new AugmentPipe({ ...NO_TRANSFORMS, [name]: 1 });
    const params: AugmentParams = pipe.sample(SHAPE, 1, Rng.fromSeed(31));
    out.push([name, (x) => pipe.run(x, params)]);
  }
  const all = new AugmentPipe(pipeSpec('bgcfnc'));
  const params = all.sample(SHAPE, 1, Rng.fromSeed(32));
  out.push(['bgcfnc', (x) => all.run(x, params)]);
  for (const part of ['color', 'translation', 'cutout'] as DiffAugmentPart[]) out.push([`diffaugment ${part}`, (x) => diffAugment(x, [part], Rng.fromSeed(33))]);
  return out;
}

/** Σ r·aug(x), a scalar linear in x. */
function probe(aug: Aug, x: tf.Tensor4D): tf.Scalar {
  return aug(x).mul(tf.tensor4d(WEIGHTS, SHAPE)).sum();
}

/** A small smooth D: 3×3 conv (θ) → square → mean → [N, 1]. */
function smallD(theta: tf.Variable, x: tf.Tensor4D): tf.Tensor2D {
  const h = tf.conv2d(x, theta as tf.Tensor4D, 1, 'same').square();
  return h.mean([1, 2, 3]).reshape([SHAPE[0], 1]);
}

/** R1: Σ over the batch of ‖∇ₓ Σ D(aug(x))‖², through the augmentation. */
function r1(theta: tf.Variable, aug: Aug, x: tf.Tensor4D): tf.Scalar {
  const g = tf.grad((xx: tf.Tensor) => smallD(theta, aug(xx as tf.Tensor4D)).sum())(x);
  return g.square().sum();
}

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`augmentation gradients on ${backend}`, () => {
    it('reach the images through every transform: finite, non-zero, equal to finite differences', async () => {
      await selectBackend({ prefer: backend });
      for (const [name, aug] of cases()) {
        const x = tf.tensor4d(X, SHAPE);
        const g = await readFloats(tf.tidy(() => tf.grad((xx: tf.Tensor) => probe(aug, xx as tf.Tensor4D))(x)));
        assert.ok(g.every(Number.isFinite), `${name}: finite`);
        const scale = Math.max(...g.map(Math.abs));
        assert.ok(scale > 1e-3, `${name}: non-zero (max |g| ${scale})`);
        // Linear in x: central differences are exact up to rounding.
        const eps = 0.1;
        for (const i of [0, 37, 101, 190, 255, 300, 511, 700]) {
          const at = async (d: number) => {
            const xv = Float32Array.from(X);
            xv[i]! += d;
            return readScalar(tf.tidy(() => probe(aug, tf.tensor4d(xv, SHAPE))));
          };
          const fd = ((await at(eps)) - (await at(-eps))) / (2 * eps);
          assert.ok(Math.abs(fd - g[i]!) < 2e-3 * Math.max(1, scale), `${name}, x[${i}]: autodiff ${g[i]}, finite differences ${fd}`);
        }
        x.dispose();
      }
    });

    it("R1's double backprop through the whole pipeline and through DiffAugment equals finite differences", async () => {
      await selectBackend({ prefer: backend });
      const all = new AugmentPipe(pipeSpec('bgcfnc'));
      const params = all.sample(SHAPE, 1, Rng.fromSeed(34));
      const augs: Array<[string, Aug]> = [
        ['bgcfnc', (x) => all.run(x, params)],
        ['diffaugment', (x) => diffAugment(x, ['color', 'translation', 'cutout'], Rng.fromSeed(35))],
      ];
      const thetaInit = randn(3 * 3 * 3 * 4, 23).map((v) => v * 0.5);
      for (const [name, aug] of augs) {
        const theta = tf.variable(tf.tensor4d(thetaInit, [3, 3, 3, 4]));
        const x = tf.tensor4d(X, SHAPE);
        const { grads } = tf.variableGrads(() => r1(theta, aug, x), [theta]);
        const g = await readFloats(grads[theta.name]!);
        tf.dispose(grads);
        const scale = Math.max(...g.map(Math.abs));
        assert.ok(g.every(Number.isFinite) && scale > 0, `${name}: finite, non-zero`);
        const eps = 5e-3;
        for (const i of [0, 13, 50, 77, 101]) {
          const at = async (d: number) => {
            const t = Float32Array.from(thetaInit);
            t[i]! += d;
            theta.assign(tf.tensor4d(t, [3, 3, 3, 4]));
            return readScalar(tf.tidy(() => r1(theta, aug, x)));
          };
          const fd = ((await at(eps)) - (await at(-eps))) / (2 * eps);
          assert.ok(Math.abs(fd - g[i]!) < 5e-3 * scale, `${name}, θ[${i}]: autodiff ${g[i]}, finite differences ${fd}`);
        }
        theta.dispose();
        x.dispose();
      }
    });

    it('no tensor is left behind over many calls (forward and gradient)', async () => {
      await selectBackend({ prefer: backend });
      const pipe = new AugmentPipe(pipeSpec('bgcfnc'));
      const x = tf.tensor4d(X, SHAPE);
      const rng = Rng.fromSeed(36);
      const once = (i: number) => {
        tf.tidy(() => {
          const aug: Aug = i % 3 === 2 ? (xx) => diffAugment(xx, ['color', 'translation', 'cutout'], rng) : (xx) => pipe.apply(xx, i % 3 === 0 ? 1 : 0.3, rng);
          return tf.grad((xx: tf.Tensor) => probe(aug, xx as tf.Tensor4D))(x);
        }).dispose();
      };
      once(0);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 30; i++) once(i);
      assert.equal(tf.memory().numTensors, before);
      x.dispose();
    });
  });
}
