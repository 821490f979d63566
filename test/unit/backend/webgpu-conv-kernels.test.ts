/**
 * The webgpu Conv2DBackpropFilter (split over the sum) against the cpu backend's stock kernel.
 * Needs a WebGPU adapter: opt-in with ATELIER_TEST_WEBGPU=1 (a GPU, or Mesa's llvmpipe through
 * Dawn's OpenGL ES backend, slowly). The split arithmetic is checked everywhere.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../core/backend/select.js';
import { isOurKernel } from '../../../core/backend/kernels/index.js';
import { splitCount } from '../../../core/backend/kernels/webgpu-conv2d-backprop-filter.js';
import { onBackend, randn, relErr, sizeOf } from '../../helpers/numeric.js';

const WEBGPU = process.env['ATELIER_TEST_WEBGPU'] === '1';

describe('webgpu Conv2DBackpropFilter split over the sum', () => {
  it('splits into enough slices to fill a GPU, never more than the rows, within the dispatch limit', () => {
    assert.equal(splitCount(9 * 32 * 32, 32 * 128), 28); // 2¹⁸ threads / 9,216 filter elements
    assert.equal(splitCount(9 * 3 * 4, 2 * 4), 8); // a tiny conv: one slice per row
    assert.equal(splitCount(9 * 512 * 512, 10_000), 1); // a huge filter: one slice (the stock layout)
    const big = 3 * 3 * 64 * 64;
    assert.ok(splitCount(big, 1e9) * big <= 65535 * 64);
  });

  const cases: Array<{ x: [number, number, number, number]; k: [number, number]; cout: number; strides: [number, number]; pad: 'same' | 'valid' | number }> = [
    { x: [2, 8, 8, 3], k: [3, 3], cout: 4, strides: [1, 1], pad: 'same' },
    { x: [3, 9, 9, 3], k: [3, 3], cout: 5, strides: [2, 2], pad: 'same' },
    { x: [2, 10, 6, 3], k: [4, 4], cout: 4, strides: [2, 2], pad: 'same' }, // even filter: uneven padding
    { x: [2, 9, 8, 3], k: [3, 2], cout: 4, strides: [2, 1], pad: 'valid' },
    { x: [1, 7, 7, 4], k: [1, 1], cout: 2, strides: [1, 1], pad: 'valid' },
    { x: [4, 32, 32, 8], k: [3, 3], cout: 8, strides: [1, 1], pad: 1 }, // many slices
  ];
  for (const [i, c] of cases.entries()) {
    const label = `x [${c.x.join(',')}], k ${c.k.join('×')}, stride ${c.strides.join(',')}, pad ${c.pad}`;
    it(`dW matches cpu: ${label}`, { skip: WEBGPU ? false : 'set ATELIER_TEST_WEBGPU=1 to run' }, async () => {
      await selectBackend({ prefer: 'webgpu' });
      assert.ok(isOurKernel('Conv2DBackpropFilter', 'webgpu'));
      const wShape: [number, number, number, number] = [c.k[0], c.k[1], c.x[3], c.cout];
      const xv = randn(sizeOf(c.x), 500 + i);
      await tf.setBackend('cpu');
      const outShape = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros(wShape) as tf.Tensor4D, c.strides, c.pad).shape);
      const gv = randn(sizeOf(outShape), 600 + i);
      const wv = randn(sizeOf(wShape), 700 + i);
      const dw = () => {
        const x = tf.tensor4d(xv, c.x);
        const g = tf.tensor(gv, outShape);
        return tf.grad((w: tf.Tensor) => tf.conv2d(x, w as tf.Tensor4D, c.strides, c.pad).mul(g).sum())(tf.tensor4d(wv, wShape));
      };
      const cpu = await onBackend('cpu', dw);
      await tf.setBackend('webgpu');
      // The kernel's partial sums live below the engine: count the backend's own buffers.
      const buffersBefore = tf.backend().numDataIds();
      const gpu = await onBackend('webgpu', dw);
      assert.ok(relErr(gpu, cpu) < 1e-4, `dW relative error ${relErr(gpu, cpu)}`);
      assert.equal(tf.backend().numDataIds(), buffersBefore, 'no GPU buffers left behind');
    });
  }
});
