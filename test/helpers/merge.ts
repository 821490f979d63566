/**
 * Shared by the merge tests: tiny 16² generators (widths 16, z and w 32) trained here on emoji of
 * one category each, stored in a real project file as a run with a checkpoint (G, D, G_ema) and a
 * model promoted from it — the way a studio user's models are.
 */
import { checkpointMeta } from '../../core/generator/source.js';
import { Discriminator } from '../../core/nets/discriminator.js';
import { Generator } from '../../core/nets/generator.js';
import { ModelStore } from '../../core/store/models.js';
import type { Project } from '../../core/store/project.js';
import { RunStore } from '../../core/store/runs.js';
import { encodeTensors } from '../../core/nets/checkpoint-format.js';
import type { TrainConfig } from '../../core/train/config.js';
import { ImageArraySource } from '../../core/data/data-source.js';
import { type LoopState, TrainingLoop } from '../../core/train/loop.js';
import type { CheckpointState } from '../../core/train/checkpoint-state.js';
import { emojiFiles, loadEmoji } from '../../bench/lib/emoji.js';
import type { FeatureExtractor } from '../../core/metrics/inception.js';
import { tinyConfig } from '../unit/train/helpers.js';

/** A tiny 16² config without augmentation (channels 16, z and w 32), batch 8. */
export function tinyMergeConfig(seed: number, overrides: Partial<TrainConfig> = {}): TrainConfig {
  const base = tinyConfig({ seed, ...overrides });
  return { ...base, augment: { ...base.augment, kind: 'none' }, net: { ...base.net, seed } };
}

/** The first `count` emoji of a category (emoji-datasource-twitter's emoji.json), uint8 [count, 16, 16, 3]. */
export async function categoryPixels(category: string, count: number, resolution = 16): Promise<Uint8Array> {
  return loadEmoji(emojiFiles([category]).slice(0, count), resolution);
}

export interface Trained {
  config: TrainConfig;
  weights: Buffer;
  state: LoopState;
}

/** A generator trained `steps` steps on `pixels` (0: the networks as initialised). */
export async function trainTiny(pixels: Uint8Array, config: TrainConfig, steps: number): Promise<Trained> {
  const r = config.net.resolution;
  const data = new ImageArraySource({ pixels, count: pixels.length / (r * r * 3), resolution: r, channels: 3, labels: null, classNames: [], seed: config.seed });
  const nets = { G: new Generator(config.net), D: new Discriminator(config.net), G_ema: new Generator(config.net) };
  const loop = new TrainingLoop(config, data, nets);
  try {
    for (let i = 0; i < steps; i++) await loop.runStep();
    const { weights, state } = await loop.capture();
    return { config, weights, state };
  } finally {
    loop.dispose();
    data.dispose();
    nets.G.dispose();
    nets.D.dispose();
    nets.G_ema.dispose();
  }
}

/** Stores a trained generator as a run with one checkpoint and a model promoted from it. */
export function storeModel(project: Project, name: string, t: Trained): { runId: number; checkpointId: number; modelId: number } {
  const runs = new RunStore(project.db);
  const run = runs.createRun(`${name} run`, 'baseline', t.config, t.state.nimg / 1000);
  const state: CheckpointState = { format: 1, loop: t.state, config: t.config, classNames: [], backend: 'wasm' };
  const checkpointId = runs.saveCheckpoint(run.id, { kimg: t.state.nimg / 1000, step: t.state.step, weights: t.weights, state });
  runs.setStatus(run.id, 'done');
  // As Train → Promote does (core/gallery/sampler-host.ts).
  const c = checkpointMeta(project.db, checkpointId);
  const model = new ModelStore(project.db).insert({ name, checkpointId, runId: run.id, source: 'checkpoint', weights: encodeTensors(c.tensors), metadata: JSON.stringify(c.meta) });
  return { runId: run.id, checkpointId, modelId: model.id };
}

/** The crash test's merge: stages of 12 steps of 8, a checkpoint every 4 steps. */
export const TINY_MERGE = { kimgRoot: 0.096, kimgMerge: 0.096, seed: 5, batch: 8, tickKimg: 0.032, snapshotTicks: 1 } as const;

/**
 * Pixels as features (each image's values in [0, 1]): KID on them is the kernel MMD between the
 * image sets themselves. The unit tests use it for speed — the bundled InceptionV3 takes ~0.45 s
 * an image on wasm; bench/merge.ts measures with it.
 */
export const pixelFeatures: FeatureExtractor = {
  id: 'pixels',
  title: 'pixels',
  reference: false,
  dim: 16 * 16 * 3,
  inputSize: 16,
  async extract(images) {
    if (images.resolution !== 16 || images.channels !== 3) throw new Error('pixelFeatures: 16² RGB only');
    return Float32Array.from(images.pixels, (v) => v / 255);
  },
  dispose() {},
};
