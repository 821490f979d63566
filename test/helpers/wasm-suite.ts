/**
 * For a describe block testing the studio's wasm kernels: selects wasm (with the studio's kernels
 * registered) before its tests, checks the named kernels are the studio's, and puts the previous
 * backend back after — the unit files share one process (test/unit/in-one-process.ts).
 */
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { isOurKernel } from '../../core/backend/kernels/index.js';
import { selectBackend } from '../../core/backend/select.js';

export function onStudioWasm(kernels: readonly string[]): void {
  let previous: string | undefined; // none when the file runs alone
  before(async () => {
    previous = tf.getBackend();
    const choice = await selectBackend({ prefer: 'wasm' });
    assert.equal(choice.tfBackend, 'wasm');
    for (const k of kernels) assert.ok(isOurKernel(k, 'wasm'), k);
  });
  after(async () => {
    if (previous !== undefined) await tf.setBackend(previous);
  });
}
