/**
 * The webgpu dispatch counter (core/backend/dispatch-count.ts) on ops whose real work is known:
 * an element-wise op on GPU tensors is one dispatch and no upload; a JS-number scalar operand is
 * one upload; a reshape dispatches nothing. Needs a WebGPU adapter: opt-in with
 * ATELIER_TEST_WEBGPU=1 (a GPU, or Mesa's llvmpipe through Dawn, slowly).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { installDispatchCounter } from '../../../core/backend/dispatch-count.js';
import { selectBackend } from '../../../core/backend/select.js';

const WEBGPU = process.env['ATELIER_TEST_WEBGPU'] === '1';

describe('webgpu dispatch counter', () => {
  it('refuses a backend that is not webgpu', async () => {
    await selectBackend({ prefer: 'cpu' });
    assert.throws(() => installDispatchCounter(), /webgpu backend, not cpu/);
  });

  it('counts dispatches, uploads and non-dispatching calls by op and phase', { skip: WEBGPU ? false : 'set ATELIER_TEST_WEBGPU=1 to run' }, async () => {
    await selectBackend({ prefer: 'webgpu' });
    // Host-made values, uploaded by a first op: a and b then live on the GPU. (TF.js runs an op
    // on the CPU when every input is there and smaller than 1,000; reading one back puts it there.)
    const a = tf.tidy(() => tf.randomNormal([32, 32]).add(tf.randomNormal([32, 32])));
    const b = tf.tidy(() => tf.randomNormal([32, 32]).add(tf.randomNormal([32, 32])));
    const counter = installDispatchCounter();
    counter.start();
    const out = tf.tidy(() => {
      const s = a.add(b); // 1 dispatch
      const r = s.reshape([1024]); // 0 dispatches
      return r.mul(3); // 1 dispatch, 1 upload (the scalar 3)
    });
    await out.data();
    const c = counter.stop();
    assert.equal(c.byOp['Add']?.dispatches, 1);
    assert.equal(c.byOp['Add']?.uploads, 0);
    assert.equal(c.byOp['Reshape']?.dispatches, 0);
    assert.equal(c.byOp['Reshape']?.calls, 1);
    assert.equal(c.byOp['Multiply']?.dispatches, 1);
    assert.equal(c.byOp['Multiply']?.uploads, 1);
    assert.equal(c.dispatches, 2);
    assert.equal(c.uploads, 1);
    assert.ok(c.submits >= 1, 'the read submits the queue');
    assert.equal(c.byPhase.forward.dispatches, 2);

    // Under a gradient: the backward's work is its own phase; an explicit phase wins.
    counter.start();
    const g = tf.grad((x: tf.Tensor) => x.square().sum())(a);
    counter.phase('optimizer', () => tf.dispose(tf.tidy(() => g.add(a))));
    const d = counter.stop();
    assert.ok(d.byPhase.forward.dispatches >= 2, 'Square and Sum forward');
    assert.ok(d.byPhase.backward.dispatches >= 1, 'the gradient');
    assert.equal(d.byPhase.optimizer.dispatches, 1);
    tf.dispose([a, b, out, g]);
  });
});
