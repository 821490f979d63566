/**
 * Gradient for `Greater`: zero for both inputs (a comparison is piecewise constant).
 *
 * TF.js 4.22 registers none, and leakyRelu's own gradient calls `greater(x, 0)` to build its mask,
 * so any second-order gradient through leakyRelu (R1's gradient penalty: a gradient taken inside
 * the loss whose gradient the optimiser then takes) fails on every backend with
 * "gradient function not found for Greater".
 */
import * as tf from '@tensorflow/tfjs';

export const greaterGradConfig: tf.GradConfig = {
  kernelName: 'Greater',
  inputsToSave: ['a', 'b'],
  gradFunc: (_dy, saved) => {
    const [a, b] = saved as [tf.Tensor, tf.Tensor];
    return { a: () => tf.zerosLike(a), b: () => tf.zerosLike(b) };
  },
};

/** Registers the gradient once; safe to call again. */
export function registerGreaterGrad(): void {
  if (tf.getGradient('Greater') === undefined) tf.registerGradient(greaterGradConfig);
}
