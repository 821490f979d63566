/**
 * The wasm LeakyRelu, AvgPoolGrad and Identity kernels (core/backend/kernels/wasm-pointwise.ts), Sum over
 * leading axes (wasm-lead-sum.ts). Sum against float32 additions in order, bit for bit; LeakyRelu
 * and its gradient against the numbers computed in JS with float32 rounding (bit for bit), and
 * against the cpu backend; avgPool's gradient against the cpu backend for windows that tile the
 * input (2×2, 3×3, 1×2, with rows and columns no window reaches) and for those left to the stock
 * kernel (overlapping, padded); Identity sharing its input's buffer; and no buffers left behind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { onBackend, randn, relErr, sizeOf } from '../../helpers/numeric.js';
import { onStudioWasm } from '../../helpers/wasm-suite.js';

interface PoolCase {
  x: [number, number, number, number];
  k: [number, number];
  strides: [number, number];
  pad: 'same' | 'valid';
}

const pools: PoolCase[] = [
  { x: [2, 8, 8, 3], k: [2, 2], strides: [2, 2], pad: 'valid' }, // D's box downsampling
  { x: [3, 9, 7, 4], k: [3, 3], strides: [3, 3], pad: 'valid' }, // a column no window reaches
  { x: [2, 7, 9, 2], k: [2, 2], strides: [2, 2], pad: 'valid' }, // a row and a column unreached
  { x: [1, 6, 8, 5], k: [1, 2], strides: [1, 2], pad: 'valid' },
  { x: [2, 8, 8, 3], k: [2, 2], strides: [2, 2], pad: 'same' }, // 'same' without padding: tiled
  { x: [2, 9, 9, 3], k: [3, 3], strides: [2, 2], pad: 'valid' }, // overlapping: stock kernel
  { x: [2, 7, 7, 3], k: [2, 2], strides: [2, 2], pad: 'same' }, // padded: stock kernel
];

describe('wasm LeakyRelu, AvgPoolGrad and Sum kernels', () => {
  onStudioWasm(['LeakyRelu', 'AvgPoolGrad', 'Identity', 'Sum']);

  it('leakyRelu and its gradient: the float32 numbers x or α·x, dy or α·dy', async () => {
    const shape = [2, 5, 6, 7];
    const xv = randn(sizeOf(shape), 11);
    xv[0] = 0;
    xv[1] = -0;
    const gv = randn(sizeOf(shape), 12);
    const alpha = 0.2;
    const a32 = Math.fround(alpha);
    const y = await onBackend('wasm', () => tf.leakyRelu(tf.tensor(xv, shape), alpha));
    const dx = await onBackend('wasm', () => tf.grad((t: tf.Tensor) => tf.leakyRelu(t, alpha).mul(tf.tensor(gv, shape)).sum())(tf.tensor(xv, shape)));
    for (let i = 0; i < xv.length; i++) {
      const x = xv[i] as number;
      const g = gv[i] as number;
      assert.ok(Object.is(y[i], x > 0 ? x : Math.fround(x * a32)), `y[${i}] = ${y[i]} for x = ${x}`);
      assert.equal(dx[i], x > 0 ? g : Math.fround(g * a32), `dx[${i}] for x = ${x}`);
    }
    const yCpu = await onBackend('cpu', () => tf.leakyRelu(tf.tensor(xv, shape), alpha));
    assert.ok(relErr(y, yCpu) < 1e-6, `vs cpu ${relErr(y, yCpu)}`);
  });

  for (const [i, c] of pools.entries()) {
    it(`avgPool's gradient matches cpu: x [${c.x.join(',')}], window ${c.k.join('×')}, stride ${c.strides.join(',')}, ${c.pad}`, async () => {
      const xv = randn(sizeOf(c.x), 60 + i);
      await tf.setBackend('cpu');
      const outShape = tf.tidy(() => tf.avgPool(tf.zeros(c.x) as tf.Tensor4D, c.k, c.strides, c.pad).shape);
      const gv = randn(sizeOf(outShape), 70 + i);
      const grad = () => tf.grad((t: tf.Tensor) => tf.avgPool(t as tf.Tensor4D, c.k, c.strides, c.pad).mul(tf.tensor(gv, outShape)).sum())(tf.tensor(xv, c.x));
      const dxCpu = await onBackend('cpu', grad);
      const dxWasm = await onBackend('wasm', grad);
      assert.ok(relErr(dxWasm, dxCpu) < 1e-6, `dx relative error ${relErr(dxWasm, dxCpu)}`);
    });
  }

  const sums: Array<{ shape: number[]; axis: number[]; keepDims?: boolean }> = [
    { shape: [3, 5, 6, 7], axis: [0, 1, 2] },
    { shape: [4, 5], axis: [0] },
    { shape: [2, 3, 4], axis: [1, 0], keepDims: true },
    { shape: [3, 3, 16, 8], axis: [0, 1] },
    { shape: [3, 5, 6, 7], axis: [1, 2] }, // not leading: stock kernel
    { shape: [3, 5, 6, 7], axis: [0, 1, 2, 3] }, // all axes: stock kernel
  ];
  for (const [i, c] of sums.entries()) {
    it(`sum over [${c.axis}] of [${c.shape}]${c.keepDims === true ? ', keepDims' : ''}`, async () => {
      const xv = randn(sizeOf(c.shape), 80 + i);
      const y = await onBackend('wasm', () => tf.sum(tf.tensor(xv, c.shape), c.axis, c.keepDims));
      const yCpu = await onBackend('cpu', () => tf.sum(tf.tensor(xv, c.shape), c.axis, c.keepDims));
      assert.ok(relErr(y, yCpu) < 1e-5, `vs cpu ${relErr(y, yCpu)}`);
      const lead = c.axis.length < c.shape.length && [...c.axis].sort().every((a, k) => a === k);
      if (lead) {
        // Float32 additions in order over the reduced rows.
        const m = sizeOf(c.shape.slice(c.axis.length));
        const ref = new Float32Array(m);
        for (let r = 0; r < xv.length / m; r++) for (let k = 0; k < m; k++) ref[k] = (ref[k] as number) + (xv[r * m + k] as number);
        assert.deepEqual(Array.from(y), Array.from(ref));
      }
      const shapeOn = async (name: string) => (await tf.setBackend(name), tf.tidy(() => tf.sum(tf.zeros(c.shape), c.axis, c.keepDims).shape));
      assert.deepEqual(await shapeOn('wasm'), await shapeOn('cpu'));
    });
  }

  it('identity shares the buffer, which outlives whichever of the two is disposed first', async () => {
    await tf.setBackend('wasm');
    const buffersBefore = tf.backend().numDataIds();
    const x = tf.tensor([1, 2, 3]);
    const y = tf.clone(x);
    assert.equal(tf.backend().numDataIds(), buffersBefore + 1);
    x.dispose();
    assert.deepEqual(Array.from(await y.data()), [1, 2, 3]);
    y.dispose();
    assert.equal(tf.backend().numDataIds(), buffersBefore);
    const s = tf.clone(tf.tensor(['a', 'b']));
    assert.deepEqual(await s.data(), ['a', 'b']);
    s.dispose();
  });

  it('leaves no tensors or wasm buffers behind', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const buffersBefore = tf.backend().numDataIds();
    for (const f of [
      (t: tf.Tensor) => tf.leakyRelu(t, 0.2).sum(),
      (t: tf.Tensor) => tf.avgPool(t as tf.Tensor4D, 2, 2, 'valid').sum(),
      (t: tf.Tensor) => tf.avgPool(t as tf.Tensor4D, 3, 2, 'valid').sum(),
      (t: tf.Tensor) => tf.sum(t, [0, 1, 2]).sum(),
    ]) {
      const g = tf.tidy(() => tf.grad(f)(x));
      assert.equal(tf.memory().numTensors, before + 1);
      g.dispose();
      assert.equal(tf.memory().numTensors, before);
      assert.equal(tf.backend().numDataIds(), buffersBefore);
    }
    x.dispose();
  });
});
