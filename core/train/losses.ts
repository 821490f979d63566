/**
 * The adversarial objective, cut by phase as StyleGAN2-ADA's loss.py: Gmain (G's loss on its
 * fakes), Dmain (D's loss on fakes and reals), Dreg (R1 on reals, lazily, every `interval` D
 * steps, scaled by the interval). Three kinds:
 *
 *   logistic (non-saturating, StyleGAN2):  G: softplus(−D(G(z)))      D: softplus(D(G(z))) + softplus(−D(x))
 *   hinge (Lim & Ye 2017):                 G: −D(G(z))                 D: relu(1 + D(G(z))) + relu(1 − D(x))
 *   lsgan (Mao et al. 2017, a=0 b=c=1):    G: ½(D(G(z)) − 1)²          D: ½(D(x) − 1)² + ½D(G(z))²
 *
 * Every function takes logits [N, 1] and returns means over the batch; call inside a tidy.
 */
import * as tf from '@tensorflow/tfjs';
import { assertShape } from '../nets/layers.js';
import type { LossKind } from './config.js';

/** Gmain: G's loss from D's logits on its fakes [N, 1]. */
export function gMainLoss(kind: LossKind, fakeLogits: tf.Tensor2D): tf.Scalar {
  switch (kind) {
    case 'logistic':
      return tf.softplus(fakeLogits.neg()).mean();
    case 'hinge':
      return fakeLogits.neg().mean();
    case 'lsgan':
      return fakeLogits.sub(1).square().mul(0.5).mean();
  }
}

/** Dmain's two terms, each a batch mean: on fakes and on reals; the loss is their sum. */
export interface DMainTerms {
  fake: tf.Scalar;
  real: tf.Scalar;
  loss: tf.Scalar;
}

/** Dmain: D's loss from its logits on reals [N, 1] and on fakes [M, 1]. */
export function dMainLoss(kind: LossKind, realLogits: tf.Tensor2D, fakeLogits: tf.Tensor2D): DMainTerms {
  let fake: tf.Scalar;
  let real: tf.Scalar;
  switch (kind) {
    case 'logistic':
      fake = tf.softplus(fakeLogits).mean();
      real = tf.softplus(realLogits.neg()).mean();
      break;
    case 'hinge':
      fake = tf.relu(fakeLogits.add(1)).mean();
      real = tf.relu(tf.sub(1, realLogits)).mean();
      break;
    case 'lsgan':
      fake = fakeLogits.square().mul(0.5).mean();
      real = realLogits.sub(1).square().mul(0.5).mean();
      break;
  }
  return { fake, real, loss: fake.add(real) };
}

export interface R1Terms {
  /** ‖∇ₓ Σ D(x)‖² per sample, [N]. */
  penalty: tf.Tensor1D;
  /** D's logits on the reals, [N, 1] (the same forward pass). */
  logits: tf.Tensor2D;
}

/**
 * R1 (Mescheder et al. 2018) for any D as a function of images: the gradient is taken with
 * respect to the images before `logitsOf` (so before the augmentation stage, as StyleGAN2-ADA).
 * Inside an optimiser's loss this is double backprop (core/train/r1.ts does the same for a bare D).
 */
export function r1Terms(logitsOf: (images: tf.Tensor4D) => tf.Tensor2D, reals: tf.Tensor4D): R1Terms {
  const [n] = reals.shape;
  const { value, grad } = tf.valueAndGrad((x: tf.Tensor4D) => logitsOf(x))(reals);
  assertShape(grad, reals.shape, 'R1 gradient');
  assertShape(value, [n, 1], 'R1 logits');
  return { penalty: grad.square().sum([1, 2, 3]) as tf.Tensor1D, logits: value as tf.Tensor2D };
}

/** Dreg: the lazy R1 loss, γ/2 · mean(R1) · interval (the interval makes up for the skipped steps). */
export function dRegLoss(penalty: tf.Tensor1D, gamma: number, interval: number): tf.Scalar {
  return penalty.mean().mul((gamma / 2) * interval);
}

/**
 * Lazy regularisation's correction to D's optimiser (StyleGAN2 appendix B): with a regulariser
 * every `interval` steps, lr × c and β × → β^c, c = interval / (interval + 1).
 */
export function lazyRegScale(interval: number): number {
  return interval > 0 ? interval / (interval + 1) : 1;
}

/** D's statistics on one batch, as means: logits, accuracy (real > 0, fake < 0) and sign(real). */
export function logitStats(realLogits: tf.Tensor2D, fakeLogits: tf.Tensor2D): { logitReal: tf.Scalar; logitFake: tf.Scalar; accReal: tf.Scalar; accFake: tf.Scalar; signReal: tf.Scalar } {
  return {
    logitReal: realLogits.mean(),
    logitFake: fakeLogits.mean(),
    accReal: realLogits.greater(0).toFloat().mean(),
    accFake: fakeLogits.less(0).toFloat().mean(),
    signReal: realLogits.sign().mean(),
  };
}
