/**
 * How well a merged model reproduces its sources, per class: KID (core/metrics) of class c's
 * images against images of the source that became class c, both from fixed latents, through one
 * feature extractor (the bundled InceptionV3 by default), plus the average over classes. With
 * `cross`, every class against every source too (class c should be closest to source c).
 * A merge has no real images, so its sources' samples are the reference.
 */
import * as tf from '@tensorflow/tfjs';
import { readFloatsAndDispose } from '../backend/read.js';
import { seedToZ } from '../generator/latents.js';
import { FeaturePair, type FeatureSet, featureSet } from '../metrics/features.js';
import type { FeatureExtractor } from '../metrics/inception.js';
import { kernelInceptionDistance } from '../metrics/kid.js';
import { type Generator, oneHotLabels } from '../nets/generator.js';
import { hashInts } from '../random/rng.js';
import { type MergeSource, toMergeImages } from './source.js';

export interface PerClassEvaluation {
  classes: Array<{ className: string; source: number; kid: number; std: number }>;
  /** Mean of the classes' KIDs. */
  average: number;
  /** cross[c][s]: KID of class c against source s (when asked for). */
  cross: number[][] | null;
  /** Images per set. */
  images: number;
  extractor: { id: string; title: string };
}

/** Images per forward pass. */
const BATCH = 16;

/** uint8 pixels [n, R, R, C] of images in about [−1, 1]. */
async function toPixels(images: tf.Tensor4D): Promise<Uint8Array> {
  return Uint8Array.from(await readFloatsAndDispose(tf.tidy(() => images.clipByValue(-1, 1).add(1).mul(127.5).round())));
}

/** Seeds of a fixed set: the same `count` seeds for a given `seed`. */
export function evaluationSeeds(seed: number, count: number): number[] {
  return Array.from({ length: count }, (_, i) => hashInts(seed, 0x6576616c, i));
}

/** `count` images of a source at the merge's size, uint8 [count, R, R, C] (seeds from `evaluationSeeds`). */
export async function sourcePixels(source: MergeSource, count: number, seed: number, resolution: number, channels: number): Promise<Uint8Array> {
  const seeds = evaluationSeeds(seed, count);
  const out = new Uint8Array(count * resolution * resolution * channels);
  for (let start = 0; start < count; start += BATCH) {
    const m = Math.min(BATCH, count - start);
    const z = new Float32Array(m * source.zDim);
    for (let i = 0; i < m; i++) z.set(seedToZ(seeds[start + i]!, source.zDim), i * source.zDim);
    const classes = source.numClasses === 0 ? null : Int32Array.from({ length: m }, (_, i) => source.classIndex ?? (seeds[start + i]! % source.numClasses));
    const own = await source.generate(z, classes, m);
    const images = toMergeImages(own, resolution, channels);
    if (images !== own) own.dispose();
    out.set(await toPixels(images), start * resolution * resolution * channels);
    images.dispose();
  }
  return out;
}

/** `count` images of class `classIndex` (null: unconditional) of G, uint8 [count, R, R, C], constant noise. */
export async function generatorPixels(G: Generator, classIndex: number | null, count: number, seed: number): Promise<Uint8Array> {
  const { resolution: r, imageChannels: c, zDim, numClasses: k } = G.config;
  const seeds = evaluationSeeds(seed, count);
  const out = new Uint8Array(count * r * r * c);
  for (let start = 0; start < count; start += BATCH) {
    const m = Math.min(BATCH, count - start);
    const z = new Float32Array(m * zDim);
    for (let i = 0; i < m; i++) z.set(seedToZ(seeds[start + i]!, zDim), i * zDim);
    const images = tf.tidy(() => G.generate(tf.tensor2d(z, [m, zDim]), k > 0 ? oneHotLabels(new Array<number>(m).fill(classIndex ?? 0), k) : undefined, { noise: 'const' }));
    out.set(await toPixels(images), start * r * r * c);
    images.dispose();
  }
  return out;
}

/** Features of uint8 images [count, R, R, C]. */
export async function featuresOf(extractor: FeatureExtractor, pixels: Uint8Array, resolution: number, channels: number): Promise<FeatureSet> {
  const count = pixels.length / (resolution * resolution * channels);
  const f = await extractor.extract({ pixels, count, resolution, channels });
  if (f === null) throw new Error('feature extraction stopped');
  return featureSet(f, extractor.dim);
}

/** KID between two feature sets (reals: the reference). */
export function kid(reference: FeatureSet, generated: FeatureSet, seed = 0): { kid: number; std: number } {
  const r = kernelInceptionDistance(new FeaturePair(reference, generated), { seed });
  return { kid: r.kid, std: r.std };
}

export interface PerClassOptions {
  extractor: FeatureExtractor;
  /** Images per set; at least 2. */
  images: number;
  /** Seeds the latents (different from training's draws). */
  seed: number;
  /** Also every class against every source. */
  cross?: boolean;
  /** Features of each source's images, when already computed (the bench reuses them). */
  sourceFeatures?: readonly FeatureSet[];
}

/**
 * Per-class KID of a merged (conditional) G against its sources; `labels[s]` is source s's class.
 * Also returns the sources' features, to pass back next time (they do not change).
 */
export async function evaluatePerClass(G: Generator, sources: readonly MergeSource[], labels: readonly number[], classNames: readonly string[], o: PerClassOptions): Promise<{ evaluation: PerClassEvaluation; sourceFeatures: FeatureSet[] }> {
  const { resolution: r, imageChannels: c } = G.config;
  const sourceFeatures = o.sourceFeatures ? [...o.sourceFeatures] : [];
  for (let s = sourceFeatures.length; s < sources.length; s++) {
    sourceFeatures.push(await featuresOf(o.extractor, await sourcePixels(sources[s]!, o.images, hashInts(o.seed, 1), r, c), r, c));
  }
  const classes: PerClassEvaluation['classes'] = [];
  const cross: number[][] = [];
  for (let s = 0; s < sources.length; s++) {
    const cls = labels[s]!;
    const f = await featuresOf(o.extractor, await generatorPixels(G, cls, o.images, hashInts(o.seed, 2)), r, c);
    const own = kid(sourceFeatures[s]!, f);
    classes.push({ className: classNames[cls] ?? String(cls), source: s, kid: own.kid, std: own.std });
    if (o.cross) cross.push(sourceFeatures.map((sf) => kid(sf, f).kid));
  }
  const evaluation: PerClassEvaluation = {
    classes,
    average: classes.reduce((a, x) => a + x.kid, 0) / classes.length,
    cross: o.cross ? cross : null,
    images: o.images,
    extractor: { id: o.extractor.id, title: o.extractor.title },
  };
  return { evaluation, sourceFeatures };
}
