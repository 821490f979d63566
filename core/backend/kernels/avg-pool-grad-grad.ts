/**
 * Gradient of `AvgPoolGrad` (the kernel avgPool's gradient runs), which TF.js 4.22 lacks: without
 * it a second-order gradient through avgPool (R1 through the discriminator's downsampling, or a
 * custom gradient built on avgPool) fails with "gradient function not found for AvgPoolGrad".
 *
 * AvgPoolGrad(dy) = Aᵀ·dy where A is the avgPool; it is linear in dy, so its gradient with respect
 * to dy is A·g = avgPool(g) with the same window, strides and padding (exact for 'valid' padding,
 * where every window is whole; other paddings are refused). `input` only supplies a shape: zero.
 */
import * as tf from '@tensorflow/tfjs';

export const avgPoolGradGradConfig: tf.GradConfig = {
  kernelName: 'AvgPoolGrad',
  inputsToSave: ['input'],
  gradFunc: (g, saved, attrs) => {
    const [input] = saved as [tf.Tensor];
    const { filterSize, strides, pad } = attrs as unknown as tf.AvgPoolAttrs;
    if (pad !== 'valid' && pad !== 0) {
      throw new Error(`gradient of AvgPoolGrad is implemented for 'valid' padding only, got ${JSON.stringify(pad)}`);
    }
    return {
      dy: () => tf.avgPool(g as tf.Tensor4D, filterSize, strides, pad),
      input: () => tf.zerosLike(input),
    };
  },
};

/** Registers the gradient once; safe to call again. */
export function registerAvgPoolGradGrad(): void {
  if (tf.getGradient('AvgPoolGrad') === undefined) tf.registerGradient(avgPoolGradGradConfig);
}
