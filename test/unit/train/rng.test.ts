/**
 * The run's random stream: xoshiro128** and splitmix32 give the reference outputs (computed with
 * an independent Python implementation of the published algorithms); a saved state continues the
 * same stream; seeded Math.random makes TF.js's unseeded draws reproducible.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { readFloatsAndDispose } from '../../../core/backend/read.js';
import { permutation, Rng, splitmix32, withSeededMathRandom } from '../../../core/random/rng.js';

describe('rng', () => {
  it('xoshiro128** from state {1, 2, 3, 4} gives the reference outputs and state', () => {
    const rng = Rng.fromState([1, 2, 3, 4]);
    const out = Array.from({ length: 6 }, () => rng.nextU32());
    assert.deepEqual(out, [11520, 0, 5927040, 70819200, 2031721883, 1637235492]);
    assert.deepEqual(rng.state(), [1110993931, 286554632, 2431677446, 2165318166]);
  });

  it('splitmix32 gives the reference outputs', () => {
    const a = splitmix32(0);
    const b = splitmix32(42);
    assert.deepEqual([a(), a(), a(), a()], [1684164658, 3653269916, 2939563536, 2141751570]);
    assert.deepEqual([b(), b(), b(), b()], [551831576, 144025891, 322543647, 3034809370]);
  });

  it('a saved state continues the same stream; seeds and streams differ', () => {
    const a = Rng.fromSeed(5);
    for (let i = 0; i < 17; i++) a.nextU32();
    const b = Rng.fromState(a.state());
    assert.deepEqual(Array.from({ length: 50 }, () => a.nextU32()), Array.from({ length: 50 }, () => b.nextU32()));
    const first = (r: Rng) => Array.from({ length: 4 }, () => r.nextU32());
    assert.notDeepEqual(first(Rng.fromSeed(5)), first(Rng.fromSeed(6)));
    assert.notDeepEqual(first(Rng.fromSeed(5, 0)), first(Rng.fromSeed(5, 1)));
    assert.throws(() => Rng.fromState([0, 0, 0, 0]), /all-zero/);
    assert.throws(() => Rng.fromState([1, 2, 3]), /four uint32/);
  });

  it('nextInt stays in range and is close to uniform; tfSeed is never 0; permutations are permutations', () => {
    const rng = Rng.fromSeed(1);
    const counts = new Array(7).fill(0) as number[];
    for (let i = 0; i < 70_000; i++) counts[rng.nextInt(7)]! += 1;
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 400, `count ${c}`);
    for (let i = 0; i < 1000; i++) assert.ok(rng.tfSeed() > 0);
    const p = permutation(100, rng);
    assert.deepEqual([...p].sort((x, y) => x - y), Array.from({ length: 100 }, (_, i) => i));
    assert.notDeepEqual([...p], Array.from({ length: 100 }, (_, i) => i));
  });

  it('withSeededMathRandom makes unseeded tf.randomNormal reproducible and restores Math.random', async () => {
    const original = Math.random;
    const draw = () => withSeededMathRandom(Rng.fromSeed(9), () => tf.randomNormal([16]));
    const a = await readFloatsAndDispose(draw());
    const b = await readFloatsAndDispose(draw());
    assert.deepEqual(a, b);
    const c = await readFloatsAndDispose(withSeededMathRandom(Rng.fromSeed(10), () => tf.randomNormal([16])));
    assert.notDeepEqual(a, c);
    assert.equal(Math.random, original);
    assert.throws(() => withSeededMathRandom(Rng.fromSeed(1), () => {
      throw new Error('boom');
    }), /boom/);
    assert.equal(Math.random, original, 'restored after a throw');
  });
});
