/**
 * The linear probe of k-progressive selection (the vision-aided paper's model selection): how well
 * a backbone's pooled features tell the training images from G_ema's samples. Half of each kind
 * trains an L2-regularised logistic regression (scikit-learn's LogisticRegression with C = 0.2:
 * minimise ½‖w‖² + C·Σ log(1 + exp(−yᵢ(w·xᵢ + b))), the bias not penalised), the other half scores
 * it; the accuracy is averaged over 3 random splits. Plain float64 JS with L-BFGS: the features
 * are a few hundred rows of ≤ 2048 numbers.
 */
import { Rng, permutation } from '../random/rng.js';

/** scikit-learn's C: the inverse of the regularisation strength (the paper's 0.2). */
export const PROBE_C = 0.2;
export const PROBE_SPLITS = 3;

export interface LogisticFit {
  w: Float64Array;
  b: number;
}

/** Fits the logistic regression on rows `x` (n × d, row-major) with labels y ∈ {−1, +1}. */
export function fitLogistic(x: Float64Array, y: Int8Array, d: number, c = PROBE_C, maxIter = 500, tol = 1e-8): LogisticFit {
  const n = y.length;
  const dim = d + 1; // w then b
  const z = new Float64Array(n);
  // f(θ) and ∇f(θ).
  const evaluate = (theta: Float64Array, grad: Float64Array): number => {
    let f = 0;
    for (let j = 0; j < d; j++) {
      f += 0.5 * theta[j]! * theta[j]!;
      grad[j] = theta[j]!;
    }
    grad[d] = 0;
    for (let i = 0; i < n; i++) {
      let s = theta[d]!;
      const row = i * d;
      for (let j = 0; j < d; j++) s += theta[j]! * x[row + j]!;
      z[i] = s;
    }
    for (let i = 0; i < n; i++) {
      const m = y[i]! * z[i]!;
      f += c * (m > 0 ? Math.log1p(Math.exp(-m)) : -m + Math.log1p(Math.exp(m)));
      const g = (-c * y[i]!) / (1 + Math.exp(m)); // d/dz of c·log(1 + e^{−y z})
      const row = i * d;
      for (let j = 0; j < d; j++) grad[j] = grad[j]! + g * x[row + j]!;
      grad[d] = grad[d]! + g;
    }
    return f;
  };
  // L-BFGS (memory 10) with a backtracking Armijo line search.
  const M = 10;
  const theta = new Float64Array(dim);
  const grad = new Float64Array(dim);
  let f = evaluate(theta, grad);
  const ss: Float64Array[] = [];
  const ys: Float64Array[] = [];
  const dot = (a: Float64Array, b: Float64Array): number => {
    let s = 0;
    for (let i = 0; i < a.length; i++) s += a[i]! * b[i]!;
    return s;
  };
  for (let iter = 0; iter < maxIter; iter++) {
    // Two-loop recursion: direction = −H·grad.
    const q = Float64Array.from(grad);
    const alpha: number[] = [];
    for (let k = ss.length - 1; k >= 0; k--) {
      const a = dot(ss[k]!, q) / dot(ys[k]!, ss[k]!);
      alpha[k] = a;
      for (let i = 0; i < dim; i++) q[i] = q[i]! - a * ys[k]![i]!;
    }
    if (ss.length > 0) {
      const last = ss.length - 1;
      const gamma = dot(ss[last]!, ys[last]!) / dot(ys[last]!, ys[last]!);
      for (let i = 0; i < dim; i++) q[i] = q[i]! * gamma;
    }
    for (let k = 0; k < ss.length; k++) {
      const bk = dot(ys[k]!, q) / dot(ys[k]!, ss[k]!);
      for (let i = 0; i < dim; i++) q[i] = q[i]! + ss[k]![i]! * (alpha[k]! - bk);
    }
    const dir = q.map((v) => -v);
    let slope = dot(dir, grad);
    if (slope >= 0) {
      // Not a descent direction: restart from steepest descent.
      ss.length = 0;
      ys.length = 0;
      for (let i = 0; i < dim; i++) dir[i] = -grad[i]!;
      slope = dot(dir, grad);
    }
    let step = ss.length === 0 ? 1 / Math.max(1, Math.sqrt(dot(grad, grad))) : 1;
    const next = new Float64Array(dim);
    const nextGrad = new Float64Array(dim);
    let fNext = f;
    for (let tries = 0; tries < 50; tries++) {
      for (let i = 0; i < dim; i++) next[i] = theta[i]! + step * dir[i]!;
      fNext = evaluate(next, nextGrad);
      if (fNext <= f + 1e-4 * step * slope) break;
      step *= 0.5;
    }
    const s = next.map((v, i) => v - theta[i]!);
    const yk = nextGrad.map((v, i) => v - grad[i]!);
    if (dot(s, yk) > 1e-12) {
      ss.push(s);
      ys.push(yk);
      if (ss.length > M) {
        ss.shift();
        ys.shift();
      }
    }
    const decrease = f - fNext;
    theta.set(next);
    grad.set(nextGrad);
    f = fNext;
    if (Math.sqrt(dot(grad, grad)) < tol * Math.max(1, Math.abs(f)) || (decrease >= 0 && decrease < tol * Math.max(1, Math.abs(f)))) break;
  }
  return { w: theta.slice(0, d), b: theta[d]! };
}

/** Share of rows the fit classifies right (w·x + b > 0 ⇔ +1). */
export function accuracy(fit: LogisticFit, x: Float64Array, y: Int8Array, d: number): number {
  let right = 0;
  for (let i = 0; i < y.length; i++) {
    let s = fit.b;
    for (let j = 0; j < d; j++) s += fit.w[j]! * x[i * d + j]!;
    if ((s > 0 ? 1 : -1) === y[i]) right++;
  }
  return right / y.length;
}

/**
 * Held-out accuracy of telling `reals` (+1) from `fakes` (−1), rows of `d` features each: each kind
 * split 50/50 at random (seeded), fit on one half, scored on the other, averaged over `splits`.
 */
export function probeAccuracy(reals: Float32Array, fakes: Float32Array, d: number, seed: number, splits = PROBE_SPLITS, c = PROBE_C): number {
  const nr = reals.length / d;
  const nf = fakes.length / d;
  if (!Number.isInteger(nr) || !Number.isInteger(nf) || nr < 2 || nf < 2) throw new Error(`probe: need at least 2 rows of ${d} of each kind`);
  let total = 0;
  for (let s = 0; s < splits; s++) {
    const rng = Rng.fromSeed(seed, 0x50524f42 + s);
    const pr = permutation(nr, rng);
    const pf = permutation(nf, rng);
    const half = (p: Uint32Array): [Uint32Array, Uint32Array] => [p.subarray(0, Math.floor(p.length / 2)), p.subarray(Math.floor(p.length / 2))];
    const [trR, teR] = half(pr);
    const [trF, teF] = half(pf);
    const gather = (r: Uint32Array, f: Uint32Array): { x: Float64Array; y: Int8Array } => {
      const x = new Float64Array((r.length + f.length) * d);
      const y = new Int8Array(r.length + f.length);
      r.forEach((i, k) => {
        x.set(reals.subarray(i * d, (i + 1) * d), k * d);
        y[k] = 1;
      });
      f.forEach((i, k) => {
        x.set(fakes.subarray(i * d, (i + 1) * d), (r.length + k) * d);
        y[r.length + k] = -1;
      });
      return { x, y };
    };
    const train = gather(trR, trF);
    const test = gather(teR, teF);
    total += accuracy(fitLogistic(train.x, train.y, d, c), test.x, test.y, d);
  }
  return total / splits;
}
