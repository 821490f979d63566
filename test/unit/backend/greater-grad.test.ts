/**
 * The Greater gradient: without it, a gradient of a gradient through leakyRelu fails; with it,
 * that second-order gradient matches central finite differences computed in float64.
 */
// @own-process: it checks that TF.js lacks a kernel or gradient before the studio registers it, which
// another file in a shared process may already have done.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { registerGreaterGrad } from '../../../core/backend/kernels/greater-grad.js';
import { selectBackend } from '../../../core/backend/select.js';
import { readFloats } from '../../../core/backend/read.js';
import { randn, relErr } from '../../helpers/numeric.js';

// A tiny net: f(x) = Σ lrelu(x·W1)·W2, x [N, I], W1 [I, H], W2 [H, 1].
const N = 4;
const I = 3;
const H = 5;
const ALPHA = 0.2;
const xv = randn(N * I, 1);
const w1v = randn(I * H, 2);
const w2v = randn(H, 3);

/** R(W1, W2) = Σ (∂f/∂x)², the R1-like penalty, in float64. */
function penalty64(w1: ArrayLike<number>, w2: ArrayLike<number>): number {
  let r = 0;
  for (let n = 0; n < N; n++) {
    const slope: number[] = [];
    for (let h = 0; h < H; h++) {
      let pre = 0;
      for (let i = 0; i < I; i++) pre += (xv[n * I + i] as number) * (w1[i * H + h] as number);
      slope.push(pre > 0 ? 1 : ALPHA);
    }
    for (let i = 0; i < I; i++) {
      let dx = 0;
      for (let h = 0; h < H; h++) dx += (slope[h] as number) * (w2[h] as number) * (w1[i * H + h] as number);
      r += dx * dx;
    }
  }
  return r;
}

function penaltyTf(w1: tf.Tensor2D, w2: tf.Tensor2D): tf.Scalar {
  const x = tf.tensor2d(xv, [N, I]);
  const dx = tf.grad((xx: tf.Tensor) => tf.leakyRelu((xx as tf.Tensor2D).matMul(w1), ALPHA).matMul(w2).sum())(x);
  return dx.square().sum();
}

function secondOrder(): tf.Tensor[] {
  const w1 = tf.tensor2d(w1v, [I, H]);
  const w2 = tf.tensor2d(w2v, [H, 1]);
  return tf.grads((a: tf.Tensor, b: tf.Tensor) => penaltyTf(a as tf.Tensor2D, b as tf.Tensor2D))([w1, w2]);
}

function fd64(which: 1 | 2): Float64Array {
  const base = which === 1 ? w1v : w2v;
  const out = new Float64Array(base.length);
  const eps = 1e-6;
  for (let i = 0; i < base.length; i++) {
    const p = Float64Array.from(base);
    const m = Float64Array.from(base);
    p[i] = (base[i] as number) + eps;
    m[i] = (base[i] as number) - eps;
    out[i] = which === 1 ? (penalty64(p, w2v) - penalty64(m, w2v)) / (2 * eps) : (penalty64(w1v, p) - penalty64(w1v, m)) / (2 * eps);
  }
  return out;
}

describe('Greater gradient (double backprop through leakyRelu)', () => {
  it('is missing from TF.js: second-order gradients through leakyRelu fail without it', async () => {
    await tf.setBackend('cpu');
    assert.equal(tf.getGradient('Greater'), undefined);
    assert.throws(() => tf.tidy(secondOrder), /gradient function not found for Greater/);
  });

  for (const backend of ['cpu', 'wasm']) {
    it(`matches float64 finite differences on ${backend}`, async () => {
      registerGreaterGrad();
      if (backend === 'wasm') await selectBackend({ prefer: 'wasm' });
      else await tf.setBackend('cpu');
      // The first-order value agrees with the float64 reference too.
      const r = tf.tidy(() => penaltyTf(tf.tensor2d(w1v, [I, H]), tf.tensor2d(w2v, [H, 1])));
      const rv = (await readFloats(r))[0] as number;
      r.dispose();
      assert.ok(Math.abs(rv - penalty64(w1v, w2v)) < 1e-4 * Math.abs(penalty64(w1v, w2v)));
      const [g1, g2] = tf.tidy(secondOrder) as [tf.Tensor, tf.Tensor];
      const e1 = relErr(await readFloats(g1), fd64(1));
      const e2 = relErr(await readFloats(g2), fd64(2));
      tf.dispose([g1, g2]);
      assert.ok(e1 < 1e-4, `dR/dW1 relative error ${e1}`);
      assert.ok(e2 < 1e-4, `dR/dW2 relative error ${e2}`);
    });
  }
});
