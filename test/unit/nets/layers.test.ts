/**
 * Layers against references computed another way: the modulated conv against one ordinary conv
 * per sample with explicitly modulated and demodulated weights; minibatch stddev against a
 * float64 loop; equalised-lr dense against a plain matMul.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../core/backend/select.js';
import { readFloats } from '../../../core/backend/read.js';
import { EqualDense, minibatchStd, ModulatedConv } from '../../../core/nets/layers.js';
import { ParamStore } from '../../../core/nets/params.js';
import { onBackend, randn, relErr, sizeOf } from '../../helpers/numeric.js';

describe('layers', () => {
  before(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  for (const demodulate of [true, false]) {
    it(`ModulatedConv (demodulate ${demodulate}) equals per-sample convs with modulated weights`, async () => {
      const [n, h, w, cin, cout, k, wDim] = [3, 6, 5, 4, 5, demodulate ? 3 : 1, 7];
      const store = new ParamStore(5);
      const layer = new ModulatedConv(store, 'm', wDim, cin, cout, k, demodulate);
      // Non-trivial affine bias so styles differ per channel.
      layer.affine.bias?.assign(tf.tensor1d(randn(cin, 9)));
      const x = tf.tensor4d(randn(n * h * w * cin, 1), [n, h, w, cin]);
      const ws = tf.tensor2d(randn(n * wDim, 2), [n, wDim]);
      const y = await readFloats(tf.tidy(() => layer.apply(x, ws)));
      const ref = tf.tidy(() => {
        let styles = layer.affine.apply(ws); // [N, in]
        if (!demodulate) styles = styles.mul(1 / Math.sqrt(cin * k * k));
        const outs: tf.Tensor[] = [];
        for (let i = 0; i < n; i++) {
          const s = styles.slice([i, 0], [1, cin]).reshape([1, 1, cin, 1]);
          let wi = layer.weight.mul(s); // [k, k, in, out]
          if (demodulate) wi = wi.mul(wi.square().sum([0, 1, 2], true).add(1e-8).rsqrt());
          outs.push(tf.conv2d(x.slice([i, 0, 0, 0], [1, h, w, cin]) as tf.Tensor4D, wi as tf.Tensor4D, 1, 'same'));
        }
        return tf.concat(outs, 0);
      });
      const refv = await readFloats(ref);
      assert.equal(y.length, n * h * w * cout);
      assert.ok(relErr(y, refv) < 1e-5, `relative error ${relErr(y, refv)}`);
      tf.dispose([x, ws, ref]);
      store.dispose();
    });
  }

  for (const [shape, group, f] of [
    [[8, 2, 3, 4], 4, 1],
    [[6, 2, 2, 4], 4, 2], // group 4 does not divide 6: 3 is used
    [[3, 3, 3, 2], 4, 1],
  ] as [[number, number, number, number], number, number][]) {
    it(`minibatchStd [${shape.join(',')}] group ${group} features ${f} matches a float64 loop`, async () => {
      const [n, h, w, c] = shape;
      const xv = randn(sizeOf(shape), 7);
      const y = await onBackend('wasm', () => minibatchStd(tf.tensor4d(xv, shape), group, f));
      let g = Math.min(group, n);
      while (n % g !== 0) g--;
      const m = n / g;
      const cg = c / f;
      // stat[j][ff]: mean over pixels and the channels of feature ff of the std over group j (samples j, j+m, …).
      const stat: number[][] = [];
      for (let j = 0; j < m; j++) {
        stat.push([]);
        for (let ff = 0; ff < f; ff++) {
          let acc = 0;
          for (let p = 0; p < h * w; p++)
            for (let cc = ff * cg; cc < (ff + 1) * cg; cc++) {
              const vals: number[] = [];
              for (let gi = 0; gi < g; gi++) vals.push(xv[((gi * m + j) * h * w + p) * c + cc] as number);
              const mean = vals.reduce((a, b) => a + b, 0) / g;
              const variance = vals.reduce((a, b) => a + (b - mean) ** 2, 0) / g;
              acc += Math.sqrt(variance + 1e-8);
            }
          stat[j]?.push(acc / (h * w * cg));
        }
      }
      const ref = new Float64Array(n * h * w * (c + f));
      for (let i = 0; i < n; i++)
        for (let p = 0; p < h * w; p++) {
          for (let cc = 0; cc < c; cc++) ref[(i * h * w + p) * (c + f) + cc] = xv[(i * h * w + p) * c + cc] as number;
          for (let ff = 0; ff < f; ff++) ref[(i * h * w + p) * (c + f) + c + ff] = stat[i % m]?.[ff] as number;
        }
      assert.ok(relErr(y, ref) < 1e-5, `relative error ${relErr(y, ref)}`);
    });
  }

  it('EqualDense scales by lrMul/√fan_in at run time', async () => {
    const store = new ParamStore(3);
    const fc = new EqualDense(store, 'fc', 6, 4, { lrMul: 0.01, biasInit: 1 });
    const x = tf.tensor2d(randn(12, 4), [2, 6]);
    const y = await readFloats(tf.tidy(() => fc.apply(x)));
    const ref = await readFloats(tf.tidy(() => x.matMul(fc.weight.mul(0.01 / Math.sqrt(6)) as tf.Tensor2D).add(fc.bias!.mul(0.01))));
    assert.ok(relErr(y, ref) < 1e-6);
    // Stored N(0, 1/lrMul²): effective weights are N(0, 1/fan_in); bias stored biasInit/lrMul.
    assert.ok(Math.abs(((await readFloats(fc.bias!))[0] as number) - 100) < 1e-4);
    x.dispose();
    store.dispose();
  });
});
