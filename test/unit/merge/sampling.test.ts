/**
 * The merge's "real" batches: each image from the source its class was drawn for (per-class
 * counts multinomial over the user's weights), labelled with that class; fakes' labels drawn
 * with the same percentages; the same random stream gives the same batch, and nothing leaks.
 * Sources here make flat images of their own value, so an image shows where it came from.
 */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { readFloatsAndDispose } from '../../../core/backend/read.js';
import { selectBackend } from '../../../core/backend/select.js';
import { seedToZ } from '../../../core/generator/latents.js';
import { GeneratorSamplingSource } from '../../../core/merge/sampling-source.js';
import type { MergeSource } from '../../../core/merge/source.js';
import { Rng } from '../../../core/random/rng.js';

/** A source whose image for latent z is flat: its value plus z[0]/1000 (so the latent shows too), at `resolution`². */
function flatSource(value: number, resolution: number, zDim = 4): MergeSource & { calls: number[] } {
  const calls: number[] = [];
  return {
    kind: 'onnx',
    label: `flat ${value}`,
    ref: '',
    resolution,
    channels: 3,
    zDim,
    numClasses: 0,
    classIndex: null,
    sha256: '',
    networks: null,
    calls,
    async generate(z: Float32Array, _classes: Int32Array | null, n: number) {
      calls.push(n);
      const v = new Float32Array(n * resolution * resolution * 3);
      for (let i = 0; i < n; i++) v.fill(value + z[i * zDim]! / 1000, i * resolution * resolution * 3, (i + 1) * resolution * resolution * 3);
      return tf.tensor4d(v, [n, resolution, resolution, 3]);
    },
    dispose() {},
  };
}

describe('merge sampling source', () => {
  before(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  it('draws each image from the source of its class, in the shares asked for, labelled with that class', async () => {
    const sources = [flatSource(-0.5, 16), flatSource(0.5, 32)]; // the second is resampled from 32²
    const data = new GeneratorSamplingSource({ sources, labels: [0, 1], classNames: ['a', 'b'], shares: [1, 3], resolution: 16, channels: 3 });
    assert.equal(data.numClasses, 2);
    const rng = Rng.fromSeed(42);
    let ones = 0;
    let total = 0;
    for (let step = 0; step < 40; step++) {
      await data.prepare([16], rng);
      const real = data.next(16);
      const v = await readFloatsAndDispose(real.images);
      for (let i = 0; i < 16; i++) {
        const label = real.labels![i]!;
        const px = v[i * 16 * 16 * 3]!;
        assert.ok(Math.abs(px - (label === 0 ? -0.5 : 0.5)) < 0.01, `image ${i} of step ${step}: ${px} for class ${label}`);
        // Flat within the image (the whole 32² image was averaged into 16²).
        assert.ok(Math.abs(v[(i + 1) * 16 * 16 * 3 - 1]! - px) < 1e-6);
        ones += label;
        total++;
      }
    }
    // 640 draws at p = 0.75: the share within 4 standard deviations (±0.069).
    assert.ok(Math.abs(ones / total - 0.75) < 0.069, `share of class 1: ${ones / total}`);
    // Each source ran once per batch, for its images only.
    assert.ok(sources.every((s) => s.calls.length <= 40), 'at most one call per source per batch');
    assert.equal(sources[0]!.calls.reduce((a, b) => a + b, 0) + sources[1]!.calls.reduce((a, b) => a + b, 0), 640);

    // Fakes' labels: the same shares.
    const fake = data.sampleLabels(4000, Rng.fromSeed(7))!;
    const share = fake.reduce((a, b) => a + b, 0) / fake.length;
    assert.ok(Math.abs(share - 0.75) < 0.03, `fake labels' share of class 1: ${share}`);
    data.dispose();
  });

  it('is a function of the random stream: the same state gives the same batch; latents are the gallery\'s seeds', async () => {
    const make = (): GeneratorSamplingSource => new GeneratorSamplingSource({ sources: [flatSource(0, 16), flatSource(0.25, 16)], labels: [0, 1], classNames: ['a', 'b'], shares: [1, 1], resolution: 16, channels: 3 });
    const a = make();
    const b = make();
    const ra = Rng.fromSeed(3);
    await a.prepare([8], ra);
    tf.dispose(a.next(8).images);
    const saved = ra.state();
    const check = Rng.fromState(saved);
    await a.prepare([8, 8], ra);
    await b.prepare([8, 8], Rng.fromState(saved));
    for (let k = 0; k < 2; k++) {
      const x = a.next(8);
      const y = b.next(8);
      assert.deepEqual(x.labels, y.labels);
      assert.deepEqual(await readFloatsAndDispose(x.images), await readFloatsAndDispose(y.images));
    }
    // The first image's latent is seedToZ of the seed drawn after its source: z[0]/1000 shows in its pixels.
    const c = make();
    await c.prepare([1], Rng.fromState(saved));
    const r = c.next(1);
    const px = (await readFloatsAndDispose(r.images))[0]!;
    check.nextFloat(); // its source
    const z0 = seedToZ(check.nextU32(), 4)[0]!;
    assert.ok(Math.abs(px - ((r.labels![0] === 0 ? 0 : 0.25) + z0 / 1000)) < 1e-6, `${px} vs ${z0}`);
    [a, b, c].forEach((d) => d.dispose());
  });

  it('an unconditional source (rooting) has no labels; unused batches are refused; no tensor leaks', async () => {
    const data = new GeneratorSamplingSource({ sources: [flatSource(0.1, 16)], labels: null, classNames: [], shares: [1], resolution: 16, channels: 3 });
    assert.equal(data.numClasses, 0);
    assert.equal(data.sampleLabels(4, Rng.fromSeed(1)), null);
    assert.throws(() => data.next(4), /no batch prepared/);
    const n0 = tf.memory().numTensors;
    const rng = Rng.fromSeed(2);
    await data.prepare([4, 4], rng);
    await assert.rejects(data.prepare([4], rng), /left batches unused/);
    tf.tidy(() => {
      assert.equal(data.next(4).labels, null);
      data.next(4);
    });
    assert.equal(tf.memory().numTensors, n0);
    data.dispose();
  });
});
