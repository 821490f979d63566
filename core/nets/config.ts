/**
 * Architecture options for the generator and discriminator, with defaults, in one place. Channel
 * widths follow StyleGAN2-ADA: channels at resolution r = min(channelBase / r, channelMax), so
 * `channelBase` is the capacity knob (halve it to halve every width below the cap).
 */

export type { NetConfig } from '../api/run-config.js';

import type { NetConfig } from '../api/run-config.js';

export const DEFAULT_NET_CONFIG: Readonly<NetConfig> = {
  resolution: 256, // the most common size for the datasets this studio is for
  imageChannels: 3, // RGB
  numClasses: 0, // unconditional
  zDim: 512, // StyleGAN2
  wDim: 512, // StyleGAN2
  mappingLayers: 2, // StyleGAN2-ADA's 'auto' config (8 in the paper configs)
  mappingLrMul: 0.01, // StyleGAN2
  wAvgBeta: 0.995, // StyleGAN2
  channelBase: 16384, // StyleGAN2-ADA 'auto' below 512² (32768 at 512² and up)
  channelMax: 512, // StyleGAN2
  mbstdGroupSize: 4, // StyleGAN2-ADA 'auto'
  mbstdChannels: 1, // StyleGAN2
  cmapDim: 0, // channels at 4×4, as StyleGAN2-ADA
  seed: 0,
};

export const MIN_RESOLUTION = 16;
export const MAX_RESOLUTION = 1024;

function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

/** Defaults filled in and every field checked; throws with the offending setting named. */
export function resolveNetConfig(partial: Partial<NetConfig>): NetConfig {
  const c: NetConfig = { ...DEFAULT_NET_CONFIG, ...partial };
  const positiveInt = (k: keyof NetConfig, min = 1) => {
    const v = c[k];
    if (!Number.isInteger(v) || v < min) throw new Error(`Network setting ${k} must be an integer ≥ ${min}, got ${v}.`);
  };
  if (!isPowerOfTwo(c.resolution) || c.resolution < MIN_RESOLUTION || c.resolution > MAX_RESOLUTION) {
    throw new Error(`Network setting resolution must be a power of two from ${MIN_RESOLUTION} to ${MAX_RESOLUTION}, got ${c.resolution}.`);
  }
  positiveInt('imageChannels');
  positiveInt('numClasses', 0);
  positiveInt('zDim');
  positiveInt('wDim');
  positiveInt('mappingLayers');
  positiveInt('channelBase');
  positiveInt('channelMax');
  positiveInt('mbstdGroupSize');
  positiveInt('mbstdChannels');
  positiveInt('cmapDim', 0);
  if (!(c.mappingLrMul > 0)) throw new Error(`Network setting mappingLrMul must be > 0, got ${c.mappingLrMul}.`);
  if (!(c.wAvgBeta >= 0 && c.wAvgBeta < 1)) throw new Error(`Network setting wAvgBeta must be in [0, 1), got ${c.wAvgBeta}.`);
  if (channelsAt(c, c.resolution) < 1) {
    throw new Error(`Network setting channelBase ${c.channelBase} is too small for ${c.resolution}²: it gives no channels at full resolution.`);
  }
  if (channelsAt(c, 4) % c.mbstdChannels !== 0) {
    throw new Error(`Network setting mbstdChannels ${c.mbstdChannels} must divide the 4×4 channels (${channelsAt(c, 4)}).`);
  }
  return c;
}

/** Channels of the feature maps at resolution `res`. */
export function channelsAt(c: Pick<NetConfig, 'channelBase' | 'channelMax'>, res: number): number {
  return Math.min(Math.floor(c.channelBase / res), c.channelMax);
}

/** Resolutions of the synthesis blocks, 4 up to the output: [4, 8, …, resolution]. */
export function blockResolutions(resolution: number): number[] {
  const out: number[] = [];
  for (let r = 4; r <= resolution; r *= 2) out.push(r);
  return out;
}

/** Per-layer w count of the synthesis network (StyleGAN2: each toRGB shares the next conv's w). */
export function numWs(resolution: number): number {
  return 2 * Math.log2(resolution) - 2;
}
