/**
 * The wasm DepthwiseConv2dNativeBackpropInput / …BackpropFilter kernels (core/backend/kernels/
 * wasm-depthwise-backprop.ts) against the cpu backend's stock ones, on random inputs: stride 1 and 2,
 * 'same', 'valid' and explicit padding, channel multipliers 1 and 2, through tf.grad and (for the
 * multiplier 2, whose forward conv corrupts the wasm heap in TF.js 4.22) the kernels run directly;
 * and the fused depthwise conv a MobileNet graph model runs (bias + relu6).
 */
// @own-process: it checks that TF.js lacks a kernel or gradient before the studio registers it, which
// another file in a shared process may already have done.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { selectBackend } from '../../../core/backend/select.js';
import { onBackend, randn, relErr, sizeOf } from '../../helpers/numeric.js';

interface Case {
  x: [number, number, number, number]; // [N, H, W, C]
  k: [number, number];
  mult: number;
  strides: [number, number];
  pad: 'same' | 'valid' | number;
}

const cases: Case[] = [
  { x: [2, 8, 8, 3], k: [3, 3], mult: 1, strides: [1, 1], pad: 'same' },
  { x: [2, 9, 9, 4], k: [3, 3], mult: 1, strides: [2, 2], pad: 'same' },
  { x: [2, 8, 8, 4], k: [3, 3], mult: 1, strides: [2, 2], pad: 'same' }, // even input, stride 2: uneven padding (MobileNet's downsampling)
  { x: [2, 10, 10, 2], k: [5, 5], mult: 1, strides: [2, 2], pad: 'valid' },
  { x: [2, 8, 8, 3], k: [3, 3], mult: 1, strides: [1, 1], pad: 1 },
];

/** Run directly (no forward conv): channel multiplier 2, odd shapes. */
const direct: Case[] = [
  { x: [1, 7, 6, 3], k: [3, 3], mult: 2, strides: [1, 1], pad: 'valid' },
  { x: [2, 8, 8, 3], k: [3, 2], mult: 2, strides: [2, 2], pad: 'same' },
  { x: [2, 9, 7, 2], k: [3, 3], mult: 3, strides: [2, 1], pad: 1 },
];

describe('wasm depthwise convolution gradient kernels', () => {
  before(async () => {
    // Absent in TF.js 4.22: the reason these kernels exist (fails once a release ships them).
    assert.equal(tf.getKernel('DepthwiseConv2dNativeBackpropInput', 'wasm'), undefined);
    assert.equal(tf.getKernel('DepthwiseConv2dNativeBackpropFilter', 'wasm'), undefined);
    const choice = await selectBackend({ prefer: 'wasm' });
    assert.equal(choice.tfBackend, 'wasm');
    assert.ok(choice.added.some((a) => a.startsWith('wasm DepthwiseConv2dNativeBackpropInput')));
  });

  for (const [i, c] of cases.entries()) {
    const label = `x [${c.x.join(',')}], k ${c.k.join('×')}×${c.mult}, stride ${c.strides.join(',')}, pad ${c.pad}`;
    it(`dW and dx match cpu: ${label}`, async () => {
      const wShape: [number, number, number, number] = [c.k[0], c.k[1], c.x[3], c.mult];
      const xv = randn(sizeOf(c.x), 400 + i);
      const wv = randn(sizeOf(wShape), 500 + i);
      const conv = (x: tf.Tensor4D, w: tf.Tensor4D) => tf.depthwiseConv2d(x, w, c.strides, c.pad);
      await tf.setBackend('cpu');
      const outShape = tf.tidy(() => conv(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(wShape) as tf.Tensor4D).shape);
      const gv = randn(sizeOf(outShape), 600 + i);
      const grads = (which: 'x' | 'w') => () => {
        const x = tf.tensor4d(xv, c.x);
        const w = tf.tensor4d(wv, wShape);
        const g = tf.tensor(gv, outShape);
        const loss = (xx: tf.Tensor4D, ww: tf.Tensor4D) => conv(xx, ww).mul(g).sum();
        return which === 'w' ? tf.grad((ww: tf.Tensor) => loss(x, ww as tf.Tensor4D))(w) : tf.grad((xx: tf.Tensor) => loss(xx as tf.Tensor4D, w))(x);
      };
      const dwCpu = await onBackend('cpu', grads('w'));
      const dxCpu = await onBackend('cpu', grads('x'));
      const dwWasm = await onBackend('wasm', grads('w'));
      const dxWasm = await onBackend('wasm', grads('x'));
      assert.ok(dwWasm.some((v) => v !== 0) && dxWasm.some((v) => v !== 0));
      assert.ok(relErr(dwWasm, dwCpu) < 1e-5, `dW relative error ${relErr(dwWasm, dwCpu)}`);
      assert.ok(relErr(dxWasm, dxCpu) < 1e-5, `dx relative error ${relErr(dxWasm, dxCpu)}`);
    });
  }

  for (const [i, c] of direct.entries()) {
    it(`the kernels run directly match cpu: x [${c.x.join(',')}], k ${c.k.join('×')}×${c.mult}, stride ${c.strides.join(',')}, pad ${c.pad}`, async () => {
      const wShape: [number, number, number, number] = [c.k[0], c.k[1], c.x[3], c.mult];
      const info = tf.backend_util.computeConv2DInfo(c.x, wShape, c.strides, 1, c.pad, undefined, true);
      const dyShape = [c.x[0], info.outHeight, info.outWidth, c.x[3] * c.mult];
      const xv = randn(sizeOf(c.x), 800 + i);
      const wv = randn(sizeOf(wShape), 810 + i);
      const dyv = randn(sizeOf(dyShape), 820 + i);
      const attrs = { strides: c.strides, dilations: [1, 1], pad: c.pad };
      const dx = () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropInput', { dy: tf.tensor(dyv, dyShape), filter: tf.tensor(wv, wShape) }, { ...attrs, inputShape: c.x } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const dw = () => tf.engine().runKernel('DepthwiseConv2dNativeBackpropFilter', { x: tf.tensor(xv, c.x), dy: tf.tensor(dyv, dyShape) }, { ...attrs, filterShape: wShape } as unknown as tf.NamedAttrMap) as tf.Tensor;
      const dxCpu = await onBackend('cpu', dx);
      const dwCpu = await onBackend('cpu', dw);
      const dxWasm = await onBackend('wasm', dx);
      const dwWasm = await onBackend('wasm', dw);
      assert.ok(relErr(dwWasm, dwCpu) < 1e-5, `dW relative error ${relErr(dwWasm, dwCpu)}`);
      assert.ok(relErr(dxWasm, dxCpu) < 1e-5, `dx relative error ${relErr(dxWasm, dxCpu)}`);
    });
  }

  it('the fused depthwise conv (bias, relu6) of a MobileNet graph: gradients match cpu', async () => {
    const x = randn(2 * 8 * 8 * 4, 700);
    const w = randn(3 * 3 * 4, 701);
    const bias = randn(4, 702);
    const f = () =>
      tf.grads((xx: tf.Tensor, ww: tf.Tensor, bb: tf.Tensor) =>
        tf.fused.depthwiseConv2d({ x: xx as tf.Tensor4D, filter: ww as tf.Tensor4D, strides: 2, pad: 'same', bias: bb, activation: 'relu6' }).square().sum(),
      )([tf.tensor4d(x, [2, 8, 8, 4]), tf.tensor4d(w, [3, 3, 4, 1]), tf.tensor1d(bias)]);
    for (const k of [0, 1, 2]) {
      const cpu = await onBackend('cpu', () => f()[k]!);
      const wasm = await onBackend('wasm', () => f()[k]!);
      assert.ok(relErr(wasm, cpu) < 1e-5, `gradient ${k}: relative error ${relErr(wasm, cpu)}`);
    }
  });

  it('leaves no tensors or wasm buffers behind', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 1]) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const buffersBefore = tf.backend().numDataIds();
    const gs = tf.tidy(() => tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.depthwiseConv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 2, 'same').sum())([x, w]));
    assert.equal(tf.memory().numTensors, before + 2);
    tf.dispose(gs);
    assert.equal(tf.memory().numTensors, before);
    assert.equal(tf.backend().numDataIds(), buffersBefore);
    tf.dispose([x, w]);
  });
});
