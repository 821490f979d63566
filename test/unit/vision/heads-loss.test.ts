/**
 * The judges' heads and losses against references computed by hand in plain JS (float64): a head's
 * logits per level (conv 3×3 → leaky ReLU·√2 → conv 1×1, averaged over space) and its MLP on the
 * pooled last level, with a conditional head's projection onto the class; the multilevel sigmoid loss with the 0.8 real target for D and G, summed over
 * levels; hinge; the warm-up λ; and area resizing against a loop over pixels.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { readFloats } from '../../../core/backend/read.js';
import { VisionHead } from '../../../core/vision/heads.js';
import { REAL_TARGET, visionDLoss, visionGLoss, warmupLambda } from '../../../core/vision/loss.js';
import { areaMatrix, areaResize } from '../../../core/vision/preprocess.js';
import { randn } from '../../helpers/numeric.js';

const softplus = (x: number): number => Math.log1p(Math.exp(-Math.abs(x))) + Math.max(x, 0);
const lrelu = (x: number): number => (x > 0 ? x : 0.2 * x) * Math.SQRT2;

describe('vision heads and losses', () => {
  before(async () => {
    await tf.setBackend('cpu');
  });

  it('a head gives one logit per level (map averaged) and one from the MLP, as a hand-written loop does', async () => {
    const levels = [3, 5];
    const hidden = 4;
    const head = new VisionHead(levels, hidden, 11, 'V.test.');
    const shapes: Array<[number, number, number, number]> = [[2, 4, 4, 3], [2, 2, 2, 5]];
    const data = shapes.map((s, i) => randn(s.reduce((a, b) => a * b), 30 + i));
    const logits = await readFloats(tf.tidy(() => head.apply(shapes.map((s, i) => tf.tensor4d(data[i]!, s)))));
    assert.equal(logits.length, 2 * 3);
    const p = new Map<string, Float32Array>();
    for (const e of head.params.all()) p.set(e.name.replace('V.test.', ''), await readFloats(e.variable));
    // Reference: equalised lr scales weights by 1/√(fan-in).
    const expected: number[][] = [[], []];
    shapes.forEach(([n, h, w, c], l) => {
      const W1 = p.get(`l${l}.conv.weight`)!; // [3, 3, c, hidden]
      const b1 = p.get(`l${l}.conv.bias`)!;
      const W2 = p.get(`l${l}.logit.weight`)!; // [1, 1, hidden, 1]
      const b2 = p.get(`l${l}.logit.bias`)!;
      const g1 = 1 / Math.sqrt(c * 9);
      const g2 = 1 / Math.sqrt(hidden);
      const x = data[l]!;
      for (let b = 0; b < n; b++) {
        let sum = 0;
        for (let i = 0; i < h; i++)
          for (let j = 0; j < w; j++) {
            let out = b2[0]!;
            for (let k = 0; k < hidden; k++) {
              let a = b1[k]!;
              for (let di = -1; di <= 1; di++)
                for (let dj = -1; dj <= 1; dj++) {
                  const ii = i + di;
                  const jj = j + dj;
                  if (ii < 0 || jj < 0 || ii >= h || jj >= w) continue; // 'same' zero padding
                  for (let ci = 0; ci < c; ci++) a += x[((b * h + ii) * w + jj) * c + ci]! * W1[(((di + 1) * 3 + (dj + 1)) * c + ci) * hidden + k]! * g1;
                }
              out += lrelu(a) * W2[k]! * g2;
            }
            sum += out;
          }
        expected[b]!.push(sum / (h * w));
      }
    });
    // MLP on the last level pooled over space.
    const [n, h, w, c] = shapes[1]!;
    const Wf = p.get('mlp.fc.weight')!;
    const bf = p.get('mlp.fc.bias')!;
    const Wo = p.get('mlp.logit.weight')!;
    const bo = p.get('mlp.logit.bias')!;
    for (let b = 0; b < n; b++) {
      const pooled = Array.from({ length: c }, (_, ci) => {
        let s = 0;
        for (let i = 0; i < h * w; i++) s += data[1]![(b * h * w + i) * c + ci]!;
        return s / (h * w);
      });
      let out = bo[0]!;
      for (let k = 0; k < hidden; k++) {
        let a = bf[k]!;
        for (let ci = 0; ci < c; ci++) a += pooled[ci]! * Wf[ci * hidden + k]! / Math.sqrt(c);
        out += lrelu(a) * Wo[k]! / Math.sqrt(hidden);
      }
      expected[b]!.push(out);
    }
    expected.flat().forEach((e, i) => assert.ok(Math.abs(logits[i]! - e) < 1e-4 * Math.max(1, Math.abs(e)), `logit ${i}: ${logits[i]} vs ${e}`));
    head.dispose();
  });

  it('a conditional head adds ⟨embed(c), h⟩/√hidden to the MLP logit only, as a hand-written loop does', async () => {
    const levels = [3, 5];
    const hidden = 4;
    const classes = 3;
    // Same seed: the conditional head's other parameters are the unconditional one's (its table is made last).
    const plain = new VisionHead(levels, hidden, 11, 'V.test.');
    const cond = new VisionHead(levels, hidden, 11, 'V.test.', classes);
    const shapes: Array<[number, number, number, number]> = [[2, 4, 4, 3], [2, 2, 2, 5]];
    const data = shapes.map((s, i) => randn(s.reduce((a, b) => a * b), 40 + i));
    const labels = [2, 0];
    const maps = () => shapes.map((s, i) => tf.tensor4d(data[i]!, s));
    const c = () => tf.oneHot(tf.tensor1d(labels, 'int32'), classes).toFloat() as tf.Tensor2D;
    const a = await readFloats(tf.tidy(() => plain.apply(maps())));
    const b = await readFloats(tf.tidy(() => cond.apply(maps(), c())));
    const p = new Map<string, Float32Array>();
    for (const e of cond.params.all()) p.set(e.name.replace('V.test.', ''), await readFloats(e.variable));
    const [n, h, w, ch] = shapes[1]!;
    for (let s = 0; s < n; s++) {
      for (let l = 0; l < levels.length; l++) assert.ok(Math.abs(b[s * 3 + l]! - a[s * 3 + l]!) < 1e-6, `level ${l} unchanged`);
      // h: the MLP's hidden layer on the pooled last level; the table's row for the label.
      let projection = 0;
      for (let k = 0; k < hidden; k++) {
        let act = p.get('mlp.fc.bias')![k]!;
        for (let ci = 0; ci < ch; ci++) {
          let pooled = 0;
          for (let i = 0; i < h * w; i++) pooled += data[1]![(s * h * w + i) * ch + ci]!;
          act += (pooled / (h * w)) * p.get('mlp.fc.weight')![ci * hidden + k]! / Math.sqrt(ch);
        }
        const embed = p.get('mlp.embed.weight')![labels[s]! * hidden + k]! / Math.sqrt(classes);
        projection += embed * lrelu(act);
      }
      projection /= Math.sqrt(hidden);
      assert.ok(Math.abs(projection) > 1e-3, 'the projection is not negligible here');
      assert.ok(Math.abs(b[s * 3 + 2]! - a[s * 3 + 2]! - projection) < 1e-4, `sample ${s}: ${b[s * 3 + 2]! - a[s * 3 + 2]!} vs ${projection}`);
    }
    assert.throws(() => tf.tidy(() => cond.apply(maps())), /needs the classes/);
    assert.throws(() => tf.tidy(() => plain.apply(maps(), c())), /takes no classes/);
    plain.dispose();
    cond.dispose();
  });

  it('the multilevel sigmoid loss: BCE per level with the 0.8 real target, summed over levels; hinge', async () => {
    assert.equal(REAL_TARGET, 0.8);
    const real = [[0.5, -1.2, 2.0], [1.5, 0.3, -0.7]]; // [N = 2, L = 3]
    const fake = [[-0.4, 0.9, -2.2], [0.1, -1.1, 0.6]];
    const bce = (l: number, t: number): number => t * softplus(-l) + (1 - t) * softplus(l);
    const levelMean = (m: number[][], f: (v: number) => number): number => [0, 1, 2].reduce((s, j) => s + (f(m[0]![j]!) + f(m[1]![j]!)) / 2, 0);
    const dRef = levelMean(real, (v) => bce(v, 0.8)) + levelMean(fake, (v) => bce(v, 0));
    const gRef = levelMean(fake, (v) => bce(v, 0.8));
    const dHinge = levelMean(real, (v) => Math.max(0, 1 - v)) + levelMean(fake, (v) => Math.max(0, 1 + v));
    const gHinge = levelMean(fake, (v) => -v);
    const [d, g, dh, gh] = await Promise.all(
      [
        () => visionDLoss('sigmoid', tf.tensor2d(real), tf.tensor2d(fake)),
        () => visionGLoss('sigmoid', tf.tensor2d(fake)),
        () => visionDLoss('hinge', tf.tensor2d(real), tf.tensor2d(fake)),
        () => visionGLoss('hinge', tf.tensor2d(fake)),
      ].map(async (f) => (await readFloats(tf.tidy(f)))[0]!),
    );
    assert.ok(Math.abs(d! - dRef) < 1e-5, `D ${d} vs ${dRef}`);
    assert.ok(Math.abs(g! - gRef) < 1e-5, `G ${g} vs ${gRef}`);
    assert.ok(Math.abs(dh! - dHinge) < 1e-5 && Math.abs(gh! - gHinge) < 1e-5);
    // With target 0.8, G's loss is smallest at logit ln 4 (σ = 0.8), not at +∞.
    const gAt = async (l: number): Promise<number> => (await readFloats(tf.tidy(() => visionGLoss('sigmoid', tf.tensor2d([[l]])))))[0]!;
    assert.ok((await gAt(Math.log(4))) < (await gAt(Math.log(4) + 1)) && (await gAt(Math.log(4))) < (await gAt(Math.log(4) - 1)));
  });

  it('warm-up λ: 0 before a judge joins and for warmupKimg after, then 1', () => {
    assert.equal(warmupLambda(5, null, 2), 0);
    assert.equal(warmupLambda(3, 4, 2), 0);
    assert.equal(warmupLambda(4, 4, 2), 0);
    assert.equal(warmupLambda(5.999, 4, 2), 0);
    assert.equal(warmupLambda(6, 4, 2), 1);
    assert.equal(warmupLambda(4, 4, 0), 1);
  });

  it('area resizing averages each output pixel’s input window (down) and repeats pixels (up), as a loop does', async () => {
    for (const [from, to] of [[6, 4], [5, 3], [3, 7], [4, 8]] as const) {
      const x = randn(2 * from * from * 3, from * 10 + to);
      const y = await readFloats(tf.tidy(() => areaResize(tf.tensor4d(x, [2, from, from, 3]), to)));
      const win = (i: number): [number, number] => [Math.floor((i * from) / to), Math.ceil(((i + 1) * from) / to)];
      for (let b = 0; b < 2; b++)
        for (let i = 0; i < to; i++)
          for (let j = 0; j < to; j++)
            for (let c = 0; c < 3; c++) {
              const [r0, r1] = win(i);
              const [c0, c1] = win(j);
              let s = 0;
              for (let r = r0; r < r1; r++) for (let q = c0; q < c1; q++) s += x[((b * from + r) * from + q) * 3 + c]!;
              const e = s / ((r1 - r0) * (c1 - c0));
              assert.ok(Math.abs(y[((b * to + i) * to + j) * 3 + c]! - e) < 1e-5, `${from}→${to} at ${b},${i},${j},${c}`);
            }
      assert.ok(areaMatrix(from, to).every((v) => v >= 0));
    }
  });
});
