/**
 * One evaluation of a generator: features of a fixed sample of the dataset (cached per project
 * and extractor) and of images from fixed latents through G_ema, then every metric of the
 * registry and the collapse statistic. Runs in an engine worker (the train worker between ticks,
 * or the evaluate worker), never on the service's event loop. The extractor is loaded for the
 * evaluation and disposed of after it; no tensor outlives the call.
 */
import type Database from 'better-sqlite3';
import * as tf from '@tensorflow/tfjs';
import { readFloatsAndDispose } from '../backend/read.js';
import { type Generator, oneHotLabels } from '../nets/generator.js';
import { MetricsStore } from '../store/metrics.js';
import { decodePixels } from '../data/data-source.js';
import { hashInts, permutation, Rng } from '../random/rng.js';
import { diagonal, FeaturePair, featureSet } from '../metrics/features.js';
import { type CustomExtractorSpec, type FeatureExtractor, loadExtractor } from '../metrics/inception.js';
import { computeMetrics, METRIC_IDS } from '../metrics/registry.js';
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
}

export interface EvaluationOutcome {
  /** By series name: every metric of the registry and 'Metrics/diversity'. */
  values: Record<string, number>;
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

  const extractor = o.extractorInstance ?? (await loadExtractor(plan.extractor));
  try {
    const cached = store.imageFeatures(extractor.id, realIds);
    const missing = realIds.filter((id) => !cached.has(id));
    const total = missing.length + plan.fakes;
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
    const fake = new Float32Array(plan.fakes * extractor.dim);
    const z = tf.randomNormal([plan.fakes, G.config.zDim], 0, 1, 'float32', hashInts(plan.seed, 0x6576616c) || 1) as tf.Tensor2D; // [F, zDim]
    try {
      for (let start = 0; start < plan.fakes; start += GENERATE_BATCH) {
        if (o.shouldStop?.()) return null;
        const n = Math.min(GENERATE_BATCH, plan.fakes - start);
        const images = tf.tidy(() => {
          const k = G.config.numClasses;
          const labels = k > 0 ? oneHotLabels(Array.from({ length: n }, (_, i) => (start + i) % k), k) : undefined;
          const x = G.generate(z.slice([start, 0], [n, -1]), labels, { noise: 'const' }); // [n, R, R, C] in about [−1, 1]
          return x.clipByValue(-1, 1).add(1).mul(127.5).round();
        });
        const pixels = Uint8Array.from(await readFloatsAndDispose(images));
        const f = await extractor.extract({ pixels, count: n, resolution: r, channels: c }, { shouldStop: o.shouldStop, onProgress: progress });
        if (f === null) return null;
        fake.set(f, start * extractor.dim);
        done += n;
      }
    } finally {
      z.dispose();
    }
    const extractSeconds = (performance.now() - extractStart) / 1000;

    // The metrics, and how spread out the generated images are compared with the reals.
    const pair = new FeaturePair(featureSet(real, extractor.dim), featureSet(fake, extractor.dim));
    await pair.fill(tfDot); // the Gram matrices on the backend: seconds instead of minutes at thousands of images
    const values = computeMetrics(METRIC_IDS, pair, { seed: plan.seed, skipUnavailable: true });
    values['Metrics/diversity'] = meanPairwiseDistance(pair.fakeGram(), plan.fakes) / meanPairwiseDistance(pair.realGram(), realIds.length);
    return {
      values,
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
