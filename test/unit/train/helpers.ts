/** Shared by the training tests: a tiny config, real emoji in memory, a loop on the wasm backend. */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { createAugmentStage } from '../../../core/augment/stage.js';
import { resolveNetConfig } from '../../../core/nets/config.js';
import { Discriminator } from '../../../core/nets/discriminator.js';
import { Generator } from '../../../core/nets/generator.js';
import { resolveTrainConfig, type TrainConfig } from '../../../core/train/config.js';
import { ImageArraySource } from '../../../core/data/data-source.js';
import { type LoopOptions, type Nets, TrainingLoop } from '../../../core/train/loop.js';

export const EMOJI_DIR = join(import.meta.dirname, '../../../node_modules/emoji-datasource-twitter/img/twitter/64');

/** A 16² run with tiny widths (channels 16 everywhere, z and w 32), batch 8, ticks every 4 steps. */
export function tinyConfig(overrides: Partial<TrainConfig> = {}, numClasses = 0): TrainConfig {
  const base = resolveTrainConfig(
    { preset: 'baseline', kimg: 1, batch: 8, seed: 7, advanced: { channelBase: 256, channelMax: 16, tickKimg: 0.032, snapshotTicks: 1, conditional: numClasses >= 2 } },
    { images: 32, resolution: 16, channels: 3, numClasses },
  );
  const config = { ...base, ...overrides };
  return { ...config, net: resolveNetConfig({ ...config.net, zDim: 32, wDim: 32, ...overrides.net }) };
}

/** The first `count` emoji, flattened on white and scaled to `resolution`², as uint8 [N, R, R, 3]. */
export async function emojiPixels(count: number, resolution = 16): Promise<Uint8Array> {
  const files = readdirSync(EMOJI_DIR).filter((f) => f.endsWith('.png')).sort().slice(0, count);
  const per = resolution * resolution * 3;
  const out = new Uint8Array(files.length * per);
  await Promise.all(
    files.map(async (f, i) => {
      const { data } = await sharp(join(EMOJI_DIR, f)).flatten({ background: '#ffffff' }).resize(resolution, resolution).removeAlpha().raw().toBuffer({ resolveWithObject: true });
      out.set(data, i * per);
    }),
  );
  return out;
}

/** An in-memory source of `count` emoji (class = index mod numClasses when conditional). */
export function emojiSource(pixels: Uint8Array, config: TrainConfig): ImageArraySource {
  const r = config.net.resolution;
  const count = pixels.length / (r * r * 3);
  const k = config.net.numClasses;
  const labels = k > 0 ? Int32Array.from({ length: count }, (_, i) => i % k) : null;
  const classNames = Array.from({ length: k }, (_, i) => `class ${i}`);
  return new ImageArraySource({ pixels, count, resolution: r, channels: 3, labels, classNames, seed: config.seed, mirror: config.mirror });
}

export function makeNets(config: TrainConfig): Nets {
  return { G: new Generator(config.net), D: new Discriminator(config.net), G_ema: new Generator(config.net) };
}

/** A loop with fresh networks and the config's augmentation (unless `opts` gives one); `dispose()` frees everything. */
export function makeLoop(config: TrainConfig, pixels: Uint8Array, opts: LoopOptions = {}): TrainingLoop & { disposeAll(): void } {
  const nets = makeNets(config);
  const data = emojiSource(pixels, config);
  const loop = new TrainingLoop(config, data, nets, { augment: createAugmentStage(config.augment), ...opts }) as TrainingLoop & { disposeAll(): void };
  loop.disposeAll = () => {
    loop.dispose();
    data.dispose();
    nets.G.dispose();
    nets.D.dispose();
    nets.G_ema.dispose();
  };
  return loop;
}
