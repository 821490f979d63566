/**
 * A run's resolved config: what the engine trains with, stored with the run as JSON and read back
 * on resume, and what the renderer shows (typed, so it need not guess at JSON). Types only; the
 * values are resolved in core/train/config.ts from the options table (./train-options.ts), the
 * preset and the dataset, and each part's defaults live beside its code (core/nets/config.ts,
 * core/augment/config.ts, core/metrics/options.ts).
 */
import type { BackendChoiceName, LossChoice, MetricChoice } from './vocabulary.js';
import type { VisionConfig } from './vision.js';

/** The adversarial loss. */
export type LossKind = LossChoice;

export interface TrainConfig {
  /** The preset the run started from. */
  preset: string;
  /** Seeds weights, batches, latents and noise: the same config and seed give the same run on the same backend. */
  seed: number;
  /** Duration, in thousands of real images shown to D. */
  kimg: number;
  /** Images per step. */
  batch: number;
  /** The networks (resolution, channels and classes come from the dataset). */
  net: NetConfig;
  /** Adam learning rates (StyleGAN2-ADA: 0.0025 for both at ≤ 256²). */
  gLr: number;
  dLr: number;
  /** Adam β1, β2, ε (StyleGAN2: 0, 0.99, 1e-8). */
  betas: [number, number];
  epsilon: number;
  /** D updates per G update. */
  dStepsPerG: number;
  loss: LossKind;
  /** R1 weight γ (auto: 0.0002·res²/batch, StyleGAN2-ADA) and its lazy interval in steps (16). */
  r1Gamma: number;
  r1Interval: number;
  /** Half-life of G's EMA in kimg (StyleGAN2-ADA: batch·10/32) and its ramp-up (0.05 of the images so far; null: off). */
  emaKimg: number;
  emaRampup: number | null;
  /** Statistics and a preview grid every `tickKimg`; a checkpoint every `snapshotTicks` ticks (and on pause/stop). */
  tickKimg: number;
  snapshotTicks: number;
  /** Checkpoints kept per run (the best by the chosen metric is always kept too). */
  keepCheckpoints: number;
  /** Preview grid: columns × rows of fixed seeds. */
  previewGrid: [number, number];
  /** What D's augmentation does and how strong it is (every option, with its default: core/augment/config.ts). */
  augment: AugmentConfig;
  /** Requested compute backend ('auto': the best that loads). */
  backend: BackendChoiceName;
  /** CPU threads for the wasm backend (null: every core of the machine it runs on, at most 8). */
  threads: number | null;
  /** Start from another run's weights (transfer learning), freezing D's first `freezeD` blocks. */
  transferFrom: { runId: number; checkpointId?: number } | null;
  freezeD: number;
  /** Show reals mirrored left–right half of the time (x-flip); off: many datasets are not symmetric (text, faces' partings). */
  mirror: boolean;
  /** Which values the studio derived rather than the user set: the worker may shrink an auto batch to fit the backend's memory, and re-derives γ and the EMA half-life with it. */
  auto: { batch: boolean; r1Gamma: boolean; emaKimg: boolean };
  /** Evaluations while training (KID, FID, precision/recall), the best snapshot: core/metrics/options.ts. */
  metrics: MetricsConfig;
  /** Vision-aided judges (the vision-aided preset), or null. */
  vision: VisionConfig | null;
  /** A run resumed from another run's earlier checkpoint: where it branched off (core/store/run-branch.ts). */
  branchedFrom?: { runId: number; checkpointId: number; kimg: number };
}

export interface NetConfig {
  /** Output / input image size, a power of two in [16, 1024]. */
  resolution: number;
  /** Image channels: 3 for RGB, 1 for grayscale (e.g. DICOM slices). */
  imageChannels: number;
  /** Number of classes; 0 for an unconditional pair. */
  numClasses: number;
  /** Latent z size. */
  zDim: number;
  /** Intermediate latent w size (also the class embedding's size in G's mapping). */
  wDim: number;
  /** Mapping network depth. */
  mappingLayers: number;
  /** Learning-rate multiplier of the mapping network (equalised lr). */
  mappingLrMul: number;
  /** Decay of the tracked average w, used for truncation. */
  wAvgBeta: number;
  /** Capacity: channels at resolution r are min(channelBase / r, channelMax). */
  channelBase: number;
  /** Widest layer. */
  channelMax: number;
  /** Minibatch-stddev group size (the largest divisor of the batch not above it is used). */
  mbstdGroupSize: number;
  /** Minibatch-stddev feature channels. */
  mbstdChannels: number;
  /** Size of the projection discriminator's class embedding; 0: channels at 4×4. */
  cmapDim: number;
  /** Seed for initial weights. */
  seed: number;
}

export type AugmentKind = 'none' | 'ada' | 'diffaugment';

/** The augmentation stage in front of D (reals and fakes alike), as a run stores it: every field set. */
export interface AugmentConfig {
  kind: AugmentKind;
  /** ADA pipeline name ('bgc', …) or DiffAugment policy ('color,translation,cutout'); '' for none. */
  pipe: string;
  /** Fixed strength p, or null to adapt it toward `target` (starting from 0). */
  p: number | null;
  /** r_t target of the adaptive heuristic. */
  target: number;
  /** kimg for p to go from 0 to 1 at the fastest (StyleGAN2-ADA's ada_kimg). */
  speedKimg: number;
  /** Iterations between adjustments of p (StyleGAN2-ADA's ada_interval). */
  interval: number;
}

export interface MetricsConfig {
  /** The metric that picks the best snapshot (all three are computed at each evaluation). KID by default: unbiased, so honest at small sample counts. */
  metric: MetricChoice;
  /** Evaluate G_ema every this many checkpoints (and so at checkpoints: the best is a real one); 0: never while training. */
  everyCheckpoints: number;
  /** Dataset images per evaluation (at most the dataset): the same fixed sample every time. */
  reals: number;
  /** Generated images per evaluation (fixed latents every time). */
  fakes: number;
  /** Share of training time evaluations may take (0.1 = 10%); 0: no limit. */
  budget: number;
  /** The studio picks `reals` and `fakes` at the first checkpoint to fit the budget (the user did not set them). */
  autoSize: boolean;
  /** The user's standard FID Inception, or null for a network bundled with nsfwjs (`features` says which). */
  extractor: CustomExtractorSpec | null;
  /**
   * The bundled network when `extractor` is null: 'inception' (InceptionV3 at 299², GPU backends)
   * or 'mobilenet' (MobileNetV2 at 128², ~40× cheaper: CPU backends). Runs stored before this
   * field existed used the InceptionV3.
   */
  features: BundledFeatures;
  /**
   * Where the quality scale's ends lie for this run, at its evaluation sizes and extractor: KID of
   * the untrained generator (0 on the scale) and of the dataset against itself (100: what a perfect
   * generator scores at these sizes). Measured at the first evaluation; absent before.
   */
  anchors?: QualityAnchors;
}

/** Which network bundled with nsfwjs gives the metrics' features. */
export type BundledFeatures = 'inception' | 'mobilenet';

/** The two ends of the quality scale (core/metrics/quality.ts), with the sizes and extractor they were measured at. */
export interface QualityAnchors {
  /** KID of the untrained generator (the run's initial weights). */
  untrained: number;
  /** KID of other dataset images against the evaluation's dataset sample. */
  self: number;
  /** The extractor id and sizes they hold for. */
  extractor: string;
  reals: number;
  fakes: number;
}

/** The user's own extractor: a TF.js conversion of the standard FID Inception. */
export interface CustomExtractorSpec {
  /** Path of its model.json (layers or graph model). */
  path: string;
  /** The pixel range it expects: [0, 255] for TTUR's graph, [0, 1] or [−1, 1] for others. */
  inputRange: [number, number];
}
