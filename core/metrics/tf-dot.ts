/**
 * Dot products of feature sets on the TF.js backend (an engine worker's): float32 matrix products,
 * as StyleGAN2-ADA's metrics compute them, read back as Float64. From a few thousand images on,
 * the Gram matrices dominate an evaluation's arithmetic: 5000 reals × 1000 fakes took ~110 s for
 * KID in plain JavaScript (bench/metrics.ts) and a few seconds this way.
 */
import * as tf from '@tensorflow/tfjs';
import { readFloatsAndDispose } from '../backend/read.js';
import type { Dot } from './features.js';
import type { Rows } from './linalg.js';

/** Rows of `a` per product (bounds the memory of one call: 2048 rows × the other side). */
const CHUNK = 2048;

export const tfDot: Dot = async (a: Rows, b?: Rows): Promise<Float64Array> => {
  const other = b ?? a;
  if (a.dim !== other.dim) throw new Error(`tfDot: ${a.dim}-d rows against ${other.dim}-d rows`);
  // The transpose made once: on wasm, matMul with transposeB runs many times slower (COMPUTE-NOTES).
  const bt = tf.tidy(() => tf.tensor2d(Float32Array.from(other.data), [other.count, other.dim]).transpose()); // [d, Nb]
  const out = new Float64Array(a.count * other.count);
  try {
    for (let start = 0; start < a.count; start += CHUNK) {
      const n = Math.min(CHUNK, a.count - start);
      const rows = Float32Array.from(rowsOf(a.data, start * a.dim, (start + n) * a.dim));
      const part = tf.tidy(() => tf.matMul(tf.tensor2d(rows, [n, a.dim]), bt)); // [n, Nb]
      out.set(await readFloatsAndDispose(part), start * other.count);
    }
  } finally {
    bt.dispose();
  }
  return out;
};

function rowsOf(data: ArrayLike<number>, from: number, to: number): ArrayLike<number> {
  return data instanceof Float32Array || data instanceof Float64Array ? data.subarray(from, to) : Array.prototype.slice.call(data, from, to);
}
