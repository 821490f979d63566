/**
 * Merge benchmark (GAN Cocktail, Avrahami et al. 2022, on a CPU budget): two or three generators
 * trained here on disjoint emoji categories (emoji-datasource-twitter's emoji.json), merged into
 * one class-conditional generator, against the paper's baselines with the same training budget:
 *   (a) each source on its own (the quality to keep)
 *   (b) the merge: rooting every source but the root, averaging, the joint fine-tune
 *   (c) averaging without rooting: the sources' own networks averaged, then the joint fine-tune
 *   (d) TransferGAN: the root alone made conditional, then the joint fine-tune
 * Each arm trains (N − 1)·kimgRoot + kimgMerge kimg in all. Quality: per-class KID (core/metrics,
 * the InceptionV3 bundled with nsfwjs — not the reference TF-Inception) of each class's samples
 * against its category's real images, and against its source's samples (what the studio shows).
 * The goal: the merge's per-class KID within 1.5× of each source's own, and better than (c).
 *
 *   node --import tsx bench/merge.ts [--categories "Flags,Smileys & Emotion"] [--images 160]
 *        [--size 16] [--source-kimg 10] [--kimg-root 2] [--kimg-merge 4] [--reals 100]
 *        [--fakes 80] [--seed 0] [--backend wasm] [--work .bench-out/merge] [--no-save]
 *
 * Each KID is also given on raw pixels (kidPixels: the images' own values as features), which at
 * 16² tells colours and layout apart where the InceptionV3, fed 16² images upscaled to 299², sees
 * little.
 *
 * The trained sources are kept in --work (a project file) and reused by a later run with the same
 * source settings. Progress on stderr; one JSON document on stdout, also saved in bench/results/.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import * as tf from '@tensorflow/tfjs';
import { type BackendName, selectBackend } from '../core/backend/select.js';
import { buildGenerator } from '../core/generator/weights.js';
import { checkpointMeta } from '../core/generator/source.js';
import { featuresOf, generatorPixels, kid, sourcePixels } from '../core/merge/evaluate.js';
import { type MergeResult, runMerge } from '../core/merge/merge.js';
import { openMergeSources } from '../core/merge/open.js';
import type { MergeMethod } from '../core/merge/plan.js';
import { type FeatureSet, featureSet } from '../core/metrics/features.js';
import { loadBundledInception } from '../core/metrics/inception.js';
import { Discriminator } from '../core/nets/discriminator.js';
import { Generator } from '../core/nets/generator.js';
import { ModelStore } from '../core/store/models.js';
import { Project } from '../core/store/project.js';
import { RunStore } from '../core/store/runs.js';
import { encodeTensors } from '../core/nets/checkpoint-format.js';
import { resolveTrainConfig, type TrainConfig } from '../core/train/config.js';
import { ImageArraySource } from '../core/data/data-source.js';
import { TrainingLoop } from '../core/train/loop.js';
import type { CheckpointState } from '../core/train/checkpoint-state.js';
import { emojiFiles, loadEmoji } from './lib/emoji.js';

const { values: a } = parseArgs({
  options: {
    categories: { type: 'string', default: 'Flags,Smileys & Emotion' },
    images: { type: 'string', default: '160' },
    size: { type: 'string', default: '16' },
    'source-kimg': { type: 'string', default: '10' },
    'kimg-root': { type: 'string', default: '2' },
    'kimg-merge': { type: 'string', default: '4' },
    reals: { type: 'string', default: '100' },
    fakes: { type: 'string', default: '80' },
    seed: { type: 'string', default: '0' },
    backend: { type: 'string', default: 'wasm' },
    work: { type: 'string', default: '.bench-out/merge' },
    'no-save': { type: 'boolean', default: false },
  },
});
const o = {
  categories: a.categories!.split(',').map((c) => c.trim()),
  images: Number(a.images),
  size: Number(a.size),
  sourceKimg: Number(a['source-kimg']),
  kimgRoot: Number(a['kimg-root']),
  kimgMerge: Number(a['kimg-merge']),
  reals: Number(a.reals),
  fakes: Number(a.fakes),
  seed: Number(a.seed),
  backend: a.backend as BackendName,
  work: a.work!,
};
const log = (line: string): void => void process.stderr.write(`[merge] ${line}\n`);
const round = (v: number, d = 4): number => Math.round(v * 10 ** d) / 10 ** d;
const load = (): number[] => loadavg().map((v) => round(v, 2));
const t0 = performance.now();
/** Pixels in [0, 1] as features: KID on them is the kernel MMD between the image sets themselves. */
const pixelFeatures = (pixels: Uint8Array): FeatureSet => featureSet(Float32Array.from(pixels, (v) => v / 255), o.size * o.size * 3);
const since = (t: number): number => round((performance.now() - t) / 1000, 1);

// ---------------------------------------------------------------------------------------------
// Sources: one generator per category, trained here (kept in the work folder's project file).

/** The studio's defaults for a CPU run at this size (baseline: no augmentation), `kimg` long. */
function sourceConfig(kimg: number, seed: number, images: number): TrainConfig {
  return resolveTrainConfig({ preset: 'baseline', kimg, seed, backend: o.backend, advanced: { conditional: false, evalEvery: 0 } }, { images, resolution: o.size, channels: 3, numClasses: 0 }, 'cpu');
}

async function trainSource(project: Project, category: string, index: number, pixels: Uint8Array, count: number): Promise<{ seconds: number; steps: number }> {
  const config = sourceConfig(o.sourceKimg, o.seed * 100 + index + 1, count);
  const data = new ImageArraySource({ pixels, count, resolution: o.size, channels: 3, labels: null, classNames: [], seed: config.seed });
  const nets = { G: new Generator(config.net), D: new Discriminator(config.net), G_ema: new Generator(config.net) };
  const loop = new TrainingLoop(config, data, nets);
  const t = performance.now();
  try {
    const runs = new RunStore(project.db);
    const run = runs.createRun(`${category} (bench)`, 'baseline', config, config.kimg);
    await loop.run({
      requested: () => null,
      tick: (info) => log(`source "${category}": ${info.kimg.toFixed(1)} kimg, Loss/G ${info.stats['Loss/G']?.toFixed(3)}, Loss/D ${info.stats['Loss/D']?.toFixed(3)}, ${info.stats['img_s']?.toFixed(0)} img/s`),
      snapshot: async (reason) => {
        if (reason !== 'done') return;
        const { weights, state } = await loop.capture();
        const full: CheckpointState = { format: 1, loop: state, config, classNames: [], backend: tf.getBackend() };
        const checkpointId = runs.saveCheckpoint(run.id, { kimg: loop.kimg, step: loop.step, weights, state: full });
        runs.setStatus(run.id, 'done');
        const c = checkpointMeta(project.db, checkpointId);
        new ModelStore(project.db).insert({ name: category, checkpointId, runId: run.id, source: 'checkpoint', weights: encodeTensors(c.tensors), metadata: JSON.stringify(c.meta) });
      },
    });
    return { seconds: since(t), steps: loop.step };
  } finally {
    loop.dispose();
    data.dispose();
    nets.G.dispose();
    nets.D.dispose();
    nets.G_ema.dispose();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const loadStart = load();
  await selectBackend({ prefer: o.backend });
  log(`backend ${tf.getBackend()}, load ${loadStart.join(' ')}`);
  const n = o.categories.length;

  // Real images of each category (the reference for KID; the sources trained on the first `images`).
  const reals: Uint8Array[] = [];
  const counts: number[] = [];
  for (const c of o.categories) {
    const files = emojiFiles([c]);
    if (files.length < 8) throw new Error(`category "${c}" has ${files.length} emoji`);
    const count = Math.min(o.images, files.length);
    reals.push(await loadEmoji(files.slice(0, count), o.size));
    counts.push(count);
  }

  // The sources, trained once per set of source settings.
  mkdirSync(o.work, { recursive: true });
  const key = createHash('sha256').update(JSON.stringify({ c: o.categories, i: o.images, s: o.size, k: o.sourceKimg, seed: o.seed, b: o.backend })).digest('hex').slice(0, 12);
  const path = join(o.work, `sources-${key}.atelier`);
  const infoPath = join(o.work, `sources-${key}.json`);
  let sourceTraining: Array<{ category: string; seconds: number; steps: number }>;
  if (existsSync(path) && existsSync(infoPath)) {
    sourceTraining = JSON.parse(readFileSync(infoPath, 'utf8')) as typeof sourceTraining;
    log(`reusing the sources in ${path}`);
  } else {
    for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
    const project = Project.create(path, 'merge bench', { appVersion: 'bench' });
    sourceTraining = [];
    for (let i = 0; i < n; i++) {
      log(`training the source "${o.categories[i]}" (${counts[i]} images, ${o.sourceKimg} kimg)`);
      sourceTraining.push({ category: o.categories[i]!, ...(await trainSource(project, o.categories[i]!, i, reals[i]!, counts[i]!)) });
    }
    project.close();
    writeFileSync(infoPath, JSON.stringify(sourceTraining));
  }
  const project = Project.open(path);
  const sources = await openMergeSources(o.categories.map((c) => ({ kind: 'model' as const, model: c })), { db: project.db });

  // Features: the extractor once; reals and each source's samples once.
  const extractor = await loadBundledInception();
  const tEval = performance.now();
  let evalSeconds = 0;
  const timed = async <T>(f: () => Promise<T>): Promise<T> => {
    const t = performance.now();
    try {
      return await f();
    } finally {
      evalSeconds += (performance.now() - t) / 1000;
    }
  };
  const realFeatures: FeatureSet[] = [];
  const realPixels: FeatureSet[] = [];
  for (let i = 0; i < n; i++) {
    const m = Math.min(o.reals, counts[i]!);
    const px = reals[i]!.subarray(0, m * o.size * o.size * 3);
    realFeatures.push(await timed(() => featuresOf(extractor, px, o.size, 3)));
    realPixels.push(pixelFeatures(px));
  }
  const sourceFeatures: FeatureSet[] = [];
  const sourcePixelSets: FeatureSet[] = [];
  for (const s of sources) {
    const px = await sourcePixels(s, o.fakes, 0x5eed, o.size, 3);
    sourceFeatures.push(await timed(() => featuresOf(extractor, px, o.size, 3)));
    sourcePixelSets.push(pixelFeatures(px));
  }
  log(`features of reals and sources: ${since(tEval)} s`);
  const arms: Record<string, unknown> = {};
  arms['a_sources'] = {
    perClass: o.categories.map((c, i) => ({
      className: c,
      kidVsReal: round(kid(realFeatures[i]!, sourceFeatures[i]!).kid),
      kidVsRealStd: round(kid(realFeatures[i]!, sourceFeatures[i]!).std),
      kidPixelsVsReal: round(kid(realPixels[i]!, sourcePixelSets[i]!).kid),
      kidVsOtherReals: realFeatures.map((rf, j) => (j === i ? NaN : round(kid(rf, sourceFeatures[i]!).kid))).filter((v) => !Number.isNaN(v)),
    })),
  };

  // The arms with one budget: (N − 1)·kimgRoot + kimgMerge kimg of training each.
  const budget = (n - 1) * o.kimgRoot + o.kimgMerge;
  const runArm = async (method: MergeMethod): Promise<{ result: MergeResult; seconds: number }> => {
    const t = performance.now();
    const settings = method === 'cocktail' ? { kimgRoot: o.kimgRoot, kimgMerge: o.kimgMerge } : { kimgRoot: o.kimgRoot, kimgMerge: budget };
    const out = await runMerge({
      sources,
      settings: { ...settings, method, seed: o.seed, classes: o.categories },
      previewImages: 0,
      callbacks: {
        checkpoint: () => {},
        log: (l) => log(`[${method}] ${l}`),
        progress: (() => {
          let last = 0;
          return (p) => {
            if (p.phase !== 'training' || Date.now() - last < 60_000) return;
            last = Date.now();
            log(`[${method}] stage ${p.stage + 1}/${p.stages} ${p.title}: ${p.kimg.toFixed(2)}/${p.kimgTotal} kimg, Loss/G ${p.stats['Loss/G']?.toFixed(3) ?? '-'}, Loss/D ${p.stats['Loss/D']?.toFixed(3) ?? '-'} (load ${load().join(' ')})`);
          };
        })(),
      },
    });
    return { result: out.result!, seconds: since(t) };
  };
  type ClassRow = { className: string; kidVsReal: number; kidVsRealStd: number; kidPixelsVsReal: number; kidVsOwnSource: number; kidVsOtherSources: number[]; kidVsOtherReals: number[] };
  const perClass = async (result: MergeResult): Promise<ClassRow[]> => {
    const G = buildGenerator(result.meta, result.weights, 'the merged generator');
    try {
      const out: ClassRow[] = [];
      const others = (sets: FeatureSet[], c: number, f: FeatureSet): number[] => sets.map((sf, j) => (j === c ? NaN : round(kid(sf, f).kid))).filter((v) => !Number.isNaN(v));
      for (let c = 0; c < n; c++) {
        const px = await generatorPixels(G, c, o.fakes, 0xc1a55);
        const f = await timed(() => featuresOf(extractor, px, o.size, 3));
        out.push({
          className: o.categories[c]!,
          kidVsReal: round(kid(realFeatures[c]!, f).kid),
          kidVsRealStd: round(kid(realFeatures[c]!, f).std),
          kidPixelsVsReal: round(kid(realPixels[c]!, pixelFeatures(px)).kid),
          kidVsOwnSource: round(kid(sourceFeatures[c]!, f).kid),
          kidVsOtherSources: others(sourceFeatures, c, f),
          kidVsOtherReals: others(realFeatures, c, f),
        });
      }
      return out;
    } finally {
      G.dispose();
    }
  };
  const sizeOf = (bytes: number): number => round(bytes / 1024, 1);
  const rootBytes = new ModelStore(project.db).weights(new ModelStore(project.db).find(o.categories[0]!)!.id).length;
  for (const [name, method] of [['b_merge', 'cocktail'], ['c_average_without_rooting', 'average'], ['d_transfergan', 'transfer']] as const) {
    log(`arm ${name} (${method}), load ${load().join(' ')}`);
    const { result, seconds } = await runArm(method);
    const classes = await perClass(result);
    arms[name] = {
      method,
      seconds,
      kimg: round(result.stages.reduce((s, x) => s + x.kimg, 0), 3),
      stages: result.stages.map((s) => ({ kind: s.kind, source: s.source === null ? null : o.categories[s.source], steps: s.steps, kimg: round(s.kimg, 3), seconds: round(s.seconds, 1) })),
      perClass: classes,
      meanKidVsReal: round(classes.reduce((s, c) => s + c.kidVsReal, 0) / n),
      meanKidPixelsVsReal: round(classes.reduce((s, c) => s + c.kidPixelsVsReal, 0) / n),
      modelKiB: sizeOf(result.weights.length),
    };
    log(`arm ${name}: ${JSON.stringify(classes)}`);
  }
  extractor.dispose();
  sources.forEach((s) => s.dispose());

  // The goal, per class: the merge within 1.5× of the source's own KID, and better than (c).
  type Row = { kidVsReal: number; kidPixelsVsReal: number };
  const src = (arms['a_sources'] as { perClass: Row[] }).perClass;
  const merge = (arms['b_merge'] as { perClass: Row[] }).perClass;
  const avg = (arms['c_average_without_rooting'] as { perClass: Row[] }).perClass;
  const goal = o.categories.map((c, i) => ({
    className: c,
    mergeOverSource: round(merge[i]!.kidVsReal / Math.max(1e-9, src[i]!.kidVsReal), 2),
    within1_5x: merge[i]!.kidVsReal <= 1.5 * Math.max(0, src[i]!.kidVsReal),
    betterThanAveraging: merge[i]!.kidVsReal < avg[i]!.kidVsReal,
    pixels: {
      mergeOverSource: round(merge[i]!.kidPixelsVsReal / Math.max(1e-9, src[i]!.kidPixelsVsReal), 2),
      within1_5x: merge[i]!.kidPixelsVsReal <= 1.5 * Math.max(0, src[i]!.kidPixelsVsReal),
      betterThanAveraging: merge[i]!.kidPixelsVsReal < avg[i]!.kidPixelsVsReal,
    },
  }));
  const loadEnd = load();
  const report = {
    benchmark: 'merge',
    what: 'GAN Cocktail on two or three 16² emoji generators trained here: per-class KID of each source, the merge, averaging without rooting and TransferGAN, the same training budget per arm',
    date: new Date().toISOString(),
    machine: { cpu: cpus()[0]?.model ?? '?', cores: cpus().length, node: process.version, backend: tf.getBackend(), loadAverageStart: loadStart, loadAverageEnd: loadEnd },
    options: { ...o, budgetKimgPerArm: budget, modelsRootKiB: sizeOf(rootBytes) },
    quality: 'KID (core/metrics, InceptionV3 bundled with nsfwjs: not the reference TF-Inception); kidVsReal: a class\'s samples against its category\'s real images (kidVsRealStd: the spread over KID\'s 100 subsets); kidPixelsVsReal: the same on raw pixels; kidVsOwnSource / kidVsOtherSources: against its own / the other sources\' samples (the studio\'s per-class evaluation); kidVsOtherReals: against the other categories\' reals; lower is better',
    sourceTraining,
    arms,
    goal,
    evaluationSeconds: round(evalSeconds, 1),
    wallSeconds: since(t0),
  };
  const json = JSON.stringify(report, null, 2);
  process.stdout.write(`${json}\n`);
  if (!a['no-save']) {
    const file = new URL(`./results/merge-${o.size}px-${n}src-${o.kimgRoot}+${o.kimgMerge}kimg.json`, import.meta.url).pathname;
    writeFileSync(file, `${json}\n`);
    log(`saved ${file}`);
  }
  project.close();
}

await main();
