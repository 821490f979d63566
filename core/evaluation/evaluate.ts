/**
 * One evaluation of a generator: features of a fixed sample of the dataset (cached per project
 * and extractor) and of images from fixed latents through G_ema, then every metric of the
 * registry and the collapse statistic. Runs in an engine worker (the train worker between ticks,
 * or the evaluate worker), never on the service's event loop. The extractor is loaded for the
 * evaluation and disposed of after it; no tensor outlives the call.
 */
import type Database from 'better-sqlite3';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import type { BundledFeatures, QualityAnchors } from '../api/run-config.js';
import { readFloatsAndDispose } from '../backend/read.js';
import { type Generator, oneHotLabels } from '../nets/generator.js';
import { MetricsStore } from '../store/metrics.js';
import { decodePixels } from '../data/data-source.js';
import { hashInts, permutation, Rng } from '../random/rng.js';
import { diagonal, FeaturePair, featureSet } from '../metrics/features.js';
import { type CustomExtractorSpec, type FeatureExtractor, loadExtractor } from '../metrics/inception.js';
import { computeMetrics, METRIC_IDS } from '../metrics/registry.js';
import { kidMetric } from '../metrics/kid.js';
import { nearestReals, qualityScore } from '../metrics/quality.js';
import { tfDot } from '../metrics/tf-dot.js';

export interface EvaluationPlan {
  /** Dataset images to compare with (at most the dataset). */
  reals: number;
  /** Generated images. */
  fakes: number;
  /** Seeds the latents (the run's seed: the same images at every evaluation). */
  seed: number;
  /** Only labelled images (a conditional run trains on those). */
  conditional: boolean;
  extractor: CustomExtractorSpec | null;
  /** The bundled network when `extractor` is null; default 'inception'. */
  features?: BundledFeatures;
  /** The quality scale's ends, already measured for this extractor and these sizes (the outcome carries them on). */
  anchors?: QualityAnchors | null;
  /** Measure the anchors with this untrained generator (same config, initial weights) when `anchors` does not fit. */
  untrained?: Generator | null;
  /** Generated images shown beside their nearest dataset image; default 4. */
  nearest?: number;
}

/** A generated image beside the dataset image nearest to it in feature space. */
export interface NearestOutcome {
  fake: number;
  realImageId: number;
  distance: number;
  /** distance over the median gap between dataset images (below ~0.5: likely a copy). */
  ratio: number;
  /** Both as PNG at the training resolution. */
  samplePng: Buffer;
  realPng: Buffer;
}

export interface EvaluationOutcome {
  /** By series name: every metric of the registry, 'Metrics/diversity', and 'Metrics/quality' (0–100) once the anchors are known. */
  values: Record<string, number>;
  /** The quality scale's ends (measured now, or those given), or null without them. */
  anchors: QualityAnchors | null;
  nearest: NearestOutcome[];
  realCount: number;
  fakeCount: number;
  extractor: { id: string; title: string; reference: boolean };
  /** Features per second of the extractor in this evaluation. */
  featuresPerSecond: number;
  /** Images that went through the extractor (reals not cached yet + fakes). */
  extracted: number;
  seconds: number;
}

export interface EvaluateOptions {
  /** Asked between batches: true abandons the evaluation (the result is null). */
  shouldStop?: () => boolean;
  /** Images through the extractor so far, of the total this evaluation needs. */
  onProgress?: (done: number, total: number) => void;
  /** An extractor already loaded (bench, tests); it is not disposed of. Default: load one for this call. */
  extractorInstance?: FeatureExtractor;
}

/** The generated side: images per forward pass of G. */
const GENERATE_BATCH = 8;

/** Evaluates `G` (G_ema) against the project's dataset. Null when asked to stop. */
export async function evaluateGenerator(db: Database.Database, G: Generator, plan: EvaluationPlan, o: EvaluateOptions = {}): Promise<EvaluationOutcome | null> {
  const t0 = performance.now();
  const store = new MetricsStore(db);
  const { resolution: r, imageChannels: c } = G.config;

  const realIds = sampleRealIds(db, plan.reals, plan.conditional);
  if (realIds.length < 2) throw new Error(`The dataset has ${realIds.length} image${realIds.length === 1 ? '' : 's'} to compare with; the metrics need at least 2.`);

  const extractor = o.extractorInstance ?? (await loadExtractor(plan.extractor, plan.features ?? 'inception'));
  try {
    // The anchors: measured once per run (they hold for one extractor and these sizes).
    const given = plan.anchors ?? null;
    const anchorsFit = given !== null && given.extractor === extractor.id && given.reals === realIds.length && given.fakes === plan.fakes;
    const measureAnchors = !anchorsFit && (plan.untrained ?? null) !== null;
    // The self anchor's other dataset images: the next ones of the fixed shuffle (from the start again in a small dataset).
    const otherIds = measureAnchors ? otherRealIds(db, realIds.length, plan.fakes, plan.conditional) : [];
    const cached = store.imageFeatures(extractor.id, [...realIds, ...otherIds]);
    const missing = [...new Set([...realIds, ...otherIds])].filter((id) => !cached.has(id));
    const total = missing.length + plan.fakes * (measureAnchors ? 2 : 1);
    let done = 0;
    const progress = (n: number): void => o.onProgress?.(done + n, total);
    const extractStart = performance.now();

    // Real features: the cached ones, then the rest (decoded from the project, extracted, stored a
    // batch at a time: an evaluation stopped half-way keeps what it did).
    const chunk = 8;
    for (let start = 0; start < missing.length; start += chunk) {
      const part = missing.slice(start, start + chunk);
      const pixels = await decodeImages(db, part, r, c);
      const f = await extractor.extract({ pixels, count: part.length, resolution: r, channels: c }, { shouldStop: o.shouldStop, onProgress: progress });
      if (f === null) return null;
      const entries = part.map((imageId, i) => ({ imageId, features: f.slice(i * extractor.dim, (i + 1) * extractor.dim) }));
      store.saveImageFeatures(extractor.id, entries);
      for (const e of entries) cached.set(e.imageId, e.features);
      done += part.length;
    }
    const real = new Float32Array(realIds.length * extractor.dim);
    realIds.forEach((id, i) => real.set(cached.get(id)!, i * extractor.dim));

    // Generated features: fixed latents (and classes in turn), constant noise, quantised to 8 bits as the reals are.
    const showNearest = Math.min(plan.nearest ?? 4, plan.fakes);
    const generated = async (gen: Generator, keep: number): Promise<{ features: Float32Array; pixels: Uint8Array } | null> => {
      const fake = new Float32Array(plan.fakes * extractor.dim);
      const kept = new Uint8Array(keep * r * r * c);
      const z = tf.randomNormal([plan.fakes, gen.config.zDim], 0, 1, 'float32', hashInts(plan.seed, 0x6576616c) || 1) as tf.Tensor2D; // [F, zDim]
      try {
        for (let start = 0; start < plan.fakes; start += GENERATE_BATCH) {
          if (o.shouldStop?.()) return null;
          const n = Math.min(GENERATE_BATCH, plan.fakes - start);
          const images = tf.tidy(() => {
            const k = gen.config.numClasses;
            const labels = k > 0 ? oneHotLabels(Array.from({ length: n }, (_, i) => (start + i) % k), k) : undefined;
            const x = gen.generate(z.slice([start, 0], [n, -1]), labels, { noise: 'const' }); // [n, R, R, C] in about [−1, 1]
            return x.clipByValue(-1, 1).add(1).mul(127.5).round();
          });
          const pixels = Uint8Array.from(await readFloatsAndDispose(images));
          if (start < keep) kept.set(pixels.subarray(0, Math.min(n, keep - start) * r * r * c), start * r * r * c);
          const f = await extractor.extract({ pixels, count: n, resolution: r, channels: c }, { shouldStop: o.shouldStop, onProgress: progress });
          if (f === null) return null;
          fake.set(f, start * extractor.dim);
          done += n;
        }
      } finally {
        z.dispose();
      }
      return { features: fake, pixels: kept };
    };
    const made = await generated(G, showNearest);
    if (made === null) return null;
    const fake = made.features;

    // The quality scale's ends: the untrained generator on the same latents, and other dataset images as a perfect generator's samples.
    let anchors: QualityAnchors | null = anchorsFit ? given : null;
    if (measureAnchors) {
      const untrained = await generated(plan.untrained!, 0);
      if (untrained === null) return null;
      const other = new Float32Array(otherIds.length * extractor.dim);
      otherIds.forEach((id, i) => other.set(cached.get(id)!, i * extractor.dim));
      const kid = (f: Float32Array): number => kidMetric.compute(new FeaturePair(featureSet(real, extractor.dim), featureSet(f, extractor.dim)), { seed: plan.seed })['Metrics/kid']!;
      anchors = { untrained: kid(untrained.features), self: kid(other), extractor: extractor.id, reals: realIds.length, fakes: plan.fakes };
    }
    const extractSeconds = (performance.now() - extractStart) / 1000;

    // The metrics, and how spread out the generated images are compared with the reals.
    const pair = new FeaturePair(featureSet(real, extractor.dim), featureSet(fake, extractor.dim));
    await pair.fill(tfDot); // the Gram matrices on the backend: seconds instead of minutes at thousands of images
    const values = computeMetrics(METRIC_IDS, pair, { seed: plan.seed, skipUnavailable: true });
    values['Metrics/diversity'] = meanPairwiseDistance(pair.fakeGram(), plan.fakes) / meanPairwiseDistance(pair.realGram(), realIds.length);
    const quality = anchors && values['Metrics/kid'] !== undefined ? qualityScore(values['Metrics/kid'], anchors) : null;
    if (quality !== null) values['Metrics/quality'] = quality;

    // A few samples beside their nearest dataset image.
    const nearest: NearestOutcome[] = [];
    const per = r * r * c;
    for (const p of nearestReals(pair.real, pair.fake, showNearest)) {
      const realImageId = realIds[p.real]!;
      const samplePng = await sharp(Buffer.from(made.pixels.subarray(p.fake * per, (p.fake + 1) * per)), { raw: { width: r, height: r, channels: c as 1 | 3 } }).png().toBuffer();
      nearest.push({ fake: p.fake, realImageId, distance: p.distance, ratio: p.ratio, samplePng, realPng: await storedPng(db, realImageId) });
    }
    return {
      values,
      anchors,
      nearest,
      realCount: realIds.length,
      fakeCount: plan.fakes,
      extractor: { id: extractor.id, title: extractor.title, reference: extractor.reference },
      featuresPerSecond: extractSeconds > 0 ? total / extractSeconds : NaN,
      extracted: total,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    if (!o.extractorInstance) extractor.dispose();
  }
}

/**
 * The dataset images an evaluation compares with: the first `count` of a fixed shuffle of the
 * dataset, so every evaluation (and every run) of the project uses the same ones and their cached
 * features. Only labelled images for a conditional run.
 */
export function sampleRealIds(db: Database.Database, count: number, conditional: boolean): number[] {
  const ids = db
    .prepare<[], { id: number }>(conditional ? 'SELECT id FROM images WHERE label_id IS NOT NULL ORDER BY id' : 'SELECT id FROM images ORDER BY id')
    .all()
    .map((row) => row.id);
  const order = permutation(ids.length, Rng.fromSeed(0x7265616c));
  return Array.from(order.subarray(0, Math.min(count, ids.length)), (i) => ids[i]!);
}

/** The self anchor's dataset images: `count` after the evaluation's first `taken` of the fixed shuffle, from its start again when the dataset runs out. */
export function otherRealIds(db: Database.Database, taken: number, count: number, conditional: boolean): number[] {
  const all = sampleRealIds(db, Number.MAX_SAFE_INTEGER, conditional);
  const rest = all.slice(taken, taken + count);
  for (let i = 0; rest.length < count && i < all.length; i++) rest.push(all[i]!);
  return rest;
}

/** An image's stored PNG (its normalised pixels). */
async function storedPng(db: Database.Database, id: number): Promise<Buffer> {
  const png = db.prepare<[number], { pixels: Buffer }>('SELECT pixels FROM images WHERE id = ?').get(id)?.pixels;
  if (!png) throw new Error(`Image ${id} vanished from the dataset during an evaluation.`);
  return png;
}

/** Mean Euclidean distance between distinct members of a set, from its Gram matrix. */
export function meanPairwiseDistance(gram: Float64Array, n: number): number {
  if (n < 2) return NaN;
  const norms = diagonal(gram, n);
  let sum = 0;
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) sum += Math.sqrt(Math.max(0, norms[i]! + norms[j]! - 2 * gram[i * n + j]!));
  return sum / ((n * (n - 1)) / 2);
}

/** The stored images' pixels, [N, R, R, C] uint8. */
async function decodeImages(db: Database.Database, ids: readonly number[], resolution: number, channels: number): Promise<Uint8Array> {
  const get = db.prepare<[number], { pixels: Buffer }>('SELECT pixels FROM images WHERE id = ?');
  const per = resolution * resolution * channels;
  const out = new Uint8Array(ids.length * per);
  await Promise.all(
    ids.map(async (id, i) => {
      const png = get.get(id)?.pixels;
      if (!png) throw new Error(`Image ${id} vanished from the dataset during an evaluation.`);
      out.set(await decodePixels(png, resolution, channels, id), i * per);
    }),
  );
  return out;
}
