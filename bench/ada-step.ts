/**
 * What ADA costs per training step: the full loop step (Gmain, Dmain, lazy R1 every 16 D steps,
 * G_ema) on real emoji, at the CPU sizes the studio picks, without augmentation and with ADA at
 * several strengths, DiffAugment too; and the pipeline alone (forward + gradient). Steps of all
 * modes are interleaved so that a busy machine slows them alike. Prints one JSON document on
 * stdout (progress on stderr).
 *
 *   node --import tsx bench/ada-step.ts [--sizes 16,32] [--steps 8] [--backend wasm]
 */
import { cpus } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { completeAugmentConfig, pipeSpec } from '../core/augment/config.js';
import { AugmentPipe } from '../core/augment/pipeline.js';
import { createAugmentStage } from '../core/augment/stage.js';
import type { AugmentConfig } from '../core/augment/config.js';
import { selectBackend, type BackendName } from '../core/backend/select.js';
import { Discriminator } from '../core/nets/discriminator.js';
import { Generator } from '../core/nets/generator.js';
import { resolveTrainConfig } from '../core/train/config.js';
import { ImageArraySource } from '../core/data/data-source.js';
import { TrainingLoop } from '../core/train/loop.js';
import { Rng } from '../core/random/rng.js';
import { emojiFiles, loadEmoji } from './lib/emoji.js';
import { median } from './lib/stats.js';

const log = (msg: string): void => void process.stderr.write(`${msg}\n`);

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

interface Mode {
  name: string;
  augment: AugmentConfig;
}

const ada = (pipe: string, p: number): AugmentConfig => ({ ...completeAugmentConfig({ kind: 'ada', pipe }, 1000, false), p });
const MODES: Mode[] = [
  { name: 'none', augment: completeAugmentConfig({ kind: 'none' }, 1000, false) },
  { name: 'ada bgc p=0', augment: ada('bgc', 0) },
  { name: 'ada bgc p=0.3', augment: ada('bgc', 0.3) },
  { name: 'ada bgc p=1', augment: ada('bgc', 1) },
  { name: 'ada bgcfnc p=1', augment: ada('bgcfnc', 1) },
  { name: 'diffaugment', augment: completeAugmentConfig({ kind: 'diffaugment' }, 1000, false) },
];

async function benchSize(r: number, steps: number, pixels: Uint8Array, count: number) {
  const base = resolveTrainConfig({ preset: 'baseline', kimg: 1000, seed: 0 }, { images: count, resolution: r, channels: 3, numClasses: 0 }, 'cpu');
  const loops = MODES.map((m) => {
    const config = { ...base, augment: m.augment };
    const data = new ImageArraySource({ pixels, count, resolution: r, channels: 3, labels: null, classNames: [], seed: 0 });
    const nets = { G: new Generator(config.net), D: new Discriminator(config.net), G_ema: new Generator(config.net) };
    return { mode: m, loop: new TrainingLoop(config, data, nets, { augment: createAugmentStage(config.augment) }), data, nets, ms: [] as number[] };
  });
  for (const l of loops) for (let i = 0; i < 2; i++) await l.loop.runStep(); // warm-up (kernels, Adam's moments)
  for (let s = 0; s < steps; s++) {
    for (const l of loops) {
      const t0 = performance.now();
      await l.loop.runStep();
      l.ms.push(performance.now() - t0);
    }
    log(`  ${r}² round ${s + 1}/${steps}: ${loops.map((l) => `${l.mode.name} ${l.ms.at(-1)!.toFixed(0)} ms`).join(', ')}`);
  }
  const baseMs = median(loops[0]!.ms);
  const modes = loops.map((l) => {
    const med = median(l.ms);
    return { mode: l.mode.name, msPerStep: { median: Math.round(med), mean: Math.round(l.ms.reduce((a, b) => a + b) / l.ms.length), all: l.ms.map(Math.round) }, overheadVsNone: Number((med / baseMs - 1).toFixed(3)) };
  });
  for (const l of loops) {
    l.loop.dispose();
    l.data.dispose();
    Object.values(l.nets).forEach((n) => n.dispose());
  }

  // The pipeline alone: one call forward and back at the loop's batch, on random images.
  const pipeline: Array<{ pipe: string; p: number; msPerCall: number }> = [];
  const x = tf.randomUniform([base.batch, r, r, 3], -1, 1) as tf.Tensor4D;
  for (const [pipe, p] of [['bgc', 0.3], ['bgc', 1], ['bgcfnc', 1]] as const) {
    const aug = new AugmentPipe(pipeSpec(pipe));
    const rng = Rng.fromSeed(1);
    const call = async () => {
      const g = tf.tidy(() => tf.grad((xx: tf.Tensor) => aug.apply(xx as tf.Tensor4D, p, rng).square().sum())(x));
      await g.data();
      g.dispose();
    };
    await call();
    const ms: number[] = [];
    for (let i = 0; i < 10; i++) {
      const t0 = performance.now();
      await call();
      ms.push(performance.now() - t0);
    }
    pipeline.push({ pipe, p, msPerCall: Number(median(ms).toFixed(1)) });
  }
  x.dispose();
  return { resolution: r, batch: base.batch, channelBase: base.net.channelBase, channelMax: base.net.channelMax, r1Interval: base.r1Interval, timedSteps: steps, modes, pipelineForwardBackward: pipeline };
}

const sizes = arg('sizes', '16,32').split(',').map(Number);
const steps = Number(arg('steps', '8'));
const backend = arg('backend', 'wasm') as BackendName;
const choice = await selectBackend({ prefer: backend, preferSource: 'bench --backend' });
const files = emojiFiles().slice(0, 256);
const results = [];
for (const r of sizes) {
  log(`${r}²…`);
  results.push(await benchSize(r, steps, await loadEmoji(files, r), files.length));
}
process.stdout.write(
  `${JSON.stringify(
    {
      benchmark: 'ada-step',
      what: 'ms per full training-loop step (Gmain, Dmain, lazy R1, G_ema; CPU sizes) without augmentation, with ADA at fixed p, with DiffAugment; and the pipeline alone (forward + gradient, one call; a step makes 3 calls, plus 1 in R1 steps)',
      date: new Date().toISOString(),
      machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, backend: choice.name },
      sizes: results,
    },
    null,
    2,
  )}\n`,
);
