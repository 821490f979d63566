/**
 * avgPool's gradient with 'same' (or explicit) padding, which TF.js 4.22 gets wrong on every
 * backend: the forward pass averages over the window's pixels inside the image (as TensorFlow
 * does), but the stock AvgPoolGrad kernels divide by the whole window (1 / (kh·kw)), so at the
 * border the gradient is too small. InceptionV3's mixed blocks pool 3×3 'same' at stride 1: its
 * gradient to the image came out about half the finite-difference one.
 *
 * Fix: with c(o) the in-image pixels of output o's window, the true gradient is the stock kernel's
 * applied to dy · (kh·kw) / c. 'valid' padding (every window whole) takes the stock path unchanged.
 */
import * as tf from '@tensorflow/tfjs';

const OURS = Symbol.for('gan-atelier.avg-pool-same-grad');

/** In-image pixels of each output window, [1, outH, outW, 1]. */
function windowCounts(info: tf.backend_util.Conv2DInfo): tf.Tensor4D {
  const { outHeight, outWidth, inHeight, inWidth, filterHeight, filterWidth, strideHeight, strideWidth, padInfo } = info;
  const counts = new Float32Array(outHeight * outWidth);
  for (let r = 0; r < outHeight; r++) {
    const r0 = r * strideHeight - padInfo.top;
    const rows = Math.min(inHeight, r0 + filterHeight) - Math.max(0, r0);
    for (let c = 0; c < outWidth; c++) {
      const c0 = c * strideWidth - padInfo.left;
      counts[r * outWidth + c] = rows * (Math.min(inWidth, c0 + filterWidth) - Math.max(0, c0));
    }
  }
  return tf.tensor4d(counts, [1, outHeight, outWidth, 1]);
}

export const avgPoolGradConfig: tf.GradConfig = {
  kernelName: 'AvgPool',
  inputsToSave: ['x'],
  gradFunc: (dy, saved, attrs) => {
    const [x] = saved as [tf.Tensor4D];
    const a = attrs as unknown as tf.AvgPoolAttrs;
    const run = (g: tf.Tensor): tf.Tensor => tf.engine().runKernel('AvgPoolGrad', { dy: g, input: x }, { filterSize: a.filterSize, strides: a.strides, pad: a.pad, dimRoundingMode: a.dimRoundingMode } as unknown as tf.NamedAttrMap) as tf.Tensor;
    if (a.pad === 'valid' || a.pad === 0) return { x: () => run(dy as tf.Tensor) };
    return {
      x: () => {
        const info = tf.backend_util.computePool2DInfo(x.shape, a.filterSize, a.strides, 1, a.pad, a.dimRoundingMode);
        const whole = info.filterHeight * info.filterWidth;
        return run((dy as tf.Tensor).mul(tf.div(whole, windowCounts(info))));
      },
    };
  },
};
Object.defineProperty(avgPoolGradConfig, OURS, { value: true });

/** Replaces the stock AvgPool gradient once; safe to call again. Returns whether it did now. */
export function registerAvgPoolSameGrad(): boolean {
  const current = tf.getGradient('AvgPool');
  if (current !== undefined && OURS in current) return false;
  tf.registerGradient(avgPoolGradConfig);
  return true;
}
