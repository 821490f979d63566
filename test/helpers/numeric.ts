/**
 * Helpers for numeric tests: seeded random data (identical on every backend), backend switching,
 * error measures, central finite differences.
 */
import * as tf from '@tensorflow/tfjs';
import { readFloats } from '../../core/backend/read.js';

/** mulberry32: a small seeded generator, so inputs are the same on every run and backend. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal values (Box–Muller) from a seed. */
export function randn(size: number, seed: number): Float32Array {
  const u = rng(seed);
  const out = new Float32Array(size);
  for (let i = 0; i < size; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const th = 2 * Math.PI * u();
    out[i] = r * Math.cos(th);
    if (i + 1 < size) out[i + 1] = r * Math.sin(th);
  }
  return out;
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** max |a − b| / max |b|: error relative to the reference's scale. */
export function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs((a[i] as number) - (b[i] as number)));
    scale = Math.max(scale, Math.abs(b[i] as number));
  }
  return diff / Math.max(scale, 1e-12);
}

/** Runs `f` on a backend and returns its result's values (then disposes everything it made). */
export async function onBackend(name: string, f: () => tf.Tensor): Promise<Float32Array> {
  if (!(await tf.setBackend(name))) throw new Error(`backend ${name} did not start`);
  const t = tf.tidy(f);
  try {
    return await readFloats(t);
  } finally {
    t.dispose();
  }
}

/**
 * Central finite differences of a scalar function of a Float64 parameter vector, computed in
 * float64 by the caller's `f` where possible (f receives the perturbed copy).
 */
export async function finiteDiff(x: Float32Array, f: (x: Float32Array) => Promise<number>, eps: number, indices?: number[]): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const i of indices ?? [...x.keys()]) {
    const xp = Float32Array.from(x);
    const xm = Float32Array.from(x);
    xp[i] = (x[i] as number) + eps;
    xm[i] = (x[i] as number) - eps;
    out.set(i, ((await f(xp)) - (await f(xm))) / (2 * eps));
  }
  return out;
}
