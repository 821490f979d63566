/** Generator and discriminator shapes at several resolutions, with and without classes; config checks. */
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { constantCount } from '../../../core/backend/constants.js';
import { selectBackend } from '../../../core/backend/select.js';
import { channelsAt, type NetConfig, numWs, resolveNetConfig } from '../../../core/nets/config.js';
import { Discriminator } from '../../../core/nets/discriminator.js';
import { Generator, oneHotLabels } from '../../../core/nets/generator.js';

const tiny: Partial<NetConfig> = { channelBase: 128, channelMax: 16, zDim: 8, wDim: 8, mappingLayers: 2 };

describe('network shapes', () => {
  before(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  for (const resolution of [16, 32, 64]) {
    for (const numClasses of [0, 3]) {
      it(`${resolution}², ${numClasses === 0 ? 'unconditional' : `${numClasses} classes`}`, () => {
        const cfg = { ...tiny, resolution, numClasses, imageChannels: 3 };
        const G = new Generator(cfg);
        const D = new Discriminator(cfg);
        const n = 4;
        const before = tf.memory().numTensors - constantCount(); // kept scalar constants are made on first use
        tf.tidy(() => {
          const z = tf.randomNormal([n, 8]) as tf.Tensor2D;
          const c = numClasses > 0 ? oneHotLabels([0, 1, 2, 1], numClasses) : undefined;
          const w = G.mapping(z, c);
          assert.deepEqual(w.shape, [n, 8]);
          const img = G.synthesis(w, 'random');
          assert.deepEqual(img.shape, [n, resolution, resolution, 3]);
          // Per-layer ws (style mixing) give the same shape; the count follows StyleGAN2.
          assert.equal(G.numWs, 2 * Math.log2(resolution) - 2);
          const ws = w.expandDims(1).tile([1, G.numWs, 1]) as tf.Tensor3D;
          assert.deepEqual(G.synthesis(ws, 'const').shape, [n, resolution, resolution, 3]);
          const logits = D.apply(img, c);
          assert.deepEqual(logits.shape, [n, 1]);
          // Missing or unexpected labels are refused with the reason.
          if (numClasses > 0) {
            assert.throws(() => G.mapping(z), /has 3 classes; a class label is required/);
            assert.throws(() => D.apply(img), /has 3 classes; a class label is required/);
            assert.throws(() => G.mapping(z, oneHotLabels([0, 1, 2, 1], 4)), /class label: expected shape \[4, 3\], got \[4, 4\]/);
          } else {
            assert.throws(() => G.mapping(z, oneHotLabels([0, 1, 2, 1], 3)), /unconditional; got a class label/);
          }
          assert.throws(() => D.apply(tf.zeros([n, resolution / 2, resolution / 2, 3]) as tf.Tensor4D, c), /Discriminator images: expected shape/);
        });
        assert.equal(tf.memory().numTensors - constantCount(), before, 'forward passes leave nothing behind');
        // Parameter counts grow with capacity: every trainable variable is listed.
        assert.ok(G.trainableVariables().length > 10 && D.trainableVariables().length > 10);
        assert.ok(G.params.all().some((p) => p.name === 'G.mapping.w_avg' && !p.trainable));
        G.dispose();
        D.dispose();
      });
    }
  }

  it('grayscale images (1 channel) at 16²', () => {
    const cfg = { ...tiny, resolution: 16, imageChannels: 1 };
    const G = new Generator(cfg);
    const D = new Discriminator(cfg);
    tf.tidy(() => {
      const img = G.generate(tf.randomNormal([2, 8]) as tf.Tensor2D);
      assert.deepEqual(img.shape, [2, 16, 16, 1]);
      assert.deepEqual(D.apply(img).shape, [2, 1]);
    });
    G.dispose();
    D.dispose();
  });

  it('config: capacity knob, defaults, and refusals that name the setting', () => {
    assert.equal(channelsAt({ channelBase: 16384, channelMax: 512 }, 4), 512);
    assert.equal(channelsAt({ channelBase: 16384, channelMax: 512 }, 64), 256);
    assert.equal(channelsAt({ channelBase: 16384, channelMax: 512 }, 1024), 16);
    assert.equal(channelsAt({ channelBase: 8192, channelMax: 512 }, 64), 128); // half the capacity, half the width
    assert.equal(numWs(1024), 18);
    assert.equal(resolveNetConfig({}).resolution, 256);
    for (const resolution of [8, 48, 2048]) {
      assert.throws(() => resolveNetConfig({ resolution }), /resolution must be a power of two from 16 to 1024/);
    }
    assert.throws(() => resolveNetConfig({ resolution: 1024, channelBase: 512 }), /channelBase 512 is too small for 1024²/);
    assert.throws(() => resolveNetConfig({ zDim: 0 }), /zDim must be an integer ≥ 1/);
  });

  it('1024²: G and D run end to end (tiny capacity, batch 1)', () => {
    const cfg = { ...tiny, resolution: 1024, channelBase: 2048, channelMax: 16 };
    const G = new Generator(cfg);
    const D = new Discriminator(cfg);
    assert.equal(G.numWs, 18);
    tf.tidy(() => {
      const img = G.generate(tf.randomNormal([1, 8]) as tf.Tensor2D);
      assert.deepEqual(img.shape, [1, 1024, 1024, 3]);
      assert.deepEqual(D.apply(img).shape, [1, 1]);
    });
    G.dispose();
    D.dispose();
  });
});
