/**
 * Gradients through each bundled backbone to the generator's image (preprocessing included),
 * against central finite differences along random directions, on a tiny input (8² images, the
 * smallest input side each backbone takes). The backbones are the real nsfwjs weights, patched
 * as core/vision/zoo.ts says (InceptionV3's BatchNorm gains a gamma of 1).
 *
 * The networks are piecewise linear (ReLU6): a difference step that straddles a kink measures a
 * mix of slopes, and a tiny one drowns in float32 rounding, so each direction's estimate is the
 * median over four step sizes, along directions with a large directional derivative (the
 * gradient's own direction, then that plus a random one): along a random direction alone the
 * MobileNet ×1.4's derivative is lost in rounding. This test found TF.js's wrong avgPool gradient with 'same' padding
 * (InceptionV3 came out at half the finite differences; core/backend/kernels/avg-pool-same-grad.ts).
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { readFloats } from '../../../core/backend/read.js';
import { selectBackend } from '../../../core/backend/select.js';
import { toBackboneInput } from '../../../core/vision/preprocess.js';
import { BACKBONES, type Backbone, loadBackbone } from '../../../core/vision/zoo.js';
import { randn } from '../../helpers/numeric.js';

const R = 8;
const STEPS = [1e-3, 3e-4, 1e-4, 3e-5];

describe('gradients through the bundled backbones', () => {
  before(async () => {
    await selectBackend({ prefer: 'wasm' });
  });
  after(() => tf.disposeVariables());

  for (const spec of BACKBONES) {
    it(`${spec.id}: ∂L/∂image matches finite differences`, async () => {
      const b: Backbone = await loadBackbone(spec.id);
      try {
        const size = spec.minInput;
        const x = tf.tensor4d(randn(R * R * 3, 7).map((v) => Math.tanh(v)), [1, R, R, 3]);
        // L(x) = Σ_levels mean(f_l · w_l): fixed random weights, so no level's terms cancel.
        const ws = tf.tidy(() => b.features(toBackboneInput(x, size, spec.range)).map((f, i) => tf.tensor(randn(f.size, 100 + i), f.shape)));
        const loss = (xx: tf.Tensor4D): tf.Scalar => b.features(toBackboneInput(xx, size, spec.range)).map((f, i) => f.mul(ws[i]!).mean()).reduce((a, c) => a.add(c)) as tf.Scalar;
        const g = tf.tidy(() => tf.grad((xx: tf.Tensor) => loss(xx as tf.Tensor4D))(x));
        assert.ok((await readFloats(g)).some((v) => v !== 0), 'the gradient reaches the image');
        const unit = tf.tidy(() => g.div(g.square().mean().sqrt())); // RMS 1
        for (const mix of [0, 0.5]) {
          const seed = mix === 0 ? 1 : 2;
          const v = tf.tidy(() => unit.add(tf.tensor4d(randn(R * R * 3, 50), [1, R, R, 3]).mul(mix)));
          const analytic = (await readFloats(tf.tidy(() => g.mul(v).sum())))[0]!;
          const estimates: number[] = [];
          for (const eps of STEPS) {
            const plus = (await readFloats(tf.tidy(() => loss(x.add(v.mul(eps)) as tf.Tensor4D))))[0]!;
            const minus = (await readFloats(tf.tidy(() => loss(x.sub(v.mul(eps)) as tf.Tensor4D))))[0]!;
            estimates.push((plus - minus) / (2 * eps));
          }
          const sorted = [...estimates].sort((a, b) => a - b);
          const numeric = (sorted[1]! + sorted[2]!) / 2;
          const err = Math.abs(analytic - numeric) / Math.max(1e-6, Math.abs(numeric));
          assert.ok(err < 0.1, `${spec.id} direction ${seed}: analytic ${analytic}, finite differences ${numeric} (${estimates.map((e) => e.toFixed(5)).join(', ')}; relative error ${err.toFixed(4)})`);
          v.dispose();
        }
        tf.dispose([x, g, unit, ...ws]);
      } finally {
        b.dispose();
      }
    });
  }
});
