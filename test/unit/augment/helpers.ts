/** Shared by the augmentation tests: real emoji as tensors, single-transform pipelines, reading back. */
import * as tf from '@tensorflow/tfjs';
import { NO_TRANSFORMS, type PipeSpec } from '../../../core/augment/config.js';
import { AugmentPipe } from '../../../core/augment/pipeline.js';
import { readFloats } from '../../../core/backend/read.js';
import { emojiPixels } from '../train/helpers.js';

/** Every transform of the ADA pipeline, in its order. */
export const TRANSFORMS = Object.keys(NO_TRANSFORMS) as Array<keyof PipeSpec>;

/** A pipeline with only `name` on (multiplier 1). */
export function only(name: keyof PipeSpec): AugmentPipe {
  return new AugmentPipe({ ...NO_TRANSFORMS, [name]: 1 });
}

/** The first `n` emoji at `r`² as [n, r, r, 3] in [−1, 1]. */
export async function emojiTensor(n: number, r: number): Promise<tf.Tensor4D> {
  const px = await emojiPixels(n, r);
  return tf.tensor4d(Float32Array.from(px, (v) => v / 127.5 - 1), [n, r, r, 3]);
}

/** max |a − b|. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs((a[i] as number) - (b[i] as number)));
  return d;
}

/** Values of `t`, then disposes it. */
export async function take(t: tf.Tensor): Promise<Float32Array> {
  try {
    return await readFloats(t);
  } finally {
    t.dispose();
  }
}
