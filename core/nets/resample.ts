/**
 * 2× resampling, fast on every backend and with gradients that are right on every backend.
 *
 * TF.js's own gradients cannot be trusted here: the cpu backend's resizeNearestNeighbor gradient
 * is wrong for batch > 1, resizeBilinear's gradient ignores halfPixelCenters (on every backend),
 * and mirrorPad's gradient drops the mirrored part. Slice/concat formulations are exact but slow
 * (on cpu, seconds per call at 64²). So the forward passes use the resize kernels and the
 * backward passes are written here (tf.customGrad) from kernels whose gradients are right:
 *
 *   upsampleNearest2x   G's feature maps (a 3×3 conv follows)   backward: 4 · avgPool2×2(dy)
 *   upsampleBilinear2x  G's RGB skip path ([1,3,3,1] filter)    backward: 4 · firDown2x(dy)
 *   downsampleBox2x     D's feature maps (avgPool 2×2)           second order: AvgPoolGrad's
 *                                                                gradient, core/backend/kernels
 *
 * On webgpu (where the fused kernels are on) firDown2x is one kernel, core/backend/kernels/fir-down.ts.
 * Everything is channels-last [N, H, W, C], rank ≤ 4.
 */
import * as tf from '@tensorflow/tfjs';
import { constant } from '../backend/constants.js';
import { fusedEpilogues } from '../backend/kernels/fused-epilogue.js';
import { firDown2xKernel } from '../backend/kernels/fir-down.js';

type Axis = 1 | 2;

function sliceAxis(x: tf.Tensor4D, axis: Axis, begin: number, size: number): tf.Tensor4D {
  const b: [number, number, number, number] = [0, 0, 0, 0];
  const s: [number, number, number, number] = [-1, -1, -1, -1];
  b[axis] = begin;
  s[axis] = size;
  return tf.slice(x, b, s);
}

/** Even and odd rows of x along `axis`. */
function deinterleave(x: tf.Tensor4D, axis: Axis): [tf.Tensor4D, tf.Tensor4D] {
  const [n, h, w, c] = x.shape;
  const pairs = axis === 2 ? x.reshape([n * h * (w / 2), 2, c]) : x.reshape([n * (h / 2), 2, w * c]);
  const shape: [number, number, number, number] = axis === 2 ? [n, h, w / 2, c] : [n, h / 2, w, c];
  return [pairs.slice([0, 0, 0], [-1, 1, -1]).reshape(shape), pairs.slice([0, 1, 0], [-1, 1, -1]).reshape(shape)];
}

/** out[i] = (x[2i−1] + 3·x[2i] + 3·x[2i+1] + x[2i+2]) / 8 along one axis, edges replicated. */
function firDown1(x: tf.Tensor4D, axis: Axis): tf.Tensor4D {
  const [even, odd] = deinterleave(x, axis);
  const m = even.shape[axis];
  // x[2i−1]: the previous odd row, x[0] at the edge; x[2i+2]: the next even row, x[last] at the edge.
  const oddPrev = m === 1 ? sliceAxis(even, axis, 0, 1) : tf.concat([sliceAxis(even, axis, 0, 1), sliceAxis(odd, axis, 0, m - 1)], axis);
  const evenNext = m === 1 ? sliceAxis(odd, axis, m - 1, 1) : tf.concat([sliceAxis(even, axis, 1, m - 1), sliceAxis(odd, axis, m - 1, 1)], axis);
  return even.add(odd).mul(constant(3)).add(oddPrev).add(evenNext).mul(constant(1 / 8)) as tf.Tensor4D;
}

/**
 * [1, 3, 3, 1] / 8 downsampling with replicated edges. [N, H, W, C] → [N, H/2, W/2, C]. Built from
 * slices (exact gradients, slow on big tensors): used where C is small.
 */
export function firDown2x(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (h % 2 !== 0 || w % 2 !== 0) throw new Error(`firDown2x: odd size ${h}×${w}`);
  return tf.tidy(() => firDown1(firDown1(x, 1), 2));
}

const nearestUp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x4 = args[0] as tf.Tensor4D;
  const [, h, w] = x4.shape;
  return {
    value: tf.image.resizeNearestNeighbor(x4, [h * 2, w * 2], false, false), // out[i] = x[⌊i/2⌋]
    // Each input pixel fed a 2×2 block: its gradient is that block's sum.
    gradFunc: (dy: tf.Tensor) => tf.avgPool(dy as tf.Tensor4D, 2, 2, 'valid').mul(constant(4)),
  };
});

const bilinearUp = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
  const x4 = args[0] as tf.Tensor4D;
  const [, h, w] = x4.shape;
  return {
    // Half-pixel centres, edges clamped: out[2i] = ¼x[i−1] + ¾x[i], out[2i+1] = ¾x[i] + ¼x[i+1].
    value: tf.image.resizeBilinear(x4, [h * 2, w * 2], false, true),
    // Its adjoint, per axis twice the [1,3,3,1]/8 downsampling (edges included): 4× in 2-D.
    gradFunc: (dy: tf.Tensor) => (fusedEpilogues() ? firDown2xKernel(dy as tf.Tensor4D, 4) : firDown2x(dy as tf.Tensor4D).mul(constant(4))),
  };
});

/** Nearest-neighbour 2× upsampling. [N, H, W, C] → [N, 2H, 2W, C]. */
export function upsampleNearest2x(x: tf.Tensor4D): tf.Tensor4D {
  return nearestUp(x) as tf.Tensor4D;
}

/** Bilinear ([1, 3, 3, 1]) 2× upsampling, edges replicated. [N, H, W, C] → [N, 2H, 2W, C]. */
export function upsampleBilinear2x(x: tf.Tensor4D): tf.Tensor4D {
  return bilinearUp(x) as tf.Tensor4D;
}

/** 2×2 average pooling. [N, H, W, C] → [N, H/2, W/2, C]. */
export function downsampleBox2x(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (h % 2 !== 0 || w % 2 !== 0) throw new Error(`downsampleBox2x: odd size ${h}×${w}`);
  return tf.avgPool(x, 2, 2, 'valid');
}
