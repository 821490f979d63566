/**
 * 2× resampling against float64 references written as explicit 1-D weight matrices (forward: U·x
 * along each axis; gradient: Uᵀ·dy), on cpu and wasm, batch > 1 (where the cpu backend's own
 * resizeNearestNeighbor gradient goes wrong).
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../core/backend/select.js';
import { downsampleBox2x, firDown2x, upsampleBilinear2x, upsampleNearest2x } from '../../../core/nets/resample.js';
import { onBackend, randn, relErr, sizeOf } from '../../helpers/numeric.js';

type Matrix = (n: number) => number[][]; // rows: outputs, columns: inputs

const nearest: Matrix = (n) => Array.from({ length: 2 * n }, (_, o) => Array.from({ length: n }, (_, i) => (Math.floor(o / 2) === i ? 1 : 0)));
const bilinear: Matrix = (n) =>
  Array.from({ length: 2 * n }, (_, o) => {
    const row = new Array<number>(n).fill(0);
    const i = Math.floor(o / 2);
    const other = Math.min(Math.max(o % 2 === 0 ? i - 1 : i + 1, 0), n - 1); // edges replicated
    row[i] = (row[i] ?? 0) + 0.75;
    row[other] = (row[other] ?? 0) + 0.25;
    return row;
  });
const box: Matrix = (n) => Array.from({ length: n / 2 }, (_, o) => Array.from({ length: n }, (_, i) => (Math.floor(i / 2) === o ? 0.5 : 0)));
const fir: Matrix = (n) =>
  Array.from({ length: n / 2 }, (_, o) => {
    const row = new Array<number>(n).fill(0);
    const taps: [number, number][] = [[2 * o - 1, 1 / 8], [2 * o, 3 / 8], [2 * o + 1, 3 / 8], [2 * o + 2, 1 / 8]];
    for (const [i, wgt] of taps) {
      const j = Math.min(Math.max(i, 0), n - 1);
      row[j] = (row[j] ?? 0) + wgt;
    }
    return row;
  });

/** y[n, o, p, c] = Σ_{i,j} Uh[o][i]·Uw[p][j]·x[n, i, j, c], in float64; transpose: the adjoint. */
function separable(x: Float32Array, shape: number[], m: Matrix, transpose: boolean, inH: number, inW: number): Float64Array {
  const [n, h, w, c] = shape as [number, number, number, number];
  const Uh = m(inH);
  const Uw = m(inW);
  const outH = transpose ? inH : Uh.length;
  const outW = transpose ? inW : Uw.length;
  const y = new Float64Array(n * outH * outW * c);
  for (let b = 0; b < n; b++)
    for (let o = 0; o < outH; o++)
      for (let p = 0; p < outW; p++)
        for (let i = 0; i < h; i++)
          for (let j = 0; j < w; j++) {
            const wgt = transpose ? (Uh[i]?.[o] ?? 0) * (Uw[j]?.[p] ?? 0) : (Uh[o]?.[i] ?? 0) * (Uw[p]?.[j] ?? 0);
            if (wgt === 0) continue;
            for (let k = 0; k < c; k++) {
              const at = ((b * outH + o) * outW + p) * c + k;
              y[at] = (y[at] as number) + wgt * (x[((b * h + i) * w + j) * c + k] as number);
            }
          }
  return y;
}

const ops: { name: string; f: (x: tf.Tensor4D) => tf.Tensor4D; m: Matrix; factor: number }[] = [
  { name: 'upsampleNearest2x', f: upsampleNearest2x, m: nearest, factor: 2 },
  { name: 'upsampleBilinear2x', f: upsampleBilinear2x, m: bilinear, factor: 2 },
  { name: 'downsampleBox2x', f: downsampleBox2x, m: box, factor: 0.5 },
  { name: 'firDown2x', f: firDown2x, m: fir, factor: 0.5 },
];

describe('2× resampling', () => {
  before(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  for (const backend of ['cpu', 'wasm']) {
    for (const op of ops) {
      for (const shape of [[3, 4, 6, 2], [2, 8, 8, 3], [2, 2, 2, 1]] as [number, number, number, number][]) {
        it(`${op.name} on ${backend}, x [${shape.join(',')}]: values and gradient`, async () => {
          const [n, h, w, c] = shape;
          const outShape = [n, h * op.factor, w * op.factor, c];
          const xv = randn(sizeOf(shape), 1);
          const dyv = randn(sizeOf(outShape), 2);
          const y = await onBackend(backend, () => op.f(tf.tensor4d(xv, shape)));
          const g = await onBackend(backend, () => tf.grad((x: tf.Tensor) => op.f(x as tf.Tensor4D).mul(tf.tensor(dyv, outShape)).sum())(tf.tensor4d(xv, shape)));
          assert.deepEqual(y.length, sizeOf(outShape));
          const yRef = separable(xv, shape, op.m, false, h, w);
          const gRef = separable(Float32Array.from(dyv), outShape, op.m, true, h, w);
          assert.ok(relErr(y, yRef) < 1e-6, `values: ${relErr(y, yRef)}`);
          assert.ok(relErr(g, gRef) < 1e-6, `gradient: ${relErr(g, gRef)}`);
        });
      }
    }
  }

  it("the cpu backend's own resizeNearestNeighbor gradient is wrong for batch > 1 (why the custom gradient)", async () => {
    const shape: [number, number, number, number] = [3, 4, 4, 2];
    const xv = randn(sizeOf(shape), 3);
    const dyv = randn(3 * 8 * 8 * 2, 4);
    const g = await onBackend('cpu', () =>
      tf.grad((x: tf.Tensor) => tf.image.resizeNearestNeighbor(x as tf.Tensor4D, [8, 8]).mul(tf.tensor(dyv, [3, 8, 8, 2])).sum())(tf.tensor4d(xv, shape)),
    );
    const gRef = separable(dyv, [3, 8, 8, 2], nearest, true, 4, 4);
    assert.ok(relErr(g, gRef) > 1e-3, 'if TF.js fixed it, the custom gradient could go');
  });
});
