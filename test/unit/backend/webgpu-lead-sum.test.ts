/**
 * The webgpu Sum and Mean over leading axes (core/backend/kernels/webgpu-lead-sum.ts) against the
 * cpu backend's stock kernels, and held to one dispatch a call. Needs a WebGPU adapter: opt-in
 * with ATELIER_TEST_WEBGPU=1. Which reductions take the one-dispatch path is checked everywhere.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { installDispatchCounter } from '../../../core/backend/dispatch-count.js';
import { isOurKernel } from '../../../core/backend/kernels/index.js';
import { columnsPerGroup, leadingAxes } from '../../../core/backend/kernels/webgpu-lead-sum.js';
import { selectBackend } from '../../../core/backend/select.js';
import { onBackend, randn, relErr, sizeOf } from '../../helpers/numeric.js';

const WEBGPU = process.env['ATELIER_TEST_WEBGPU'] === '1';

describe('webgpu Sum and Mean over leading axes', () => {
  it('takes leading-axis reductions only, and sizes its column blocks', () => {
    assert.equal(leadingAxes([0, 1, 2], [2, 4, 4, 8]), 3);
    assert.equal(leadingAxes([1, 0], [2, 4, 4, 8]), 2);
    assert.equal(leadingAxes(0, [5, 3]), 1);
    assert.equal(leadingAxes([1, 2], [2, 4, 4, 8]), -1); // not leading
    assert.equal(leadingAxes([0, 1, 2, 3], [2, 4, 4, 8]), -1); // every axis: the stock kernel's case
    assert.equal(leadingAxes(-1, [2, 4]), -1);
    assert.equal(columnsPerGroup(1), 1);
    assert.equal(columnsPerGroup(3), 4);
    assert.equal(columnsPerGroup(64), 64);
    assert.equal(columnsPerGroup(100_000), 256);
  });

  const cases: Array<{ shape: number[]; axis: number | number[]; keepDims?: boolean }> = [
    { shape: [8, 4, 4, 64], axis: [0, 1, 2] }, // a bias gradient
    { shape: [2, 3, 3, 3], axis: [0, 1, 2], keepDims: true }, // RGB: fewer columns than a block
    { shape: [3, 3, 5, 7], axis: [0, 1] }, // ΣₖW² with odd channels
    { shape: [1, 1, 1, 5], axis: [0, 1, 2] }, // one row
    { shape: [5, 1000], axis: 0 }, // several column blocks
    { shape: [4000, 2], axis: [0] }, // long columns
    { shape: [1, 300, 1], axis: [0] }, // one row, rank 3
    { shape: [6, 5], axis: 1 }, // an inner axis: the stock kernel
  ];
  for (const [i, c] of cases.entries()) {
    for (const op of ['sum', 'mean'] as const) {
      const label = `${op} of [${c.shape.join(',')}] over ${JSON.stringify(c.axis)}${c.keepDims === true ? ', keepDims' : ''}`;
      it(`matches cpu: ${label}`, { skip: WEBGPU ? false : 'set ATELIER_TEST_WEBGPU=1 to run' }, async () => {
        await selectBackend({ prefer: 'webgpu' });
        assert.ok(isOurKernel('Sum', 'webgpu') && isOurKernel('Mean', 'webgpu'));
        const xv = randn(sizeOf(c.shape), 900 + i);
        const f = () => tf.tidy(() => tf.tensor(xv, c.shape).add(tf.scalar(0))[op](c.axis, c.keepDims));
        const cpu = await onBackend('cpu', f);
        await tf.setBackend('webgpu');
        const x = tf.tidy(() => tf.tensor(xv, c.shape).add(tf.scalar(0))); // on the GPU
        const counter = installDispatchCounter();
        counter.start();
        const y = x[op](c.axis, c.keepDims);
        const gpu = await y.data();
        const counts = counter.stop();
        const expectShape = tf.tidy(() => tf.zeros(c.shape)[op](c.axis, c.keepDims).shape);
        assert.deepEqual(y.shape, expectShape);
        assert.ok(relErr(gpu, cpu) < 1e-5, `relative error ${relErr(gpu, cpu)}`);
        const leading = leadingAxes(c.axis, c.shape) > 0;
        if (leading) assert.equal(counts.dispatches, 1, 'one dispatch');
        tf.dispose([x, y]);
      });
    }
  }
});
