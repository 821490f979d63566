/**
 * Vision-aided ablation (Kumari et al., CVPR 2022, on a CPU budget): the same small real set (≤ 500
 * emoji), the same seed and the same kimg, trained with ADA alone and with ADA + vision-aided
 * judges (core/vision/, k-progressive). Per tick: KID of G_ema's samples against held-out reals
 * (bundled InceptionV3 — not the reference TF-Inception), the losses, each judge's r_t and p, and
 * the selections with their probe accuracies. Also the per-step cost of each candidate backbone
 * (forward + backward to the image at the run's batch and judge input) on the backend used.
 *
 * The paper's claim: vision-aided reaches a given KID in fewer kimg.
 *
 *   node --import tsx bench/vision-ablation.ts [--size 16] [--images 100] [--heldout 100] [--kimg 2]
 *        [--tick-kimg 0.5] [--backbones mobilenetv2-1.0,mobilenetv2] [--k 1] [--select-at 0.5]
 *        [--warmup-kimg 0.1] [--vision-input 32] [--kid-fakes 50] [--seed 0] [--backend wasm] [--sequential]
 *        [--partial results.json]
 *
 * The defaults are a short smoke run (minutes); a meaningful comparison needs tens of kimg. Runs go
 * in parallel child processes (one wasm thread each) unless --sequential. Progress on stderr, one
 * JSON document on stdout. `--partial FILE`: the same document, rewritten after every tick of
 * either run (`complete: false` until both end), so a run stopped early keeps what it measured.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import type { TrainAdvanced } from '../core/api/train-options.js';
import type { VisionSelection } from '../core/api/vision.js';
import { selectBackend, type BackendName } from '../core/backend/select.js';
import { createAugmentStage } from '../core/augment/stage.js';
import { ImageArraySource } from '../core/data/data-source.js';
import { FeaturePair, featureSet, type FeatureSet } from '../core/metrics/features.js';
import { type FeatureExtractor, type ImageBatch, loadBundledInception } from '../core/metrics/inception.js';
import { kernelInceptionDistance } from '../core/metrics/kid.js';
import { Discriminator } from '../core/nets/discriminator.js';
import { type Generator, Generator as GeneratorClass } from '../core/nets/generator.js';
import { permutation, Rng } from '../core/random/rng.js';
import { resolveTrainConfig } from '../core/train/config.js';
import { type TickInfo, TrainingLoop } from '../core/train/loop.js';
import { judgeSecondsPerStep } from '../core/vision/cost.js';
import { VisionEnsemble } from '../core/vision/ensemble.js';
import { emojiFiles, loadEmoji } from './lib/emoji.js';

const CATEGORIES = ['Smileys & Emotion', 'People & Body', 'Animals & Nature'];
const RUNS = ['ada', 'vision'] as const;
type RunName = (typeof RUNS)[number];

function parseOptions(argv: string[]) {
  const get = (name: string): string | undefined => {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const images = Number(get('images') ?? 100);
  if (images > 500) throw new Error('--images: at most 500 (the few-image regime this checks)');
  return {
    size: Number(get('size') ?? 16),
    images,
    heldout: Number(get('heldout') ?? 100),
    kimg: Number(get('kimg') ?? 2),
    tickKimg: Number(get('tick-kimg') ?? 0.5),
    backbones: get('backbones') ?? 'mobilenetv2-1.0,mobilenetv2',
    k: Number(get('k') ?? 1),
    selectAt: get('select-at') ?? '0.5',
    warmupKimg: Number(get('warmup-kimg') ?? 0.1),
    visionInput: Number(get('vision-input') ?? 32),
    kidFakes: Number(get('kid-fakes') ?? 50),
    seed: Number(get('seed') ?? 0),
    backend: (get('backend') ?? 'wasm') as BackendName,
    sequential: argv.includes('--sequential'),
    partial: get('partial') ?? null,
    child: (get('child') as RunName | undefined) ?? null,
  };
}
type Options = ReturnType<typeof parseOptions>;

const log = (msg: string): void => void process.stderr.write(`${msg}\n`);

async function pixels(images: tf.Tensor4D): Promise<ImageBatch> {
  const [n, r, , c] = images.shape;
  const u8 = Uint8Array.from(await images.data(), (x) => Math.max(0, Math.min(255, Math.round((x + 1) * 127.5))));
  return { pixels: u8, count: n, resolution: r, channels: c };
}

/** KID of `fakes` samples of G_ema (fixed latents) against the held-out reals (features once). */
function kidOf(fakes: number, heldOut: tf.Tensor4D): (G: Generator) => Promise<number> {
  let extractor: FeatureExtractor | null = null;
  let real: FeatureSet | null = null;
  return async (G) => {
    extractor ??= await loadBundledInception();
    real ??= featureSet((await extractor.extract(await pixels(heldOut)))!, extractor.dim);
    const images = tf.tidy(() => G.generate(tf.randomNormal([fakes, G.config.zDim], 0, 1, 'float32', 4321) as tf.Tensor2D, undefined, { noise: 'const' }));
    const batch = await pixels(images);
    images.dispose();
    return kernelInceptionDistance(new FeaturePair(real, featureSet((await extractor.extract(batch))!, extractor.dim))).kid;
  };
}

/** Seconds per forward + backward (to the image) of each judge at batch `n` (core/vision/cost.ts). */
async function judgeCosts(vision: VisionEnsemble, n: number, r: number): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const j of vision.judges) out[j.id] = Number((await judgeSecondsPerStep(j, n, r)).toFixed(3));
  return out;
}

interface TickRow {
  kimg: number;
  seconds: number;
  kid: number;
  lossG: number;
  lossD: number;
  p: number;
  judges: Record<string, { lossD?: number; lossG?: number; rt?: number; p?: number }>;
}

async function trainOne(run: RunName, o: Options) {
  await selectBackend({ prefer: o.backend, preferSource: 'bench --backend' });
  const pool = emojiFiles(CATEGORIES);
  const order = permutation(pool.length, Rng.fromSeed(o.seed, 0x5350));
  const pick = (from: number, n: number) => Array.from(order.subarray(from, from + n), (i) => pool[i]!);
  const r = o.size;
  const trainPixels = await loadEmoji(pick(0, o.images), r);
  const heldOut = tf.tensor4d(Float32Array.from(await loadEmoji(pick(o.images, o.heldout), r), (v) => v / 127.5 - 1), [o.heldout, r, r, 3]);
  const advanced: TrainAdvanced = { tickKimg: o.tickKimg, snapshotTicks: 1_000_000 };
  if (run === 'vision') Object.assign(advanced, { visionBackbones: o.backbones, visionK: o.k, visionSelectAt: o.selectAt, visionWarmupKimg: o.warmupKimg, visionInput: o.visionInput });
  const config = resolveTrainConfig({ preset: run === 'ada' ? 'ada' : 'vision-aided', kimg: o.kimg, seed: o.seed, advanced }, { images: o.images, resolution: r, channels: 3, numClasses: 0 }, 'cpu');
  const data = new ImageArraySource({ pixels: trainPixels, count: o.images, resolution: r, channels: 3, labels: null, classNames: [], seed: o.seed });
  const nets = { G: new GeneratorClass(config.net), D: new Discriminator(config.net), G_ema: new GeneratorClass(config.net) };
  const vision = config.vision ? await VisionEnsemble.load(config.vision, { lr: config.dLr, betas: config.betas, epsilon: config.epsilon, seed: config.seed }) : null;
  const costs = vision ? await judgeCosts(vision, config.batch, r) : {};
  if (vision) log(`[${run}] seconds per forward+backward at batch ${config.batch}, ${config.vision!.inputSize}²: ${JSON.stringify(costs)}`);
  const stage = createAugmentStage(config.augment);
  const loop = new TrainingLoop(config, data, nets, { augment: stage, ...(vision ? { extras: vision.judges } : {}) });
  const kid = kidOf(o.kidFakes, heldOut);
  const ticks: TickRow[] = [];
  const selections: VisionSelection[] = [];
  const started = performance.now();
  await loop.run({
    tick: async (t: TickInfo) => {
      if (vision?.due(t.kimg)) {
        const s = await vision.select(t.kimg, nets.G_ema, data);
        if (s) selections.push(s);
        log(`[${run}] selection at ${t.kimg} kimg: ${JSON.stringify(s)}`);
      }
      const judges: TickRow['judges'] = {};
      for (const j of vision?.judges ?? []) {
        if (!j.enabledAt(t.kimg)) continue;
        judges[j.id] = { lossD: t.stats[`Loss/D/${j.name}`], lossG: t.stats[`Loss/G/${j.name}`], rt: t.stats[`Vision/${j.id}/r_t`], p: t.stats[`Vision/${j.id}/p`] };
      }
      const row: TickRow = { kimg: Number(t.kimg.toFixed(3)), seconds: Number(t.seconds.toFixed(1)), kid: Number((await kid(nets.G_ema)).toPrecision(4)), lossG: t.stats['Loss/G']!, lossD: t.stats['Loss/D']!, p: stage.p, judges };
      ticks.push(row);
      process.stdout.write(`${JSON.stringify({ tick: row, selections })}\n`); // for the parent's --partial file
      log(`[${run}] kimg ${row.kimg} KID ${row.kid} (${row.seconds} s) ${JSON.stringify(judges)}`);
    },
    snapshot: () => {},
    requested: () => null,
  });
  const trainSeconds = Number(((performance.now() - started) / 1000).toFixed(0));
  loop.dispose();
  vision?.dispose();
  heldOut.dispose();
  data.dispose();
  Object.values(nets).forEach((n) => n.dispose());
  return { run, batch: config.batch, vision: config.vision, judgeSecondsPerStep: costs, selections, trainSeconds, ticks };
}

type RunResult = Awaited<ReturnType<typeof trainOne>>;
/** What a run has reported so far: its ticks and selections (the whole result once it ends). */
type PartialRun = Pick<RunResult, 'run' | 'ticks' | 'selections'> & Partial<RunResult>;

/** Runs one arm in a child; `onTick` after each of its ticks with what it reported so far. */
function runInChild(run: RunName, argv: string[], onTick: (so: PartialRun) => void): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), ...argv, '--child', run], { stdio: ['ignore', 'pipe', 'inherit'] });
    const so: PartialRun = { run, ticks: [], selections: [] };
    let buffered = '';
    let result: RunResult | undefined;
    child.stdout.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (line.trim() === '') continue;
        const msg = JSON.parse(line) as { tick?: TickRow; selections?: VisionSelection[] } & Partial<RunResult>;
        if (msg.tick !== undefined) {
          so.ticks.push(msg.tick);
          so.selections = msg.selections ?? [];
          onTick(so);
        } else {
          result = msg as RunResult;
        }
      }
    });
    child.on('exit', (code) => (result !== undefined ? resolve(result) : reject(new Error(`run ${run} ended (exit ${code}) without a result`))));
  });
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const o = parseOptions(argv);
  if (o.child !== null) {
    process.stdout.write(`${JSON.stringify(await trainOne(o.child, o))}\n`);
    process.exit(0);
  }
  const started = Date.now();
  const load = loadavg()[0];
  const so: Record<RunName, PartialRun> = { ada: { run: 'ada', ticks: [], selections: [] }, vision: { run: 'vision', ticks: [], selections: [] } };
  const document = (complete: boolean) => {
    const [ada, vis] = [so.ada, so.vision];
    // The paper's claim, on this run: the first kimg at which each reaches the ADA run's best KID.
    const target = Math.min(...ada.ticks.map((t) => t.kid));
    const firstAt = (ticks: TickRow[]): number | null => ticks.find((t) => t.kid <= target)?.kimg ?? null;
    return {
      benchmark: 'vision-ablation',
      what: 'the same ≤500 real emoji, seed and kimg: ADA alone vs ADA + vision-aided judges (k-progressive); KID of G_ema vs held-out reals per tick (bundled InceptionV3, not the reference TF-Inception); per-step cost of each backbone',
      date: new Date().toISOString(),
      complete,
      machine: { cpu: cpus()[0]?.model ?? 'unknown', cores: cpus().length, loadAtStart: load, node: process.version, backend: o.backend },
      options: { ...o, child: undefined, partial: undefined, categories: CATEGORIES },
      wallSeconds: Math.round((Date.now() - started) / 1000),
      claim: { adaBestKid: Number.isFinite(target) ? target : null, kimgToReachIt: { ada: firstAt(ada.ticks), vision: firstAt(vis.ticks) }, finalKid: { ada: ada.ticks.at(-1)?.kid, vision: vis.ticks.at(-1)?.kid } },
      runs: [ada, vis],
    };
  };
  const onTick = (run: PartialRun): void => {
    so[run.run] = run;
    if (o.partial !== null) writeFileSync(o.partial, `${JSON.stringify(document(false), null, 2)}\n`);
  };
  const arm = async (run: RunName): Promise<void> => void (so[run] = await runInChild(run, argv, onTick));
  if (o.sequential) {
    await arm('ada');
    await arm('vision');
  } else {
    await Promise.all(RUNS.map(arm));
  }
  const doc = document(true);
  if (o.partial !== null) writeFileSync(o.partial, `${JSON.stringify(doc, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(doc, null, 2)}\n`);
}

await main();
