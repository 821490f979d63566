/**
 * ADA's pipeline on real emoji, on wasm: every transform is the identity at p = 0 and changes the
 * images at p = 1; known answers (90° rotation = transpose + flip, integer translation = a shift
 * with reflected edges, x-flip twice = identity, brightness/contrast on a constant image, the
 * identity matrix); the affine resampling against a plain-JS reference written another way
 * (explicit reflect padding, Catmull-Rom in matrix form); the filter bank against a direct 2-D
 * convolution; DiffAugment's transforms.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { applyColour, hueRotation, identity4, lumaFlip, mul4, saturation, scale3d, translate3d } from '../../../core/augment/colour.js';
import { type ADA_PIPE_SPECS, NO_TRANSFORMS, pipeSpec } from '../../../core/augment/config.js';
import { diffAugment, translationMap } from '../../../core/augment/diffaugment.js';
import { applyFilters, bandGains, filterBank, filterTaps } from '../../../core/augment/filter-bank.js';
import { identity3, type Mat3, mul3, rotate2dInv, scale2dInv, translate2dInv, warpMap } from '../../../core/augment/geometry.js';
import { AugmentPipe, cutoutMask } from '../../../core/augment/pipeline.js';
import { warpImages } from '../../../core/augment/sparse-map.js';
import { selectBackend } from '../../../core/backend/select.js';
import { Rng } from '../../../core/random/rng.js';
import { emojiTensor, maxAbsDiff, only, take, TRANSFORMS } from './helpers.js';

const R = 16;
let x: tf.Tensor4D; // 8 emoji [8, 16, 16, 3]
let xs: Float32Array;

/** Reflection by bouncing off the edges (a different way to the code's modular arithmetic). */
function bounce(k: number, n: number): number {
  if (n === 1) return 0;
  while (k < 0 || k > n - 1) {
    if (k < 0) k = -k;
    if (k > n - 1) k = 2 * (n - 1) - k;
  }
  return k;
}

/** Catmull-Rom through p0…p3 at t ∈ [0, 1) between p1 and p2 (the matrix form of Keys' a = −0.5). */
function catmullRom(t: number, p0: number, p1: number, p2: number, p3: number): number {
  return 0.5 * (2 * p1 + (-p0 + p2) * t + (2 * p0 - 5 * p1 + 4 * p2 - p3) * t * t + (-p0 + 3 * p1 - 3 * p2 + p3) * t * t * t);
}

/** One image [H, W, C] warped by G_inv in float64: pad by reflection explicitly, then interpolate. */
function referenceWarp(img: Float32Array, h: number, w: number, c: number, m: Mat3, interp: 'bicubic' | 'bilinear'): Float64Array {
  const P = 3 * Math.max(h, w);
  const pw = w + 2 * P;
  const padded = new Float64Array((h + 2 * P) * pw * c);
  for (let i = -P; i < h + P; i++) for (let j = -P; j < w + P; j++) for (let k = 0; k < c; k++) padded[((i + P) * pw + (j + P)) * c + k] = img[(bounce(i, h) * w + bounce(j, w)) * c + k]!;
  const at = (i: number, j: number, k: number): number => padded[((i + P) * pw + (j + P)) * c + k]!;
  const out = new Float64Array(h * w * c);
  const cx = (w - 1) / 2;
  const cy = (h - 1) / 2;
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const u = m[0]! * (j - cx) + m[1]! * (i - cy) + m[2]! + cx;
      const v = m[3]! * (j - cx) + m[4]! * (i - cy) + m[5]! + cy;
      const u0 = Math.floor(u);
      const v0 = Math.floor(v);
      const fu = u - u0;
      const fv = v - v0;
      for (let k = 0; k < c; k++) {
        let val: number;
        if (interp === 'bilinear') {
          val = (1 - fv) * ((1 - fu) * at(v0, u0, k) + fu * at(v0, u0 + 1, k)) + fv * ((1 - fu) * at(v0 + 1, u0, k) + fu * at(v0 + 1, u0 + 1, k));
        } else {
          const row = (r: number): number => catmullRom(fu, at(r, u0 - 1, k), at(r, u0, k), at(r, u0 + 1, k), at(r, u0 + 2, k));
          val = catmullRom(fv, row(v0 - 1), row(v0), row(v0 + 1), row(v0 + 2));
        }
        out[(i * w + j) * c + k] = val;
      }
    }
  }
  return out;
}

describe('ADA pipeline', () => {
  before(async () => {
    await selectBackend({ prefer: 'wasm' });
    x = await emojiTensor(8, R);
    xs = Float32Array.from(await x.data());
  });

  it('at p = 0 every transform (and the whole bgcfnc pipeline) is the identity', async () => {
    for (const name of [...TRANSFORMS, 'bgcfnc'] as const) {
      const pipe = name === 'bgcfnc' ? new AugmentPipe(pipeSpec('bgcfnc')) : only(name);
      const params = pipe.sample(x.shape, 0, Rng.fromSeed(3));
      assert.deepEqual([params.geom, params.colour, params.filter, params.noise, params.cutout], [null, null, null, null, null], `${name}: nothing fires`);
      const y = pipe.run(x, params);
      assert.deepEqual(await y.data(), await x.data(), `${name}: unchanged`);
    }
  });

  it('at p = 1 each transform changes the images', async () => {
    for (const name of TRANSFORMS) {
      const y = await take(only(name).apply(x, 1, Rng.fromSeed(5)));
      const changed = maxAbsDiff(y, xs);
      assert.ok(changed > 0.05, `${name}: max change ${changed}`);
      assert.ok(y.every(Number.isFinite), `${name}: finite`);
    }
  });

  it('each named pipeline enables what its letters say', () => {
    const on = (name: keyof typeof ADA_PIPE_SPECS) => Object.entries(pipeSpec(name)).filter(([, v]) => v > 0).map(([k]) => k);
    assert.deepEqual(on('blit'), ['xflip', 'rotate90', 'xint']);
    assert.deepEqual(on('geom'), ['scale', 'rotate', 'aniso', 'xfrac']);
    assert.deepEqual(on('color'), ['brightness', 'contrast', 'lumaflip', 'hue', 'saturation']);
    assert.deepEqual(on('bgc'), [...on('blit'), ...on('geom'), ...on('color')]);
    assert.deepEqual(on('bgcfnc'), TRANSFORMS);
    assert.equal(Object.values(NO_TRANSFORMS).every((v) => v === 0), true);
  });

  it('a 90° rotation equals transpose + flip; rotate90 gives one of the four rotations of each image', async () => {
    const rot = warpImages(x, warpMap(Array.from({ length: 8 }, () => rotate2dInv(-Math.PI / 2)), R, R));
    assert.deepEqual(await rot.data(), await tf.reverse(tf.transpose(x, [0, 2, 1, 3]), 1).data());

    const y = await take(only('rotate90').apply(x, 1, Rng.fromSeed(9)));
    const rotations = [x, tf.reverse(tf.transpose(x, [0, 2, 1, 3]), 1), tf.reverse(x, [1, 2]), tf.reverse(tf.transpose(x, [0, 2, 1, 3]), 2)];
    const per = R * R * 3;
    const seen = new Set<number>();
    for (let i = 0; i < 8; i++) {
      const img = y.subarray(i * per, (i + 1) * per);
      const which = await Promise.all(rotations.map(async (r) => maxAbsDiff(img, (await r.data()).subarray(i * per, (i + 1) * per)) === 0));
      assert.ok(which.some((b) => b), `image ${i} is a rotation of its input`);
      seen.add(which.indexOf(true));
    }
    assert.ok(seen.size >= 2, 'the batch got different rotations');
  });

  it('integer translation is a shift with reflected edges; x-flip twice is the identity', async () => {
    const [tx, ty] = [3, -2];
    const y = await take(warpImages(x, warpMap(Array.from({ length: 8 }, () => translate2dInv(tx, ty)), R, R)));
    const per = R * R * 3;
    for (let b = 0; b < 8; b++) {
      for (let i = 0; i < R; i++) {
        for (let j = 0; j < R; j++) {
          for (let k = 0; k < 3; k++) assert.equal(y[b * per + (i * R + j) * 3 + k], xs[b * per + (bounce(i - ty, R) * R + bounce(j - tx, R)) * 3 + k]);
        }
      }
    }
    // The interior is exactly a shift (no reflection involved).
    const shifted = tf.slice(tf.tensor4d(y, [8, R, R, 3]), [0, 0, tx, 0], [8, R + ty, R - tx, 3]);
    assert.deepEqual(await shifted.data(), await tf.slice(x, [0, -ty, 0, 0], [8, R + ty, R - tx, 3]).data());

    const pipe = only('xflip');
    const params = pipe.sample(x.shape, 1, Rng.fromSeed(2));
    const flipped = params.geom!.map((m) => m[0] === -1);
    assert.ok(flipped.some((f) => f) && flipped.some((f) => !f), 'some images flip, some do not');
    const once = pipe.run(x, params);
    const mirror = await tf.reverse(x, 2).data();
    const onceData = await once.data();
    for (let b = 0; b < 8; b++) {
      const expect = flipped[b] ? mirror : xs;
      assert.equal(maxAbsDiff(onceData.subarray(b * per, (b + 1) * per), expect.subarray(b * per, (b + 1) * per)), 0, `image ${b}`);
    }
    assert.deepEqual(await pipe.run(once, params).data(), await x.data(), 'twice: the identity');
  });

  it('the identity matrix returns the image, also through the interpolating path', async () => {
    assert.deepEqual(await warpImages(x, warpMap(Array.from({ length: 8 }, identity3), R, R)).data(), await x.data());
    // A rotated image in the batch forces 16 taps for all; the identity image must still come back exactly.
    const mats = [identity3(), rotate2dInv(0.3), ...Array.from({ length: 6 }, identity3)];
    const map = warpMap(mats, R, R);
    assert.equal(map.k, 16);
    const y = await take(warpImages(x, map));
    const per = R * R * 3;
    assert.equal(maxAbsDiff(y.subarray(0, per), xs.subarray(0, per)), 0);
    assert.ok(maxAbsDiff(y.subarray(per, 2 * per), xs.subarray(per, 2 * per)) > 0.1);
  });

  it('the affine resampling matches a plain-JS reference (bicubic and bilinear)', async () => {
    const mats = [
      mul3(mul3(rotate2dInv(0.4), scale2dInv(1.3, 1.3)), mul3(scale2dInv(1.2, 1 / 1.2), translate2dInv(1.7, -2.3))),
      mul3(rotate2dInv(-2.1), scale2dInv(0.8, 0.8)),
    ];
    const two = tf.slice(x, [0, 0, 0, 0], [2, R, R, 3]);
    for (const interp of ['bicubic', 'bilinear'] as const) {
      const y = await take(warpImages(two, warpMap(mats, R, R, interp)));
      const per = R * R * 3;
      for (let b = 0; b < 2; b++) {
        const ref = referenceWarp(xs.subarray(b * per, (b + 1) * per), R, R, 3, mats[b]!, interp);
        const err = maxAbsDiff(y.subarray(b * per, (b + 1) * per), ref);
        assert.ok(err < 1e-4, `${interp}, image ${b}: max error ${err}`);
      }
    }
  });

  it('colour: brightness then contrast on a constant image gives (c + b)·k; the matrices keep what they should', async () => {
    const C = mul4(scale3d(2, 2, 2), translate3d(0.3, 0.3, 0.3)); // brightness 0.3, then contrast ×2
    for (const ch of [3, 1]) {
      const constant = tf.fill([2, 4, 4, ch], 0.25) as tf.Tensor4D;
      const y = await take(applyColour(constant, [C, identity4()]));
      const per = 4 * 4 * ch;
      assert.ok(y.subarray(0, per).every((v) => Math.abs(v - 1.1) < 1e-6), `${ch} channels: (0.25 + 0.3)·2 = 1.1`);
      assert.ok(y.subarray(per).every((v) => Math.abs(v - 0.25) < 1e-6), 'the identity leaves it');
    }
    // Sampled by the pipeline: brightness and contrast only make c·I with the same shift on every channel.
    const pipe = new AugmentPipe({ ...NO_TRANSFORMS, brightness: 1, contrast: 1 });
    const params = pipe.sample([8, 4, 4, 3], 1, Rng.fromSeed(4));
    const constant = tf.fill([8, 4, 4, 3], -0.4) as tf.Tensor4D;
    const y = await take(pipe.run(constant, params));
    params.colour!.forEach((m, i) => {
      const k = m[0]!;
      for (const [r, c] of [[0, 1], [0, 2], [1, 0], [1, 2], [2, 0], [2, 1]] as const) assert.equal(m[r * 4 + c], 0);
      assert.ok(Math.abs(m[5]! - k) < 1e-12 && Math.abs(m[10]! - k) < 1e-12 && m[7] === m[3] && m[11] === m[3]);
      assert.ok(y.subarray(i * 48, (i + 1) * 48).every((v) => Math.abs(v - (-0.4 * k + m[3]!)) < 1e-5));
    });
    // Hue keeps greys grey and luma; saturation 0 makes grey; a luma flip negates greys, twice is nothing.
    const apply = (m: Float64Array, rgb: number[]) => [0, 1, 2].map((r) => m[r * 4]! * rgb[0]! + m[r * 4 + 1]! * rgb[1]! + m[r * 4 + 2]! * rgb[2]! + m[r * 4 + 3]!);
    const close = (a: number[], b: number[]) => a.every((v, i) => Math.abs(v - b[i]!) < 1e-9);
    assert.ok(close(apply(hueRotation(1.1), [0.3, 0.3, 0.3]), [0.3, 0.3, 0.3]));
    const hued = apply(hueRotation(2), [0.9, -0.2, 0.1]);
    assert.ok(Math.abs(hued.reduce((a, b) => a + b) - 0.8) < 1e-9 && !close(hued, [0.9, -0.2, 0.1]));
    assert.ok(close(apply(saturation(0), [0.9, -0.2, 0.2]), [0.3, 0.3, 0.3]));
    assert.ok(close(apply(lumaFlip(1), [0.3, 0.3, 0.3]), [-0.3, -0.3, -0.3]));
    assert.ok(close(apply(mul4(lumaFlip(1), lumaFlip(1)), [0.9, -0.2, 0.1]), [0.9, -0.2, 0.1]));
  });

  it('filter bank: the 4 bands sum to the identity; filtering matches a direct 2-D convolution with reflected edges', async () => {
    const bank = filterBank();
    assert.equal(bank.length, 4);
    assert.equal(bank[0]!.length, 43);
    const sum = bank[0]!.map((_, t) => bank.reduce((s, row) => s + row[t]!, 0));
    sum.forEach((v, t) => assert.ok(Math.abs(v - (t === 21 ? 1 : 0)) < 1e-10, `tap ${t}: ${v}`));
    assert.deepEqual(bandGains([1, 1, 1, 1]).map((g) => Math.round(g * 1e12) / 1e12), [1, 1, 1, 1]);
    // Unit gains: the image comes back.
    const two = tf.slice(x, [0, 0, 0, 0], [2, R, R, 3]);
    const unit = await take(applyFilters(two, [filterTaps([1, 1, 1, 1]), filterTaps([1, 1, 1, 1])]));
    assert.ok(maxAbsDiff(unit, xs.subarray(0, 2 * R * R * 3)) < 1e-5);
    // Random gains against the direct 2-D sum.
    const taps = [filterTaps(bandGains([2.5, 0.4, 1.7, 0.3])), filterTaps(bandGains([0.6, 1, 1, 3]))];
    const y = await take(applyFilters(two, taps));
    const per = R * R * 3;
    for (let b = 0; b < 2; b++) {
      const h = taps[b]!;
      let err = 0;
      for (let i = 0; i < R; i++) {
        for (let j = 0; j < R; j++) {
          for (let k = 0; k < 3; k++) {
            let s = 0;
            for (let a = 0; a < 43; a++) for (let c = 0; c < 43; c++) s += h[a]! * h[c]! * xs[b * per + (bounce(i + a - 21, R) * R + bounce(j + c - 21, R)) * 3 + k]!;
            err = Math.max(err, Math.abs(y[b * per + (i * R + j) * 3 + k]! - s));
          }
        }
      }
      assert.ok(err < 1e-4, `image ${b}: max error ${err}`);
    }
  });

  it('noise has the drawn σ; cutout zeroes a square of half the size', async () => {
    const pipe = only('noise');
    const params = pipe.sample(x.shape, 1, Rng.fromSeed(6));
    const y = await take(pipe.run(x, params));
    const per = R * R * 3;
    const { sigma } = params.noise!;
    for (let b = 0; b < 8; b++) {
      const d = Array.from(y.subarray(b * per, (b + 1) * per), (v, i) => v - xs[b * per + i]!);
      if (sigma[b] === 0) assert.ok(d.every((v) => v === 0));
      else {
        const std = Math.sqrt(d.reduce((s, v) => s + v * v, 0) / d.length);
        assert.ok(Math.abs(std / sigma[b]! - 1) < 0.15, `image ${b}: std ${std}, σ ${sigma[b]}`);
      }
    }
    const mask = await take(cutoutMask([{ cx: 0.5, cy: 0.5, size: 0.5 }, { cx: 0.1, cy: 0.9, size: 0 }], R, R));
    assert.equal(mask.subarray(0, R * R).filter((v) => v === 0).length, 64, 'an 8×8 square at 16²');
    assert.ok(mask.subarray(R * R).every((v) => v === 1));
    assert.equal(mask[8 * R + 8], 0);
    assert.equal(mask[0], 1);
  });

  it('DiffAugment: translation shifts in zeros, cutout zeroes a square, colour shifts a constant image; each changes the images', async () => {
    const map = translationMap([[2, -3]], R, R);
    const one = tf.slice(x, [0, 0, 0, 0], [1, R, R, 3]);
    const shifted = await take(warpImages(one, map));
    for (let i = 0; i < R; i++) {
      for (let j = 0; j < R; j++) {
        const [si, sj] = [i + 2, j - 3];
        const inside = si < R && sj >= 0;
        for (let k = 0; k < 3; k++) assert.ok(shifted[(i * R + j) * 3 + k] === (inside ? xs[(si * R + sj) * 3 + k] : 0), `(${i}, ${j}, ${k})`); // === : −0 is 0 here
      }
    }
    const cut = await take(diffAugment(tf.ones([4, R, R, 3]) as tf.Tensor4D, ['cutout'], Rng.fromSeed(1)));
    for (let b = 0; b < 4; b++) {
      const zeros = cut.subarray(b * R * R * 3, (b + 1) * R * R * 3).filter((v) => v === 0).length / 3;
      assert.ok(zeros > 0 && zeros <= 64, `image ${b}: ${zeros} zeroed pixels (8×8 at most, clipped at the edges)`);
    }
    const constant = await take(diffAugment(tf.fill([4, R, R, 3], 0.2) as tf.Tensor4D, ['color'], Rng.fromSeed(1)));
    for (let b = 0; b < 4; b++) {
      const img = constant.subarray(b * R * R * 3, (b + 1) * R * R * 3);
      assert.ok(img.every((v) => Math.abs(v - img[0]!) < 1e-6) && Math.abs(img[0]! - 0.2) <= 0.5 + 1e-6, `image ${b}: a constant shifted by at most 0.5`);
    }
    for (const part of ['color', 'translation', 'cutout'] as const) {
      assert.ok(maxAbsDiff(await take(diffAugment(x, [part], Rng.fromSeed(8))), xs) > 0.05, part);
    }
  });
});
