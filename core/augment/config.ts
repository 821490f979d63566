/**
 * The augmentation stage's options, each with its default and why, in one place (StyleGAN2-ADA's
 * habit): which pipeline, the strength p (fixed or adaptive), the adaptive heuristic's target and
 * speed, and the strengths of every transform. Pipelines are plain data (`ADA_PIPE_SPECS`), as
 * StyleGAN2-ADA's `augpipe_specs`.
 */
import { ADA_PIPELINES, type AdaPipelineName, DIFFAUGMENT_PARTS, isAugPipe, TRAIN_OPTIONS, type TrainAdvanced } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import type { AugmentConfig } from '../api/run-config.js';

export type { AugmentConfig, AugmentKind } from '../api/run-config.js';

/** What a preset says about augmentation: the kind, and optionally a pipeline. */
export type AugmentPreset = Pick<AugmentConfig, 'kind'> & Partial<Omit<AugmentConfig, 'kind'>>;

/** Defaults beyond the options table (pipeline, target and fixed p are the table's: core/api/train-options.ts). */
export const AUGMENT_DEFAULTS = {
  pipe: TRAIN_OPTIONS.augPipe.default as AdaPipelineName, // blit + geometric + colour: the paper's best on small sets
  diffAugmentPolicy: 'color,translation,cutout', // all of DiffAugment (Zhao et al. 2020)
  p: TRAIN_OPTIONS.augP.default, // null: adaptive
  target: TRAIN_OPTIONS.augTarget.default, // r_t target
  speedKimg: 500, // p can go 0 → 1 in 500 kimg
  speedKimgTransfer: 100, // faster from another run's weights: D overfits sooner (StyleGAN2-ADA's --resume)
  speedRunShare: 0.2, // but within a fifth of the run at most: a CPU run of 10–50 kimg would otherwise never move p
  interval: 4, // adjust p every 4 iterations
} as const;

/** Probability multipliers of the transforms (0: off, 1: fires with probability p). */
export interface PipeSpec {
  xflip: number;
  rotate90: number;
  xint: number;
  scale: number;
  rotate: number;
  aniso: number;
  xfrac: number;
  brightness: number;
  contrast: number;
  lumaflip: number;
  hue: number;
  saturation: number;
  imgfilter: number;
  noise: number;
  cutout: number;
}

export const NO_TRANSFORMS: PipeSpec = {
  xflip: 0, rotate90: 0, xint: 0,
  scale: 0, rotate: 0, aniso: 0, xfrac: 0,
  brightness: 0, contrast: 0, lumaflip: 0, hue: 0, saturation: 0,
  imgfilter: 0, noise: 0, cutout: 0,
};

const blit = { xflip: 1, rotate90: 1, xint: 1 };
const geom = { scale: 1, rotate: 1, aniso: 1, xfrac: 1 };
const color = { brightness: 1, contrast: 1, lumaflip: 1, hue: 1, saturation: 1 };

/** The pipelines by name (StyleGAN2-ADA's augpipe_specs). */
export const ADA_PIPE_SPECS: Record<AdaPipelineName, Partial<PipeSpec>> = {
  blit,
  geom,
  color,
  filter: { imgfilter: 1 },
  noise: { noise: 1 },
  cutout: { cutout: 1 },
  bg: { ...blit, ...geom },
  bgc: { ...blit, ...geom, ...color },
  bgcf: { ...blit, ...geom, ...color, imgfilter: 1 },
  bgcfn: { ...blit, ...geom, ...color, imgfilter: 1, noise: 1 },
  bgcfnc: { ...blit, ...geom, ...color, imgfilter: 1, noise: 1, cutout: 1 },
};

/** How strong each transform is when it fires (the paper's defaults, Appendix B). */
export const STRENGTHS = {
  xintMax: 0.125, // integer translation: uniform within ±0.125 of the size
  scaleStd: 0.2, // isotropic scale: log2-normal, std 0.2
  rotateMax: 1, // arbitrary rotation: uniform, 1 = the full circle
  anisoStd: 0.2, // anisotropic scale: log2-normal, std 0.2
  xfracStd: 0.125, // fractional translation: normal, std 0.125 of the size
  brightnessStd: 0.2, // brightness: added, normal, std 0.2 (images in [−1, 1])
  contrastStd: 0.5, // contrast: log2-normal, std 0.5
  hueMax: 1, // hue rotation: uniform, 1 = the full circle
  saturationStd: 1, // saturation: log2-normal, std 1
  imgfilterBands: [1, 1, 1, 1], // multipliers of the 4 frequency bands
  imgfilterStd: 1, // band gain: log2-normal, std 1
  noiseStd: 0.1, // additive noise: σ = |normal| · 0.1
  cutoutSize: 0.5, // cutout: a square of half the size
} as const;

/** The transforms a pipeline enables. */
export function pipeSpec(name: AdaPipelineName): PipeSpec {
  return { ...NO_TRANSFORMS, ...ADA_PIPE_SPECS[name] };
}

export function isAdaPipeline(name: string): name is AdaPipelineName {
  return (ADA_PIPELINES as readonly string[]).includes(name);
}

/** A DiffAugment policy from `diffaugment` or `diffaugment:color,cutout`. */
function diffAugmentPolicy(name: string): string {
  return name === 'diffaugment' ? AUGMENT_DEFAULTS.diffAugmentPolicy : name.slice('diffaugment:'.length);
}

/**
 * The default adaptation speed: StyleGAN2-ADA's 500 kimg (100 from another run's weights), but no
 * more than a fifth of the run's duration, so that p can rise within a short run.
 */
export function defaultSpeedKimg(runKimg: number, transfer: boolean): number {
  const paper = transfer ? AUGMENT_DEFAULTS.speedKimgTransfer : AUGMENT_DEFAULTS.speedKimg;
  return Math.min(paper, runKimg * AUGMENT_DEFAULTS.speedRunShare);
}

/**
 * The run's augmentation: the preset's, with the user's advanced settings (augPipe, augTarget,
 * augP, augSpeedKimg) on top. `runKimg`: the run's duration and `transfer`: it starts from another
 * run's weights, both for the default speed of p.
 */
export function resolveAugmentConfig(
  preset: AugmentPreset,
  a: Pick<TrainAdvanced, 'augPipe' | 'augTarget' | 'augP' | 'augSpeedKimg'>,
  runKimg: number,
  transfer: boolean,
): AugmentConfig {
  const set = (['augPipe', 'augTarget', 'augP', 'augSpeedKimg'] as const).filter((k) => a[k] !== undefined);
  if (preset.kind === 'none') {
    if (set.length > 0) {
      throw new UserError('invalid-request', `This preset trains without augmentation, so ${set.join(', ')} cannot apply. Pick the ADA preset, or leave the augmentation settings blank.`, set[0]);
    }
    return completeAugmentConfig({ kind: 'none' }, runKimg, transfer);
  }
  const pipe = a.augPipe ?? preset.pipe ?? AUGMENT_DEFAULTS.pipe;
  if (!isAugPipe(pipe)) {
    throw new UserError('invalid-request', `There is no augmentation pipeline "${pipe}". Use one of ${ADA_PIPELINES.join(', ')}, or diffaugment[:${DIFFAUGMENT_PARTS.join(',')}].`, 'augPipe');
  }
  if (pipe.startsWith('diffaugment')) {
    const adaOnly = set.filter((k) => k !== 'augPipe');
    if (adaOnly.length > 0) {
      throw new UserError('invalid-request', `DiffAugment augments every image every time, so ${adaOnly.join(', ')} cannot apply. Leave them blank, or pick an ADA pipeline.`, adaOnly[0]);
    }
    return completeAugmentConfig({ kind: 'diffaugment', pipe: diffAugmentPolicy(pipe) }, runKimg, transfer);
  }
  return completeAugmentConfig(
    {
      kind: 'ada',
      pipe,
      p: a.augP ?? preset.p ?? AUGMENT_DEFAULTS.p,
      target: a.augTarget ?? preset.target ?? AUGMENT_DEFAULTS.target,
      speedKimg: a.augSpeedKimg ?? preset.speedKimg ?? defaultSpeedKimg(runKimg, transfer),
    },
    runKimg,
    transfer,
  );
}

/** Fills what a stored or preset augmentation config leaves out (runs written before these fields existed). */
export function completeAugmentConfig(c: AugmentPreset, runKimg: number, transfer: boolean): AugmentConfig {
  const kind = c.kind;
  return {
    kind,
    pipe: c.pipe ?? (kind === 'ada' ? AUGMENT_DEFAULTS.pipe : kind === 'diffaugment' ? AUGMENT_DEFAULTS.diffAugmentPolicy : ''),
    p: kind === 'diffaugment' ? 1 : kind === 'none' ? 0 : (c.p ?? AUGMENT_DEFAULTS.p),
    target: c.target ?? AUGMENT_DEFAULTS.target,
    speedKimg: c.speedKimg ?? defaultSpeedKimg(runKimg, transfer),
    interval: c.interval ?? AUGMENT_DEFAULTS.interval,
  };
}
