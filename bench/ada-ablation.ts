/**
 * ADA ablation (Karras et al. 2020, §3–4, on a CPU budget): the same small real set, the same
 * seed and the same number of images shown to D, trained without augmentation and with ADA. Per
 * tick: r_t (the overfitting signal ADA steers), p, D's accuracy on held-out reals it never trained
 * on (the overfitting symptom: it falls as D memorises the training reals), the same on training
 * reals, and a quality measure of G_ema.
 *
 * The paper's claim: without augmentation r_t climbs toward 1 while held-out accuracy falls and
 * quality stalls or degrades; with ADA r_t holds near its target and quality keeps improving.
 *
 * Quality is a hook, `quality(ctx) → number`, so KID plugs in once core/metrics has it; until then
 * it is D's held-out accuracy, and each tick also reports `kidPixels`, a crude KID on raw pixels
 * (cubic polynomial kernel) between G_ema's samples and the held-out reals — lower is better, but it
 * sees colours and layout, not what a feature network sees.
 *
 *   node --import tsx bench/ada-ablation.ts [--size 16] [--images 500] [--heldout 200] [--kimg 20]
 *        [--tick-kimg 1] [--runs none,ada] [--augpipe bgc] [--target 0.6] [--ada-kimg K]
 *        [--seed 0] [--backend wasm] [--sequential]
 *
 * Runs go in parallel child processes (one wasm thread each) unless --sequential. Progress lines
 * on stderr, one JSON document on stdout.
 */
import { spawn } from 'node:child_process';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { AdaStage } from '../core/augment/ada.js';
import { createAugmentStage } from '../core/augment/stage.js';
import { readFloats } from '../core/backend/read.js';
import { selectBackend, type BackendName } from '../core/backend/select.js';
import { Discriminator } from '../core/nets/discriminator.js';
import { Generator } from '../core/nets/generator.js';
import { resolveTrainConfig, type TrainConfig } from '../core/train/config.js';
import { ImageArraySource } from '../core/data/data-source.js';
import { type TickInfo, TrainingLoop } from '../core/train/loop.js';
import { permutation, Rng } from '../core/random/rng.js';
import { emojiFiles, loadEmoji } from './lib/emoji.js';
import { FeaturePair, featureSet, type FeatureSet } from '../core/metrics/features.js';
import { type FeatureExtractor, type ImageBatch, loadBundledInception } from '../core/metrics/inception.js';
import { kernelInceptionDistance } from '../core/metrics/kid.js';

/** Faces, people, animals: 714 Twemoji of one broad kind. */
const CATEGORIES = ['Smileys & Emotion', 'People & Body', 'Animals & Nature'];
const RUNS = ['none', 'ada', 'diffaugment'] as const;
type RunName = (typeof RUNS)[number];

interface Options {
  size: number;
  images: number;
  heldout: number;
  kimg: number;
  tickKimg: number;
  runs: RunName[];
  augpipe: string;
  target: number;
  adaKimg: number | null;
  seed: number;
  backend: BackendName;
  sequential: boolean;
  child: RunName | null;
  /** 'accuracy' (D on held-out reals) or 'kid' (KID of G_ema's samples against the held-out reals, bundled InceptionV3). */
  quality: 'accuracy' | 'kid';
  /** Generated images per KID evaluation. */
  kidFakes: number;
}

function parseOptions(argv: string[]): Options {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const runs = (get('runs') ?? 'none,ada').split(',') as RunName[];
  for (const r of runs) if (!RUNS.includes(r)) throw new Error(`--runs: ${r} is not one of ${RUNS.join(', ')}`);
  const ada = get('ada-kimg');
  return {
    size: Number(get('size') ?? 16),
    images: Number(get('images') ?? 500),
    heldout: Number(get('heldout') ?? 200),
    kimg: Number(get('kimg') ?? 20),
    tickKimg: Number(get('tick-kimg') ?? 1),
    runs,
    augpipe: get('augpipe') ?? 'bgc',
    target: Number(get('target') ?? 0.6),
    adaKimg: ada === undefined ? null : Number(ada),
    seed: Number(get('seed') ?? 0),
    backend: (get('backend') ?? 'wasm') as BackendName,
    sequential: argv.includes('--sequential'),
    child: (get('child') as RunName | undefined) ?? null,
    quality: get('quality') === 'kid' ? 'kid' : 'accuracy',
    kidFakes: Number(get('kid-fakes') ?? 100),
  };
}

const log = (msg: string): void => void process.stderr.write(`${msg}\n`);

// ---------------------------------------------------------------------------------------------
// Quality: the hook, its default, and the diagnostics every tick reports.

/** What a quality measure may look at. */
export interface QualityContext {
  /** The generator to judge (previews and exports use it). */
  G_ema: Generator;
  D: Discriminator;
  /** Reals D never trained on, [N, R, R, C] in [−1, 1]. */
  heldOut: tf.Tensor4D;
}

/** A number per tick saying how good G_ema is (or, until a metric exists, how D generalises). */
export type Quality = (ctx: QualityContext) => Promise<number>;

/** D's logits on images, in chunks (no augmentation: what D makes of the images themselves). */
async function logitsOf(D: Discriminator, images: tf.Tensor4D): Promise<Float32Array> {
  const n = images.shape[0];
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 50) {
    const m = Math.min(50, n - i);
    out.set(await readFloats(tf.tidy(() => D.apply(images.slice([i, 0, 0, 0], [m, -1, -1, -1])))), i);
  }
  return out;
}

/** Share of images D calls real (logit > 0). */
const accuracy = (logits: Float32Array): number => logits.filter((v) => v > 0).length / logits.length;
/** E[sign(logit)], as r_t but on these images. */
const signMean = (logits: Float32Array): number => logits.reduce((s, v) => s + Math.sign(v), 0) / logits.length;

/** The default quality until KID exists: D's accuracy on held-out reals (falls as D overfits). */
export const heldOutAccuracy: Quality = async ({ D, heldOut }) => accuracy(await logitsOf(D, heldOut));

/**
 * KID (core/metrics, bundled InceptionV3) of `fakes` samples of G_ema from fixed latents against
 * the held-out reals, whose features are computed once. Lower is better.
 */
export function inceptionKid(fakes: number, seed: number): Quality {
  let extractor: FeatureExtractor | null = null;
  let real: FeatureSet | null = null;
  const pixels = async (images: tf.Tensor4D): Promise<ImageBatch> => {
    const [n, r, , c] = images.shape;
    const u8 = await images.data().then((v) => Uint8Array.from(v, (x) => Math.max(0, Math.min(255, Math.round((x + 1) * 127.5)))));
    return { pixels: u8, count: n, resolution: r, channels: c };
  };
  return async ({ G_ema, heldOut }) => {
    extractor ??= await loadBundledInception();
    if (real === null) {
      const f = await extractor.extract(await pixels(heldOut));
      real = featureSet(f!, extractor.dim);
    }
    const images = tf.tidy(() => G_ema.generate(tf.randomNormal([fakes, G_ema.config.zDim], 0, 1, 'float32', seed) as tf.Tensor2D, undefined, { noise: 'const' }));
    const batch = await pixels(images);
    images.dispose();
    const fake = featureSet((await extractor.extract(batch))!, extractor.dim);
    return kernelInceptionDistance(new FeaturePair(real, fake)).kid;
  };
}

/** Unbiased KID (MMD², cubic polynomial kernel) between two sets of vectors [n, d]. */
export function kid(x: Float64Array[], y: Float64Array[]): number {
  const d = x[0]!.length;
  const k = (a: Float64Array, b: Float64Array): number => {
    let s = 0;
    for (let i = 0; i < d; i++) s += a[i]! * b[i]!;
    return (s / d + 1) ** 3;
  };
  const within = (s: Float64Array[]): number => {
    let t = 0;
    for (let i = 0; i < s.length; i++) for (let j = i + 1; j < s.length; j++) t += k(s[i]!, s[j]!);
    return (2 * t) / (s.length * (s.length - 1));
  };
  let cross = 0;
  for (const a of x) for (const b of y) cross += k(a, b);
  return within(x) + within(y) - (2 * cross) / (x.length * y.length);
}

async function rows(images: tf.Tensor4D): Promise<Float64Array[]> {
  const [n] = images.shape;
  const data = await readFloats(images);
  const per = data.length / n;
  return Array.from({ length: n }, (_, i) => Float64Array.from(data.subarray(i * per, (i + 1) * per)));
}

// ---------------------------------------------------------------------------------------------
// One run.

interface TickRow {
  kimg: number;
  seconds: number;
  /** Mean r_t over the tick (E[sign D(augmented real)]). */
  rt: number;
  /** p at the end of the tick (0 without augmentation). */
  p: number;
  /** The quality hook's value (default: D's accuracy on held-out reals). */
  quality: number;
  accHeldOut: number;
  accTrain: number;
  signHeldOut: number;
  signTrain: number;
  /** D's accuracy on fakes during the tick (augmented as D saw them). */
  accFake: number;
  kidPixels: number;
  lossG: number;
  lossD: number;
  imgPerSec: number;
}

async function trainOne(run: RunName, o: Options, quality: Quality = heldOutAccuracy): Promise<{ run: RunName; config: Pick<TrainConfig, 'batch' | 'augment' | 'r1Gamma' | 'net'>; ticks: TickRow[] }> {
  await selectBackend({ prefer: o.backend, preferSource: 'bench --backend' });
  // The split: a seeded shuffle of the pool, the first `images` to train on, the next `heldout` kept apart.
  const pool = emojiFiles(CATEGORIES);
  if (o.images + o.heldout > pool.length) throw new Error(`only ${pool.length} emoji in ${CATEGORIES.join(', ')}`);
  const order = permutation(pool.length, Rng.fromSeed(o.seed, 0x5350));
  const pick = (from: number, n: number) => Array.from(order.subarray(from, from + n), (i) => pool[i]!);
  const r = o.size;
  const trainPixels = await loadEmoji(pick(0, o.images), r);
  const heldPixels = await loadEmoji(pick(o.images, o.heldout), r);
  const toTensor = (px: Uint8Array, n: number) => tf.tensor4d(Float32Array.from(px, (v) => v / 127.5 - 1), [n, r, r, 3]);
  const heldOut = toTensor(heldPixels, o.heldout);
  const trainProbe = toTensor(trainPixels.subarray(0, Math.min(o.images, o.heldout) * r * r * 3), Math.min(o.images, o.heldout));
  const heldRows = await rows(heldOut);

  const advanced: NonNullable<Parameters<typeof resolveTrainConfig>[0]['advanced']> = { tickKimg: o.tickKimg, snapshotTicks: 1_000_000 };
  if (run === 'ada') {
    advanced.augPipe = o.augpipe;
    advanced.augTarget = o.target;
    if (o.adaKimg !== null) advanced.augSpeedKimg = o.adaKimg;
  }
  if (run === 'diffaugment') advanced.augPipe = 'diffaugment';
  const config = resolveTrainConfig({ preset: run === 'none' ? 'baseline' : 'ada', kimg: o.kimg, seed: o.seed, advanced }, { images: o.images, resolution: r, channels: 3, numClasses: 0 }, 'cpu');
  const data = new ImageArraySource({ pixels: trainPixels, count: o.images, resolution: r, channels: 3, labels: null, classNames: [], seed: o.seed });
  const nets = { G: new Generator(config.net), D: new Discriminator(config.net), G_ema: new Generator(config.net) };
  const stage = createAugmentStage(config.augment);
  const loop = new TrainingLoop(config, data, nets, { augment: stage });
  const z = tf.randomNormal([o.heldout, config.net.zDim], 0, 1, 'float32', 1234);
  const ticks: TickRow[] = [];

  await loop.run({
    tick: async (t: TickInfo) => {
      const [held, train] = [await logitsOf(nets.D, heldOut), await logitsOf(nets.D, trainProbe)];
      const samples = tf.tidy(() => nets.G_ema.generate(z as tf.Tensor2D, undefined, { noise: 'const' }));
      const kidPixels = kid(await rows(samples), heldRows);
      samples.dispose();
      const row: TickRow = {
        kimg: Number(t.kimg.toFixed(3)),
        seconds: Number(t.seconds.toFixed(1)),
        rt: t.stats['r_t']!,
        p: stage.p,
        quality: await quality({ G_ema: nets.G_ema, D: nets.D, heldOut }),
        accHeldOut: accuracy(held),
        accTrain: accuracy(train),
        signHeldOut: signMean(held),
        signTrain: signMean(train),
        accFake: t.stats['D/acc/fake']!,
        kidPixels,
        lossG: t.stats['Loss/G']!,
        lossD: t.stats['Loss/D']!,
        imgPerSec: t.stats['img_s']!,
      };
      const round = (v: number) => (Number.isFinite(v) ? Number(v.toPrecision(4)) : v);
      for (const k of Object.keys(row) as Array<keyof TickRow>) row[k] = round(row[k]);
      ticks.push(row);
      log(`[${run}] kimg ${row.kimg} r_t ${row.rt.toFixed(3)} p ${row.p.toFixed(3)} held-out acc ${row.accHeldOut.toFixed(3)} train acc ${row.accTrain.toFixed(3)} kidPixels ${row.kidPixels.toFixed(4)} ${row.imgPerSec.toFixed(1)} img/s`);
    },
    snapshot: () => {},
    requested: () => null,
  });
  if (stage instanceof AdaStage) log(`[${run}] final p ${stage.p.toFixed(4)}`);
  z.dispose();
  heldOut.dispose();
  trainProbe.dispose();
  loop.dispose();
  data.dispose();
  Object.values(nets).forEach((n) => n.dispose());
  return { run, config: { batch: config.batch, augment: config.augment, r1Gamma: config.r1Gamma, net: config.net }, ticks };
}

function runInChild(run: RunName, argv: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...argv, '--child', run], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', (code) => {
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? ''));
      } catch {
        reject(new Error(`run ${run} ended (exit ${code}) without a result`));
      }
    });
  });
}

/** What each run's ticks say, for the closing note. */
function summary(ticks: TickRow[]) {
  const last = ticks.at(-1)!;
  const firstHalf = ticks.slice(0, Math.ceil(ticks.length / 2));
  const secondHalf = ticks.slice(Math.ceil(ticks.length / 2));
  const mean = (xs: TickRow[], k: keyof TickRow) => Number((xs.reduce((s, r) => s + r[k], 0) / xs.length).toFixed(4));
  const bestKid = ticks.reduce((b, r) => (r.kidPixels < b.kidPixels ? r : b));
  return {
    final: { kimg: last.kimg, rt: last.rt, p: last.p, accHeldOut: last.accHeldOut, accTrain: last.accTrain, kidPixels: last.kidPixels },
    rt: { max: Math.max(...ticks.map((r) => r.rt)), meanFirstHalf: mean(firstHalf, 'rt'), meanSecondHalf: mean(secondHalf, 'rt') },
    accHeldOut: { meanFirstHalf: mean(firstHalf, 'accHeldOut'), meanSecondHalf: mean(secondHalf, 'accHeldOut') },
    accTrain: { meanFirstHalf: mean(firstHalf, 'accTrain'), meanSecondHalf: mean(secondHalf, 'accTrain') },
    kidPixels: { best: bestKid.kidPixels, bestAtKimg: bestKid.kimg, final: last.kidPixels },
    seconds: Number(ticks.reduce((s, r) => s + r.seconds, 0).toFixed(0)),
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = parseOptions(argv);
  if (o.child !== null) {
    process.stdout.write(`${JSON.stringify(await trainOne(o.child, o, o.quality === 'kid' ? inceptionKid(o.kidFakes, 4321) : heldOutAccuracy))}\n`);
    process.exit(0);
  }
  const started = Date.now();
  const results = (o.sequential ? await o.runs.reduce<Promise<unknown[]>>(async (acc, r) => [...(await acc), await runInChild(r, argv)], Promise.resolve([])) : await Promise.all(o.runs.map((r) => runInChild(r, argv)))) as Array<
    Awaited<ReturnType<typeof trainOne>>
  >;
  const doc = {
    benchmark: 'ada-ablation',
    what: 'the same real set, seed and kimg, without augmentation and with ADA: per tick r_t, p, D accuracy on held-out and on training reals (no augmentation), a crude pixel-space KID of G_ema vs held-out reals',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, node: process.version, backend: o.backend },
    options: { ...o, child: undefined, categories: CATEGORIES },
    wallSeconds: Math.round((Date.now() - started) / 1000),
    quality:
      o.quality === 'kid'
        ? `KID (core/metrics, InceptionV3 bundled with nsfwjs: not the reference TF-Inception) of ${o.kidFakes} samples of G_ema against the ${o.heldout} held-out reals; lower is better`
        : 'D accuracy on held-out reals (--quality kid: KID with the bundled InceptionV3)',
    runs: results.map((r) => ({ ...r, summary: summary(r.ticks) })),
  };
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

await main();
