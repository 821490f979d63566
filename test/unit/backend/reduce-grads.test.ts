/**
 * Sum's and Mean's gradients without a host-made `ones` (core/backend/kernels/reduce-grads.ts),
 * LeakyRelu's, Rsqrt's, Sqrt's and Square's with kept constants (elementwise-grads.ts), and ΣW²
 * as x·x summed over the taps (core/nets/layers.ts), on the cpu backend: first and second
 * order against closed forms computed in float64, on shapes at the edges (one axis, several,
 * all, a leading and a trailing one, size-1 axes). On webgpu (opt-in: ATELIER_TEST_WEBGPU=1), the
 * gradients upload nothing.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { constant } from '../../../core/backend/constants.js';
import { installDispatchCounter } from '../../../core/backend/dispatch-count.js';
import { elementwiseGradsRegistered } from '../../../core/backend/kernels/elementwise-grads.js';
import { reduceGradsRegistered } from '../../../core/backend/kernels/reduce-grads.js';
import { readFloats } from '../../../core/backend/read.js';
import { selectBackend } from '../../../core/backend/select.js';
import { randn, relErr, sizeOf } from '../../helpers/numeric.js';

/** Index of element `i` of `shape` in the reduced (kept-dims) shape. */
function reducedIndex(i: number, shape: number[], axes: number[]): number {
  let rest = i;
  const coords: number[] = [];
  for (let d = shape.length - 1; d >= 0; d--) {
    coords[d] = rest % (shape[d] as number);
    rest = Math.floor(rest / (shape[d] as number));
  }
  let idx = 0;
  for (let d = 0; d < shape.length; d++) {
    const size = axes.includes(d) ? 1 : (shape[d] as number);
    idx = idx * size + (axes.includes(d) ? 0 : (coords[d] as number));
  }
  return idx;
}

const CASES: Array<{ shape: number[]; axes: number[] }> = [
  { shape: [3, 3, 4, 5], axes: [0, 1] }, // ΣW² over a conv's taps
  { shape: [2, 7], axes: [1] },
  { shape: [6], axes: [0] }, // everything
  { shape: [4, 1, 3], axes: [0, 2] },
  { shape: [1, 1, 2, 3], axes: [0, 1] }, // a 1×1 conv: size-1 axes
];

describe('Sum and Mean gradients without ones', () => {
  before(async () => {
    await selectBackend({ prefer: 'cpu' });
  });

  it('are registered for training', () => {
    assert.ok(reduceGradsRegistered());
    assert.ok(elementwiseGradsRegistered());
  });

  // f(x) = Σ op(x)·w: ∂f/∂x = w·op'(x); R(x) = Σ (∂f/∂x)²: ∂R/∂x = 2·w²·op'(x)·op''(x).
  const ELEMENTWISE: Array<{ name: string; op: (t: tf.Tensor) => tf.Tensor; d1: (x: number) => number; d2: (x: number) => number; positive?: boolean }> = [
    { name: 'leakyRelu(0.2)', op: (t) => tf.leakyRelu(t, 0.2), d1: (x) => (x > 0 ? 1 : 0.2), d2: () => 0 },
    { name: 'rsqrt', op: (t) => t.rsqrt(), d1: (x) => -0.5 * x ** -1.5, d2: (x) => 0.75 * x ** -2.5, positive: true },
    { name: 'sqrt', op: (t) => t.sqrt(), d1: (x) => 0.5 * x ** -0.5, d2: (x) => -0.25 * x ** -1.5, positive: true },
    { name: 'square', op: (t) => t.square(), d1: (x) => 2 * x, d2: () => 2 },
  ];
  for (const [k, e] of ELEMENTWISE.entries()) {
    it(`${e.name}: gradient and second-order gradient`, async () => {
      const xv = randn(24, 40 + k).map((v) => (e.positive ? Math.abs(v) + 0.5 : v));
      const wv = randn(24, 50 + k);
      const x = tf.tensor(xv, [4, 6]);
      const w = tf.tensor(wv, [4, 6]);
      const f = (t: tf.Tensor) => e.op(t).mul(w).sum();
      const grad = await readFloats(tf.tidy(() => tf.grad(f)(x)));
      const second = await readFloats(tf.tidy(() => tf.grad((t: tf.Tensor) => tf.grad(f)(t).square().sum())(x)));
      const refGrad = Array.from(xv, (xi, i) => (wv[i] as number) * e.d1(xi));
      const refSecond = Array.from(xv, (xi, i) => 2 * (wv[i] as number) ** 2 * e.d1(xi) * e.d2(xi));
      assert.ok(relErr(grad, refGrad) < 1e-5, `gradient ${relErr(grad, refGrad)}`);
      if (refSecond.every((v) => v === 0)) assert.ok(second.every((v) => v === 0), 'piecewise linear: no second derivative');
      else assert.ok(relErr(second, refSecond) < 1e-5, `second order ${relErr(second, refSecond)}`);
      tf.dispose([x, w]);
    });
  }

  for (const [k, { shape, axes }] of CASES.entries()) {
    for (const op of ['sum', 'mean'] as const) {
      it(`${op} over [${axes}] of [${shape}]: value, gradient and second-order gradient`, async () => {
        const n = sizeOf(shape);
        const reduceSize = axes.reduce((a, d) => a * (shape[d] as number), 1);
        const outShape = shape.map((s, d) => (axes.includes(d) ? 1 : s));
        const xv = randn(n, 10 + k);
        const wv = randn(sizeOf(outShape), 20 + k);
        const x = tf.tensor(xv, shape);
        const w = tf.tensor(wv, outShape);
        const reduce = (t: tf.Tensor) => (op === 'sum' ? t.sum(axes, true) : t.mean(axes, true));
        const scale = op === 'sum' ? 1 : 1 / reduceSize;
        // h(x) = Σ reduce(x·x) · w;  ∂h/∂x = 2·x·w̃·s;  R(x) = Σ (∂h/∂x)²;  ∂R/∂x = 8·x·w̃²·s².
        const h = (t: tf.Tensor) => reduce(t.mul(t)).mul(w).sum();
        const value = await readFloats(tf.tidy(() => reduce(x)));
        const grad = await readFloats(tf.tidy(() => tf.grad(h)(x)));
        const second = await readFloats(tf.tidy(() => tf.grad((t: tf.Tensor) => tf.grad(h)(t).square().sum())(x)));
        const wAt = (i: number) => wv[reducedIndex(i, shape, axes)] as number;
        const refValue = new Float64Array(sizeOf(outShape));
        for (let i = 0; i < n; i++) {
          const j = reducedIndex(i, shape, axes);
          refValue[j] = (refValue[j] as number) + (xv[i] as number) * scale;
        }
        const refGrad = Array.from(xv, (xi, i) => 2 * xi * wAt(i) * scale);
        const refSecond = Array.from(xv, (xi, i) => 8 * xi * wAt(i) ** 2 * scale ** 2);
        assert.ok(relErr(value, refValue) < 1e-6, `value ${relErr(value, refValue)}`);
        assert.ok(relErr(grad, refGrad) < 1e-6, `gradient ${relErr(grad, refGrad)}`);
        assert.ok(relErr(second, refSecond) < 1e-6, `second order ${relErr(second, refSecond)}`);
        tf.dispose([x, w]);
      });
    }
  }

  it('on webgpu, ΣW²’s gradient (and Mean’s) uploads nothing', { skip: process.env['ATELIER_TEST_WEBGPU'] === '1' ? false : 'set ATELIER_TEST_WEBGPU=1 to run' }, async () => {
    await selectBackend({ prefer: 'webgpu' });
    const w = tf.tidy(() => tf.randomNormal([3, 3, 32, 32]).add(tf.randomNormal([3, 3, 32, 32]))); // on the GPU
    const dy = tf.tidy(() => tf.randomNormal([32, 32]).add(tf.randomNormal([32, 32])));
    const counter = installDispatchCounter();
    counter.start();
    const g = tf.tidy(() => tf.grad((t: tf.Tensor) => t.mul(t).sum([0, 1]).mul(dy).sum())(w));
    const gm = tf.tidy(() => tf.grad((t: tf.Tensor) => t.mean([0, 1]).mul(dy).sum())(w));
    await readFloats(g);
    const counts = counter.stop();
    // Uploaded: tf.grad's seed dy = 1 (a scalar, once per tf.grad). On webgpu the gradients are one
    // Broadcast kernel each (core/backend/kernels/broadcast.ts), Mean's divisor a uniform of it.
    assert.equal(counts.uploads, 2);
    assert.equal(counts.uploadBytes, 8, 'two scalars; no ones([3, 3, 32, 32])');
    assert.equal(counts.byOp['OnesLike'], undefined);
    tf.dispose([w, dy, g, gm]);
    await selectBackend({ prefer: 'cpu' });
  });

  it('kept constants are made once per value and backend', () => {
    const a = constant(0.5);
    assert.equal(constant(0.5), a);
    assert.notEqual(constant(0.25), a);
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      tf.ones([2]).mul(constant(0.5)).mul(constant(0.25));
    });
    assert.equal(tf.memory().numTensors, before, 'tidy leaves the constants alone and makes none');
  });
});
