/**
 * Scalar constants kept as tensors, one per backend and value, made once and reused: on webgpu a
 * JS number given to an op becomes a fresh host tensor uploaded through its own mapped buffer
 * (and ends the compute pass); a kept constant is uploaded once and stays on the GPU.
 */
import * as tf from '@tensorflow/tfjs';

const cache = new Map<string, tf.Scalar>();

/** The float32 scalar `value` on the current backend, kept (never dispose it). */
export function constant(value: number): tf.Scalar {
  const key = `${tf.getBackend()}:${Object.is(value, -0) ? '-0' : String(value)}`;
  const hit = cache.get(key);
  if (hit !== undefined && !hit.isDisposed) return hit;
  const t = tf.keep(tf.scalar(value, 'float32'));
  cache.set(key, t);
  return t;
}

/** How many constants are held (tests account for them when counting tensors). */
export function constantCount(): number {
  let n = 0;
  for (const t of cache.values()) if (!t.isDisposed) n++;
  return n;
}
