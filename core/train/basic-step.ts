/**
 * One training step of the plain StyleGAN2 objective: a D update (non-saturating logistic loss,
 * optional R1 every step) then a G update, Adam on separate variable lists. The full loop (lazy
 * regularisation, ADA, EMA of G, checkpoints) builds on the same pieces; this step is what the
 * leak test and bench/step measure. Its optimiser is the studio's Adam (core/train/adam.ts), as
 * the training loop's, so the bench counts what a run does.
 */
import * as tf from '@tensorflow/tfjs';
import type { Discriminator } from '../nets/discriminator.js';
import type { Generator } from '../nets/generator.js';
import { Adam } from './adam.js';
import { r1Penalty } from './r1.js';

export interface BasicStepOptions {
  /** Adam learning rate for G and D; default 0.0025 (StyleGAN2-ADA). */
  lr?: number;
  /** Adam β1; default 0. */
  beta1?: number;
  /** Adam β2; default 0.99. */
  beta2?: number;
  /** Adam ε; default 1e-8. */
  epsilon?: number;
  /** R1 weight γ, applied every step as γ/2·mean(R1); default 0 (off). */
  r1Gamma?: number;
}

/** Loss values of one step, as scalars for the caller to read (asynchronously) and dispose. */
export interface StepLosses {
  dLoss: tf.Scalar;
  gLoss: tf.Scalar;
  /** Mean R1 over the batch, when γ > 0. */
  r1?: tf.Scalar;
}

export class BasicTrainer {
  readonly gOpt: Adam;
  readonly dOpt: Adam;
  private readonly r1Gamma: number;

  constructor(
    readonly G: Generator,
    readonly D: Discriminator,
    opts: BasicStepOptions = {},
  ) {
    const adam = { lr: opts.lr ?? 0.0025, beta1: opts.beta1 ?? 0, beta2: opts.beta2 ?? 0.99, epsilon: opts.epsilon ?? 1e-8 };
    this.gOpt = new Adam(G.params.all().filter((p) => p.trainable), adam);
    this.dOpt = new Adam(D.params.all().filter((p) => p.trainable), adam);
    this.r1Gamma = opts.r1Gamma ?? 0;
  }

  /** reals [N, R, R, C] in [−1, 1]; c [N, numClasses] one-hot for a conditional pair. */
  step(reals: tf.Tensor4D, c?: tf.Tensor2D): StepLosses {
    const { G, D } = this;
    const n = reals.shape[0];
    const zDim = G.config.zDim;

    // D update. Fakes are made outside the tape: D's gradients do not need G's graph.
    const fakes = tf.tidy(() => G.generate(tf.randomNormal([n, zDim]), c));
    let r1: tf.Scalar | undefined;
    const dLoss = this.dOpt.minimize(
      () => {
        const fakeLogits = D.apply(fakes, c); // [N, 1]
        let realLogits: tf.Tensor2D;
        let reg: tf.Scalar | undefined;
        if (this.r1Gamma > 0) {
          const r = r1Penalty(D, reals, c);
          realLogits = r.logits;
          const mean = r.penalty.mean() as tf.Scalar;
          r1 = tf.keep(mean.clone());
          reg = mean.mul(this.r1Gamma / 2) as tf.Scalar;
        } else {
          realLogits = D.apply(reals, c);
        }
        // Non-saturating logistic loss: softplus(D(fake)) + softplus(−D(real)).
        const loss = tf.softplus(fakeLogits).mean().add(tf.softplus(realLogits.neg()).mean()) as tf.Scalar;
        return reg === undefined ? loss : loss.add(reg);
      },
      true,
      this.dOpt.variables(),
    ) as tf.Scalar;
    fakes.dispose();

    // G update: softplus(−D(G(z))).
    const gLoss = this.gOpt.minimize(
      () => {
        const img = G.generate(tf.randomNormal([n, zDim]), c, { updateWAvg: true });
        return tf.softplus(D.apply(img, c).neg()).mean() as tf.Scalar;
      },
      true,
      this.gOpt.variables(),
    ) as tf.Scalar;

    return r1 === undefined ? { dLoss, gLoss } : { dLoss, gLoss, r1 };
  }

  dispose(): void {
    this.gOpt.dispose();
    this.dOpt.dispose();
  }
}
