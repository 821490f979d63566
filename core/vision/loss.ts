/**
 * The judges' losses (the vision-aided paper's `multilevel_sigmoid_s` and its hinge option), on
 * logits [N, L] (one column per level): each level's loss is a batch mean, and levels are summed.
 *
 *   sigmoid:  BCE(l, t) = softplus(l) − t·l      D: BCE(real, 0.8) + BCE(fake, 0)     G: BCE(fake, 0.8)
 *   hinge:    D: relu(1 − real) + relu(1 + fake)                                      G: −fake
 *
 * The real target is 0.8, not 1 (one-sided label smoothing), and G aims for the same 0.8.
 * G's term is weighted by λ: 0 while a judge warms up after it joins (its head learns first), then 1.
 */
import * as tf from '@tensorflow/tfjs';

export type VisionLossKind = 'sigmoid' | 'hinge';

/** The real target of the sigmoid loss, for D and for G. */
export const REAL_TARGET = 0.8;

/** Σ_levels mean_batch BCE(logits, target). */
function bce(logits: tf.Tensor2D, target: number): tf.Scalar {
  return tf.softplus(logits).sub(logits.mul(target)).mean(0).sum() as tf.Scalar;
}

/** D's loss from a judge's logits on reals [N, L] and fakes [M, L]. */
export function visionDLoss(kind: VisionLossKind, real: tf.Tensor2D, fake: tf.Tensor2D): tf.Scalar {
  if (kind === 'hinge') return tf.relu(tf.sub(1, real)).mean(0).sum().add(tf.relu(fake.add(1)).mean(0).sum()) as tf.Scalar;
  return bce(real, REAL_TARGET).add(bce(fake, 0)) as tf.Scalar;
}

/** G's loss from a judge's logits on its fakes [N, L] (before λ). */
export function visionGLoss(kind: VisionLossKind, fake: tf.Tensor2D): tf.Scalar {
  if (kind === 'hinge') return fake.neg().mean(0).sum() as tf.Scalar;
  return bce(fake, REAL_TARGET);
}

/** λ: G's weight on a judge added at `addedAtKimg`, `warmupKimg` after which it counts fully. */
export function warmupLambda(kimg: number, addedAtKimg: number | null, warmupKimg: number): number {
  if (addedAtKimg === null || kimg < addedAtKimg) return 0;
  return kimg >= addedAtKimg + warmupKimg ? 1 : 0;
}
