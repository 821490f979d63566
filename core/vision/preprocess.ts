/**
 * Images as a backbone takes them (the vision-aided paper's `vision_aided_loss`): generator images
 * in [−1, 1] → [0, 1] → area-resized to the backbone's input side → its own range. Grey images are
 * repeated to 3 channels. Differentiable: G's gradient flows through it.
 *
 * Area resizing is PyTorch's `F.interpolate(mode='area')`, i.e. adaptive average pooling: output
 * pixel i averages input pixels [⌊i·R/S⌋, ⌈(i+1)·R/S⌉). It is separable, so it is two matrix
 * products with the pooling matrix A [S, R]: y = A · x · Aᵀ per image and channel. Upsampling
 * (S > R) repeats pixels, as PyTorch's does.
 */
import * as tf from '@tensorflow/tfjs';

/** Adaptive-average-pooling weights from `from` to `to` samples: [to, from], rows sum to 1. */
export function areaMatrix(from: number, to: number): Float32Array {
  const a = new Float32Array(to * from);
  for (let i = 0; i < to; i++) {
    const start = Math.floor((i * from) / to);
    const end = Math.ceil(((i + 1) * from) / to);
    for (let j = start; j < end; j++) a[i * from + j] = 1 / (end - start);
  }
  return a;
}

/** Area resize [N, R, R, C] → [N, S, S, C]. */
export function areaResize(x: tf.Tensor4D, size: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  if (h === size && w === size) return x;
  return tf.tidy(() => {
    const ah = tf.tensor2d(areaMatrix(h, size), [size, h]);
    const aw = tf.tensor2d(areaMatrix(w, size), [size, w]);
    // Rows: [N, H, W·C] → Aₕ · each → [N, S, W·C].
    const rows = tf.matMul(ah.expandDims(0).tile([n, 1, 1]) as tf.Tensor3D, x.reshape([n, h, w * c]) as tf.Tensor3D); // [N, S, W·C]
    // Columns: [N·S, W, C] → Aw · each → [N·S, S, C].
    const cols = tf.matMul(aw.expandDims(0).tile([n * size, 1, 1]) as tf.Tensor3D, rows.reshape([n * size, w, c]) as tf.Tensor3D); // [N·S, S, C]
    return cols.reshape([n, size, size, c]) as tf.Tensor4D;
  });
}

/** Generator images [N, R, R, 1|3] in [−1, 1] → a backbone's input [N, S, S, 3] in `range`. */
export function toBackboneInput(images: tf.Tensor4D, size: number, range: [number, number]): tf.Tensor4D {
  return tf.tidy(() => {
    let x = images.add(1).mul(0.5) as tf.Tensor4D; // [0, 1]
    if (x.shape[3] === 1) x = x.tile([1, 1, 1, 3]);
    x = areaResize(x, size); // [N, S, S, 3]
    const [lo, hi] = range;
    return (lo === 0 && hi === 1 ? x : x.mul(hi - lo).add(lo)) as tf.Tensor4D;
  });
}
