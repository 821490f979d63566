/**
 * The one-kernel [1, 3, 3, 1]/8 downsampling (core/backend/kernels/fir-down.ts) against
 * core/nets/resample.ts's firDown2x built from slices (exact gradients): values, its gradient (the
 * bilinear upsampling's adjoint) and that gradient's own gradient, on the cpu kernel and, with
 * ATELIER_TEST_WEBGPU=1, on webgpu against cpu.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { firDown2xKernel } from '../../../core/backend/kernels/fir-down.js';
import { selectBackend } from '../../../core/backend/select.js';
import { firDown2x } from '../../../core/nets/resample.js';
import { randn, relErr, sizeOf } from '../../helpers/numeric.js';

const WEBGPU = process.env['ATELIER_TEST_WEBGPU'] === '1';

type Shape4 = [number, number, number, number];

/** Values, ∂(Σ out·r)/∂x, and ∂(Σ (∂(Σ out·r)/∂x)·q)/∂r for the kernel (scale 3) or the slices. */
async function run(shape: Shape4, kernel: boolean): Promise<Float32Array[]> {
  const [n, h, w, c] = shape;
  const f = (x: tf.Tensor) => (kernel ? firDown2xKernel(x as tf.Tensor4D, 3) : firDown2x(x as tf.Tensor4D).mul(3));
  const x = tf.tensor4d(randn(sizeOf(shape), 1), shape);
  const r = tf.tensor4d(randn((n * h * w * c) / 4, 2), [n, h / 2, w / 2, c]);
  const q = tf.tensor4d(randn(sizeOf(shape), 3), shape);
  const out = await Promise.all(
    tf.tidy(() => {
      const value = f(x);
      const gx = tf.grad((t: tf.Tensor) => f(t).mul(r).sum())(x);
      // The gradient is linear in r: differentiate it with respect to r.
      const gr = tf.grad((rr: tf.Tensor) => tf.grad((t: tf.Tensor) => f(t).mul(rr).sum())(x).mul(q).sum())(r);
      return [value, gx, gr];
    }).map(async (t) => {
      const v = (await t.data()) as Float32Array;
      t.dispose();
      return v;
    }),
  );
  tf.dispose([x, r, q]);
  return out;
}

describe('firDown2x as one kernel', () => {
  for (const shape of [
    [1, 2, 2, 1],
    [2, 4, 6, 3],
    [1, 8, 8, 5],
  ] as Shape4[]) {
    it(`matches the slices on cpu: [${shape.join(',')}]`, async () => {
      await selectBackend({ prefer: 'cpu' });
      const ref = await run(shape, false);
      const k = await run(shape, true);
      for (const [i, what] of ['values', 'gradient', 'second order'].entries()) {
        assert.ok(relErr(k[i] as Float32Array, ref[i] as Float32Array) < 1e-5, `${what}: relative error ${relErr(k[i] as Float32Array, ref[i] as Float32Array)}`);
      }
    });

    it(`webgpu matches cpu: [${shape.join(',')}]`, { skip: WEBGPU ? false : 'set ATELIER_TEST_WEBGPU=1 to run' }, async () => {
      await selectBackend({ prefer: 'cpu' });
      const ref = await run(shape, false);
      await selectBackend({ prefer: 'webgpu' });
      const k = await run(shape, true);
      for (const [i, what] of ['values', 'gradient', 'second order'].entries()) {
        assert.ok(relErr(k[i] as Float32Array, ref[i] as Float32Array) < 1e-5, `${what}: relative error ${relErr(k[i] as Float32Array, ref[i] as Float32Array)}`);
      }
    });
  }
});
