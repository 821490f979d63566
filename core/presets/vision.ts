/**
 * The vision-aided preset's settings, resolved: the user's options (core/api/train-options.ts,
 * group 'vision') over defaults scaled to the run's length, with why. The paper (Kumari et al.,
 * CVPR 2022) trains thousands of kimg: 224² inputs, a 500 kimg warm-up, judges added after
 * 4000 / 1000 / 1000 kimg at 1k images. A studio run is 10–200 kimg, so those are scaled to it.
 */
import { AUTO_BACKBONES, BACKBONE_IDS, type BackboneId, type VisionConfig } from '../api/vision.js';
import { TRAIN_OPTIONS, type TrainAdvanced } from '../api/train-options.js';
import { UserError } from '../api/errors.js';

/** Defaults beyond the options table. */
export const VISION_DEFAULTS = {
  inputGpu: 224, // the backbones' native size (the paper's)
  inputCpu: 64, // a CPU step at 224² takes ~10 s at batch 8 (issue 16's measure): 64² keeps it near a second
  warmupShare: 0.05, // λ = 0 for a twentieth of the run after a judge joins (the paper: 500 of ~6000+ kimg)
  selectShares: [0.1, 0.25, 0.4], // when judges join, as shares of the run (train with D alone first, as the paper)
  probeImages: 256, // reals and as many samples for the linear probe (the paper: up to 10k; CPU time)
  adaTarget: 0.3, // each judge's own ADA target (the paper's bgc for vision-aided D)
  adaSpeedShare: 0.2, // its p can cross [0, 1] in a fifth of the run (as D's ADA here), at most 500 kimg
  headChannels: 64, // the heads' width
} as const;

/** k by the run's length: one judge for a short run, up to three for a long one. */
export function defaultK(kimg: number): number {
  return kimg >= 100 ? 3 : kimg >= 20 ? 2 : 1;
}

/** The vision options that were set (for "this preset does not use …"). */
export const VISION_KEYS = ['visionBackbones', 'visionK', 'visionInput', 'visionWarmupKimg', 'visionSelectAt'] as const;

function parseBackbones(text: string | undefined): BackboneId[] {
  if (text === undefined || text.trim() === '' || text.trim() === 'auto') return [...AUTO_BACKBONES];
  const ids = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const unknown = ids.filter((id) => !(BACKBONE_IDS as readonly string[]).includes(id));
  if (unknown.length > 0 || ids.length === 0) {
    throw new UserError('invalid-request', `${TRAIN_OPTIONS.visionBackbones.label}: there is no bundled network "${unknown[0] ?? text}". Use auto, or some of ${BACKBONE_IDS.join(', ')}.`, 'visionBackbones');
  }
  if (new Set(ids).size !== ids.length) throw new UserError('invalid-request', `${TRAIN_OPTIONS.visionBackbones.label}: a network is named twice in "${text}".`, 'visionBackbones');
  return ids as BackboneId[];
}

function parseSelectAt(text: string, kimg: number): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const values = parts.map(Number);
  const label = TRAIN_OPTIONS.visionSelectAt.label;
  if (parts.some((p) => p === '') || values.some((v) => !Number.isFinite(v))) {
    throw new UserError('invalid-request', `${label}: "${text}" is not a list of kimg like 5,10,15.`, 'visionSelectAt');
  }
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (v <= 0 || v >= kimg) throw new UserError('invalid-request', `${label}: ${v} kimg is outside the run (more than 0, less than its ${kimg} kimg).`, 'visionSelectAt');
    if (i > 0 && v <= values[i - 1]!) throw new UserError('invalid-request', `${label}: the points must rise (${values[i - 1]} then ${v}).`, 'visionSelectAt');
  }
  return values;
}

/** The run's vision config from the advanced settings, its duration and where it trains. */
export function resolveVisionConfig(a: Pick<TrainAdvanced, (typeof VISION_KEYS)[number]>, kimg: number, compute: 'gpu' | 'cpu', classes = 0): VisionConfig {
  const candidates = parseBackbones(a.visionBackbones);
  const k = Math.min(a.visionK ?? defaultK(kimg), candidates.length);
  const round = (v: number): number => Math.round(v * 1000) / 1000;
  const selectAt = a.visionSelectAt !== undefined ? parseSelectAt(a.visionSelectAt, kimg) : VISION_DEFAULTS.selectShares.slice(0, k).map((s) => round(s * kimg));
  if (selectAt.length < k) {
    throw new UserError('invalid-request', `${TRAIN_OPTIONS.visionSelectAt.label}: ${selectAt.length} point(s) for ${k} judges. Give one kimg per judge, or lower k.`, 'visionSelectAt');
  }
  return {
    candidates,
    k,
    inputSize: a.visionInput ?? (compute === 'gpu' ? VISION_DEFAULTS.inputGpu : VISION_DEFAULTS.inputCpu),
    warmupKimg: a.visionWarmupKimg ?? round(kimg * VISION_DEFAULTS.warmupShare),
    selectAt: selectAt.slice(0, k),
    loss: 'sigmoid',
    probeImages: VISION_DEFAULTS.probeImages,
    adaTarget: VISION_DEFAULTS.adaTarget,
    adaSpeedKimg: Math.min(500, kimg * VISION_DEFAULTS.adaSpeedShare),
    headChannels: VISION_DEFAULTS.headChannels,
    classes,
  };
}

/** What the preset card says about the schedule, in words. */
export function scheduleWords(v: VisionConfig): string {
  return `up to ${v.k} judge${v.k === 1 ? '' : 's'}, picked at ${v.selectAt.join(', ')} kimg, each steering the generator ${v.warmupKimg} kimg after it joins; images at ${v.inputSize}²`;
}
