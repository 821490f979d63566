/**
 * The augmentation stage's seam, as the training loop sees it (core/train/loop.ts): everything D
 * sees, real or generated, goes through `apply`; after each iteration the loop reports D's verdict
 * on the reals (`observe`) and lets the stage adjust its strength (`adjust`).
 */
import type * as tf from '@tensorflow/tfjs';
import type { AugmentKind } from './config.js';

/** Where an augmentation draws its randomness (the run's seeded stream). */
export interface SeedSource {
  /** A non-zero seed for one tf.random* call. */
  tfSeed(): number;
}

export interface AugmentStage {
  readonly kind: AugmentKind;
  /** Current strength p in [0, 1] (reported as `Augment/p`). */
  readonly p: number;
  /** Images [N, R, R, C] → augmented images, same shape; differentiable. */
  apply(images: tf.Tensor4D, seeds: SeedSource): tf.Tensor4D;
  /**
   * After each training iteration: the sign of D's logits on the reals summed over the batch
   * and the number of reals, for the adaptive heuristic (r_t = E[sign(D(real))]).
   */
  observe(signSum: number, count: number): void;
  /** Adjust p (ADA: every few iterations, by at most batch·interval / (speedKimg·1000)). */
  adjust(imagesSinceLast: number): void;
  /** Saved in every checkpoint and restored on resume (ADA's p must not restart at 0). */
  state(): AugmentState;
  restore(state: AugmentState): void;
}

export interface AugmentState {
  kind: AugmentKind;
  p: number;
  /** Heuristic accumulators not yet applied. */
  signSum: number;
  count: number;
  /** Iterations and images since p was last adjusted (absent in checkpoints written before ADA). */
  steps?: number;
  images?: number;
  /** r_t over the last adjustment interval; null before the first. */
  rt?: number | null;
}
