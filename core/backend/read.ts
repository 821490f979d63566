/**
 * Reading tensor values back to JavaScript, always asynchronously: `dataSync` fails on webgpu under
 * Node ("OffscreenCanvas is not defined") and blocks the thread on any GPU backend. Use these
 * everywhere instead of `dataSync` / `arraySync`.
 */
import type * as tf from '@tensorflow/tfjs';

/**
 * Values of a numeric tensor as a Float32Array. Always a copy: the cpu backend hands out its own
 * storage, which a caller must not be able to change behind the tensor's back.
 */
export async function readFloats(t: tf.Tensor): Promise<Float32Array> {
  const data = await t.data();
  return Float32Array.from(data as ArrayLike<number>);
}

/** The single value of a scalar (or one-element) tensor. */
export async function readScalar(t: tf.Tensor): Promise<number> {
  if (t.size !== 1) throw new Error(`readScalar: expected one element, got shape [${t.shape.join(', ')}]`);
  const data = await t.data();
  const v = data[0];
  if (typeof v !== 'number') throw new Error('readScalar: not a numeric tensor');
  return v;
}

/** Reads the values, then disposes the tensor (for results made only to be read). */
export async function readFloatsAndDispose(t: tf.Tensor): Promise<Float32Array> {
  try {
    return await readFloats(t);
  } finally {
    t.dispose();
  }
}

/** Reads a scalar, then disposes the tensor. */
export async function readScalarAndDispose(t: tf.Tensor): Promise<number> {
  try {
    return await readScalar(t);
  } finally {
    t.dispose();
  }
}

/** Numbers in place of the scalars of `T` (optional ones stay optional). */
export type ScalarValues<T> = { [K in keyof T]: undefined extends T[K] ? number | undefined : number };

/** Reads several named scalars at once (all reads issued together), disposing them; undefined entries stay undefined. */
export async function readScalarsAndDispose<T extends object>(ts: T): Promise<ScalarValues<T>> {
  const entries = Object.entries(ts) as [string, tf.Tensor | undefined][];
  const values = await Promise.all(entries.map(([, t]) => (t === undefined ? undefined : readScalarAndDispose(t))));
  const out: Record<string, number | undefined> = {};
  entries.forEach(([k], i) => {
    out[k] = values[i];
  });
  return out as ScalarValues<T>;
}
