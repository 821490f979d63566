/**
 * Seed → z: deterministic, standard normal, the same in the plain-JS copy shipped with exports
 * (core/export/assets/atelier-latents.js, run here in a fresh V8 context as a page would run
 * it); seed lists parsed with clear refusals; interpolation and arithmetic end points exact.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { runInNewContext } from 'node:vm';
import { UserError } from '../../../core/api/errors.js';
import { combine, lerp, lnExact, MAX_SEED, meanOf, parseSeeds, seedToZ, slerp } from '../../../core/generator/latents.js';

const ASSET = new URL('../../../core/export/assets/atelier-latents.js', import.meta.url);

test('a seed gives the same z every time; different seeds differ; values are standard normal', () => {
  assert.deepEqual(seedToZ(42, 512), seedToZ(42, 512));
  assert.notDeepEqual(seedToZ(42, 512), seedToZ(43, 512));
  // A longer z starts with the shorter one (pairs are drawn in order).
  assert.deepEqual(seedToZ(7, 33).subarray(0, 32), seedToZ(7, 32));
  const z = seedToZ(0, 200_000);
  let mean = 0;
  let sq = 0;
  for (const v of z) {
    mean += v;
    sq += v * v;
  }
  mean /= z.length;
  const variance = sq / z.length - mean * mean;
  assert.ok(Math.abs(mean) < 0.01, `mean ${mean}`);
  assert.ok(Math.abs(variance - 1) < 0.02, `variance ${variance}`);
  assert.ok(z.every(Number.isFinite));
});

test('lnExact agrees with Math.log to the last bit or two, using basic arithmetic only', () => {
  for (const x of [1e-300, 2 ** -64, 1e-9, 0.001, 0.3, 0.5, 0.70710678, 0.999999, 1, 1.5, 2, 1e6]) {
    const want = Math.log(x);
    const got = lnExact(x);
    assert.ok(Math.abs(got - want) <= 4 * Number.EPSILON * Math.max(1, Math.abs(want)), `ln(${x}): ${got} vs ${want}`);
  }
});

test('the plain-JS seed → z shipped with exports gives exactly the studio’s z', () => {
  const sandbox: { module?: unknown; atelierLatents?: { seedToZ(seed: number, n: number): Float32Array; MAX_SEED: number; ALGORITHM: string } } = {};
  // As a <script> in a page: no `module`, the API lands on the global object.
  runInNewContext(readFileSync(ASSET, 'utf8'), sandbox);
  const plain = sandbox.atelierLatents!;
  assert.equal(plain.MAX_SEED, MAX_SEED);
  for (const seed of [0, 1, 2, 3, 255, 65536, 123456789, MAX_SEED - 1, MAX_SEED, ...Array.from({ length: 200 }, (_, i) => i * 7919)]) {
    const a = seedToZ(seed, 129);
    const b = plain.seedToZ(seed, 129);
    // Float32Arrays from another context: compare the bits.
    assert.deepEqual(Array.from(new Uint32Array(Float32Array.from(b).buffer)), Array.from(new Uint32Array(a.buffer)), `seed ${seed}`);
  }
  assert.throws(() => plain.seedToZ(-1, 4), /0 to 4294967295/);
  assert.throws(() => plain.seedToZ(MAX_SEED + 1, 4), /0 to 4294967295/);
});

test('seed lists: ranges and lists; out-of-range and malformed seeds are refused with what to type', () => {
  assert.deepEqual(parseSeeds('0-3'), [0, 1, 2, 3]);
  assert.deepEqual(parseSeeds('7, 3,10-11'), [7, 3, 10, 11]);
  assert.deepEqual(parseSeeds(String(MAX_SEED)), [MAX_SEED]);
  const refuse = (text: string, pattern: RegExp): void => {
    assert.throws(
      () => parseSeeds(text, 1000, '--seeds'),
      (e: unknown) => e instanceof UserError && e.code === 'invalid-request' && pattern.test(e.message),
      text,
    );
  };
  refuse('4294967296', /out of range: seeds are whole numbers from 0 to 4,294,967,295/);
  refuse('-1', /"-1" is not a seed or a range like 0-15/);
  refuse('1.5', /"1.5" is not a seed/);
  refuse('9-3', /runs backwards; write it as 3-9/);
  refuse('0-5000', /more than 1,000 seeds/);
  refuse('', /"" is not a seed/);
});

test('interpolation and arithmetic: end points and single terms are exactly their inputs', () => {
  const a = seedToZ(1, 64);
  const b = seedToZ(2, 64);
  assert.deepEqual(lerp(a, b, 0), a);
  assert.deepEqual(lerp(a, b, 1), b);
  assert.deepEqual(slerp(a, b, 0), a);
  assert.deepEqual(slerp(a, b, 1), b);
  // Midway, slerp keeps the norm a Gaussian latent has; lerp shrinks it.
  const norm = (v: Float32Array): number => Math.sqrt(v.reduce((s, x) => s + x * x, 0));
  assert.ok(Math.abs(norm(slerp(a, b, 0.5)) - (norm(a) + norm(b)) / 2) < 0.05 * norm(a));
  assert.ok(norm(lerp(a, b, 0.5)) < 0.85 * norm(a));
  assert.deepEqual(meanOf([a]), a);
  assert.deepEqual(combine([{ sign: 1, latent: a }]), a);
  const c = seedToZ(3, 64);
  const abc = combine([
    { sign: 1, latent: a },
    { sign: -1, latent: b },
    { sign: 1, latent: c },
  ]);
  for (let i = 0; i < 64; i++) assert.equal(abc[i], Math.fround(a[i]! - b[i]! + c[i]!));
  assert.deepEqual(meanOf([a, b]), Float32Array.from(a, (x, i) => (x + b[i]!) / 2));
});
