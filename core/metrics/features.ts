/**
 * Features of a set of images (one row of `dim` values per image) and a pair of them (reals and
 * fakes) with the Gram matrices the metrics share: KID's kernels and precision/recall's distances
 * both come from dot products, so they are computed once per evaluation.
 */
import { crossGram, gram, type Rows } from './linalg.js';

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
