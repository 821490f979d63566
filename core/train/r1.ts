/**
 * R1 gradient penalty (Mescheder et al. 2018): ‖∇ₓ Σ D(x)‖² per real sample. Taken inside D's loss,
 * so the optimiser differentiates a gradient (double backprop); through leakyRelu that needs the
 * Greater gradient registered by core/backend (registerTrainingKernels).
 */
import * as tf from '@tensorflow/tfjs';
import type { Discriminator } from '../nets/discriminator.js';
import { assertShape } from '../nets/layers.js';

export interface R1Result {
  /** D's logits on the reals, [N, 1]: the same forward pass, reusable for the main loss. */
  logits: tf.Tensor2D;
  /** ‖∇ₓ Σ D(x)‖² for each sample, [N]. */
  penalty: tf.Tensor1D;
}

export function r1Penalty(D: Discriminator, reals: tf.Tensor4D, c?: tf.Tensor2D): R1Result {
  return tf.tidy(() => {
    const [n] = reals.shape;
    // dy = ones: the gradient of Σ D(x), which for each sample is its own ∂D/∂x except for
    // the coupling minibatch-stddev adds between samples of a group (as in StyleGAN2).
    const { value, grad } = tf.valueAndGrad((x: tf.Tensor4D) => D.apply(x, c))(reals);
    assertShape(grad, reals.shape, 'R1 gradient');
    const penalty = grad.square().sum([1, 2, 3]) as tf.Tensor1D; // [N]
    assertShape(value, [n, 1], 'R1 logits');
    return { logits: value as tf.Tensor2D, penalty };
  });
}
