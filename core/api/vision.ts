/**
 * Vision-aided training's shapes, zod-free and types-first (the renderer reads them): the backbones
 * the studio has, a run's resolved vision config, and what a run reports about its judges (which
 * backbone was added when, how well it told the samples from the reals, each judge's loss and ADA p).
 */

/** The backbones bundled in npm packages (core/vision/zoo.ts has their files, levels, licences). */
export const BACKBONE_IDS = ['mobilenetv2', 'mobilenetv2-1.0', 'inception', 'centernet'] as const;
export type BackboneId = (typeof BACKBONE_IDS)[number];

/** What `auto` picks from: the nsfwjs networks, always installed (CenterNet, from @vladmandic/human, only when named). */
export const AUTO_BACKBONES: readonly BackboneId[] = ['mobilenetv2', 'mobilenetv2-1.0', 'inception'];

/** A run's vision-aided settings, resolved (core/vision/config.ts). */
export interface VisionConfig {
  /** The backbones k-progressive selection may pick from, in order of preference on ties. */
  candidates: BackboneId[];
  /** At most this many judges join the run. */
  k: number;
  /** Side of the square the images are area-resized to before a backbone (224 in the paper). */
  inputSize: number;
  /** After a judge joins, its term in G's loss has weight 0 for this many kimg (its head learns first), then 1. */
  warmupKimg: number;
  /** When a judge is added, in kimg (the first entries up to k are used). */
  selectAt: number[];
  /** 'sigmoid': BCE per level, real target 0.8 (multilevel_sigmoid_s); 'hinge'. */
  loss: 'sigmoid' | 'hinge';
  /** Images of each kind (reals, samples) the linear probe looks at. */
  probeImages: number;
  /** Each judge's own ADA: target r_t and speed (kimg for p to cross [0, 1]). */
  adaTarget: number;
  adaSpeedKimg: number;
  /** Width of the heads' hidden layers. */
  headChannels: number;
  /**
   * A conditional run's number of classes: the heads' MLP logit gets a projection onto the class
   * (the paper's optional conditioning), so a judge also tells whether an image fits its label.
   * 0 or absent (runs stored before it existed): unconditional heads.
   */
  classes?: number;
}

/** One selection: the linear probe's held-out accuracy per unused backbone, and the pick. */
export interface VisionSelection {
  /** Index in the schedule (0: the first judge). */
  index: number;
  kimg: number;
  /** The backbone added; null when none was left to add. */
  picked: BackboneId | null;
  /** Held-out accuracy of real-vs-sample logistic regression on each candidate's pooled features, averaged over 3 splits. */
  accuracies: Partial<Record<BackboneId, number>>;
  /** Images of each kind the probe used. */
  images: number;
}

/** A backbone as the studio shows it. */
export interface BackboneInfo {
  id: BackboneId;
  title: string;
  licence: string;
  trainingData: string;
  nativeInput: number;
}

/** What a vision-aided run reports with its progress: set when something changed (a selection). */
export interface VisionProgress {
  selections: VisionSelection[];
  /** The selection just made, with this progress. */
  selected?: VisionSelection;
}

/** What each judge costs per training step on a backend, measured before a run (core/vision/cost.ts). */
export interface VisionCostReport {
  /** The backend it was measured on. */
  backend: string;
  batch: number;
  /** The judges' image size it was measured at. */
  inputSize: number;
  /** Seconds of one forward and backward pass to the image, by backbone (what a G step adds per judge). */
  seconds: Partial<Record<BackboneId, number>>;
}
