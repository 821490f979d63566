/**
 * A run's config resolved from the user's settings, the preset and the dataset. The options a user
 * can set, with their ranges and defaults, are declared once in core/api/train-options.ts (`O`
 * here); what is derived (sizes by resolution and compute, γ, the EMA half-life, the tick) is
 * decided here, with why. A run stores the config resolved here as JSON; resuming reads it back,
 * so a run always continues with the settings it started with.
 */
import { TRAIN_OPTIONS as O, type TrainSettings } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { resolveNetConfig, type NetConfig } from '../nets/config.js';
import { getPreset } from '../presets/index.js';
import { resolveVisionConfig, VISION_KEYS } from '../presets/vision.js';
import { completeAugmentConfig, resolveAugmentConfig } from '../augment/config.js';
import type { CustomExtractorSpec, TrainConfig } from '../api/run-config.js';
import { defaultMetricsConfig, metricsConfigFromJson, type MetricsConfig } from '../metrics/options.js';

export type { AugmentConfig } from '../augment/config.js';

export type { LossKind, TrainConfig } from '../api/run-config.js';

/** What the dataset says about the run: taken from the project, not from the user. */
export interface DatasetFacts {
  images: number;
  resolution: number;
  channels: number;
  /** Labels that have images. */
  numClasses: number;
}

/** What the compute backend can afford: GPU backends get StyleGAN2-ADA-like widths, CPU ones small nets. */
export type ComputeClass = 'gpu' | 'cpu';

/** Backends (as ComputeBackendReport names them) that run on a GPU. */
export function computeClassOf(backend: string): ComputeClass {
  return backend === 'tensorflow-gpu' || backend === 'webgpu' ? 'gpu' : 'cpu';
}

interface Size {
  batch: number;
  channelBase: number;
  channelMax: number;
  /** z and w size. */
  latent: number;
}

/**
 * Capacity and batch by resolution and compute. CPU sizes were chosen from measured wasm step
 * times (bench/step): 128 channels at 16² took 8.6 s a step at batch 32, 16 channels 0.12 s at
 * batch 8; conv cost grows with channels² × batch, so ~32 channels keeps a step near a second.
 * At 32² and 64² the CPU sizes keep 32 channels at most (16 at the top resolution), for a first
 * run that ends recognisable within the hour (issue 15: a 32² run at 64 channels did 2–10 img/s):
 * bench/step.ts, wasm, batch 16, 2 shared cores at load ~14 — 16² (512/32) 1.23 s a step; 32²
 * 3.7 s at 512/32 (1.57 s unloaded at the old 1024/64, ~3× slower than 512/32); 64² 6.3 s at
 * 1024/32 against 69 s at the old 2048/64 (11×). Since the wasm kernels and threads (issue 14), 32²
 * is back at 1024/64 (32 channels at 32², 64 below): bench/first-hour.ts on 2,000 Twemoji, idle
 * 2-core machine — 512/32 ran 110 images/s but reached only KID 0.190 at 40 kimg (6 min) and 0.160 at
 * 120 kimg (18 min); 1024/64 ran 47 images/s and reached 0.105 at 40 kimg (15 min)
 * (bench/results/first-hour-32px-2000img-*.json).
 */
const SIZES: Record<ComputeClass, Record<number, Size>> = {
  gpu: {
    16: { batch: 32, channelBase: 2048, channelMax: 128, latent: 512 },
    32: { batch: 32, channelBase: 4096, channelMax: 256, latent: 512 },
    64: { batch: 32, channelBase: 8192, channelMax: 256, latent: 512 },
    128: { batch: 16, channelBase: 16384, channelMax: 512, latent: 512 },
    256: { batch: 16, channelBase: 16384, channelMax: 512, latent: 512 },
    512: { batch: 8, channelBase: 32768, channelMax: 512, latent: 512 },
    1024: { batch: 4, channelBase: 32768, channelMax: 512, latent: 512 },
  },
  cpu: {
    16: { batch: 16, channelBase: 512, channelMax: 32, latent: 128 },
    32: { batch: 16, channelBase: 1024, channelMax: 64, latent: 128 },
    64: { batch: 16, channelBase: 1024, channelMax: 32, latent: 256 },
    128: { batch: 8, channelBase: 4096, channelMax: 128, latent: 256 },
    256: { batch: 8, channelBase: 8192, channelMax: 128, latent: 256 },
    512: { batch: 4, channelBase: 16384, channelMax: 256, latent: 512 },
    1024: { batch: 2, channelBase: 32768, channelMax: 256, latent: 512 },
  },
};

function sizeFor(resolution: number, compute: ComputeClass): Size {
  return SIZES[compute][resolution] ?? SIZES[compute][256]!;
}

/** Networks' widths as `channelBase/channelMax` (what a measured speed is tagged with). */
export function capacityOf(net: Pick<NetConfig, 'channelBase' | 'channelMax'>): string {
  return `${net.channelBase}/${net.channelMax}`;
}

/** The default widths at a resolution and compute, as `capacityOf` writes them. */
export function defaultCapacity(resolution: number, compute: ComputeClass): string {
  return capacityOf(sizeFor(resolution, compute));
}

/** Whether a run's networks have the studio's default widths for its resolution and compute (its speed is what a new default run gets). */
export function isDefaultCapacity(config: Pick<TrainConfig, 'net'>, compute: ComputeClass): boolean {
  return capacityOf(config.net) === defaultCapacity(config.net.resolution, compute);
}

export function defaultBatch(resolution: number, compute: ComputeClass = 'cpu'): number {
  return sizeFor(resolution, compute).batch;
}

/**
 * The default duration: one that ends past where samples usually become recognisable, where a
 * run measured it (core/train/speed-table.ts RECOGNISABLE_KIMG). On a CPU, measured at 16² (1,911
 * Twemoji, wasm): blobs up to ~20 kimg, emoji shapes from ~27 (quality 64 of 100) — so 50 kimg,
 * ~5 min at the ~170 img/s of an idle 2-core machine. 32² and 64²: 40 kimg, a first look (~15 and
 * ~25 min): a measured 32² run at the CPU sizes was still blurry at its end (STILL_BLURRY), and the
 * Train view says so before Start. Larger CPU resolutions: 10 kimg.
 */
export function defaultKimg(resolution: number, compute: ComputeClass = 'cpu'): number {
  if (compute === 'gpu') return resolution <= 32 ? 200 : resolution <= 64 ? 100 : 50;
  return resolution <= 16 ? 50 : resolution <= 64 ? 40 : 10;
}

/** StyleGAN2-ADA's auto γ. */
export function autoR1Gamma(resolution: number, batch: number): number {
  return (0.0002 * resolution * resolution) / batch;
}

/** Fills defaults from the preset and the dataset, then the user's settings; checks everything. */
export function resolveTrainConfig(settings: TrainSettings, data: DatasetFacts, compute: ComputeClass = 'cpu', extractor: CustomExtractorSpec | null = null): TrainConfig {
  const preset = getPreset(settings.preset);
  if (!preset) throw new UserError('invalid-request', `There is no training preset named "${settings.preset}". Pick one of the presets shown in the Train view.`);
  if (data.images < 1) throw new UserError('invalid-request', 'The dataset is empty: import images in the Dataset view before training.');
  const a = settings.advanced ?? {};
  const size = sizeFor(data.resolution, compute);
  const batch = settings.batch ?? size.batch;
  const conditional = a.conditional ?? (preset.defaults.conditional === true && data.numClasses >= 2);
  if (conditional && data.numClasses < 2) {
    throw new UserError('invalid-request', `A conditional run needs at least 2 labels with images; this dataset has ${data.numClasses}. Label the images (e.g. from folders), or turn "use labels" off.`);
  }
  const seed = settings.seed ?? O.seed.default;
  const visionSet = VISION_KEYS.filter((k) => a[k] !== undefined);
  if (preset.defaults.vision !== true && visionSet.length > 0) {
    throw new UserError('invalid-request', `The ${preset.title} preset adds no pretrained judges, so ${visionSet.join(', ')} cannot apply. Pick the vision-aided preset, or leave them blank.`, visionSet[0]);
  }
  let net: NetConfig;
  try {
    net = resolveNetConfig({
      resolution: data.resolution,
      imageChannels: data.channels,
      numClasses: conditional ? data.numClasses : 0,
      channelBase: a.channelBase ?? size.channelBase,
      channelMax: a.channelMax ?? size.channelMax,
      mappingLayers: a.mappingLayers ?? O.mappingLayers.default,
      zDim: size.latent,
      wDim: size.latent,
      mbstdGroupSize: Math.min(4, batch),
      seed,
    });
  } catch (err) {
    throw new UserError('invalid-request', `${(err as Error).message} Change it in the advanced settings.`);
  }
  return {
    preset: preset.id,
    seed,
    kimg: settings.kimg,
    batch,
    net,
    gLr: a.gLr ?? O.gLr.default,
    dLr: a.dLr ?? O.dLr.default,
    betas: [0, 0.99],
    epsilon: 1e-8,
    dStepsPerG: a.dStepsPerG ?? O.dStepsPerG.default,
    loss: a.loss ?? O.loss.default,
    r1Gamma: a.r1Gamma ?? autoR1Gamma(data.resolution, batch),
    r1Interval: 16,
    emaKimg: a.emaKimg ?? (batch * 10) / 32,
    emaRampup: 0.05,
    tickKimg: a.tickKimg ?? Math.max(0.1, Math.min(4, settings.kimg / 50)),
    snapshotTicks: a.snapshotTicks ?? O.snapshotTicks.default,
    keepCheckpoints: 3,
    previewGrid: [8, 4],
    augment: resolveAugmentConfig(preset.defaults.augment, a, settings.kimg, a.transferFrom !== undefined),
    backend: settings.backend ?? O.backend.default,
    threads: a.threads ?? O.threads.default,
    transferFrom: a.transferFrom ?? null,
    freezeD: a.freezeD ?? O.freezeD.default,
    mirror: false,
    auto: { batch: settings.batch === undefined, r1Gamma: a.r1Gamma === undefined, emaKimg: a.emaKimg === undefined },
    metrics: resolveMetrics(a, data, compute, extractor),
    vision: preset.defaults.vision === true ? resolveVisionConfig(a, settings.kimg, compute, net.numClasses) : null,
  };
}

function resolveMetrics(a: NonNullable<TrainSettings['advanced']>, data: DatasetFacts, compute: ComputeClass, extractor: CustomExtractorSpec | null): MetricsConfig {
  const m = defaultMetricsConfig(data.images, compute, extractor);
  return {
    ...m,
    metric: a.metric ?? m.metric,
    everyCheckpoints: a.evalEvery ?? m.everyCheckpoints,
    reals: Math.min(a.evalReals ?? m.reals, Math.max(4, data.images)),
    fakes: a.evalFakes ?? m.fakes,
    budget: a.evalBudget !== undefined ? a.evalBudget / 100 : m.budget,
    autoSize: a.evalReals === undefined && a.evalFakes === undefined,
  };
}

/** The config with another batch: what depends on it (minibatch-stddev group, and γ and the EMA half-life where they were auto) follows. */
export function withBatch(config: TrainConfig, batch: number): TrainConfig {
  return {
    ...config,
    batch,
    net: { ...config.net, mbstdGroupSize: Math.min(4, batch) },
    r1Gamma: config.auto.r1Gamma ? autoR1Gamma(config.net.resolution, batch) : config.r1Gamma,
    emaKimg: config.auto.emaKimg ? (batch * 10) / 32 : config.emaKimg,
  };
}

/** A run's stored config, checked, with fields added since it was written filled in. */
export function trainConfigFromJson(value: unknown, what: string): TrainConfig {
  const c = value as Partial<TrainConfig> | null;
  const required: Array<keyof TrainConfig> = ['seed', 'kimg', 'batch', 'net', 'gLr', 'dLr', 'betas', 'loss', 'r1Gamma', 'r1Interval', 'emaKimg', 'tickKimg', 'snapshotTicks', 'augment'];
  const missing = c === null || typeof c !== 'object' ? required : required.filter((k) => c[k] === undefined);
  if (missing.length > 0) {
    throw new UserError('invalid-request', `The settings stored with ${what} are incomplete (no ${missing.join(', ')}). Start a new run.`);
  }
  const full = c as TrainConfig;
  return {
    ...full,
    net: resolveNetConfig(full.net),
    epsilon: full.epsilon ?? 1e-8,
    dStepsPerG: full.dStepsPerG ?? O.dStepsPerG.default,
    emaRampup: full.emaRampup === undefined ? 0.05 : full.emaRampup,
    keepCheckpoints: full.keepCheckpoints ?? 3,
    previewGrid: full.previewGrid ?? [8, 4],
    backend: full.backend ?? O.backend.default,
    threads: full.threads ?? null,
    transferFrom: full.transferFrom ?? null,
    freezeD: full.freezeD ?? O.freezeD.default,
    augment: completeAugmentConfig(full.augment, full.kimg, (full.transferFrom ?? null) !== null),
    mirror: full.mirror ?? false,
    auto: full.auto ?? { batch: false, r1Gamma: false, emaKimg: false },
    metrics: metricsConfigFromJson(full.metrics),
    vision: full.vision ?? null,
  };
}
