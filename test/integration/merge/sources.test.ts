/**
 * Merge sources: a studio generator exported to ONNX (by the studio's own exporter) and run by
 * ONNX Runtime makes the studio's images within the export's tolerance, unconditional and with
 * classes; its TF.js export makes them exactly; generators made by PyTorch (torch.onnx.export,
 * fixtures with PyTorch's own outputs) are read with their inputs, layout and range inferred and
 * brought to the merge's size and colour mode; files that are damaged, not ONNX, or not a
 * generator are refused with the reason, naming the file, before anything is trained or written.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { UserError } from '../../../core/api/errors.js';
import { readFloatsAndDispose } from '../../../core/backend/read.js';
import { selectBackend } from '../../../core/backend/select.js';
import { seedToZ } from '../../../core/generator/latents.js';
import { SamplerHost } from '../../../core/gallery/sampler-host.js';
import { ONNX_TOLERANCE } from '../../../core/export/onnx-export.js';
import { CheckpointDir } from '../../../core/merge/checkpoint-dir.js';
import { runMerge } from '../../../core/merge/merge.js';
import { inspectOnnx, OnnxSource } from '../../../core/merge/onnx-source.js';
import { openMergeSources, parseSourceSpec } from '../../../core/merge/open.js';
import { GeneratorSamplingSource } from '../../../core/merge/sampling-source.js';
import { type MergeSource, toMergeImages } from '../../../core/merge/source.js';
import { Rng } from '../../../core/random/rng.js';
import { type Fixture, projectWithCheckpoint } from '../../helpers/gallery.js';

const REPO = new URL('../../..', import.meta.url).pathname;
const FIXTURES = new URL('../../fixtures/merge', import.meta.url).pathname;
const noCtx = { item: () => {}, progress: () => {}, cancelled: () => false };

const f32 = (b64: string): Float32Array => {
  const bytes = Buffer.from(b64, 'base64');
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
};

const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  assert.equal(a.length, b.length, 'same number of values');
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
};

/** n latents of the source's size, from seeds 0…n−1. */
function latents(zDim: number, n: number): Float32Array {
  const z = new Float32Array(n * zDim);
  for (let i = 0; i < n; i++) z.set(seedToZ(i, zDim), i * zDim);
  return z;
}

async function images(source: MergeSource, z: Float32Array, classes: Int32Array | null, n: number): Promise<Float32Array> {
  return readFloatsAndDispose(await source.generate(z, classes, n));
}

describe('merge sources', () => {
  let dir: string;
  const projects: Fixture[] = [];
  const hosts: SamplerHost[] = [];

  /** A project holding a random studio generator as a model, exported to ONNX and TF.js by the studio. */
  async function studioExports(numClasses: number, tag = ''): Promise<{ fx: Fixture; onnx: string; tfjs: string; modelId: number }> {
    const sub = join(dir, `c${numClasses}${tag}`);
    mkdirSync(sub);
    const fx = await projectWithCheckpoint({ after: () => {} } as never, sub, { numClasses, seed: 21 + numClasses });
    projects.push(fx);
    const host = new SamplerHost(fx.project.db, 'wasm', 'test');
    hosts.push(host);
    const model = await host.run({ op: 'promote', runId: fx.runId, checkpointId: fx.checkpointId, name: `Tiny ${numClasses}` }, noCtx);
    const onnx = join(sub, 'tiny.onnx');
    const tfjs = join(sub, 'tiny-tfjs');
    await host.run({ op: 'export', source: { kind: 'model', modelId: model.id }, format: 'onnx', out: onnx, overwrite: false }, noCtx);
    await host.run({ op: 'export', source: { kind: 'model', modelId: model.id }, format: 'tfjs', out: tfjs, overwrite: false }, noCtx);
    return { fx, onnx, tfjs, modelId: model.id };
  }

  before(async () => {
    await selectBackend({ prefer: 'wasm' });
    mkdirSync(join(REPO, 'test-results'), { recursive: true });
    dir = mkdtempSync(join(REPO, 'test-results', 'merge-sources-'));
  });

  after(() => {
    hosts.forEach((h) => h.dispose());
    projects.forEach((p) => p.project.close());
    rmSync(dir, { recursive: true, force: true });
  });

  it('a studio generator exported to ONNX samples the studio\'s images (within the export\'s tolerance); its TF.js export exactly', async (t) => {
    for (const numClasses of [0, 3]) {
      const { fx, onnx, tfjs, modelId } = await studioExports(numClasses);
      const [studio, fromOnnx, fromTfjs] = await openMergeSources([{ kind: 'model', model: modelId }, { kind: 'onnx', path: onnx }, { kind: 'tfjs', path: tfjs }], { db: fx.project.db });
      const d = (fromOnnx as OnnxSource).description;
      assert.equal(d.latent.name, 'z');
      assert.equal(d.latent.size, 32);
      assert.deepEqual(d.output, { name: 'image', layout: 'NHWC', resolution: 16, channels: 3 });
      assert.deepEqual(Object.keys(d.constants), ['psi']);
      assert.equal(d.range, '[-1,1]');
      assert.ok(d.inferred.includes('value range [-1,1] (its atelier.json: a GAN Atelier export)'), d.inferred.join('; '));
      assert.equal(d.constants['psi']!.value, 1, 'ψ 1: no truncation, as the studio samples a source');
      if (numClasses > 0) assert.deepEqual(d.cls, { name: 'class', kind: 'one-hot', count: 3, type: 'float32' });
      else assert.equal(d.cls, null);

      const n = 6;
      const z = latents(32, n);
      const classes = numClasses > 0 ? Int32Array.from({ length: n }, (_, i) => i % numClasses) : null;
      const want = await images(studio!, z, classes, n);
      const diff = maxDiff(await images(fromOnnx!, z, classes, n), want);
      assert.ok(diff <= ONNX_TOLERANCE, `ONNX vs studio: ${diff}`);
      assert.equal(maxDiff(await images(fromTfjs!, z, classes, n), want), 0, 'TF.js export: the same images');
      t.diagnostic(`${numClasses} classes: ONNX Runtime vs TF.js (wasm) max abs diff ${diff.toExponential(2)} (tolerance ${ONNX_TOLERANCE})`);

      // Through the merge's sampling source, the same draws give the same real batch.
      const batch = async (s: MergeSource): Promise<Float32Array> => {
        const data = new GeneratorSamplingSource({ sources: [s], labels: [0], classNames: ['a'], shares: [1], resolution: 16, channels: 3 });
        await data.prepare([8], Rng.fromSeed(5));
        const real = data.next(8);
        data.dispose();
        assert.deepEqual([...real.labels!], new Array(8).fill(0));
        return readFloatsAndDispose(real.images);
      };
      assert.ok(maxDiff(await batch(fromOnnx!), await batch(studio!)) <= ONNX_TOLERANCE);
      [studio, fromOnnx, fromTfjs].forEach((s) => s!.dispose());
    }
  });

  it('reads PyTorch generators: inputs, NCHW/NHWC and the value range inferred; images brought to the merge\'s size and colours', async () => {
    const ex = JSON.parse(readFileSync(join(FIXTURES, 'onnx-expected.json'), 'utf8')) as Record<string, string> & { z: string; c: number[] };
    const z = f32(ex.z);
    const n = 4;

    // 16² RGB, NCHW, tanh: the range comes from its last operator.
    const a = await OnnxSource.open(join(FIXTURES, 'gen16-nchw-tanh.onnx'));
    assert.equal(a.description.output.layout, 'NCHW');
    assert.equal(a.description.range, '[-1,1]');
    assert.ok(a.description.inferred.some((s) => s.includes('last operator')));
    const torchA = f32(ex['gen16-nchw-tanh']!); // [4, 3, 16, 16]
    const wantA = new Float32Array(n * 16 * 16 * 3);
    for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) for (let y = 0; y < 16; y++) for (let x = 0; x < 16; x++) wantA[((i * 16 + y) * 16 + x) * 3 + c] = torchA[((i * 3 + c) * 16 + y) * 16 + x]!;
    assert.ok(maxDiff(await images(a, z, null, n), wantA) < 1e-5);

    // 32² grayscale with a one-hot class input, sigmoid [0, 1] → 16² RGB in [−1, 1] (2×2 means, grey repeated).
    const b = await OnnxSource.open(join(FIXTURES, 'gen32-cond-gray-sigmoid.onnx'));
    assert.deepEqual(b.description.cls, { name: 'c', kind: 'one-hot', count: 2, type: 'float32' });
    assert.equal(b.description.range, '[0,1]');
    const torchB = f32(ex['gen32-cond-gray-sigmoid']!); // [4, 1, 32, 32]
    const wantB = new Float32Array(n * 16 * 16 * 3);
    for (let i = 0; i < n; i++) {
      for (let y = 0; y < 16; y++) {
        for (let x = 0; x < 16; x++) {
          let s = 0;
          for (const [dy, dx] of [[0, 0], [0, 1], [1, 0], [1, 1]] as const) s += torchB[(i * 32 + 2 * y + dy) * 32 + 2 * x + dx]! * 2 - 1;
          for (let c = 0; c < 3; c++) wantB[((i * 16 + y) * 16 + x) * 3 + c] = s / 4;
        }
      }
    }
    const own = await b.generate(z, Int32Array.from(ex.c), n);
    const merged = toMergeImages(own, 16, 3);
    own.dispose();
    assert.ok(maxDiff(await readFloatsAndDispose(merged), wantB) < 1e-5);

    // NHWC in [0, 255] with a ψ input: ψ = 1, the range measured on the probe.
    const c = await OnnxSource.open(join(FIXTURES, 'gen16-nhwc-255.onnx'));
    assert.equal(c.description.output.layout, 'NHWC');
    assert.equal(c.description.range, '[0,255]');
    assert.ok(c.description.inferred.some((s) => s.startsWith('value range [0,255] (measured')));
    const torchC = f32(ex['gen16-nhwc-255']!);
    assert.ok(maxDiff(await images(c, z, null, n), torchC.map((v) => v / 127.5 - 1)) < 1e-5);

    // What the user confirms: the probe's images.
    const d = await inspectOnnx(join(FIXTURES, 'gen16-nchw-tanh.onnx'));
    assert.equal(d.preview.pixels.length, 8 * 16 * 16 * 3);
    assert.ok(new Set(d.preview.pixels).size > 10, 'the preview shows pictures, not a flat colour');
    [a, b, c].forEach((s) => s.dispose());
  });

  it('refuses damaged, non-ONNX and non-generator files with the reason, before anything is trained or written', async () => {
    const bad = join(dir, 'bad');
    mkdirSync(bad);
    const good = readFileSync(join(FIXTURES, 'gen16-nchw-tanh.onnx'));
    writeFileSync(join(bad, 'truncated.onnx'), good.subarray(0, Math.floor(good.length / 2)));
    writeFileSync(join(bad, 'text.onnx'), 'this is not a model\n');
    copyFileSync(join(FIXTURES, 'classifier.onnx'), join(bad, 'classifier.onnx'));
    const cases: Array<[string, Record<string, unknown>, RegExp]> = [
      ['truncated.onnx', {}, /truncated\.onnx cannot be used as a merge source: ONNX Runtime cannot load it \(.+\)\. Check that it is an \.onnx file and not damaged/],
      ['text.onnx', {}, /text\.onnx cannot be used as a merge source: ONNX Runtime cannot load it/],
      ['classifier.onnx', {}, /classifier\.onnx cannot be used as a merge source: it has no float input of shape \[batch, size\] to take a latent \(its inputs: image float32 \[batch, 3, 16, 16\]\)/],
      ['missing.onnx', {}, /missing\.onnx does not exist/],
    ];
    for (const [file, options, message] of cases) {
      await assert.rejects(OnnxSource.open(join(bad, file), options), (err: unknown) => err instanceof UserError && message.test(err.message), file);
    }
    // Settings that do not fit the file.
    await assert.rejects(OnnxSource.open(join(FIXTURES, 'gen16-nchw-tanh.onnx'), { latentInput: 'w' }), /has no input "w" \(the latent input given\); its inputs are z float32 \[batch, 16\]/);
    await assert.rejects(OnnxSource.open(join(FIXTURES, 'gen16-nchw-tanh.onnx'), { latentSize: 512 }), /takes 16 values, not the 512 given\. Set the latent size to 16/);
    await assert.rejects(OnnxSource.open(join(FIXTURES, 'gen16-nchw-tanh.onnx'), { classIndex: 1 }), /a class was given but it has no class input/);

    // In a merge: refused while opening the sources (or planning: an ONNX root), nothing written.
    const { fx, modelId } = await studioExports(0, '-refusals');
    const before = fx.project.summary().counts;
    const ckDir = join(bad, 'checkpoints');
    const host = new CheckpointDir(ckDir);
    let checkpoints = 0;
    await assert.rejects(openMergeSources([{ kind: 'model', model: modelId }, parseSourceSpec(join(bad, 'classifier.onnx'))], { db: fx.project.db }), /classifier\.onnx cannot be used as a merge source/);
    const sources = await openMergeSources([parseSourceSpec(join(FIXTURES, 'gen16-nchw-tanh.onnx')), { kind: 'model', model: modelId }], { db: fx.project.db });
    await assert.rejects(
      runMerge({ sources, settings: { kimgRoot: 0.01, kimgMerge: 0.01 }, callbacks: { checkpoint: (c) => void (checkpoints++, host.write(c)) } }),
      /"gen16-nchw-tanh\.onnx" \(ONNX\) cannot be the root: .*Pick a studio model, run or TF\.js export as the root; the ONNX generator stays a source\./,
    );
    sources.forEach((s) => s.dispose());
    assert.equal(checkpoints, 0, 'no checkpoint written');
    assert.deepEqual(readdirSync(ckDir), []);
    assert.deepEqual(fx.project.summary().counts, before, 'the project is unchanged');
  });

  it('parses the command line\'s source specs', () => {
    assert.deepEqual(parseSourceSpec('model:Ink cats'), { kind: 'model', model: 'Ink cats' });
    assert.deepEqual(parseSourceSpec('run:3'), { kind: 'run', runId: 3 });
    assert.deepEqual(parseSourceSpec('run:3:12'), { kind: 'run', runId: 3, checkpointId: 12 });
    assert.deepEqual(parseSourceSpec('gens/dogs.ONNX'), { kind: 'onnx', path: 'gens/dogs.ONNX' });
    assert.deepEqual(parseSourceSpec('exports/cats/'), { kind: 'tfjs', path: 'exports/cats/' });
    assert.throws(() => parseSourceSpec('run:x'), /is not run:RUN or run:RUN:CHECKPOINT/);
    assert.throws(() => parseSourceSpec('model:'), /names no model/);
  });

  it('leaves no tensor behind when sampling', async () => {
    const s = await OnnxSource.open(join(FIXTURES, 'gen32-cond-gray-sigmoid.onnx'), { classIndex: 1 });
    const data = new GeneratorSamplingSource({ sources: [s], labels: [0], classNames: ['x'], shares: [1], resolution: 16, channels: 3 });
    const n0 = tf.memory().numTensors;
    await data.prepare([4, 4], Rng.fromSeed(1));
    tf.tidy(() => {
      data.next(4);
      data.next(4);
    });
    assert.equal(tf.memory().numTensors, n0);
    data.dispose();
    s.dispose();
  });
});
