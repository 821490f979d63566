/**
 * Weight surgery: averaging is the element-wise mean exactly (against numpy, and on real
 * networks); making networks conditional keeps every existing value bit for bit (and what z feeds
 * into G's mapping, exactly); fixing a conditional network to one class computes the same images
 * and logits as the conditional one does for that class.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { readFloatsAndDispose } from '../../../core/backend/read.js';
import { selectBackend } from '../../../core/backend/select.js';
import { averageTensors, collapseToClass, extendClasses } from '../../../core/merge/surgery.js';
import { type NetConfig, resolveNetConfig } from '../../../core/nets/config.js';
import { Discriminator } from '../../../core/nets/discriminator.js';
import { Generator, oneHotLabels } from '../../../core/nets/generator.js';
import { assignNamed, type NamedArray, readNamed } from '../../../core/nets/checkpoint-format.js';

const FIXTURE = new URL('../../fixtures/merge/mean-fixture.json', import.meta.url);

function net(numClasses: number, seed: number): NetConfig {
  return resolveNetConfig({ resolution: 16, imageChannels: 3, numClasses, zDim: 32, wDim: 24, channelBase: 256, channelMax: 16, mappingLayers: 2, mbstdGroupSize: 4, seed });
}

async function tensorsOf(n: Generator | Discriminator): Promise<Map<string, NamedArray>> {
  return new Map((await readNamed(n.params.all().map((p) => ({ name: p.name, tensor: p.variable })))).map((t) => [t.name, t]));
}

/** Every parameter moved off its initial value (biases and strengths start as constants). */
function jitter(n: Generator | Discriminator, seed: number): void {
  tf.tidy(() => {
    n.params.all().forEach((p, i) => p.variable.assign(p.variable.add(tf.randomNormal(p.variable.shape, 0, 0.3, 'float32', seed * 1000 + i))));
  });
}

function load(n: Generator | Discriminator, t: ReadonlyMap<string, NamedArray>): void {
  assignNamed(t, n.params.all().map((p) => ({ name: p.name, variable: p.variable })));
}

const f32 = (b64: string): Float32Array => {
  const bytes = Buffer.from(b64, 'base64');
  const out = new Float32Array(bytes.byteLength / 4);
  new Uint8Array(out.buffer).set(bytes);
  return out;
};

function assertBitIdentical(a: Float32Array, b: Float32Array, what: string): void {
  assert.equal(a.length, b.length, `${what}: length`);
  const ua = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const ub = new Uint32Array(b.buffer, b.byteOffset, b.length);
  for (let i = 0; i < ua.length; i++) if (ua[i] !== ub[i]) assert.fail(`${what}[${i}]: ${a[i]} ≠ ${b[i]}`);
}

describe('merge weight surgery', () => {
  before(async () => {
    await selectBackend({ prefer: 'wasm' });
  });

  it('averages to numpy\'s element-wise mean, bit for bit (values over 60 binary orders of magnitude)', () => {
    const fx = JSON.parse(readFileSync(FIXTURE, 'utf8')) as { arrays: string[]; mean: string };
    const arrays = fx.arrays.map(f32);
    const models = arrays.map((data) => new Map([['x', { name: 'x', shape: [data.length], data }]]));
    const mean = averageTensors(models).get('x')!;
    assertBitIdentical(mean.data, f32(fx.mean), 'mean');
  });

  it('averages every parameter and buffer of real networks to their element-wise mean', async () => {
    const Gs = [1, 2, 3].map((s) => new Generator(net(0, s)));
    Gs.forEach((g, i) => jitter(g, i + 1));
    const each = await Promise.all(Gs.map(tensorsOf));
    const avg = averageTensors(each);
    assert.deepEqual([...avg.keys()], [...each[0]!.keys()], 'same names, same order');
    for (const [name, t] of avg) {
      const want = new Float32Array(t.data.length);
      for (let i = 0; i < want.length; i++) want[i] = (each[2]!.get(name)!.data[i]! + each[1]!.get(name)!.data[i]! + each[0]!.get(name)!.data[i]!) / 3;
      assertBitIdentical(t.data, want, name);
    }
    // Buffers too: the tracked average w and the fixed noise.
    assert.ok(avg.has('G.mapping.w_avg') && avg.has('G.synthesis.b16.conv1.noise_const'));
    // Refused: networks of another architecture, named.
    const other = await tensorsOf(new Generator({ ...net(0, 4), channelMax: 8 }));
    assert.throws(() => averageTensors([each[0]!, other], ['root', 'other']), /is \[.*\] in other but \[.*\] in root/);
    Gs.forEach((g) => g.dispose());
  });

  it('makes an unconditional pair conditional: old values bit for bit, z\'s path into the mapping unchanged', async () => {
    const n0 = net(0, 5);
    const G = new Generator(n0);
    const D = new Discriminator(n0);
    jitter(G, 5);
    jitter(D, 6);
    const g = await tensorsOf(G);
    const d = await tensorsOf(D);
    const ext = extendClasses(n0, g, d, 3, 99);
    assert.equal(ext.net.numClasses, 3);

    // Loads into conditional networks (every name and shape as they expect).
    const G3 = new Generator(ext.net);
    const D3 = new Discriminator(ext.net);
    load(G3, ext.G);
    load(D3, ext.D!);
    assert.deepEqual([...ext.G.keys()], G3.params.all().map((p) => p.name), "G's parameters in the network's order");

    // Everything whose shape stays: bit for bit.
    for (const [name, t] of g) if (name !== 'G.mapping.fc0.weight') assertBitIdentical(ext.G.get(name)!.data, t.data, name);
    for (const [name, t] of d) if (!name.startsWith('D.b4.out.')) assertBitIdentical(ext.D!.get(name)!.data, t.data, name);
    // D's logit column and bias: column 0 of the projection head, bit for bit.
    const c4 = 16;
    const cmap = ext.D!.get('D.b4.out.weight')!.shape[1]!;
    const outW = ext.D!.get('D.b4.out.weight')!.data;
    assertBitIdentical(Float32Array.from({ length: c4 }, (_, i) => outW[i * cmap]!), d.get('D.b4.out.weight')!.data, 'D.b4.out.weight column 0');
    assert.equal(ext.D!.get('D.b4.out.bias')!.data[0], d.get('D.b4.out.bias')!.data[0]);
    // fc0's z rows: rescaled so that stored · lrMul/√fan-in (the weight it applies) is unchanged.
    const old = g.get('G.mapping.fc0.weight')!.data;
    const grown = ext.G.get('G.mapping.fc0.weight')!.data;
    const { zDim, wDim, mappingLrMul: lr } = n0;
    for (let i = 0; i < zDim * wDim; i++) {
      const before = (old[i]! * lr) / Math.sqrt(zDim);
      const after = (grown[i]! * lr) / Math.sqrt(zDim + wDim);
      assert.ok(Math.abs(after - before) <= 1e-6 * Math.abs(before) + 1e-12, `fc0 z row value ${i}: ${after} vs ${before}`);
    }
    // New values: random normal, the same for the same seed.
    const embed = ext.G.get('G.mapping.embed.weight')!.data;
    const m = embed.reduce((a, v) => a + v, 0) / embed.length;
    const sd = Math.sqrt(embed.reduce((a, v) => a + (v - m) ** 2, 0) / embed.length);
    assert.ok(Math.abs(m) < 0.3 && sd > 0.7 && sd < 1.3, `embedding N(0, 1): mean ${m}, std ${sd}`);
    assertBitIdentical(extendClasses(n0, g, d, 3, 99).G.get('G.mapping.embed.weight')!.data, embed, 'same seed');

    // With the class's new input rows zeroed, every class makes exactly the unconditional images:
    // what z contributes is kept; the class only adds to it.
    const zeroed = new Map(ext.G);
    const w0 = Float32Array.from(grown);
    w0.fill(0, zDim * wDim);
    zeroed.set('G.mapping.fc0.weight', { ...ext.G.get('G.mapping.fc0.weight')!, data: w0 });
    load(G3, zeroed);
    const z = tf.randomNormal([4, zDim], 0, 1, 'float32', 3) as tf.Tensor2D;
    const want = await readFloatsAndDispose(G.generate(z, undefined, { noise: 'const' }));
    for (let c = 0; c < 3; c++) {
      const got = await readFloatsAndDispose(G3.generate(z, oneHotLabels([c, c, c, c], 3), { noise: 'const' }));
      const diff = got.reduce((a, v, i) => Math.max(a, Math.abs(v - want[i]!)), 0);
      assert.ok(diff < 1e-4, `class ${c}: images differ by ${diff}`);
    }
    z.dispose();
    [G, D, G3, D3].forEach((x) => x.dispose());
  });

  it('gives a conditional pair more classes: the existing class columns bit for bit', async () => {
    const n2 = net(2, 7);
    const G = new Generator(n2);
    const D = new Discriminator(n2);
    jitter(G, 7);
    jitter(D, 8);
    const g = await tensorsOf(G);
    const d = await tensorsOf(D);
    const ext = extendClasses(n2, g, d, 4, 1);
    for (const [name, t] of g) {
      if (name === 'G.mapping.embed.weight') assertBitIdentical(ext.G.get(name)!.data.subarray(0, t.data.length), t.data, name);
      else assertBitIdentical(ext.G.get(name)!.data, t.data, name);
    }
    for (const [name, t] of d) {
      if (name === 'D.mapping.embed.weight') assertBitIdentical(ext.D!.get(name)!.data.subarray(0, t.data.length), t.data, name);
      else assertBitIdentical(ext.D!.get(name)!.data, t.data, name);
    }
    assert.deepEqual(ext.G.get('G.mapping.embed.weight')!.shape, [4, n2.wDim]);
    assert.throws(() => extendClasses(n2, g, d, 1, 1), /1 classes for a network with 2/);
    [G, D].forEach((x) => x.dispose());
  });

  it('fixes a conditional pair to one class: the same images and logits as the conditional pair for that class', async () => {
    const n3 = net(3, 9);
    const G = new Generator(n3);
    const D = new Discriminator(n3);
    jitter(G, 9);
    jitter(D, 10);
    const col = collapseToClass(n3, await tensorsOf(G), await tensorsOf(D), 1);
    assert.equal(col.net.numClasses, 0);
    const G0 = new Generator(col.net);
    const D0 = new Discriminator(col.net);
    load(G0, col.G);
    load(D0, col.D!);
    const z = tf.randomNormal([4, n3.zDim], 0, 1, 'float32', 4) as tf.Tensor2D;
    const c = oneHotLabels([1, 1, 1, 1], 3);
    const want = await readFloatsAndDispose(G.generate(z, c, { noise: 'const' }));
    const got = await readFloatsAndDispose(G0.generate(z, undefined, { noise: 'const' }));
    const di = got.reduce((a, v, i) => Math.max(a, Math.abs(v - want[i]!)), 0);
    assert.ok(di < 1e-4, `images differ by ${di}`);
    const img = tf.randomUniform([4, 16, 16, 3], -1, 1, 'float32', 5) as tf.Tensor4D;
    const lw = await readFloatsAndDispose(D.apply(img, c));
    const lg = await readFloatsAndDispose(D0.apply(img));
    const dl = lg.reduce((a, v, i) => Math.max(a, Math.abs(v - lw[i]!)), 0);
    assert.ok(dl < 1e-4 * Math.max(1, ...lw.map(Math.abs)), `logits differ by ${dl}: ${lg} vs ${lw}`);
    tf.dispose([z, c, img]);
    [G, D, G0, D0].forEach((x) => x.dispose());
  });
});
