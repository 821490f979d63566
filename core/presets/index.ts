/**
 * Training presets as data: what a non-expert picks in the Train view. Each sets the defaults
 * that differ from core/train/config.ts; the user's own settings still win.
 */
import type { PresetInfo } from '../api/contract.js';
import type { AugmentPreset } from '../augment/config.js';

export interface DatasetShape {
  images: number;
  numClasses: number;
}

export interface Preset {
  id: string;
  title: string;
  /** Two plain sentences: what it does, when to pick it. */
  summary: string;
  defaults: {
    augment: AugmentPreset;
    /** Use the labels as classes when the dataset has 2 or more. */
    conditional?: boolean;
    /** Frozen pretrained networks join as extra judges (core/vision/, settings: ./vision.ts). */
    vision?: boolean;
  };
  /** Why the studio suggests this preset for a dataset, or null. */
  recommend(d: DatasetShape): string | null;
  /** Why it cannot be used on a dataset, or null. */
  unavailable(d: DatasetShape): string | null;
}

const presets: readonly Preset[] = [
  {
    id: 'baseline',
    title: 'Baseline',
    summary:
      'A StyleGAN2-style generator and discriminator trained the standard way, with no augmentation. Pick it for large, varied datasets (several thousand images or more), or to compare against the other presets.',
    defaults: { augment: { kind: 'none' }, conditional: true },
    recommend: (d) => (d.images >= 5000 ? `${d.images.toLocaleString('en')} images is enough to train without augmentation.` : null),
    unavailable: (d) => (d.images === 0 ? 'Import images first.' : null),
  },
  {
    id: 'ada',
    title: 'ADA — for small datasets',
    summary:
      'The discriminator only ever sees augmented images (flipped, rotated, shifted, recoloured), real and generated alike, so it cannot memorise the few real ones. How often images are augmented adapts by itself, rising when the discriminator starts to overfit.',
    defaults: { augment: { kind: 'ada', pipe: 'bgc' }, conditional: true },
    recommend: (d) => (d.images > 0 && d.images < 5000 ? `With ${d.images.toLocaleString('en')} images, the discriminator would soon memorise them without augmentation.` : null),
    unavailable: (d) => (d.images === 0 ? 'Import images first.' : null),
  },
  {
    id: 'vision-aided',
    title: 'Vision-aided — learns faster from few images',
    summary:
      'Besides the studio’s own discriminator, networks already trained on millions of photos judge the samples, so the generator gets useful feedback long before it could learn it from a few hundred images. Partway through, the studio adds the network that best tells your images from the samples, and ADA’s augmentation stays on.',
    defaults: { augment: { kind: 'ada', pipe: 'bgc' }, conditional: true, vision: true },
    recommend: () => null,
    unavailable: (d) => (d.images === 0 ? 'Import images first.' : null),
  },
];

export function listPresets(): readonly Preset[] {
  return presets;
}

export function getPreset(id: string): Preset | undefined {
  return presets.find((p) => p.id === id);
}

export function presetInfos(d: DatasetShape): PresetInfo[] {
  return presets.map((p) => {
    const unavailableReason = p.unavailable(d);
    return {
      id: p.id,
      title: p.title,
      summary: p.summary,
      recommendedBecause: unavailableReason ? null : p.recommend(d),
      available: unavailableReason === null,
      unavailableReason,
      augments: p.defaults.augment.kind !== 'none',
      vision: p.defaults.vision === true,
    };
  });
}
