/**
 * The linear probe of k-progressive selection: on a constructed case (one "backbone" whose features
 * separate reals from samples, one whose do not) it scores the separating one higher; and its fit
 * and held-out accuracy match a reference computed another way: the same objective
 * (½‖w‖² + C·Σ log(1 + e^{−y(w·x+b)}), C = 0.2) minimised by Newton's method with exact Hessians
 * (IRLS) instead of L-BFGS, on the same 50/50 splits.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accuracy, fitLogistic, PROBE_C, probeAccuracy } from '../../../core/vision/probe.js';
import { permutation, Rng } from '../../../core/random/rng.js';
import { randn } from '../../helpers/numeric.js';

/** Newton's method on the same objective; solves the (d+1)² system by Gaussian elimination. */
function newtonLogistic(x: Float64Array, y: Int8Array, d: number, c: number): { w: Float64Array; b: number } {
  const n = y.length;
  const D = d + 1;
  const th = new Float64Array(D);
  for (let iter = 0; iter < 100; iter++) {
    const g = new Float64Array(D);
    const H = Array.from({ length: D }, () => new Float64Array(D));
    for (let j = 0; j < d; j++) {
      g[j] = th[j]!;
      H[j]![j] = 1;
    }
    for (let i = 0; i < n; i++) {
      const xi = [...x.subarray(i * d, (i + 1) * d), 1];
      const z = xi.reduce((s, v, j) => s + v * th[j]!, 0);
      const sig = 1 / (1 + Math.exp(y[i]! * z)); // σ(−y z)
      for (let j = 0; j < D; j++) g[j] = g[j]! - c * y[i]! * sig * xi[j]!;
      const wgt = c * sig * (1 - sig);
      for (let j = 0; j < D; j++) for (let k = 0; k < D; k++) H[j]![k] = H[j]![k]! + wgt * xi[j]! * xi[k]!;
    }
    // Solve H·step = g.
    const A = H.map((row, j) => [...row, g[j]!]);
    for (let col = 0; col < D; col++) {
      let piv = col;
      for (let r = col + 1; r < D; r++) if (Math.abs(A[r]![col]!) > Math.abs(A[piv]![col]!)) piv = r;
      [A[col], A[piv]] = [A[piv]!, A[col]!];
      for (let r = 0; r < D; r++) {
        if (r === col) continue;
        const f = A[r]![col]! / A[col]![col]!;
        for (let k = col; k <= D; k++) A[r]![k] = A[r]![k]! - f * A[col]![k]!;
      }
    }
    let norm = 0;
    for (let j = 0; j < D; j++) {
      const step = A[j]![D]! / A[j]![j]!;
      th[j] = th[j]! - step;
      norm += step * step;
    }
    if (Math.sqrt(norm) < 1e-12) break;
  }
  return { w: th.slice(0, d), b: th[d]! };
}

/** n rows of d features: N(0,1) plus `shift` on the first feature. */
function rows(n: number, d: number, shift: number, seed: number): Float32Array {
  const out = randn(n * d, seed);
  for (let i = 0; i < n; i++) out[i * d] = out[i * d]! + shift;
  return out;
}

describe('linear probe', () => {
  it('the L-BFGS fit matches Newton’s method on the same objective', () => {
    const d = 4;
    const n = 60;
    const x = Float64Array.from(randn(n * d, 3));
    const y = Int8Array.from({ length: n }, (_, i) => (x[i * d]! + 0.5 * x[i * d + 1]! + 0.7 * (randn(n, 4)[i] as number) > 0 ? 1 : -1));
    const ours = fitLogistic(x, y, d, PROBE_C);
    const ref = newtonLogistic(x, y, d, PROBE_C);
    for (let j = 0; j < d; j++) assert.ok(Math.abs(ours.w[j]! - ref.w[j]!) < 1e-4, `w[${j}] ${ours.w[j]} vs ${ref.w[j]}`);
    assert.ok(Math.abs(ours.b - ref.b) < 1e-4, `b ${ours.b} vs ${ref.b}`);
  });

  it('scores the features that separate reals from samples higher, with the reference’s held-out accuracy', () => {
    const d = 3;
    const n = 40;
    const seed = 9;
    const separating = { reals: rows(n, d, 1.5, 1), fakes: rows(n, d, -1.5, 2) };
    const blind = { reals: rows(n, d, 0, 3), fakes: rows(n, d, 0, 4) };
    const accSep = probeAccuracy(separating.reals, separating.fakes, d, seed);
    const accBlind = probeAccuracy(blind.reals, blind.fakes, d, seed);
    assert.ok(accSep > 0.9, `separating: ${accSep}`);
    assert.ok(accBlind < 0.75, `blind: ${accBlind}`);
    assert.ok(accSep > accBlind);

    // Reference: the same 3 splits (the probe's documented procedure), Newton fits.
    for (const [feat, acc] of [[separating, accSep], [blind, accBlind]] as const) {
      let total = 0;
      for (let s = 0; s < 3; s++) {
        const rng = Rng.fromSeed(seed, 0x50524f42 + s);
        const pr = permutation(n, rng);
        const pf = permutation(n, rng);
        const pick = (idx: Uint32Array, from: Float32Array): number[][] => Array.from(idx, (i) => Array.from(from.subarray(i * d, (i + 1) * d)));
        const tr = [...pick(pr.subarray(0, n / 2), feat.reals), ...pick(pf.subarray(0, n / 2), feat.fakes)];
        const te = [...pick(pr.subarray(n / 2), feat.reals), ...pick(pf.subarray(n / 2), feat.fakes)];
        const labels = (k: number): Int8Array => Int8Array.from({ length: k * 2 }, (_, i) => (i < k ? 1 : -1));
        const fit = newtonLogistic(Float64Array.from(tr.flat()), labels(n / 2), d, PROBE_C);
        total += accuracy(fit, Float64Array.from(te.flat()), labels(n / 2), d);
      }
      assert.ok(Math.abs(total / 3 - acc) < 1e-9, `probe ${acc} vs reference ${total / 3}`);
    }
  });
});
