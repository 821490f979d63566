/**
 * Float64 linear algebra for the metrics, in plain JavaScript (no TF.js: float32 is not enough for
 * KID's cancelling sums, and the results must not depend on the backend).
 *
 * Matrices are row-major Float64Arrays. The symmetric eigensolver is Householder tridiagonalisation
 * followed by the implicit QL algorithm (EISPACK's tred2/tql2, in the arrangement of JAMA's
 * EigenvalueDecomposition): O(n³), stable, and about a minute at 2048² here (bench/metrics.ts).
 * It works on the transpose of the textbook's V so that every inner loop walks memory in order.
 */

/** Row-major features: `count` vectors of `dim` values. */
export interface Rows {
  data: ArrayLike<number>;
  count: number;
  dim: number;
}

/** a · aᵀ for rows of `a` (count × count), as Float64. */
export function gram(a: Rows): Float64Array {
  const { count: n, dim: d } = a;
  const x = toFloat64(a.data);
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const oi = i * d;
    for (let j = 0; j <= i; j++) {
      const oj = j * d;
      let s = 0;
      for (let k = 0; k < d; k++) s += x[oi + k]! * x[oj + k]!;
      out[i * n + j] = s;
      out[j * n + i] = s;
    }
  }
  return out;
}

/** a · bᵀ for rows of `a` and rows of `b` (a.count × b.count), as Float64. */
export function crossGram(a: Rows, b: Rows): Float64Array {
  if (a.dim !== b.dim) throw new Error(`crossGram: ${a.dim}-d rows against ${b.dim}-d rows`);
  const d = a.dim;
  const x = toFloat64(a.data);
  const y = toFloat64(b.data);
  const out = new Float64Array(a.count * b.count);
  for (let i = 0; i < a.count; i++) {
    const oi = i * d;
    for (let j = 0; j < b.count; j++) {
      const oj = j * d;
      let s = 0;
      for (let k = 0; k < d; k++) s += x[oi + k]! * y[oj + k]!;
      out[i * b.count + j] = s;
    }
  }
  return out;
}

/** The rows as Float64 (a copy unless they already are). */
export function toFloat64(data: ArrayLike<number>): Float64Array {
  return data instanceof Float64Array ? data : Float64Array.from(data);
}

/** Mean of the rows ([dim]). */
export function mean(a: Rows): Float64Array {
  const mu = new Float64Array(a.dim);
  for (let i = 0; i < a.count; i++) for (let k = 0; k < a.dim; k++) mu[k]! += a.data[i * a.dim + k]!;
  for (let k = 0; k < a.dim; k++) mu[k]! /= a.count;
  return mu;
}

/** The rows minus their mean, scaled by 1/√count: A with Aᵀ·A the (biased, 1/N) covariance. */
export function centredScaled(a: Rows): Float64Array {
  const mu = mean(a);
  const s = 1 / Math.sqrt(a.count);
  const out = new Float64Array(a.count * a.dim);
  for (let i = 0; i < a.count; i++) for (let k = 0; k < a.dim; k++) out[i * a.dim + k] = (a.data[i * a.dim + k]! - mu[k]!) * s;
  return out;
}

/** Covariance with 1/N (StyleGAN2-ADA's FeatureStats.get_mean_cov), [dim × dim]. */
export function covariance(a: Rows): Float64Array {
  const c = centredScaled(a);
  // Aᵀ·A: accumulate outer products row by row (memory in order).
  const d = a.dim;
  const out = new Float64Array(d * d);
  for (let i = 0; i < a.count; i++) {
    const o = i * d;
    for (let p = 0; p < d; p++) {
      const v = c[o + p]!;
      if (v === 0) continue;
      const op = p * d;
      for (let q = p; q < d; q++) out[op + q]! += v * c[o + q]!;
    }
  }
  for (let p = 0; p < d; p++) for (let q = p + 1; q < d; q++) out[q * d + p] = out[p * d + q]!;
  return out;
}

/** C = A·B for square n × n matrices. */
export function matMul(a: Float64Array, b: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const oi = i * n;
    for (let k = 0; k < n; k++) {
      const v = a[oi + k]!;
      if (v === 0) continue;
      const ok = k * n;
      for (let j = 0; j < n; j++) out[oi + j]! += v * b[ok + j]!;
    }
  }
  return out;
}

export interface SymmetricEigen {
  /** Eigenvalues, ascending. */
  values: Float64Array;
  /** Row i is the unit eigenvector of values[i] (n × n); absent when only values were asked for. */
  vectors?: Float64Array;
}

/**
 * Eigenvalues (and, with `vectors`, eigenvectors) of a symmetric n × n matrix. Only the lower
 * triangle is read. The input is not modified.
 */
export function symmetricEigen(a: Float64Array, n: number, opts: { vectors?: boolean } = {}): SymmetricEigen {
  if (a.length !== n * n) throw new Error(`symmetricEigen: ${a.length} values for a ${n} × ${n} matrix`);
  const wantVectors = opts.vectors ?? false;
  // W = Vᵀ: W[c·n + r] holds the textbook's V[r][c]. A symmetric input is its own transpose,
  // so copying the lower triangle of `a` into W's upper triangle… is copying `a` (read lower only).
  const w = new Float64Array(n * n);
  for (let r = 0; r < n; r++) for (let c = 0; c <= r; c++) w[c * n + r] = a[r * n + c]!;
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  if (n === 0) return { values: d, ...(wantVectors ? { vectors: w } : {}) };
  tred2(w, d, e, n, wantVectors);
  tql2(w, d, e, n, wantVectors);
  // Sort ascending (tql2 leaves them nearly sorted).
  const order = Array.from({ length: n }, (_, i) => i).sort((i, j) => d[i]! - d[j]!);
  const values = Float64Array.from(order, (i) => d[i]!);
  if (!wantVectors) return { values };
  const vectors = new Float64Array(n * n);
  order.forEach((from, to) => vectors.set(w.subarray(from * n, from * n + n), to * n));
  return { values, vectors };
}

const V = (w: Float64Array, n: number, r: number, c: number): number => w[c * n + r]!;

/** Householder reduction to tridiagonal form: d ← diagonal, e ← subdiagonal (e[0] = 0). */
function tred2(w: Float64Array, d: Float64Array, e: Float64Array, n: number, accumulate: boolean): void {
  for (let j = 0; j < n; j++) d[j] = V(w, n, n - 1, j);
  for (let i = n - 1; i > 0; i--) {
    // Scale to avoid under/overflow.
    let scale = 0;
    let h = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(d[k]!);
    if (scale === 0) {
      e[i] = d[i - 1]!;
      for (let j = 0; j < i; j++) {
        d[j] = V(w, n, i - 1, j);
        w[j * n + i] = 0; // V[i][j]
        w[i * n + j] = 0; // V[j][i]
      }
    } else {
      // Generate the Householder vector.
      for (let k = 0; k < i; k++) {
        d[k]! /= scale;
        h += d[k]! * d[k]!;
      }
      let f = d[i - 1]!;
      let g = Math.sqrt(h);
      if (f > 0) g = -g;
      e[i] = scale * g;
      h -= f * g;
      d[i - 1] = f - g;
      for (let j = 0; j < i; j++) e[j] = 0;
      // Apply the similarity transformation to the remaining columns.
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        w[i * n + j] = f; // V[j][i]
        const col = j * n; // V[·][j]
        g = e[j]! + w[col + j]! * f;
        for (let k = j + 1; k <= i - 1; k++) {
          const vkj = w[col + k]!;
          g += vkj * d[k]!;
          e[k]! += vkj * f;
        }
        e[j] = g;
      }
      f = 0;
      for (let j = 0; j < i; j++) {
        e[j]! /= h;
        f += e[j]! * d[j]!;
      }
      const hh = f / (h + h);
      for (let j = 0; j < i; j++) e[j]! -= hh * d[j]!;
      for (let j = 0; j < i; j++) {
        f = d[j]!;
        g = e[j]!;
        const col = j * n;
        for (let k = j; k <= i - 1; k++) w[col + k]! -= f * e[k]! + g * d[k]!;
        d[j] = w[col + i - 1]!; // V[i-1][j]
        w[col + i] = 0; // V[i][j]
      }
    }
    d[i] = h;
  }

  if (!accumulate) {
    // The tridiagonal's diagonal is what the reduction left on V's diagonal.
    for (let j = 0; j < n; j++) d[j] = w[j * n + j]!;
    e[0] = 0;
    return;
  }

  // Accumulate the transformations.
  for (let i = 0; i < n - 1; i++) {
    w[i * n + n - 1] = w[i * n + i]!; // V[n-1][i] = V[i][i]
    w[i * n + i] = 1;
    const h = d[i + 1]!;
    const next = (i + 1) * n; // V[·][i+1]
    if (h !== 0) {
      for (let k = 0; k <= i; k++) d[k] = w[next + k]! / h;
      for (let j = 0; j <= i; j++) {
        const col = j * n;
        let g = 0;
        for (let k = 0; k <= i; k++) g += w[next + k]! * w[col + k]!;
        for (let k = 0; k <= i; k++) w[col + k]! -= g * d[k]!;
      }
    }
    for (let k = 0; k <= i; k++) w[next + k] = 0;
  }
  for (let j = 0; j < n; j++) {
    d[j] = w[j * n + n - 1]!;
    w[j * n + n - 1] = 0;
  }
  w[(n - 1) * n + n - 1] = 1;
  e[0] = 0;
}

/** Implicit QL on the tridiagonal (d, e): d ← eigenvalues; W's rows ← eigenvectors when accumulating. */
function tql2(w: Float64Array, d: Float64Array, e: Float64Array, n: number, accumulate: boolean): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i]!;
  e[n - 1] = 0;
  let f = 0;
  let tst1 = 0;
  const eps = 2 ** -52;
  for (let l = 0; l < n; l++) {
    // Find a small subdiagonal element.
    tst1 = Math.max(tst1, Math.abs(d[l]!) + Math.abs(e[l]!));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]!) <= eps * tst1) break;
      m++;
    }
    // m === l: d[l] is an eigenvalue; otherwise iterate.
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60) throw new Error('symmetricEigen: no convergence after 60 QL iterations');
        // The implicit shift.
        let g = d[l]!;
        let p = (d[l + 1]! - g) / (2 * e[l]!);
        let r = Math.hypot(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l]! / (p + r);
        d[l + 1] = e[l]! * (p + r);
        const dl1 = d[l + 1]!;
        let h = g - d[l]!;
        for (let i = l + 2; i < n; i++) d[i]! -= h;
        f += h;
        // The implicit QL transformation.
        p = d[m]!;
        let c = 1;
        let c2 = c;
        let c3 = c;
        const el1 = e[l + 1]!;
        let s = 0;
        let s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i]!;
          h = c * p;
          r = Math.hypot(p, e[i]!);
          e[i + 1] = s * r;
          s = e[i]! / r;
          c = p / r;
          p = c * d[i]! - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]!);
          if (accumulate) {
            const a = (i + 1) * n;
            const b = i * n;
            for (let k = 0; k < n; k++) {
              const t = w[a + k]!;
              w[a + k] = s * w[b + k]! + c * t;
              w[b + k] = c * w[b + k]! - s * t;
            }
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]!) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]!) > eps * tst1);
    }
    d[l] = d[l]! + f;
    e[l] = 0;
  }
}

/** √ of a symmetric positive semi-definite matrix (negative eigenvalues from rounding count as 0). */
export function sqrtPsd(a: Float64Array, n: number): Float64Array {
  const { values, vectors } = symmetricEigen(a, n, { vectors: true });
  const q = vectors!;
  // R = Qᵀ·diag(√λ)·Q with Q's rows the eigenvectors: R[i][j] = Σ_k √λ_k q_k[i] q_k[j].
  const out = new Float64Array(n * n);
  for (let k = 0; k < n; k++) {
    const s = Math.sqrt(Math.max(0, values[k]!));
    if (s === 0) continue;
    const ok = k * n;
    for (let i = 0; i < n; i++) {
      const v = s * q[ok + i]!;
      if (v === 0) continue;
      const oi = i * n;
      for (let j = 0; j < n; j++) out[oi + j]! += v * q[ok + j]!;
    }
  }
  return out;
}
