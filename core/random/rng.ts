/**
 * The run's random numbers: one seeded xoshiro128** stream (Blackman & Vigna) whose 128-bit state
 * goes into every checkpoint, so a resumed run draws exactly what an uninterrupted one would.
 * TF.js random ops get a per-call seed drawn from it (`tfSeed()`); layers that draw unseeded
 * noise (the generator's per-pixel noise) run under `withSeededMathRandom`.
 */

/** The generator's state: four uint32 words. */
export type RngState = [number, number, number, number];

/** splitmix32: expands a 32-bit seed into well-mixed words (used only for seeding). */
export function splitmix32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x9e3779b9) >>> 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    t ^= t >>> 15;
    return t >>> 0;
  };
}

const rotl = (x: number, k: number): number => ((x << k) | (x >>> (32 - k))) >>> 0;

/** A 32-bit hash of several integers (seed, epoch, …): independent streams from one seed. */
export function hashInts(...values: number[]): number {
  let h = 0x811c9dc5;
  for (const v of values) {
    const mix = splitmix32(h ^ (v >>> 0))();
    h = Math.imul(h ^ mix, 0x01000193) >>> 0;
  }
  return splitmix32(h)();
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  private constructor(state: RngState) {
    [this.s0, this.s1, this.s2, this.s3] = state.map((w) => w >>> 0) as RngState;
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) throw new Error('Rng: an all-zero state never leaves zero');
  }

  /** A stream from a seed; `stream` picks an independent stream for the same seed. */
  static fromSeed(seed: number, stream = 0): Rng {
    const next = splitmix32(hashInts(seed, stream));
    return new Rng([next(), next(), next(), next()]);
  }

  /** Continues a stream saved with `state()`. */
  static fromState(state: readonly number[]): Rng {
    if (state.length !== 4 || !state.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffffffff)) {
      throw new Error(`Rng: a saved state is four uint32 words, got ${JSON.stringify(state)}`);
    }
    return new Rng([...state] as RngState);
  }

  /** The next uint32. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /** Uniform in [0, 1), 32 bits of resolution. */
  nextFloat(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n), without modulo bias. */
  nextInt(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 4294967296) throw new Error(`Rng.nextInt: n must be an integer in [1, 2³²], got ${n}`);
    const limit = 4294967296 - (4294967296 % n);
    let x = this.nextU32();
    while (x >= limit) x = this.nextU32();
    return x % n;
  }

  /** A seed for tf.random*(…, seed): non-zero, since TF.js treats 0 as "no seed". */
  tfSeed(): number {
    return this.nextU32() || 1;
  }

  state(): RngState {
    return [this.s0, this.s1, this.s2, this.s3];
  }
}

/** A random permutation of 0…n−1 (Fisher–Yates). */
export function permutation(n: number, rng: Rng): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = rng.nextInt(i + 1);
    const t = p[i] as number;
    p[i] = p[j] as number;
    p[j] = t;
  }
  return p;
}

/**
 * Runs `fn` with Math.random drawing from `rng`, then puts Math.random back. TF.js seeds an
 * unseeded random op from Math.random, and the generator's noise layers call tf.randomNormal
 * without a seed; this makes those draws part of the run's stream. `fn` must be synchronous.
 */
export function withSeededMathRandom<T>(rng: Rng, fn: () => T): T {
  const original = Math.random;
  Math.random = () => rng.nextFloat();
  try {
    const out = fn();
    if (out instanceof Promise) throw new Error('withSeededMathRandom: fn must be synchronous');
    return out;
  } finally {
    Math.random = original;
  }
}
