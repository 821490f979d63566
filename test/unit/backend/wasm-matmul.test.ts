/**
 * The wasm BatchMatMul kernel for transposed matrices (core/backend/kernels/wasm-matmul.ts) against
 * the cpu backend: every combination of transposeA and transposeB, with the first operand's rows
 * fewer and more than the second's (the two ways a·bᵀ is formed), a batched product (stock
 * kernel), the gradients of a dense layer; and no buffers left behind.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { onBackend, randn, relErr, sizeOf } from '../../helpers/numeric.js';
import { onStudioWasm } from '../../helpers/wasm-suite.js';

const cases: Array<{ a: number[]; b: number[]; tA: boolean; tB: boolean }> = [
  { a: [7, 5], b: [7, 9], tA: true, tB: false },
  { a: [3, 11], b: [6, 11], tA: false, tB: true }, // 3 rows < 6: (b·aᵀ)ᵀ
  { a: [9, 4], b: [2, 4], tA: false, tB: true }, // 9 rows > 2: a·Transpose(b)
  { a: [5, 3], b: [4, 5], tA: true, tB: true },
  { a: [6, 7], b: [7, 3], tA: false, tB: false },
  { a: [2, 5, 3], b: [2, 4, 3], tA: false, tB: true }, // batched: stock kernel
];

describe('wasm BatchMatMul of transposed matrices', () => {
  onStudioWasm(['BatchMatMul']);

  for (const [i, c] of cases.entries()) {
    it(`[${c.a}]${c.tA ? 'ᵀ' : ''} · [${c.b}]${c.tB ? 'ᵀ' : ''} matches cpu`, async () => {
      const av = randn(sizeOf(c.a), 90 + i);
      const bv = randn(sizeOf(c.b), 95 + i);
      const f = () => tf.matMul(tf.tensor(av, c.a), tf.tensor(bv, c.b), c.tA, c.tB);
      const onCpu = await onBackend('cpu', f);
      const onWasm = await onBackend('wasm', f);
      assert.ok(relErr(onWasm, onCpu) < 1e-5, `relative error ${relErr(onWasm, onCpu)}`);
      const shapeOn = async (name: string) => (await tf.setBackend(name), tf.tidy(() => f().shape));
      assert.deepEqual(await shapeOn('wasm'), await shapeOn('cpu'));
    });
  }

  it("a dense layer's gradients (xᵀ·dy and dy·Wᵀ) match cpu", async () => {
    const xv = randn(8 * 12, 1);
    const wv = randn(12 * 20, 2);
    const gv = randn(8 * 20, 3);
    for (const which of [0, 1]) {
      const f = () => {
        const x = tf.tensor(xv, [8, 12]);
        const w = tf.tensor(wv, [12, 20]);
        const loss = (xx: tf.Tensor, ww: tf.Tensor) => tf.matMul(xx as tf.Tensor2D, ww as tf.Tensor2D).mul(tf.tensor(gv, [8, 20])).sum();
        return tf.grads(loss)([x, w])[which] as tf.Tensor;
      };
      const onCpu = await onBackend('cpu', f);
      const onWasm = await onBackend('wasm', f);
      assert.ok(relErr(onWasm, onCpu) < 1e-5, `${which === 0 ? 'dx' : 'dW'} relative error ${relErr(onWasm, onCpu)}`);
    }
  });

  it('leaves no tensors or wasm buffers behind', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const buffersBefore = tf.backend().numDataIds();
    for (const c of cases) {
      const y = tf.tidy(() => tf.matMul(tf.ones(c.a), tf.ones(c.b), c.tA, c.tB));
      assert.equal(tf.memory().numTensors, before + 1);
      y.dispose();
      assert.equal(tf.memory().numTensors, before);
      assert.equal(tf.backend().numDataIds(), buffersBefore);
    }
  });
});
