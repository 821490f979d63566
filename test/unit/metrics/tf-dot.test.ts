/**
 * The Gram matrices on the TF.js backend (float32 products, as StyleGAN2-ADA's metrics compute
 * them) give the metrics of the Float64 JavaScript ones, to float32's precision.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { selectBackend } from '../../../core/backend/select.js';
import { FeaturePair, featureSet } from '../../../core/metrics/features.js';
import { computeMetrics, METRIC_IDS } from '../../../core/metrics/registry.js';
import { tfDot } from '../../../core/metrics/tf-dot.js';
import { Rng } from '../../../core/random/rng.js';

const ref = JSON.parse(readFileSync(new URL('../../fixtures/metrics/reference.json', import.meta.url), 'utf8')) as { dim: number; real: number[]; fake: number[] };

test('metrics from TF.js Gram matrices match the Float64 ones (fewer and more samples than dimensions)', async () => {
  await selectBackend({ prefer: 'wasm' });
  const rng = Rng.fromSeed(8);
  // Inception-like features: non-negative, 2048-d, 40 reals and 24 fakes; and the 32-d fixture (N > d).
  const like = (n: number, shift: number): Float32Array => Float32Array.from({ length: n * 2048 }, () => Math.abs(rng.nextFloat() - 0.5 + shift));
  const cases = [
    [featureSet(like(40, 0), 2048), featureSet(like(24, 0.05), 2048)],
    [featureSet(Float32Array.from(ref.real), ref.dim), featureSet(Float32Array.from(ref.fake), ref.dim)],
  ] as const;
  const tensors = tf.memory().numTensors;
  for (const [real, fake] of cases) {
    const exact = computeMetrics(METRIC_IDS, new FeaturePair(real, fake));
    const pair = new FeaturePair(real, fake);
    await pair.fill(tfDot);
    const fast = computeMetrics(METRIC_IDS, pair);
    for (const [name, v] of Object.entries(exact)) {
      const tol = name === 'Metrics/kid_std' ? 1e-3 : 1e-4;
      assert.ok(Math.abs(fast[name]! - v) <= tol * Math.max(Math.abs(v), name === 'Metrics/kid' ? 1e-3 : 1e-6), `${name} (${real.count} × ${fake.count}, ${real.dim}-d): ${fast[name]} vs ${v}`);
    }
  }
  assert.equal(tf.memory().numTensors, tensors, 'no tensors left');
});
