/**
 * avgPool's gradient with 'same' padding (core/backend/kernels/avg-pool-same-grad.ts) against a
 * float64 loop: the forward pass averages each window over its in-image pixels, so each input
 * pixel's gradient is Σ over the windows holding it of dy / (that window's in-image count). TF.js
 * 4.22's stock gradient divides by the whole window: the test first shows it is wrong at the border.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { registerAvgPoolSameGrad } from '../../../core/backend/kernels/avg-pool-same-grad.js';
import { selectBackend } from '../../../core/backend/select.js';
import { onBackend, randn, relErr } from '../../helpers/numeric.js';

const cases = [
  { x: [2, 5, 6, 3], k: 3, s: 1 },
  { x: [1, 7, 7, 2], k: 3, s: 2 },
  { x: [1, 6, 5, 2], k: 2, s: 2 },
] as const;

function reference(c: (typeof cases)[number], dy: Float32Array): Float64Array {
  const [n, h, w, ch] = c.x;
  const info = tf.backend_util.computePool2DInfo([n, h, w, ch], c.k, c.s, 1, 'same');
  const dx = new Float64Array(n * h * w * ch);
  for (let b = 0; b < n; b++)
    for (let r = 0; r < info.outHeight; r++)
      for (let q = 0; q < info.outWidth; q++) {
        const r0 = r * c.s - info.padInfo.top;
        const q0 = q * c.s - info.padInfo.left;
        const rows: number[] = [];
        const cols: number[] = [];
        for (let i = r0; i < r0 + c.k; i++) if (i >= 0 && i < h) rows.push(i);
        for (let j = q0; j < q0 + c.k; j++) if (j >= 0 && j < w) cols.push(j);
        const count = rows.length * cols.length;
        for (const i of rows)
          for (const j of cols)
            for (let d = 0; d < ch; d++) dx[((b * h + i) * w + j) * ch + d]! += dy[((b * info.outHeight + r) * info.outWidth + q) * ch + d]! / count;
      }
  return dx;
}

describe("avgPool gradient with 'same' padding", () => {
  for (const [i, c] of cases.entries()) {
    it(`matches the loop on cpu and wasm: x [${c.x.join(',')}], ${c.k}×${c.k} stride ${c.s}`, async () => {
      await selectBackend({ prefer: 'wasm' }); // registers it
      const xv = randn((c.x as readonly number[]).reduce((a, b) => a * b, 1), 900 + i);
      const outShape: number[] = tf.tidy(() => tf.avgPool(tf.zeros([...c.x]) as tf.Tensor4D, c.k, c.s, 'same').shape);
      const dy = randn(outShape.reduce((a, b) => a * b), 950 + i);
      const grad = () => tf.grad((x: tf.Tensor) => tf.avgPool(x as tf.Tensor4D, c.k, c.s, 'same').mul(tf.tensor(dy, outShape)).sum())(tf.tensor4d(xv, [...c.x]));
      const ref = reference(c, dy);
      for (const backend of ['cpu', 'wasm']) assert.ok(relErr(await onBackend(backend, grad), ref) < 1e-5, backend);
    });
  }

  it('the stock gradient it replaces is wrong at the border', async () => {
    const { avgPoolGradConfig: stock } = await import('../../../node_modules/@tensorflow/tfjs-core/dist/gradients/AvgPool_grad.js' as string) as { avgPoolGradConfig: tf.GradConfig };
    tf.registerGradient(stock);
    const c = cases[0];
    const xv = randn((c.x as readonly number[]).reduce((a, b) => a * b, 1), 900);
    const outShape: number[] = [...c.x];
    const dy = randn(outShape.reduce((a, b) => a * b), 950);
    const grad = () => tf.grad((x: tf.Tensor) => tf.avgPool(x as tf.Tensor4D, c.k, c.s, 'same').mul(tf.tensor(dy, outShape)).sum())(tf.tensor4d(xv, [...c.x]));
    try {
      assert.ok(relErr(await onBackend('cpu', grad), reference(c, dy)) > 0.05);
    } finally {
      registerAvgPoolSameGrad();
    }
  });
});
