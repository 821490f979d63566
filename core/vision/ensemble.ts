/**
 * The run's judges and their k-progressive schedule (the vision-aided paper's model selection):
 * train with the studio's own D; at each selection point, score every backbone not yet used by
 * how well a linear probe on its pooled features tells training images from G_ema's samples
 * (core/vision/probe.ts), and add the best as a judge; up to k judges.
 *
 * A selection draws nothing from the training loop's random stream and leaves the data source
 * where it was: its images and samples come from streams of their own (seeded by the run's seed and
 * the selection's index), so a run resumed from a checkpoint before a selection makes the same one.
 * The history lives in the judges' own state (each remembers the selection that added it).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackboneId, VisionConfig, VisionSelection } from '../api/vision.js';
import { readFloatsAndDispose } from '../backend/read.js';
import type { DataSource } from '../data/data-source.js';
import { type Generator, oneHotLabels } from '../nets/generator.js';
import { hashInts, Rng, withSeededMathRandom } from '../random/rng.js';
import { VisionJudge, type JudgeOptions } from './judge.js';
import { probeAccuracy } from './probe.js';
import { loadBackbone } from './zoo.js';

/** Images per forward pass while probing. */
const PROBE_BATCH = 16;
const PROBE_STREAM = 0x56495331;

export class VisionEnsemble {
  private constructor(
    readonly config: VisionConfig,
    /** One per candidate, in the config's order. */
    readonly judges: VisionJudge[],
    private readonly seed: number,
  ) {}

  /** Loads every candidate backbone (from the installed packages) and makes its head. */
  static async load(config: VisionConfig, o: JudgeOptions): Promise<VisionEnsemble> {
    const judges: VisionJudge[] = [];
    try {
      for (const id of config.candidates) judges.push(new VisionJudge(await loadBackbone(id), config, { ...o, seed: hashInts(o.seed, judges.length, 0x4845) }));
    } catch (err) {
      for (const j of judges) j.dispose();
      throw err;
    }
    return new VisionEnsemble(config, judges, o.seed);
  }

  /** The selections made so far, in order. */
  get history(): VisionSelection[] {
    return this.judges.flatMap((j) => (j.selection === null ? [] : [j.selection])).sort((a, b) => a.index - b.index);
  }

  /** Whether a selection is due at `kimg` (a point passed and fewer than k judges). */
  due(kimg: number): boolean {
    const next = this.history.length;
    return next < this.config.k && next < this.config.selectAt.length && kimg >= this.config.selectAt[next]! && this.judges.some((j) => j.selection === null);
  }

  /** Scores the unused backbones and adds the best, from `kimg` on. */
  async select(kimg: number, G_ema: Generator, data: DataSource, shouldStop: () => boolean = () => false): Promise<VisionSelection | null> {
    const index = this.history.length;
    const unused = this.judges.filter((j) => j.selection === null);
    const m = Math.max(4, Math.min(this.config.probeImages, data.size));
    const rng = Rng.fromSeed(hashInts(this.seed, index), PROBE_STREAM);

    // Reals: the next m in the visiting order, the source left where it was.
    const at = data.state();
    const reals = data.next(m, rng);
    data.restore(at);
    // Samples of G_ema, labels drawn as the data's.
    const labels = data.sampleLabels(m, rng);
    const zSeed = rng.tfSeed();
    const fakes = withSeededMathRandom(rng, () =>
      tf.tidy(() => {
        const z = tf.randomNormal([m, G_ema.config.zDim], 0, 1, 'float32', zSeed) as tf.Tensor2D;
        const out: tf.Tensor4D[] = [];
        for (let s = 0; s < m; s += PROBE_BATCH) {
          const n = Math.min(PROBE_BATCH, m - s);
          const c = labels === null ? undefined : oneHotLabels(Array.from(labels.subarray(s, s + n)), G_ema.config.numClasses);
          out.push(G_ema.generate(z.slice([s, 0], [n, -1]), c));
        }
        return tf.concat(out) as tf.Tensor4D; // [m, R, R, C]
      }),
    );

    const accuracies: Partial<Record<BackboneId, number>> = {};
    try {
      for (const j of unused) {
        if (shouldStop()) return null;
        const r = await this.pooled(j, reals.images);
        const f = await this.pooled(j, fakes);
        accuracies[j.backbone.spec.id] = probeAccuracy(r.values, f.values, r.dim, hashInts(this.seed, index, 0x4c52));
      }
    } finally {
      tf.dispose([reals.images, fakes]);
    }
    // The best; ties go to the earlier candidate.
    let best: VisionJudge | null = null;
    for (const j of unused) if (best === null || accuracies[j.backbone.spec.id]! > accuracies[best.backbone.spec.id]!) best = j;
    const selection: VisionSelection = { index, kimg, picked: best === null ? null : (best.backbone.spec.id as BackboneId), accuracies, images: m };
    if (best !== null) {
      best.add(kimg);
      best.selection = selection;
    }
    return selection;
  }

  /** The last level averaged over space, for each image: [count · C]. */
  private async pooled(j: VisionJudge, images: tf.Tensor4D): Promise<{ values: Float32Array; dim: number }> {
    const count = images.shape[0];
    const dim = j.backbone.spec.levels[j.backbone.spec.levels.length - 1]!.channels;
    const values = new Float32Array(count * dim);
    for (let s = 0; s < count; s += PROBE_BATCH) {
      const n = Math.min(PROBE_BATCH, count - s);
      const f = tf.tidy(() => {
        const maps = j.features(images.slice([s, 0, 0, 0], [n, -1, -1, -1]));
        return maps[maps.length - 1]!.mean([1, 2]) as tf.Tensor2D; // [n, C]
      });
      values.set(await readFloatsAndDispose(f), s * dim);
      await new Promise<void>((res) => setImmediate(res));
    }
    return { values, dim };
  }

  /**
   * Peak bytes the judges add to a training step at `batch`: up to k of them steer G at once, so the
   * k largest of the candidates' peaks (each probed through G's gradient to the image).
   */
  async peakBytes(batch: number, resolution: number, channels: number): Promise<number> {
    const peaks: number[] = [];
    for (const j of this.judges) peaks.push(await j.probePeak(batch, resolution, channels));
    peaks.sort((a, b) => b - a);
    return peaks.slice(0, this.config.k).reduce((sum, p) => sum + p, 0);
  }

  dispose(): void {
    for (const j of this.judges) {
      j.dispose();
      j.backbone.dispose();
    }
  }
}
