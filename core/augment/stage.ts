/**
 * The augmentation stage in front of D: everything D sees, real or generated, goes through it
 * (ADA's rule: augmenting only the reals would teach G to make augmented images). It must be
 * differentiable, since G's gradient flows through it. ADA's pipeline and its strength controller
 * (driven by r_t) and DiffAugment plug in here; 'none' passes images through.
 */
import type * as tf from '@tensorflow/tfjs';
import { UserError } from '../api/errors.js';
import type { AugmentConfig } from './config.js';

/** Where an augmentation draws its randomness (the run's seeded stream). */
export interface SeedSource {
  /** A non-zero seed for one tf.random* call. */
  tfSeed(): number;
}

export interface AugmentStage {
  readonly kind: AugmentConfig['kind'];
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
  kind: AugmentConfig['kind'];
  p: number;
  /** Heuristic accumulators not yet applied. */
  signSum: number;
  count: number;
}

/** No augmentation: images pass through untouched. */
export class NoAugment implements AugmentStage {
  readonly kind = 'none' as const;
  readonly p = 0;

  apply(images: tf.Tensor4D): tf.Tensor4D {
    return images;
  }

  observe(): void {}

  adjust(): void {}

  state(): AugmentState {
    return { kind: 'none', p: 0, signSum: 0, count: 0 };
  }

  restore(state: AugmentState): void {
    if (state.kind !== 'none') throw new Error(`the checkpoint's augmentation is '${state.kind}', this run's is 'none'`);
  }
}

/** The stage a config asks for. */
export function createAugmentStage(config: AugmentConfig): AugmentStage {
  switch (config.kind) {
    case 'none':
      return new NoAugment();
    case 'ada':
    case 'diffaugment':
      throw new UserError('unavailable', `Augmentation '${config.kind}' is not available in this version of the studio yet. Pick the baseline preset.`);
  }
}
