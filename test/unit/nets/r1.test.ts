/**
 * R1 on a tiny discriminator against central finite differences:
 *   the penalty ‖∇ₓ Σ D(x)‖² per sample, against a finite-difference gradient of every input value;
 *   its gradient with respect to D's weights (double backprop through leakyRelu, avgPool and
 *   minibatch stddev), against finite differences of the penalty itself.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../core/backend/select.js';
import { readFloats, readScalarAndDispose } from '../../../core/backend/read.js';
import type { NetConfig } from '../../../core/nets/config.js';
import { Discriminator } from '../../../core/nets/discriminator.js';
import { oneHotLabels } from '../../../core/nets/generator.js';
import { r1Penalty } from '../../../core/train/r1.js';
import { randn, relErr } from '../../helpers/numeric.js';

const N = 2;
const R = 16;
const tinyD: Partial<NetConfig> = { resolution: R, imageChannels: 1, channelBase: 32, channelMax: 8, mbstdGroupSize: 2, seed: 3 };
const PIXELS = N * R * R;

/**
 * Σ D(x) for many perturbed copies of the batch in one call: copy b's sample s sits at index
 * s·B + b, so minibatch stddev groups (i mod B) hold exactly one copy's two samples.
 */
async function sumsOfCopies(D: Discriminator, copies: Float32Array[], labels?: number[]): Promise<Float64Array> {
  const B = copies.length;
  const per = R * R;
  const data = new Float32Array(N * B * per);
  copies.forEach((x, b) => {
    for (let s = 0; s < N; s++) data.set(x.subarray(s * per, (s + 1) * per), (s * B + b) * per);
  });
  const logits = tf.tidy(() => {
    const c = labels === undefined ? undefined : oneHotLabels(labels.flatMap((l) => new Array<number>(B).fill(l)), D.config.numClasses);
    return D.apply(tf.tensor4d(data, [N * B, R, R, 1]), c);
  });
  const v = await readFloats(logits);
  logits.dispose();
  const out = new Float64Array(B);
  for (let b = 0; b < B; b++) for (let s = 0; s < N; s++) out[b] = (out[b] as number) + (v[s * B + b] as number);
  return out;
}

for (const numClasses of [0, 2]) {
  describe(`R1 penalty, ${numClasses === 0 ? 'unconditional' : 'projection-conditioned'} D`, () => {
    let D: Discriminator;
    const xv = randn(PIXELS, 21);
    const labels = numClasses > 0 ? [1, 0] : undefined;
    const cTensor = () => (labels === undefined ? undefined : oneHotLabels(labels, numClasses));

    before(async () => {
      await selectBackend({ prefer: 'wasm' });
      D = new Discriminator({ ...tinyD, numClasses });
      // Non-zero biases so every layer's bias matters.
      for (const p of D.params.all()) if (p.name.endsWith('.bias')) p.variable.assign(tf.randomNormal(p.variable.shape, 0, 0.3, 'float32', 5));
    });

    it('equals the squared norm of a finite-difference input gradient, per sample', async () => {
      const { penalty } = tf.tidy(() => {
        const r = r1Penalty(D, tf.tensor4d(xv, [N, R, R, 1]), cTensor());
        return { penalty: r.penalty };
      });
      const p = await readFloats(penalty);
      penalty.dispose();
      // Each coordinate's derivative from central, forward and backward differences: the one
      // closest to the analytic value counts, so a leakyRelu kink within eps of x (which spoils
      // one side) does not fail the test; few coordinates may need it.
      const eps = 3e-3;
      const copies: Float32Array[] = [Float32Array.from(xv)];
      for (let k = 0; k < PIXELS; k++) {
        for (const sign of [1, -1]) {
          const x = Float32Array.from(xv);
          x[k] = (x[k] as number) + sign * eps;
          copies.push(x);
        }
      }
      const sums = await sumsOfCopies(D, copies, labels);
      const g = tf.tidy(() => tf.grad((x: tf.Tensor) => D.apply(x as tf.Tensor4D, cTensor()).sum())(tf.tensor4d(xv, [N, R, R, 1])));
      const gv = await readFloats(g);
      g.dispose();
      const s0 = sums[0] as number;
      const fd = new Float64Array(PIXELS);
      const scale = Math.max(...Array.from(gv, Math.abs));
      let oneSided = 0;
      for (let k = 0; k < PIXELS; k++) {
        const plus = sums[1 + 2 * k] as number;
        const minus = sums[2 + 2 * k] as number;
        const candidates = [(plus - minus) / (2 * eps), (plus - s0) / eps, (s0 - minus) / eps];
        const a = gv[k] as number;
        const best = candidates.reduce((b, c) => (Math.abs(c - a) < Math.abs(b - a) ? c : b));
        if (Math.abs((candidates[0] as number) - a) > 5e-3 * scale) oneSided++;
        fd[k] = best;
      }
      const ref = new Float64Array(N);
      for (let k = 0; k < PIXELS; k++) ref[Math.floor(k / (R * R))] = (ref[Math.floor(k / (R * R))] as number) + (fd[k] as number) ** 2;
      assert.ok(oneSided < 0.03 * PIXELS, `${oneSided} of ${PIXELS} coordinates needed a one-sided difference`);
      assert.ok(relErr(gv, fd) < 5e-3, `input gradient relative error ${relErr(gv, fd)}`);
      assert.ok(relErr(p, ref) < 5e-3, `penalty ${Array.from(p)} vs finite differences ${ref}`);
      assert.ok((p[0] as number) > 0 && (p[1] as number) > 0);
    });

    it("its gradient with respect to D's weights matches finite differences (double backprop)", async () => {
      const reals = tf.tensor4d(xv, [N, R, R, 1]);
      const meanR1 = () => r1Penalty(D, reals, cTensor()).penalty.mean() as tf.Scalar;
      const named = D.params.all().filter((p) => p.trainable);
      const { grads } = tf.variableGrads(meanR1, named.map((p) => p.variable));
      const probes = ['D.b16.fromrgb.weight', 'D.b16.conv0.weight', 'D.b16.conv1.weight', 'D.b16.skip.weight', 'D.b8.conv0.bias', 'D.b4.conv.weight', 'D.b4.fc.weight', 'D.b4.out.weight', 'D.b4.out.bias'];
      if (numClasses > 0) probes.push('D.mapping.embed.weight');
      const analytic: number[] = [];
      const numeric: number[] = [];
      for (const [pi, name] of probes.entries()) {
        const entry = named.find((p) => p.name === name);
        assert.ok(entry !== undefined, name);
        const v = entry.variable;
        const g = grads[v.name]; // absent: no path from this variable to R1
        const base = await readFloats(v);
        const k = (pi * 7) % base.length;
        analytic.push(g === undefined ? 0 : ((await readFloats(g))[k] as number));
        const eps = 1e-3;
        const at = async (delta: number) => {
          const moved = Float32Array.from(base);
          moved[k] = (base[k] as number) + delta;
          v.assign(tf.tensor(moved, v.shape));
          return readScalarAndDispose(tf.tidy(meanR1));
        };
        // R1 jumps where a perturbation flips a leakyRelu's side somewhere: take the central,
        // forward or backward difference closest to the analytic value (at most one side jumps).
        const [plus, zero, minus] = [await at(eps), await at(0), await at(-eps)];
        const candidates = [(plus - minus) / (2 * eps), (plus - zero) / eps, (zero - minus) / eps];
        const a = analytic[analytic.length - 1] as number;
        numeric.push(candidates.reduce((b, c) => (Math.abs(c - a) < Math.abs(b - a) ? c : b)));
        v.assign(tf.tensor(base, v.shape));
      }
      if (process.env['R1_DEBUG']) console.log(analytic.map((a) => a.toExponential(3)).join(' '), '|', numeric.map((a) => a.toExponential(3)).join(' '));
      tf.dispose(grads);
      reals.dispose();
      // out.bias cannot change an input gradient: both must say 0.
      assert.equal(analytic[probes.indexOf('D.b4.out.bias')], 0);
      const scale = Math.max(...numeric.map(Math.abs));
      const close = analytic.every((a, i) => Math.abs(a - (numeric[i] as number)) <= 2e-2 * Math.abs(numeric[i] as number) + 1e-3 * scale);
      assert.ok(close && relErr(analytic, numeric) < 1e-2, `analytic ${analytic.map((a) => a.toExponential(3))} vs numeric ${numeric.map((a) => a.toExponential(3))}`);
    });
  });
}
