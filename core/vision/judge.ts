/**
 * A vision-aided judge: a frozen backbone (core/vision/zoo.ts) with a trainable head, its own ADA
 * and DiffAugment cutout, joined to the training loop as an ExtraDiscriminator.
 *
 *   images [−1, 1] → its ADA (bgc, target 0.3, driven by its head's logits on reals) → cutout
 *   → [0, 1] → area resize → backbone levels → head → logits [N, L + 1]
 *
 * D phase: the backbone runs outside the head's tape (no gradients into it, none kept for it);
 * the head takes an Adam step with D's learning rate and betas, no R1. G phase: the same path
 * inside G's tape, so the gradient flows through the frozen backbone to the image; its term has
 * weight λ: 0 during the warm-up after it joined, then 1.
 */
import * as tf from '@tensorflow/tfjs';
import type { VisionConfig, VisionSelection } from '../api/vision.js';
import { AdaStage } from '../augment/ada.js';
import { diffAugment } from '../augment/diffaugment.js';
import type { AugmentState, SeedSource } from '../augment/stage.js';
import type { NamedVariable } from '../nets/params.js';
import { Rng } from '../random/rng.js';
import { Adam } from '../train/adam.js';
import type { ExtraDiscriminator } from '../train/loop.js';
import { VisionHead } from './heads.js';
import { visionDLoss, visionGLoss, warmupLambda } from './loss.js';
import { toBackboneInput } from './preprocess.js';
import { type Backbone, inputFor } from './zoo.js';

/** Each cutout draws from a stream seeded by one draw of the run's stream. */
const CUTOUT_STREAM = 0x43555421;

/** A judge's state beyond tensors: when it joined, its ADA. */
export interface JudgeState {
  addedAtKimg: number | null;
  /** The selection that added it (the run's selection history is these, by index). */
  selection: VisionSelection | null;
  ada: AugmentState;
}

export interface JudgeOptions {
  /** D's learning rate and betas (the heads' Adam uses them). */
  lr: number;
  betas: [number, number];
  epsilon: number;
  seed: number;
}

export class VisionJudge implements ExtraDiscriminator {
  readonly name: string;
  readonly head: VisionHead;
  readonly optimizer: Adam;
  readonly ada: AdaStage;
  private added: number | null = null;
  /** The selection that added it. */
  selection: VisionSelection | null = null;

  constructor(
    readonly backbone: Backbone,
    readonly config: VisionConfig,
    o: JudgeOptions,
  ) {
    const id = backbone.spec.id;
    this.name = `vision.${id}`;
    this.head = new VisionHead(
      backbone.spec.levels.map((l) => l.channels),
      config.headChannels,
      o.seed,
      `V.${id}.`,
      config.classes ?? 0,
    );
    this.optimizer = new Adam(this.head.params.all(), { lr: o.lr, beta1: o.betas[0], beta2: o.betas[1], epsilon: o.epsilon });
    this.ada = new AdaStage({ kind: 'ada', pipe: 'bgc', p: null, target: config.adaTarget, speedKimg: config.adaSpeedKimg, interval: 4 });
  }

  get id(): string {
    return this.backbone.spec.id;
  }

  /** When it joined the run, in kimg; null: not (yet) picked. */
  get addedAtKimg(): number | null {
    return this.added;
  }

  /** Joins the run from `kimg` on. */
  add(kimg: number): void {
    this.added = kimg;
  }

  enabledAt(kimg: number): boolean {
    return this.added !== null && kimg >= this.added;
  }

  /** Picked: until then its head keeps the weights it was made with (seeded), so checkpoints leave it out. */
  joined(): boolean {
    return this.added !== null;
  }

  /** λ at `kimg`. */
  weightAt(kimg: number): number {
    return warmupLambda(kimg, this.added, this.config.warmupKimg);
  }

  /** Its augmentation: ADA at its own p, then DiffAugment's cutout. [N, R, R, C] → same. */
  augment(images: tf.Tensor4D, seeds: SeedSource): tf.Tensor4D {
    const a = this.ada.apply(images, seeds);
    return diffAugment(a, ['cutout'], Rng.fromSeed(seeds.tfSeed(), CUTOUT_STREAM));
  }

  /** The backbone's levels for augmented images (differentiable to the images). */
  features(images: tf.Tensor4D): tf.Tensor4D[] {
    return this.backbone.features(toBackboneInput(images, inputFor(this.backbone.spec, this.config.inputSize), this.backbone.spec.range));
  }

  gLoss(images: tf.Tensor4D, c: tf.Tensor2D | undefined, seeds: SeedSource, kimg: number): tf.Scalar | null {
    const lambda = this.weightAt(kimg);
    if (lambda === 0) return null;
    const logits = this.head.apply(this.features(this.augment(images, seeds)), this.classesFor(c)); // [N, L + 1]
    return visionGLoss(this.config.loss, logits).mul(lambda) as tf.Scalar;
  }

  /**
   * Peak bytes of live tensors while G's gradient flows through this judge at `batch` images of
   * `resolution`² × `channels` (the backbone's activations kept for the backward pass, the head's);
   * changes nothing. For fitting the batch to the backend's memory (core/train/memory.ts).
   */
  async probePeak(batch: number, resolution: number, channels: number): Promise<number> {
    const info = await tf.profile(() =>
      tf.tidy(() => {
        const images = tf.zeros([batch, resolution, resolution, channels]) as tf.Tensor4D;
        const c = this.head.classes > 0 ? (tf.oneHot(tf.zeros([batch], 'int32') as tf.Tensor1D, this.head.classes).toFloat() as tf.Tensor2D) : undefined;
        return tf.grad((x: tf.Tensor) => this.head.apply(this.features(x as tf.Tensor4D), c).mean())(images);
      }),
    );
    (info.result as tf.Tensor).dispose();
    return info.peakBytes;
  }

  dStep(reals: tf.Tensor4D, fakes: tf.Tensor4D, c: tf.Tensor2D | undefined, fc: tf.Tensor2D | undefined, seeds: SeedSource, note: (name: string, t: tf.Scalar) => void): tf.Scalar {
    // Backbone outside the tape: frozen, and nothing of it kept for a gradient.
    const realMaps = this.features(this.augment(reals, seeds));
    const fakeMaps = this.features(this.augment(fakes, seeds));
    return this.optimizer.minimize(
      () => {
        const real = this.head.apply(realMaps, this.classesFor(c)); // [N, L + 1]
        const fake = this.head.apply(fakeMaps, this.classesFor(fc));
        note(this.rtStat, real.sign().mean()); // its ADA's r_t
        return visionDLoss(this.config.loss, real, fake);
      },
      true,
      this.optimizer.variables(),
    ) as tf.Scalar;
  }

  /** The classes its head takes: the run's one-hot labels when the head is conditional (older runs' heads are not). */
  private classesFor(c: tf.Tensor2D | undefined): tf.Tensor2D | undefined {
    return this.head.classes > 0 ? c : undefined;
  }

  /** Its statistics' names: r_t (mean sign of its logits on reals) and its ADA's p. */
  get rtStat(): string {
    return `Vision/${this.id}/r_t`;
  }

  observe(values: ReadonlyMap<string, number>, images: number): Record<string, number> {
    const sign = values.get(this.rtStat);
    if (sign !== undefined) {
      this.ada.observe(sign * images, images);
      this.ada.adjust(images);
    }
    return { [`Vision/${this.id}/p`]: this.ada.p };
  }

  params(): readonly NamedVariable[] {
    return this.head.params.all();
  }

  state(): JudgeState {
    return { addedAtKimg: this.added, selection: this.selection, ada: this.ada.state() };
  }

  restore(state: unknown): void {
    const s = state as JudgeState;
    this.added = s.addedAtKimg;
    this.selection = s.selection ?? null;
    this.ada.restore(s.ada);
  }

  dispose(): void {
    this.optimizer.dispose();
    this.head.dispose();
  }
}
