/**
 * What D sees as "real": a DataSource yields minibatches of images in [−1, 1] with their class
 * indices. The one here holds the project's dataset in memory as uint8 [N, R, R, C], decoded once
 * from the normalised PNGs in the project file; a merge run plugs in a source whose "images" come
 * from a set of generators, one class each, behind the same interface.
 *
 * Order: epoch e visits the images in a permutation seeded by (seed, e), so the position in the
 * stream (`cursor`) is the whole state a checkpoint needs.
 */
import type Database from 'better-sqlite3';
import sharp from 'sharp';
import { freemem, totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../api/errors.js';
import { hashInts, permutation, Rng } from '../random/rng.js';

/** Reals for one D step. */
export interface RealBatch {
  /** [N, R, R, C] in [−1, 1]. */
  images: tf.Tensor4D;
  /** Class index of each image; null for an unconditional run. */
  labels: Int32Array | null;
}

export interface DataSourceState {
  /** Images handed out so far. */
  cursor: number;
}

export interface DataSource {
  readonly resolution: number;
  readonly channels: number;
  /** Classes (0: unconditional). */
  readonly numClasses: number;
  /** Class names, index = class id. */
  readonly classNames: readonly string[];
  /** Number of distinct images (or generators × their reach, for a generated source). */
  readonly size: number;
  /** The next `n` reals; draws flips (and anything else random) from `rng`. */
  next(n: number, rng: Rng): RealBatch;
  /** `n` class indices for fakes, distributed as the data's labels are; null when unconditional. */
  sampleLabels(n: number, rng: Rng): Int32Array | null;
  /**
   * Optional: asynchronous work before a training step, given the step's random stream and the
   * sizes of the batches the step will ask `next` for, in order. A source whose images come from
   * an asynchronous runtime (generators, some run by ONNX Runtime: core/merge) makes them here.
   */
  prepare?(batches: readonly number[], rng: Rng): Promise<void>;
  state(): DataSourceState;
  restore(state: DataSourceState): void;
  dispose(): void;
}

export interface ImageArrayOptions {
  /** uint8 pixels, [count, resolution, resolution, channels]. */
  pixels: Uint8Array;
  count: number;
  resolution: number;
  channels: number;
  /** Class index per image (null: unconditional). */
  labels: Int32Array | null;
  classNames: readonly string[];
  /** Seeds the visiting order. */
  seed: number;
  /** Show each image mirrored left–right half of the time (x-flip); default false. */
  mirror?: boolean;
}

/** A dataset held in memory. */
export class ImageArraySource implements DataSource {
  readonly resolution: number;
  readonly channels: number;
  readonly numClasses: number;
  readonly classNames: readonly string[];
  readonly size: number;
  private readonly pixels: Uint8Array;
  private readonly labels: Int32Array | null;
  private readonly seed: number;
  private readonly mirror: boolean;
  private cursor = 0;
  private epoch = -1;
  private order: Uint32Array = new Uint32Array(0);

  constructor(o: ImageArrayOptions) {
    const per = o.resolution * o.resolution * o.channels;
    if (o.count < 1) throw new UserError('invalid-request', 'The dataset has no images to train on. Import images in the Dataset view first.');
    if (o.pixels.length !== o.count * per) throw new Error(`ImageArraySource: ${o.pixels.length} bytes for ${o.count} images of ${per}`);
    if (o.labels !== null && o.labels.length !== o.count) throw new Error('ImageArraySource: one label per image');
    this.pixels = o.pixels;
    this.size = o.count;
    this.resolution = o.resolution;
    this.channels = o.channels;
    this.labels = o.labels;
    this.classNames = o.classNames;
    this.numClasses = o.labels === null ? 0 : o.classNames.length;
    this.seed = o.seed;
    this.mirror = o.mirror ?? false;
  }

  private indexAt(k: number): number {
    const e = Math.floor(k / this.size);
    if (e !== this.epoch) {
      this.order = permutation(this.size, Rng.fromSeed(hashInts(this.seed, e), 1));
      this.epoch = e;
    }
    return this.order[k - e * this.size] as number;
  }

  next(n: number, rng: Rng): RealBatch {
    const r = this.resolution;
    const c = this.channels;
    const per = r * r * c;
    const out = new Float32Array(n * per); // [N, R, R, C]
    const labels = this.labels === null ? null : new Int32Array(n);
    for (let i = 0; i < n; i++) {
      const idx = this.indexAt(this.cursor++);
      if (labels !== null) labels[i] = (this.labels as Int32Array)[idx] as number;
      const flip = this.mirror && rng.nextFloat() < 0.5;
      const src = idx * per;
      const dst = i * per;
      for (let y = 0; y < r; y++) {
        for (let x = 0; x < r; x++) {
          const from = src + (y * r + (flip ? r - 1 - x : x)) * c;
          const to = dst + (y * r + x) * c;
          for (let k = 0; k < c; k++) out[to + k] = (this.pixels[from + k] as number) / 127.5 - 1;
        }
      }
    }
    return { images: tf.tensor4d(out, [n, r, r, c]), labels };
  }

  sampleLabels(n: number, rng: Rng): Int32Array | null {
    if (this.labels === null) return null;
    const out = new Int32Array(n);
    for (let i = 0; i < n; i++) out[i] = this.labels[rng.nextInt(this.size)] as number;
    return out;
  }

  state(): DataSourceState {
    return { cursor: this.cursor };
  }

  restore(state: DataSourceState): void {
    if (!Number.isInteger(state.cursor) || state.cursor < 0) throw new Error(`data source: bad saved cursor ${state.cursor}`);
    this.cursor = state.cursor;
  }

  dispose(): void {
    this.order = new Uint32Array(0);
  }
}

export interface ProjectDataOptions {
  resolution: number;
  channels: number;
  /** Use the labels as classes: unlabelled images are left out. */
  conditional: boolean;
  seed: number;
  mirror?: boolean;
  /** Called now and then while decoding: (done, total). */
  onProgress?: (done: number, total: number) => void;
}

/** Which images were used, for the log and the progress line. */
export interface ProjectDataReport {
  images: number;
  /** Unlabelled images left out of a conditional run. */
  unlabelledSkipped: number;
}

const DECODE_CHUNK = 64;

/** Decodes the project's dataset into memory. */
export async function loadProjectData(db: Database.Database, o: ProjectDataOptions): Promise<{ source: ImageArraySource; report: ProjectDataReport }> {
  const rows = db.prepare<[], { id: number; labelId: number | null; width: number; channels: number }>(
    'SELECT id, label_id AS labelId, width, channels FROM images ORDER BY id',
  ).all();
  const pixelsOf = db.prepare<[number], { pixels: Buffer }>('SELECT pixels FROM images WHERE id = ?');
  // Classes: the labels that have images, in the order they were made (the same order the run was resolved with).
  const classRows = db.prepare<[], { id: number; name: string }>(
    'SELECT l.id, l.name FROM labels l WHERE EXISTS (SELECT 1 FROM images i WHERE i.label_id = l.id) ORDER BY l.id',
  ).all();
  const classOf = new Map(classRows.map((l, i) => [l.id, i]));
  const used = o.conditional ? rows.filter((r) => r.labelId !== null) : rows;
  const wrong = used.find((r) => r.width !== o.resolution || r.channels !== o.channels);
  if (wrong) {
    throw new UserError('invalid-request', `Image ${wrong.id} is ${wrong.width}² with ${wrong.channels} channels, but this run trains at ${o.resolution}² with ${o.channels}. The dataset changed since the run started: start a new run.`);
  }
  const per = o.resolution * o.resolution * o.channels;
  const bytes = used.length * per;
  if (bytes > Math.min(totalmem() * 0.5, freemem() + 512 * 2 ** 20)) {
    throw new UserError('invalid-request', `The dataset needs ${(bytes / 2 ** 30).toFixed(1)} GB of memory to train at ${o.resolution}² and this machine has ${(freemem() / 2 ** 30).toFixed(1)} GB free. Use a lower resolution or fewer images.`);
  }
  const pixels = new Uint8Array(bytes);
  const labels = o.conditional ? new Int32Array(used.length) : null;
  for (let start = 0; start < used.length; start += DECODE_CHUNK) {
    const chunk = used.slice(start, start + DECODE_CHUNK);
    const decoded = await Promise.all(chunk.map((r) => decodePixels(pixelsOf.get(r.id)!.pixels, o.resolution, o.channels, r.id)));
    decoded.forEach((d, i) => pixels.set(d, (start + i) * per));
    if (labels !== null) chunk.forEach((r, i) => (labels[start + i] = classOf.get(r.labelId as number) as number));
    o.onProgress?.(Math.min(start + DECODE_CHUNK, used.length), used.length);
  }
  const classNames = o.conditional ? classRows.map((l) => l.name) : [];
  const source = new ImageArraySource({ pixels, count: used.length, resolution: o.resolution, channels: o.channels, labels, classNames, seed: o.seed, mirror: o.mirror ?? false });
  return { source, report: { images: used.length, unlabelledSkipped: rows.length - used.length } };
}

/** A stored PNG's pixels, [R, R, C] uint8 (training and the metrics read the dataset through this). */
export async function decodePixels(png: Buffer, resolution: number, channels: number, id: number): Promise<Uint8Array> {
  const img = channels === 1 ? sharp(png).toColourspace('b-w') : sharp(png).removeAlpha().toColourspace('srgb');
  const { data, info } = await img.raw().toBuffer({ resolveWithObject: true });
  if (info.width !== resolution || info.height !== resolution || info.channels !== channels) {
    throw new UserError('invalid-request', `Image ${id} decodes to ${info.width}×${info.height}×${info.channels}, not ${resolution}×${resolution}×${channels}. Re-import the dataset.`);
  }
  return data;
}
