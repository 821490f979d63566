/**
 * The feature extractors on real images (Twemoji, decoded with sharp) on the wasm backend.
 * The bundled InceptionV3 loads from nsfwjs's files and its own classifier head gives the same
 * class probabilities as the package's API — proof that the weights load correctly; features are
 * 2048-d, independent of the batching, and leave no tensors behind. A user's TF.js model loads
 * when it gives 2048 features, and is refused with the file named when it does not load or gives
 * another size.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import sharp from 'sharp';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../../core/api/errors.js';
import { selectBackend } from '../../../core/backend/select.js';
import { type BundledInception, loadBundledInception, loadCustomExtractor, NSFW_CLASSES } from '../../../core/metrics/inception.js';
import { tempDir } from '../../helpers/tmp.js';

const EMOJI = join(import.meta.dirname, '../../../node_modules/emoji-datasource-twitter/img/twitter/64');

/** A few Twemoji on white, 64 × 64 RGB. */
async function emoji(names: string[]): Promise<Uint8Array> {
  const out = new Uint8Array(names.length * 64 * 64 * 3);
  for (const [i, n] of names.entries()) out.set(await sharp(join(EMOJI, n)).flatten({ background: '#ffffff' }).removeAlpha().raw().toBuffer(), i * 64 * 64 * 3);
  return out;
}

describe('the bundled InceptionV3', () => {
  let inception: BundledInception;
  let tensorsBefore: number;
  const names = readdirSync(EMOJI).filter((f) => f.endsWith('.png')).sort();
  const picked = [names[0]!, names[900]!, names[1800]!];
  let pixels: Uint8Array;

  before(async () => {
    await selectBackend({ prefer: 'wasm' });
    pixels = await emoji(picked);
    tensorsBefore = tf.memory().numTensors;
    inception = await loadBundledInception();
  });

  after(() => inception?.dispose());

  it('its classifier head agrees with nsfwjs’s own API on real images', async () => {
    const ours = await inception.classify({ pixels, count: picked.length, resolution: 64, channels: 3 });
    // The package's API, on the model it bundles (its own loader, from the same files).
    const info = console.info;
    console.info = () => undefined; // nsfwjs announces the model it uses
    const nsfwjs = await import('nsfwjs');
    const model = await nsfwjs.load('InceptionV3', { size: 299 });
    console.info = info;
    try {
      for (let i = 0; i < picked.length; i++) {
        const image = tf.tensor3d(pixels.subarray(i * 64 * 64 * 3, (i + 1) * 64 * 64 * 3), [64, 64, 3], 'int32');
        const theirs = await model.classify(image, 5);
        image.dispose();
        const mine = Array.from(ours.subarray(i * 5, i * 5 + 5));
        const top = mine.indexOf(Math.max(...mine));
        assert.equal(NSFW_CLASSES[top], theirs[0]!.className, `${picked[i]}: same top class`);
        for (const t of theirs) {
          const k = NSFW_CLASSES.indexOf(t.className as (typeof NSFW_CLASSES)[number]);
          assert.ok(Math.abs(mine[k]! - t.probability) < 1e-4, `${picked[i]} ${t.className}: ${mine[k]} vs ${t.probability}`);
        }
      }
    } finally {
      model.dispose();
    }
  });

  it('gives 2048 features per image whatever the batching, grayscale too, with no tensor left behind', async () => {
    const two = { pixels: pixels.subarray(0, 2 * 64 * 64 * 3), count: 2, resolution: 64, channels: 3 };
    const tensors = tf.memory().numTensors;
    let progressed = 0;
    const whole = (await inception.extract(two, { batch: 2 }))!;
    const split = (await inception.extract(two, { batch: 1, onProgress: (n) => (progressed = n) }))!;
    assert.equal(progressed, 2);
    assert.equal(inception.dim, 2048);
    assert.equal(whole.length, 2 * 2048);
    assert.ok(whole.every(Number.isFinite) && whole.some((v) => v > 0), 'finite, not all zero');
    for (let i = 0; i < whole.length; i++) assert.ok(Math.abs(whole[i]! - split[i]!) < 1e-4 * (1 + Math.abs(whole[i]!)), `feature ${i}`);
    // Different images, different features.
    const a = whole.subarray(0, 2048);
    const b = whole.subarray(2048, 4096);
    assert.ok(a.some((v, i) => Math.abs(v - b[i]!) > 1e-3));
    // One channel: tiled to RGB.
    const gray = Uint8Array.from({ length: 64 * 64 }, (_, i) => pixels[i * 3]!);
    const g = (await inception.extract({ pixels: gray, count: 1, resolution: 64, channels: 1 }))!;
    assert.equal(g.length, 2048);
    // Asked to stop: null, nothing kept.
    assert.equal(await inception.extract(two, { batch: 1, shouldStop: () => true }), null);
    assert.equal(tf.memory().numTensors, tensors, 'no tensors left by extraction');
  });

  it('frees every weight when disposed', () => {
    inception.dispose();
    assert.equal(tf.memory().numTensors, tensorsBefore);
    inception = { dispose: () => undefined } as unknown as BundledInception;
  });
});

describe('a user’s feature extractor', () => {
  /** Saves a small layers model (32² RGB → conv → global pool → dense `out`) as model.json + weights.bin. */
  async function saveModel(dir: string, out: number): Promise<{ path: string; model: tf.LayersModel }> {
    mkdirSync(dir, { recursive: true });
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [32, 32, 3], filters: 4, kernelSize: 3, activation: 'relu' }),
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: out }),
      ],
    });
    await model.save(
      tf.io.withSaveHandler(async (a) => {
        const weights = Buffer.from(a.weightData as ArrayBuffer);
        writeFileSync(join(dir, 'weights.bin'), weights);
        writeFileSync(join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['weights.bin'], weights: a.weightSpecs }] }));
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    return { path: join(dir, 'model.json'), model };
  }

  it('a TF.js model giving 2048 features is used as it is (resized input, its pixel range)', async (t) => {
    await selectBackend({ prefer: 'wasm' });
    const dir = tempDir(t);
    const { path, model } = await saveModel(join(dir, 'good'), 2048);
    const e = await loadCustomExtractor({ path, inputRange: [-1, 1] });
    try {
      assert.equal(e.reference, true);
      assert.equal(e.inputSize, 32);
      assert.match(e.id, /^custom-[0-9a-f]{16}\/range--1,1$/);
      const pixels = Uint8Array.from({ length: 2 * 16 * 16 * 3 }, (_, i) => (i * 37) % 256);
      const got = (await e.extract({ pixels, count: 2, resolution: 16, channels: 3 }))!;
      const expected = tf.tidy(() => model.predict(tf.image.resizeBilinear(tf.tensor4d(pixels, [2, 16, 16, 3]).div(127.5).sub(1) as tf.Tensor4D, [32, 32])) as tf.Tensor);
      const want = await expected.data();
      expected.dispose();
      for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i]! - want[i]!) < 1e-4, `feature ${i}: ${got[i]} vs ${want[i]}`);
    } finally {
      e.dispose();
      model.dispose();
    }
  });

  it('is refused, naming the file and what to do, when it gives another size, lacks its weights, or is not a model', async (t) => {
    const dir = tempDir(t);
    const refused = async (spec: { path: string; inputRange: [number, number] }, pattern: RegExp): Promise<void> => {
      await assert.rejects(loadCustomExtractor(spec), (err: unknown) => {
        assert.ok(err instanceof UserError, String(err));
        assert.match(err.message, pattern);
        assert.match(err.message, /Point the studio at|Keep the model.json beside/);
        return true;
      });
    };
    const { path, model } = await saveModel(join(dir, 'small'), 10);
    model.dispose();
    await refused({ path, inputRange: [0, 255] }, new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} gives 10 values per image, not the 2048 pool features`));
    writeFileSync(join(dir, 'small', 'weights.bin'), Buffer.alloc(0));
    await refused({ path, inputRange: [0, 255] }, /did not load as a TF\.js model/);
    const lonely = join(dir, 'lonely');
    mkdirSync(lonely);
    writeFileSync(join(lonely, 'model.json'), JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['gone.bin'], weights: [] }] }));
    await refused({ path: join(lonely, 'model.json'), inputRange: [0, 255] }, /names the weight file .*gone\.bin, which cannot be read \(ENOENT\)/);
    writeFileSync(join(dir, 'notes.json'), 'hello');
    await refused({ path: join(dir, 'notes.json'), inputRange: [0, 255] }, /notes\.json is not JSON/);
    await refused({ path: join(dir, 'missing.json'), inputRange: [0, 255] }, /missing\.json cannot be read \(ENOENT\)/);
  });
});
