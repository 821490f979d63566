/**
 * The augmentation stage in front of D: everything D sees, real or generated, goes through it
 * (ADA's rule: augmenting only the reals would teach G to make augmented images). It must be
 * differentiable, since G's gradient flows through it. ADA's pipeline with its strength
 * controller (driven by r_t) and DiffAugment plug in here (core/augment/ada.ts); 'none' passes
 * images through.
 */
import type * as tf from '@tensorflow/tfjs';
import { AdaStage, DiffAugmentStage } from './ada.js';
import type { AugmentConfig } from './config.js';
import type { AugmentStage, AugmentState } from './types.js';

export type { AugmentStage, AugmentState, SeedSource } from './types.js';

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
      return new AdaStage(config);
    case 'diffaugment':
      return new DiffAugmentStage(config);
  }
}
