/**
 * The wasm Conv2DBackpropFilter / Conv2DBackpropInput kernels against the cpu backend's stock ones,
 * on random inputs: stride 1, 2 and 3, 'same', 'valid' and explicit padding, odd and even filters,
 * 1×1 filters, odd sizes, batch 1, and the case the wasm input gradient leaves to the stock kernel
 * (padding wider than the filter).
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
  x: [number, number, number, number]; // [N, H, W, Cin]
  k: [number, number];
  cout: number;
  strides: [number, number];
  pad: 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];
}

const cases: Case[] = [
  { x: [2, 8, 8, 3], k: [3, 3], cout: 4, strides: [1, 1], pad: 'same' },
  { x: [3, 9, 9, 3], k: [3, 3], cout: 5, strides: [2, 2], pad: 'same' },
  { x: [2, 8, 8, 2], k: [3, 3], cout: 3, strides: [2, 2], pad: 'valid' },
  { x: [1, 7, 7, 4], k: [1, 1], cout: 2, strides: [1, 1], pad: 'valid' },
  { x: [2, 10, 6, 3], k: [4, 4], cout: 4, strides: [2, 2], pad: 'same' }, // even filter: uneven padding
  { x: [2, 9, 8, 3], k: [3, 2], cout: 4, strides: [2, 1], pad: 'valid' },
  { x: [4, 16, 16, 8], k: [3, 3], cout: 8, strides: [1, 1], pad: 'same' },
  { x: [2, 11, 11, 3], k: [5, 5], cout: 2, strides: [1, 1], pad: 'valid' },
  { x: [2, 8, 8, 3], k: [3, 3], cout: 4, strides: [1, 1], pad: 1 },
  { x: [1, 9, 7, 5], k: [3, 3], cout: 6, strides: [1, 1], pad: 'same' }, // batch 1, odd sizes
  { x: [2, 7, 9, 3], k: [1, 1], cout: 4, strides: [2, 2], pad: 'same' }, // strided 1×1
  { x: [2, 5, 5, 4], k: [1, 1], cout: 3, strides: [1, 1], pad: 1 }, // 1×1 with padding
  { x: [1, 11, 10, 2], k: [3, 3], cout: 3, strides: [3, 2], pad: 'valid' }, // unread rows at the end
  { x: [2, 7, 7, 3], k: [3, 3], cout: 2, strides: [2, 2], pad: [[0, 0], [1, 0], [0, 2], [0, 0]] }, // uneven explicit pads
  { x: [2, 6, 6, 3], k: [3, 3], cout: 2, strides: [1, 1], pad: [[0, 0], [0, 3], [3, 0], [0, 0]] }, // wider than the filter: stock dx
  { x: [4, 4, 4, 33], k: [3, 3], cout: 16, strides: [1, 1], pad: 'same' }, // like D's last block: 4×4, an odd channel count
  // Large enough that dW is summed over several chunks of images (1024 positions each):
  { x: [3, 40, 40, 2], k: [1, 1], cout: 3, strides: [1, 1], pad: 'valid' },
  { x: [3, 30, 30, 2], k: [3, 3], cout: 3, strides: [1, 1], pad: 'same' },
  { x: [3, 48, 47, 2], k: [3, 3], cout: 3, strides: [2, 2], pad: 'same' },
];

describe('wasm convolution gradient kernels', () => {
  before(async () => {
    // Absent in TF.js 4.22: the reason this kernel exists (fails once a release ships one).
    assert.equal(tf.getKernel('Conv2DBackpropFilter', 'wasm'), undefined);
    const choice = await selectBackend({ prefer: 'wasm' });
    assert.equal(choice.tfBackend, 'wasm');
    assert.ok(choice.added.includes('wasm Conv2DBackpropFilter (a matMul per filter tap)'));
  });

  for (const [i, c] of cases.entries()) {
    const label = `x [${c.x.join(',')}], k ${c.k.join('×')}, stride ${c.strides.join(',')}, pad ${c.pad}`;
    it(`dW and dx match cpu: ${label}`, async () => {
      const wShape: [number, number, number, number] = [c.k[0], c.k[1], c.x[3], c.cout];
      const xv = randn(sizeOf(c.x), 100 + i);
      const wv = randn(sizeOf(wShape), 200 + i);
      // dy: random, shaped like the conv's output (from a forward pass on cpu).
      await tf.setBackend('cpu');
      const outShape = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(wShape) as tf.Tensor4D, c.strides, c.pad).shape);
      const gv = randn(sizeOf(outShape), 300 + i);
      const grads = (which: 'x' | 'w') => () => {
        const x = tf.tensor4d(xv, c.x);
        const w = tf.tensor4d(wv, wShape);
        const g = tf.tensor(gv, outShape);
        const loss = (xx: tf.Tensor4D, ww: tf.Tensor4D) => tf.conv2d(xx, ww, c.strides, c.pad).mul(g).sum();
        return which === 'w' ? tf.grad((ww: tf.Tensor) => loss(x, ww as tf.Tensor4D))(w) : tf.grad((xx: tf.Tensor) => loss(xx as tf.Tensor4D, w))(x);
      };
      const dwCpu = await onBackend('cpu', grads('w'));
      const dxCpu = await onBackend('cpu', grads('x'));
      const dwWasm = await onBackend('wasm', grads('w'));
      const dxWasm = await onBackend('wasm', grads('x'));
      assert.ok(relErr(dwWasm, dwCpu) < 1e-4, `dW relative error ${relErr(dwWasm, dwCpu)}`);
      assert.ok(relErr(dxWasm, dxCpu) < 1e-4, `dx relative error ${relErr(dxWasm, dxCpu)}`);
    });
  }

  it('leaves no tensors or wasm buffers behind', async () => {
    await tf.setBackend('wasm');
    const x = tf.randomNormal([2, 8, 8, 3]) as tf.Tensor4D;
    const w = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
    const w1 = tf.randomNormal([1, 1, 3, 4]) as tf.Tensor4D;
    const xBig = tf.randomNormal([3, 40, 40, 3]) as tf.Tensor4D; // dW in several chunks
    const before = tf.memory().numTensors;
    // The kernels' temporaries live below the engine: count the backend's own buffers too.
    const buffersBefore = tf.backend().numDataIds();
    for (const [xx0, ww0, stride] of [[x, w, 2], [x, w, 1], [x, w1, 1], [xBig, w, 1], [xBig, w, 2]] as const) {
      const gs = tf.tidy(() => tf.grads((xx: tf.Tensor, ww: tf.Tensor) => tf.conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, stride, 'same').sum())([xx0, ww0]));
      assert.equal(tf.memory().numTensors, before + 2);
      tf.dispose(gs);
      assert.equal(tf.memory().numTensors, before);
      assert.equal(tf.backend().numDataIds(), buffersBefore);
    }
    tf.dispose([x, w, w1, xBig]);
  });
});
