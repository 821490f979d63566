/**
 * Features of a set of images (one row of `dim` values per image) and a pair of them (reals and
 * fakes) with the Gram matrices the metrics share: KID's kernels, precision/recall's distances and
 * FID's small eigenproblem all come from dot products, so they are computed once per evaluation —
 * in plain Float64 JavaScript on demand, or all at once with a faster `Dot` (an engine worker's
 * TF.js backend: core/metrics/tf-dot.ts), which matters from a few thousand images on.
 */
import { centredScaled, crossGram, gram, type Rows, sqrtPsd } from './linalg.js';

/** a · bᵀ for two row sets (a · aᵀ without b), as Float64. */
export type Dot = (a: Rows, b?: Rows) => Promise<Float64Array>;

/** `count` feature vectors of `dim` values, row-major. */
export interface FeatureSet extends Rows {
  data: Float32Array;
}

export function featureSet(data: Float32Array, dim: number): FeatureSet {
  if (dim < 1 || data.length % dim !== 0) throw new Error(`featureSet: ${data.length} values are not rows of ${dim}`);
  return { data, dim, count: data.length / dim };
}

/** Rows `indices` of a set. */
export function pickRows(set: FeatureSet, indices: ArrayLike<number>): FeatureSet {
  const out = new Float32Array(indices.length * set.dim);
  for (let i = 0; i < indices.length; i++) out.set(set.data.subarray(indices[i]! * set.dim, (indices[i]! + 1) * set.dim), i * set.dim);
  return { data: out, dim: set.dim, count: indices.length };
}

/** Reals and fakes, with their dot products computed on first use. */
export class FeaturePair {
  private rr: Float64Array | null = null;
  private ff: Float64Array | null = null;
  private fr: Float64Array | null = null;
  private inner: Float64Array | null = null;
  private covariances: { real: Float64Array; fake: Float64Array; inner: Float64Array } | null = null;

  constructor(
    readonly real: FeatureSet,
    readonly fake: FeatureSet,
  ) {
    if (real.dim !== fake.dim) throw new Error(`The real features have ${real.dim} values each and the generated ones ${fake.dim}: they come from different extractors.`);
  }

  get dim(): number {
    return this.real.dim;
  }

  /** reals · realsᵀ [Nr × Nr]. */
  realGram(): Float64Array {
    return (this.rr ??= gram(this.real));
  }

  /** fakes · fakesᵀ [Nf × Nf]. */
  fakeGram(): Float64Array {
    return (this.ff ??= gram(this.fake));
  }

  /** fakes · realsᵀ [Nf × Nr]. */
  fakeRealGram(): Float64Array {
    return (this.fr ??= crossGram(this.fake, this.real));
  }

  /**
   * FID's small matrix: M·Mᵀ (or Mᵀ·M, the smaller), M = the fake·real products centred on both
   * sides over √(Nf·Nr), i.e. (centred fakes)·(centred reals)ᵀ with each set's covariance AᵀA.
   * [n × n], n = min(Nf, Nr).
   */
  fidInner(): { matrix: Float64Array; n: number } {
    const m = this.centredCross();
    return { matrix: (this.inner ??= gram(m)), n: m.count };
  }

  /**
   * FID's covariance route (as many samples as dimensions or more): both covariances (over N) and
   * Σr^½·Σg·Σr^½, whose eigenvalues' roots sum to Tr (Σr Σg)^½. Null until `fill` made them.
   */
  covarianceProducts(): { real: Float64Array; fake: Float64Array; inner: Float64Array } | null {
    return this.covariances;
  }

  /** Computes every product with `dot` now (the getters then only read them). */
  async fill(dot: Dot): Promise<void> {
    this.rr = await dot(this.real);
    this.ff = await dot(this.fake);
    this.fr = await dot(this.fake, this.real);
    if (Math.min(this.real.count, this.fake.count) < this.dim) {
      this.inner = await dot(this.centredCross());
      return;
    }
    // Covariances as AᵀA (A: the centred rows over √N, transposed to d rows of N); the square root
    // by eigendecomposition here, the d³ products by `dot` (both factors symmetric: a·bᵀ = a·b).
    const d = this.dim;
    const cov = (set: FeatureSet): Promise<Float64Array> => dot(transpose({ data: centredScaled(set), count: set.count, dim: d }));
    const real = await cov(this.real);
    const fake = await cov(this.fake);
    const root = sqrtPsd(real, d);
    const left = await dot({ data: root, count: d, dim: d }, { data: fake, count: d, dim: d }); // Σr^½·Σg
    const inner = await dot({ data: left, count: d, dim: d }, { data: root, count: d, dim: d }); // ·Σr^½
    this.covariances = { real, fake, inner };
  }

  /** M (see fidInner) as rows: Nf rows of Nr when Nf ≤ Nr, else its transpose. */
  private centredCross(): Rows & { data: Float64Array } {
    const nf = this.fake.count;
    const nr = this.real.count;
    const g = this.fakeRealGram();
    const rowMean = new Float64Array(nf);
    const colMean = new Float64Array(nr);
    let all = 0;
    for (let i = 0; i < nf; i++) {
      for (let j = 0; j < nr; j++) {
        const v = g[i * nr + j]!;
        rowMean[i]! += v / nr;
        colMean[j]! += v / nf;
        all += v;
      }
    }
    all /= nf * nr;
    const s = 1 / Math.sqrt(nf * nr);
    const byFakes = nf <= nr;
    const out = new Float64Array(nf * nr);
    for (let i = 0; i < nf; i++) {
      for (let j = 0; j < nr; j++) {
        const v = (g[i * nr + j]! - rowMean[i]! - colMean[j]! + all) * s;
        out[byFakes ? i * nr + j : j * nf + i] = v;
      }
    }
    return byFakes ? { data: out, count: nf, dim: nr } : { data: out, count: nr, dim: nf };
  }
}

/** Squared distances from the dot products: ‖a−b‖² = a·a + b·b − 2a·b (clamped at 0 against rounding). */
export function squaredDistances(cross: Float64Array, rows: number, cols: number, rowNorms: ArrayLike<number>, colNorms: ArrayLike<number>): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let i = 0; i < rows; i++) {
    for (let j = 0; j < cols; j++) out[i * cols + j] = Math.max(0, rowNorms[i]! + colNorms[j]! - 2 * cross[i * cols + j]!);
  }
  return out;
}

/** The diagonal of a square n × n matrix. */
export function diagonal(m: Float64Array, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => m[i * n + i]!);
}

/** Rows as columns: [count × dim] → [dim × count]. */
function transpose(a: Rows): Rows & { data: Float64Array } {
  const out = new Float64Array(a.count * a.dim);
  for (let i = 0; i < a.count; i++) for (let k = 0; k < a.dim; k++) out[k * a.count + i] = a.data[i * a.dim + k]!;
  return { data: out, count: a.dim, dim: a.count };
}
