/**
 * The augmentation stages that augment: ADA (the pipeline at strength p, p adapted from the
 * overfitting signal r_t) and DiffAugment (its policy, always on).
 *
 * ADA's heuristic (StyleGAN2-ADA's training_loop.py): every `interval` iterations,
 *   r_t = E[sign(D(augmented reals))] over those iterations
 *   p ← clamp(p + sign(r_t − target) · images / (speedKimg · 1000), 0, 1)
 * so p can cross [0, 1] in speedKimg thousand images at the fastest. StyleGAN2-ADA only clamps
 * below; above 1 p changes nothing but how long it takes to come back, so it is clamped there too.
 */
import { Rng } from '../random/rng.js';
import { type AugmentConfig, isAdaPipeline, pipeSpec } from './config.js';
import { type DiffAugmentPart, diffAugment, parsePolicy } from './diffaugment.js';
import { AugmentPipe } from './pipeline.js';
import type * as tf from '@tensorflow/tfjs';
import type { AugmentStage, AugmentState, SeedSource } from './types.js';

/** Each call draws its parameters from a stream seeded by one draw of the run's stream. */
const STREAM = 0x41444121;

export class AdaStage implements AugmentStage {
  readonly kind = 'ada' as const;
  readonly pipe: AugmentPipe;
  private readonly adaptive: boolean;
  private strength: number;
  private signSum = 0;
  private count = 0;
  private steps = 0;
  private images = 0;
  private lastRt: number | null = null;

  constructor(readonly config: AugmentConfig) {
    if (!isAdaPipeline(config.pipe)) throw new Error(`ADA has no pipeline "${config.pipe}"`);
    if (config.p !== null && !(config.p >= 0 && config.p <= 1)) throw new Error(`ADA's fixed p must be in [0, 1], got ${config.p}`);
    if (!(config.speedKimg > 0) || !(config.interval >= 1)) throw new Error(`ADA's speed (${config.speedKimg} kimg) and interval (${config.interval}) must be positive`);
    this.pipe = new AugmentPipe(pipeSpec(config.pipe));
    this.adaptive = config.p === null;
    this.strength = config.p ?? 0;
  }

  get p(): number {
    return this.strength;
  }

  /** r_t of the last adjustment interval (null before the first). */
  get rt(): number | null {
    return this.lastRt;
  }

  apply(images: tf.Tensor4D, seeds: SeedSource): tf.Tensor4D {
    return this.pipe.apply(images, this.strength, Rng.fromSeed(seeds.tfSeed(), STREAM));
  }

  observe(signSum: number, count: number): void {
    this.signSum += signSum;
    this.count += count;
  }

  adjust(imagesSinceLast: number): void {
    this.steps++;
    this.images += imagesSinceLast;
    if (this.steps < this.config.interval) return;
    if (this.count > 0) {
      this.lastRt = this.signSum / this.count;
      if (this.adaptive) {
        const step = (Math.sign(this.lastRt - this.config.target) * this.images) / (this.config.speedKimg * 1000);
        this.strength = Math.min(1, Math.max(0, this.strength + step));
      }
    }
    this.signSum = 0;
    this.count = 0;
    this.steps = 0;
    this.images = 0;
  }

  state(): AugmentState {
    return { kind: 'ada', p: this.strength, signSum: this.signSum, count: this.count, steps: this.steps, images: this.images, rt: this.lastRt };
  }

  restore(state: AugmentState): void {
    if (state.kind !== 'ada') throw new Error(`the checkpoint's augmentation is '${state.kind}', this run's is 'ada'`);
    this.strength = state.p;
    this.signSum = state.signSum;
    this.count = state.count;
    this.steps = state.steps ?? 0;
    this.images = state.images ?? 0;
    this.lastRt = state.rt ?? null;
  }
}

export class DiffAugmentStage implements AugmentStage {
  readonly kind = 'diffaugment' as const;
  /** Every transform of the policy applies to every image. */
  readonly p = 1;
  readonly parts: DiffAugmentPart[];

  constructor(readonly config: AugmentConfig) {
    this.parts = parsePolicy(config.pipe);
    if (this.parts.length === 0) throw new Error('DiffAugment needs at least one transform (color, translation, cutout)');
  }

  apply(images: tf.Tensor4D, seeds: SeedSource): tf.Tensor4D {
    return diffAugment(images, this.parts, Rng.fromSeed(seeds.tfSeed(), STREAM));
  }

  observe(): void {}

  adjust(): void {}

  state(): AugmentState {
    return { kind: 'diffaugment', p: 1, signSum: 0, count: 0 };
  }

  restore(state: AugmentState): void {
    if (state.kind !== 'diffaugment') throw new Error(`the checkpoint's augmentation is '${state.kind}', this run's is 'diffaugment'`);
  }
}
