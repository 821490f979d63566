/**
 * Seed → z: the one definition every sampling path shares (the gallery worker, the CLI, image
 * exports, and — re-implemented line for line in plain JS — the standalone HTML sampler,
 * core/export/html-sampler/sampler.js; a test holds the two together).
 *
 *   stream   xoshiro128** seeded as core/random/rng.ts does: Rng.fromSeed(seed, LATENT_STREAM)
 *   normals  Marsaglia's polar method on pairs of uniforms u32 / 2³²
 *   ln       our own series (below), not Math.log
 *
 * Every step uses only IEEE-754 basic operations and sqrt, which every JavaScript engine rounds
 * the same way, so a seed gives the same z bit for bit in Node, Chromium, Firefox and Safari.
 * (Math.log and Math.cos are not required to be correctly rounded and differ between engines.)
 *
 * Also here: interpolation of latents (linear, and slerp for z) written so that the end points
 * come out exactly equal to the inputs.
 */
import { UserError } from '../api/errors.js';
import { Rng } from '../random/rng.js';

/** Seeds are unsigned 32-bit integers. */
export const MAX_SEED = 0xffffffff;
/** The stream of the seed's generator reserved for z ('latn'): other streams stay free for noise. */
export const LATENT_STREAM = 0x6c61746e;
/** Describes the algorithm in exported metadata, so others can reproduce z. */
export const LATENT_ALGORITHM = 'xoshiro128**/polar/v1';

/** Throws a UserError naming the seed unless it is an integer in [0, MAX_SEED]. */
export function checkSeed(seed: number, what = 'seed'): number {
  if (!Number.isInteger(seed) || seed < 0 || seed > MAX_SEED) {
    throw new UserError('invalid-request', `The ${what} ${seed} is out of range: seeds are whole numbers from 0 to ${MAX_SEED.toLocaleString('en-GB')}.`, what);
  }
  return seed;
}

/**
 * ln(x) for finite x > 0 from basic operations only: x = m·2^e with m in [√½, √2), then
 * ln m = 2·atanh(t), t = (m − 1)/(m + 1), |t| ≤ 0.172, summed to a fixed 14 terms (error < 1e-17).
 */
export function lnExact(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) throw new Error(`lnExact: ${x} is not a positive finite number`);
  let m = x;
  let e = 0;
  while (m < 1) {
    m *= 2; // exact
    e--;
  }
  while (m >= 2) {
    m /= 2; // exact
    e++;
  }
  if (m > Math.SQRT2) {
    m /= 2;
    e++;
  }
  const t = (m - 1) / (m + 1);
  const t2 = t * t;
  let term = t;
  let sum = 0;
  for (let k = 1; k <= 27; k += 2) {
    sum += term / k;
    term *= t2;
  }
  return 2 * sum + e * Math.LN2;
}

/** z for a seed: `zDim` standard normal float32 values. Same seed, same z, in any engine. */
export function seedToZ(seed: number, zDim: number): Float32Array {
  checkSeed(seed);
  const rng = Rng.fromSeed(seed, LATENT_STREAM);
  const z = new Float32Array(zDim);
  for (let i = 0; i < zDim; i += 2) {
    let u: number;
    let v: number;
    let s: number;
    do {
      u = 2 * rng.nextFloat() - 1;
      v = 2 * rng.nextFloat() - 1;
      s = u * u + v * v;
    } while (s >= 1 || s === 0);
    const m = Math.sqrt((-2 * lnExact(s)) / s);
    z[i] = u * m;
    if (i + 1 < zDim) z[i + 1] = v * m;
  }
  return z;
}

/**
 * Parses a seed list as a user types it: "0-15", "7", "3,5,9", "0-3,10-12". At most `limit`
 * seeds; each checked with `checkSeed`. `what` names the option in errors ("--seeds").
 */
export function parseSeeds(text: string, limit = 100_000, what = 'seeds'): number[] {
  const out: number[] = [];
  for (const raw of text.split(',')) {
    const part = raw.trim();
    const m = /^(\d+)(?:\s*-\s*(\d+))?$/.exec(part);
    if (!m) throw new UserError('invalid-request', `${what}: "${part}" is not a seed or a range like 0-15.`, what);
    const a = checkSeed(Number(m[1]), `${what} value`);
    const b = m[2] === undefined ? a : checkSeed(Number(m[2]), `${what} value`);
    if (b < a) throw new UserError('invalid-request', `${what}: the range ${part} runs backwards; write it as ${b}-${a}.`, what);
    if (out.length + (b - a + 1) > limit) throw new UserError('invalid-request', `${what}: more than ${limit.toLocaleString('en-GB')} seeds; ask for fewer.`, what);
    for (let s = a; s <= b; s++) out.push(s);
  }
  return out;
}

/** (1 − t)·a + t·b per element, in float32: exactly a at t = 0 and exactly b at t = 1. */
export function lerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  if (a.length !== b.length) throw new Error(`lerp: ${a.length} vs ${b.length} values`);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = (1 - t) * (a[i] as number) + t * (b[i] as number);
  return out;
}

/**
 * Spherical interpolation (Shoemake), for z: the path keeps the norm a Gaussian latent expects.
 * Exactly a at t = 0 and b at t = 1; nearly parallel latents fall back to lerp.
 */
export function slerp(a: Float32Array, b: Float32Array, t: number): Float32Array {
  if (a.length !== b.length) throw new Error(`slerp: ${a.length} vs ${b.length} values`);
  if (t === 0) return Float32Array.from(a);
  if (t === 1) return Float32Array.from(b);
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i++) {
    dot += (a[i] as number) * (b[i] as number);
    na += (a[i] as number) ** 2;
    nb += (b[i] as number) ** 2;
  }
  const cos = dot / Math.sqrt(na * nb);
  if (!(Math.abs(cos) < 0.9995)) return lerp(a, b, t);
  const theta = Math.acos(cos);
  const sin = Math.sin(theta);
  const wa = Math.sin((1 - t) * theta) / sin;
  const wb = Math.sin(t * theta) / sin;
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = wa * (a[i] as number) + wb * (b[i] as number);
  return out;
}

/** Element-wise mean of several latents (an average of a picked set). */
export function meanOf(latents: readonly Float32Array[]): Float32Array {
  if (latents.length === 0) throw new Error('meanOf: no latents');
  const n = latents[0]!.length;
  const acc = new Float64Array(n);
  for (const l of latents) {
    if (l.length !== n) throw new Error(`meanOf: ${l.length} vs ${n} values`);
    for (let i = 0; i < n; i++) acc[i]! += l[i] as number;
  }
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (acc[i] as number) / latents.length;
  return out;
}

/** Σ signᵢ·termᵢ (latent arithmetic, "A − B + C"), accumulated in float64, rounded once. */
export function combine(terms: ReadonlyArray<{ sign: 1 | -1; latent: Float32Array }>): Float32Array {
  if (terms.length === 0) throw new Error('combine: no terms');
  const n = terms[0]!.latent.length;
  const acc = new Float64Array(n);
  for (const { sign, latent } of terms) {
    if (latent.length !== n) throw new Error(`combine: ${latent.length} vs ${n} values`);
    for (let i = 0; i < n; i++) acc[i]! += sign * (latent[i] as number);
  }
  return Float32Array.from(acc);
}
