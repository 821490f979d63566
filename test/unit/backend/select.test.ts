/** Backend selection: the fallback chain with reasons, overrides, and clear refusals. */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { BACKEND_NAMES, BackendUnavailableError, describeChoice, parseBackendName, selectBackend } from '../../../core/backend/select.js';

function installed(pkg: string): boolean {
  try {
    createRequire(import.meta.url).resolve(pkg);
    return true;
  } catch {
    return false;
  }
}

describe('selectBackend', () => {
  it('tries candidates best first and says why each better one was not used', async () => {
    const choice = await selectBackend({ env: {} });
    const names = choice.tried.map((t) => t.name);
    assert.deepEqual(names, BACKEND_NAMES.slice(0, names.length), 'tried in order, stopping at the first that loads');
    const last = choice.tried[choice.tried.length - 1];
    assert.ok(last?.ok);
    assert.equal(choice.name, last.name);
    assert.equal(tf.getBackend(), choice.tfBackend);
    for (const t of choice.tried.slice(0, -1)) {
      assert.equal(t.ok, false);
      assert.ok(t.reason.length > 10, `a reason for ${t.name}`);
    }
    if (!installed('@tensorflow/tfjs-node-gpu')) {
      assert.match(choice.tried[0]?.reason ?? '', /^not installed \(@tensorflow\/tfjs-node-gpu is optional/);
    }
    if (!installed('@tensorflow/tfjs-node') && choice.tried.length > 1) {
      assert.match(choice.tried[1]?.reason ?? '', /^not installed \(@tensorflow\/tfjs-node is optional/);
    }
    assert.ok(choice.added.length > 0 || tf.getGradient('Greater') !== undefined, 'training kernels registered');
    const line = describeChoice(choice);
    assert.match(line, new RegExp(`^Training on ${choice.name}`));
    for (const t of choice.tried.slice(0, -1)) assert.ok(line.includes(t.reason));
  });

  it('takes ATELIER_BACKEND from the environment', async () => {
    const choice = await selectBackend({ env: { ATELIER_BACKEND: 'cpu' } });
    assert.equal(choice.name, 'cpu');
    assert.equal(tf.getBackend(), 'cpu');
    assert.deepEqual(choice.tried.map((t) => t.name), ['cpu']);
    assert.equal(choice.requestedBy, 'ATELIER_BACKEND');
  });

  it('lets a setting or --backend override the environment', async () => {
    const choice = await selectBackend({ prefer: 'wasm', preferSource: 'setting', env: { ATELIER_BACKEND: 'cpu' } });
    assert.equal(choice.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    assert.equal(choice.requestedBy, 'setting');
    assert.ok(tf.getKernel('Conv2DBackpropFilter', 'wasm') !== undefined);
  });

  it('refuses an unknown name, listing the valid ones', async () => {
    assert.throws(() => parseBackendName('cuda11'), /Unknown backend 'cuda11'\. Use one of: tensorflow-gpu, tensorflow, webgpu, wasm, cpu\./);
    await assert.rejects(selectBackend({ prefer: 'metal' }), /Unknown backend 'metal'/);
    assert.equal(parseBackendName(' WASM '), 'wasm');
    assert.equal(parseBackendName('tfjs-node'), 'tensorflow');
  });

  it('fails loudly, not silently, when the named backend cannot start', { skip: installed('@tensorflow/tfjs-node') }, async () => {
    await assert.rejects(selectBackend({ prefer: 'tensorflow', preferSource: '--backend', env: {} }), (e: unknown) => {
      assert.ok(e instanceof BackendUnavailableError);
      assert.match(e.message, /^The 'tensorflow' backend \(from --backend\) could not start: not installed/);
      assert.deepEqual(e.tried.map((t) => t.name), ['tensorflow']);
      return true;
    });
  });
});
