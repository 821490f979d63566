/**
 * The AvgPoolGrad gradient: without it a second-order gradient through avgPool fails; with it,
 * R(x, v) = Σ (∂/∂x Σ avgPool(x²)·v)² has the closed-form gradients
 *   ∂R/∂v[b] = v[b]/2 · Σ_{i∈b} x[i]²    and    ∂R/∂x[i] = x[i]·v[b(i)]²/2
 * (2×2 windows, stride 2: each x[i] gets v[b]/4 from its window b).
 */
// @own-process: it checks that TF.js lacks a kernel or gradient before the studio registers it, which
// another file in a shared process may already have done.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { registerAvgPoolGradGrad } from '../../../core/backend/kernels/avg-pool-grad-grad.js';
import { selectBackend } from '../../../core/backend/select.js';
import { readFloats } from '../../../core/backend/read.js';
import { randn, relErr } from '../../helpers/numeric.js';

const [N, H, W, C] = [2, 4, 6, 3];
const xv = randn(N * H * W * C, 11);
const vv = randn(N * (H / 2) * (W / 2) * C, 12);

function penalty(x: tf.Tensor4D, v: tf.Tensor4D): tf.Scalar {
  const dx = tf.grad((xx: tf.Tensor) => tf.avgPool((xx as tf.Tensor4D).square() as tf.Tensor4D, 2, 2, 'valid').mul(v).sum())(x);
  return dx.square().sum();
}

function secondOrder(): tf.Tensor[] {
  return tf.grads((x: tf.Tensor, v: tf.Tensor) => penalty(x as tf.Tensor4D, v as tf.Tensor4D))([tf.tensor4d(xv, [N, H, W, C]), tf.tensor4d(vv, [N, H / 2, W / 2, C])]);
}

function reference(): { dx: Float64Array; dv: Float64Array } {
  const dx = new Float64Array(xv.length);
  const dv = new Float64Array(vv.length);
  for (let n = 0; n < N; n++)
    for (let i = 0; i < H; i++)
      for (let j = 0; j < W; j++)
        for (let c = 0; c < C; c++) {
          const xi = (n * H + i) * W * C + j * C + c;
          const bi = (n * (H / 2) + (i >> 1)) * (W / 2) * C + (j >> 1) * C + c;
          const x = xv[xi] as number;
          const v = vv[bi] as number;
          dx[xi] = (x * v * v) / 2;
          dv[bi] = (dv[bi] as number) + (v / 2) * x * x;
        }
  return { dx, dv };
}

describe('AvgPoolGrad gradient (double backprop through avgPool)', () => {
  it('is missing from TF.js: second-order gradients through avgPool fail without it', async () => {
    await tf.setBackend('cpu');
    assert.equal(tf.getGradient('AvgPoolGrad'), undefined);
    assert.throws(() => tf.tidy(secondOrder), /gradient function not found for AvgPoolGrad/);
  });

  for (const backend of ['cpu', 'wasm']) {
    it(`matches the closed form on ${backend}`, async () => {
      registerAvgPoolGradGrad();
      if (backend === 'wasm') await selectBackend({ prefer: 'wasm' });
      else await tf.setBackend('cpu');
      const [gx, gv] = tf.tidy(secondOrder) as [tf.Tensor, tf.Tensor];
      const ref = reference();
      const ex = relErr(await readFloats(gx), ref.dx);
      const ev = relErr(await readFloats(gv), ref.dv);
      tf.dispose([gx, gv]);
      assert.ok(ex < 1e-5, `∂R/∂x relative error ${ex}`);
      assert.ok(ev < 1e-5, `∂R/∂v relative error ${ev}`);
    });
  }

  it("refuses padding it would get wrong", async () => {
    registerAvgPoolGradGrad();
    await tf.setBackend('cpu');
    const x = tf.tensor4d(xv, [N, H, W, C]);
    assert.throws(
      () => tf.tidy(() => tf.grad((xx: tf.Tensor) => tf.grad((y: tf.Tensor) => tf.avgPool((y as tf.Tensor4D).square() as tf.Tensor4D, 3, 2, 'same').sum())(xx).sum())(x)),
      /implemented for 'valid' padding only/,
    );
    x.dispose();
  });
});
