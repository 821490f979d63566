/**
 * A fixed sparse linear map on pixels, y = A·x, with gradients that hold on every backend and to
 * any order: the geometric warp and DiffAugment's translation are such maps (their coefficients
 * depend on the random parameters only, never on the image).
 *
 * Why not tf.gather's own gradient: it is unsortedSegmentSum, which the wasm backend lacks; and
 * tf.mirrorPad's gradient is wrong. So A is applied as a gatherND of K taps per output row and a
 * weighted sum, and its adjoint Aᵀ as a scatterND (which sums repeated indices on cpu and wasm).
 * Each is the other's gradient (tf.customGrad), so R1's double backprop through the augmentation
 * (∂/∂θ of Aᵀ·∂D/∂y) is again a gather.
 */
import * as tf from '@tensorflow/tfjs';

/** Row o of the output is Σₖ weights[o·K + k] · input[index[o·K + k]]. */
export interface SparseMap {
  /** Output rows (pixels). */
  rows: number;
  /** Input rows (pixels). */
  cols: number;
  /** Taps per output row. */
  k: number;
  /** [rows · k] input rows, each in [0, cols). */
  index: Int32Array;
  /** [rows · k] weights; null when every weight is 1 (a permutation-like gather). */
  weights: Float32Array | null;
}

/** A·x for x [cols, C] → [rows, C]. On wasm, gatherND is ~10× faster than gather; the weighted sums are batched [1, K]·[K, C] products. */
function forward(x: tf.Tensor2D, m: SparseMap): tf.Tensor2D {
  const c = x.shape[1];
  const taps = tf.gatherND(x, tf.tensor2d(m.index, [m.rows * m.k, 1], 'int32')) as tf.Tensor2D; // [rows·K, C]
  if (m.k === 1) return m.weights === null ? taps : taps.mul(tf.tensor2d(m.weights, [m.rows, 1]));
  const t = taps.reshape([m.rows, m.k, c]);
  if (m.weights === null) return t.sum(1);
  return tf.matMul(tf.tensor3d(m.weights, [m.rows, 1, m.k]), t).reshape([m.rows, c]);
}

/** Aᵀ·dy for dy [rows, C] → [cols, C]: each output row's taps scattered back, weighted (scatterND sums repeats). */
function adjoint(dy: tf.Tensor2D, m: SparseMap): tf.Tensor2D {
  const c = dy.shape[1];
  let updates: tf.Tensor2D;
  if (m.k === 1) updates = m.weights === null ? dy : dy.mul(tf.tensor2d(m.weights, [m.rows, 1]));
  else {
    const spread = dy.reshape([m.rows, 1, c]);
    const weighted = m.weights === null ? spread.tile([1, m.k, 1]) : tf.matMul(tf.tensor3d(m.weights, [m.rows, m.k, 1]), spread); // [rows, K, C]
    updates = weighted.reshape([m.rows * m.k, c]);
  }
  return tf.scatterND(tf.tensor2d(m.index, [m.rows * m.k, 1], 'int32'), updates, [m.cols, c]);
}

/** y = A·x, differentiable in x to any order. x [cols, C] → [rows, C]. */
export function applySparse(x: tf.Tensor2D, m: SparseMap): tf.Tensor2D {
  if (x.shape[0] !== m.cols) throw new Error(`applySparse: the map takes ${m.cols} rows, got ${x.shape[0]}`);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor2D;
    return { value: forward(input, m), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => applySparseT(dy as tf.Tensor2D, m) };
  });
  return f(x) as tf.Tensor2D;
}

/** y = Aᵀ·x, differentiable in x to any order. x [rows, C] → [cols, C]. */
export function applySparseT(x: tf.Tensor2D, m: SparseMap): tf.Tensor2D {
  if (x.shape[0] !== m.rows) throw new Error(`applySparseT: the map gives ${m.rows} rows, got ${x.shape[0]}`);
  const f = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const input = args[0] as tf.Tensor2D;
    return { value: adjoint(input, m), gradFunc: (dy: tf.Tensor | tf.Tensor[]) => applySparse(dy as tf.Tensor2D, m) };
  });
  return f(x) as tf.Tensor2D;
}

/** Applies a map on pixels to images [N, H, W, C] → [N, H', W', C] (rows = N·H'·W'). */
export function warpImages(images: tf.Tensor4D, m: SparseMap, out: [number, number] = [images.shape[1], images.shape[2]]): tf.Tensor4D {
  const [n, h, w, c] = images.shape;
  const y = applySparse(images.reshape([n * h * w, c]), m);
  return y.reshape([n, out[0], out[1], c]);
}
