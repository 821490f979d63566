/*
 * GAN Atelier: seed → z, exactly as the studio draws it (core/generator/latents.ts, re-written in
 * plain JavaScript for exported generators and the standalone sampler page; the studio's tests
 * check that both give the same values).
 *
 *   stream   xoshiro128**, seeded by splitmix32 from hash(seed, 0x6c61746e)
 *   normals  Marsaglia's polar method on pairs of uniforms u32 / 2^32
 *   ln       a fixed series (basic arithmetic only), not Math.log
 *
 * Only IEEE-754 basic operations and Math.sqrt are used, so every JavaScript engine gives the
 * same z for a seed, bit for bit.
 *
 * Use: in a page, <script src="atelier-latents.js"></script> then atelierLatents.seedToZ(seed, zDim);
 * in Node, const { seedToZ } = require('./atelier-latents.js') (or import() it).
 */
(function (root, factory) {
  var api = factory();
  if (typeof module === 'object' && module && module.exports) module.exports = api;
  else root.atelierLatents = api;
})(typeof globalThis !== 'undefined' ? globalThis : this, function () {
  'use strict';
  var MAX_SEED = 0xffffffff;
  var LATENT_STREAM = 0x6c61746e;

  function splitmix32(seed) {
    var a = seed >>> 0;
    return function () {
      a = (a + 0x9e3779b9) >>> 0;
      var t = a ^ (a >>> 16);
      t = Math.imul(t, 0x21f0aaad);
      t ^= t >>> 15;
      t = Math.imul(t, 0x735a2d97);
      t ^= t >>> 15;
      return t >>> 0;
    };
  }

  function hashInts(values) {
    var h = 0x811c9dc5;
    for (var i = 0; i < values.length; i++) {
      var mix = splitmix32(h ^ (values[i] >>> 0))();
      h = Math.imul(h ^ mix, 0x01000193) >>> 0;
    }
    return splitmix32(h)();
  }

  function rotl(x, k) {
    return ((x << k) | (x >>> (32 - k))) >>> 0;
  }

  /** xoshiro128** (Blackman & Vigna) from a seed and a stream. */
  function Rng(seed, stream) {
    var next = splitmix32(hashInts([seed, stream]));
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
  }
  Rng.prototype.nextU32 = function () {
    var result = Math.imul(rotl(Math.imul(this.s1, 5) >>> 0, 7), 9) >>> 0;
    var t = (this.s1 << 9) >>> 0;
    this.s2 = (this.s2 ^ this.s0) >>> 0;
    this.s3 = (this.s3 ^ this.s1) >>> 0;
    this.s1 = (this.s1 ^ this.s2) >>> 0;
    this.s0 = (this.s0 ^ this.s3) >>> 0;
    this.s2 = (this.s2 ^ t) >>> 0;
    this.s3 = rotl(this.s3, 11);
    return result;
  };
  Rng.prototype.nextFloat = function () {
    return this.nextU32() / 4294967296;
  };

  function lnExact(x) {
    var m = x;
    var e = 0;
    while (m < 1) {
      m *= 2;
      e--;
    }
    while (m >= 2) {
      m /= 2;
      e++;
    }
    if (m > Math.SQRT2) {
      m /= 2;
      e++;
    }
    var t = (m - 1) / (m + 1);
    var t2 = t * t;
    var term = t;
    var sum = 0;
    for (var k = 1; k <= 27; k += 2) {
      sum += term / k;
      term *= t2;
    }
    return 2 * sum + e * Math.LN2;
  }

  function checkSeed(seed) {
    if (typeof seed !== 'number' || Math.floor(seed) !== seed || seed < 0 || seed > MAX_SEED) {
      throw new RangeError('Seeds are whole numbers from 0 to ' + MAX_SEED + '; got ' + seed + '.');
    }
  }

  /** z for a seed: zDim standard normal values, as a Float32Array. */
  function seedToZ(seed, zDim) {
    checkSeed(seed);
    var rng = new Rng(seed, LATENT_STREAM);
    var z = new Float32Array(zDim);
    for (var i = 0; i < zDim; i += 2) {
      var u, v, s;
      do {
        u = 2 * rng.nextFloat() - 1;
        v = 2 * rng.nextFloat() - 1;
        s = u * u + v * v;
      } while (s >= 1 || s === 0);
      var m = Math.sqrt((-2 * lnExact(s)) / s);
      z[i] = u * m;
      if (i + 1 < zDim) z[i + 1] = v * m;
    }
    return z;
  }

  return { seedToZ: seedToZ, MAX_SEED: MAX_SEED, ALGORITHM: 'xoshiro128**/polar/v1' };
});
