/**
 * The "real" images of a merge: drawn from frozen source generators, never from their datasets
 * (GAN Cocktail's sample_merge_generators). For each real batch:
 *   - each image's source is drawn from the class percentages (the user's weights, normalised),
 *     so the per-class counts are multinomial over them;
 *   - its latent is seedToZ(seed) with a seed drawn from the stream (the gallery's seed → z, so a
 *     real image is that source's image for that seed), and, for a conditional source sampled
 *     across its classes, its class too;
 *   - it is labelled with its source's class (or not at all, in a rooting stage).
 * Fakes' labels are drawn with the same percentages. Every draw comes from the training loop's
 * seeded stream, in `prepare` (a source may run asynchronously, in ONNX Runtime), so a run
 * restored from a checkpoint draws exactly what the uninterrupted one would.
 */
import * as tf from '@tensorflow/tfjs';
import { seedToZ } from '../generator/latents.js';
import type { DataSource, DataSourceState, RealBatch } from '../data/data-source.js';
import type { Rng } from '../random/rng.js';
import { type MergeSource, toMergeImages } from './source.js';

export interface SamplingOptions {
  sources: readonly MergeSource[];
  /** Class of each source's images; null: unconditional (rooting, one source). */
  labels: readonly number[] | null;
  /** Class names, index = class (empty when unconditional). */
  classNames: readonly string[];
  /** Each source's share of the images (non-negative; normalised here). */
  shares: readonly number[];
  /** The merge's image size and channels. */
  resolution: number;
  channels: number;
}

/** Draws an index from cumulative shares ending in 1. */
function draw(cumulative: Float64Array, rng: Rng): number {
  const u = rng.nextFloat();
  for (let i = 0; i < cumulative.length - 1; i++) if (u < cumulative[i]!) return i;
  return cumulative.length - 1;
}

export class GeneratorSamplingSource implements DataSource {
  readonly resolution: number;
  readonly channels: number;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  /** Generators reach without end. */
  readonly size = Number.POSITIVE_INFINITY;
  private readonly sources: readonly MergeSource[];
  private readonly labels: readonly number[] | null;
  private readonly cumulative: Float64Array;
  /** Per class: the cumulative shares of its sources (fakes' labels are drawn by class). */
  private readonly classCumulative: Float64Array;
  private readonly queue: RealBatch[] = [];
  private cursor = 0;

  constructor(o: SamplingOptions) {
    if (o.sources.length === 0) throw new Error('GeneratorSamplingSource: no sources');
    if (o.shares.length !== o.sources.length) throw new Error(`GeneratorSamplingSource: ${o.shares.length} shares for ${o.sources.length} sources`);
    if (o.labels !== null && o.labels.length !== o.sources.length) throw new Error('GeneratorSamplingSource: one label per source');
    if (o.labels === null && o.sources.length !== 1) throw new Error('GeneratorSamplingSource: an unconditional source samples one generator');
    const total = o.shares.reduce((a, b) => a + b, 0);
    if (!(total > 0) || o.shares.some((s) => !(s >= 0))) throw new Error(`GeneratorSamplingSource: shares must be ≥ 0 and not all 0, got ${o.shares.join(', ')}`);
    this.sources = o.sources;
    this.labels = o.labels;
    this.classNames = o.labels === null ? [] : [...o.classNames];
    this.numClasses = this.classNames.length;
    this.resolution = o.resolution;
    this.channels = o.channels;
    this.cumulative = new Float64Array(o.shares.length);
    let acc = 0;
    o.shares.forEach((s, i) => (this.cumulative[i] = acc += s / total));
    this.cumulative[o.shares.length - 1] = 1;
    // Class shares (several sources may share a class).
    const byClass = new Float64Array(Math.max(1, this.numClasses));
    if (o.labels !== null) o.labels.forEach((c, i) => (byClass[c]! += o.shares[i]! / total));
    this.classCumulative = new Float64Array(byClass.length);
    acc = 0;
    byClass.forEach((s, i) => (this.classCumulative[i] = acc += s));
    this.classCumulative[byClass.length - 1] = 1;
  }

  /** Makes the step's real batches (images from the generators), in order. */
  async prepare(batches: readonly number[], rng: Rng): Promise<void> {
    if (this.queue.length > 0) throw new Error('GeneratorSamplingSource.prepare: the previous step left batches unused');
    for (const n of batches) this.queue.push(await this.make(n, rng));
  }

  /** One batch: every draw first (source, seed, class), then each source's images at once. */
  private async make(n: number, rng: Rng): Promise<RealBatch> {
    const which = new Int32Array(n);
    const seeds = new Uint32Array(n);
    const classes = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const s = draw(this.cumulative, rng);
      const src = this.sources[s]!;
      which[i] = s;
      seeds[i] = rng.nextU32();
      classes[i] = src.numClasses === 0 ? 0 : (src.classIndex ?? rng.nextInt(src.numClasses));
    }
    const parts: tf.Tensor4D[] = [];
    const order: number[] = [];
    try {
      for (let s = 0; s < this.sources.length; s++) {
        const idx: number[] = [];
        which.forEach((w, i) => w === s && idx.push(i));
        if (idx.length === 0) continue;
        const src = this.sources[s]!;
        const z = new Float32Array(idx.length * src.zDim);
        idx.forEach((i, k) => z.set(seedToZ(seeds[i]!, src.zDim), k * src.zDim));
        const own = await src.generate(z, src.numClasses === 0 ? null : Int32Array.from(idx, (i) => classes[i]!), idx.length); // [m, r, r, c]
        const part = toMergeImages(own, this.resolution, this.channels); // [m, R, R, C]
        if (part !== own) own.dispose();
        parts.push(part);
        order.push(...idx);
      }
      // Back to the order drawn: image i of the batch is the one drawn i-th.
      const position = new Int32Array(n);
      order.forEach((i, k) => (position[i] = k));
      const images = tf.tidy(() => tf.gather(parts.length === 1 ? parts[0]! : tf.concat(parts, 0), tf.tensor1d(position, 'int32'))) as tf.Tensor4D;
      const labels = this.labels === null ? null : Int32Array.from(which, (s) => this.labels![s]!);
      return { images, labels };
    } finally {
      tf.dispose(parts);
    }
  }

  next(n: number): RealBatch {
    const batch = this.queue.shift();
    if (batch === undefined) throw new Error('GeneratorSamplingSource.next: no batch prepared (the training loop prepares each step\'s)');
    if (batch.images.shape[0] !== n) throw new Error(`GeneratorSamplingSource.next: ${n} images asked, ${batch.images.shape[0]} prepared`);
    this.cursor += n;
    // A copy made in the caller's scope (the step's tidy disposes of it); the prepared one goes now.
    const images = batch.images.clone();
    batch.images.dispose();
    return { images, labels: batch.labels };
  }

  sampleLabels(n: number, rng: Rng): Int32Array | null {
    if (this.labels === null) return null;
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = draw(this.classCumulative, rng);
    return out;
  }

  state(): DataSourceState {
    return { cursor: this.cursor };
  }

  restore(state: DataSourceState): void {
    if (!Number.isInteger(state.cursor) || state.cursor < 0) throw new Error(`sampling source: bad saved cursor ${state.cursor}`);
    this.cursor = state.cursor;
  }

  dispose(): void {
    for (const b of this.queue.splice(0)) b.images.dispose();
  }
}
