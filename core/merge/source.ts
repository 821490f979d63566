/**
 * A merge source: a frozen generator the merge samples from (it never sees a source's images).
 * Four kinds, one interface:
 *   model  a model in the project (its weights; its run's checkpoint gives a discriminator)
 *   run    a run's checkpoint in the project (the best, the newest, or a chosen one): G_ema and D
 *   tfjs   a TF.js export made by the studio, e.g. from another project (a generator, no D)
 *   onnx   any generator ONNX Runtime can run (core/merge/onnx-source.ts; no D, not a root)
 * Each makes images from latents at its own resolution; `toMergeImages` brings them to the
 * merge's resolution and colour mode, in [−1, 1], channels last.
 */
import { createHash } from 'node:crypto';
import * as tf from '@tensorflow/tfjs';
import type { NetConfig } from '../nets/config.js';
import type { NamedArray } from '../nets/checkpoint-format.js';

export type SourceKind = 'model' | 'run' | 'tfjs' | 'onnx';

/** The studio networks behind a source (null for ONNX): what rooting starts from. */
export interface SourceNetworks {
  /** The generator's architecture (and its classes). */
  net: NetConfig;
  classNames: string[];
  /** G_ema's parameters, named as a Generator names them ('G.…'). */
  G: Map<string, NamedArray>;
  /** The discriminator trained with it ('D.…'), or null when there is none. */
  D: Map<string, NamedArray> | null;
  /** Where D came from, or why there is none, in words. */
  dNote: string;
}

export interface MergeSource {
  readonly kind: SourceKind;
  /** For people: a model's name, "Run 3 at 12.8 kimg", a file name. */
  readonly label: string;
  /** Where it was read from: "model 4", "run 3, checkpoint 12", a path. */
  readonly ref: string;
  /** Its own image size and channels. */
  readonly resolution: number;
  readonly channels: number;
  /** Latent size. */
  readonly zDim: number;
  /** Classes of the source generator (0: unconditional). */
  readonly numClasses: number;
  /** The class it is sampled at; null: each sample draws one of its classes uniformly. */
  readonly classIndex: number | null;
  /** SHA-256 of its weights (or of the ONNX file): a resumed merge checks it has the same sources. */
  readonly sha256: string;
  readonly networks: SourceNetworks | null;
  /** Images [n, R, R, C] in about [−1, 1] at its own resolution, from z [n·zDim] and classes (null: unconditional). */
  generate(z: Float32Array, classes: Int32Array | null, n: number): Promise<tf.Tensor4D>;
  dispose(): void;
}

/** SHA-256 over tensors in name order (name, shape, values): the same weights give the same hash. */
export function tensorsSha256(tensors: ReadonlyMap<string, NamedArray>): string {
  const h = createHash('sha256');
  for (const name of [...tensors.keys()].sort()) {
    const t = tensors.get(name)!;
    h.update(`${name}[${t.shape.join(',')}]`);
    h.update(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  return h.digest('hex');
}

/**
 * Images [N, r, r, c] in [−1, 1] → [N, R, R, C]: downsampled by box filtering (an integer factor:
 * each output pixel the mean of the block it covers, no aliasing), else resized bilinearly (half-
 * pixel centres); grayscale repeated to RGB, RGB to grayscale by luma (Rec. 601). Images already
 * at the merge's size and channels come back as the same tensor.
 */
export function toMergeImages(images: tf.Tensor4D, resolution: number, channels: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [, h, w, c] = images.shape;
    if (h !== w) throw new Error(`toMergeImages: ${h}×${w} images are not square`);
    let x = images;
    if (h > resolution && h % resolution === 0) x = tf.avgPool(x, h / resolution, h / resolution, 'valid');
    else if (h !== resolution) x = tf.image.resizeBilinear(x, [resolution, resolution], false, true);
    if (c !== channels) {
      if (c === 1 && channels === 3) x = x.tile([1, 1, 1, 3]);
      else if (c === 3 && channels === 1) x = x.mul(tf.tensor1d([0.299, 0.587, 0.114])).sum(3, true) as tf.Tensor4D;
      else throw new Error(`toMergeImages: ${c} channels cannot become ${channels}`);
    }
    return x; // [N, R, R, C]
  });
}
