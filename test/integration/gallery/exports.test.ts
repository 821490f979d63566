/**
 * Generators as files, written by the sampling worker's own code (in-process, wasm), read back by
 * what others would use:
 *   TF.js  — the shipped load-node.mjs with plain @tensorflow/tfjs gives the studio's pixels
 *            exactly; imported back as a model it samples exactly like the original; tampered,
 *            truncated and foreign exports are refused naming the file;
 *   ONNX   — onnxruntime-node matches TF.js within the stated tolerance (also for a conditional
 *            generator); a file that does not match is not written;
 *   images — PNGs + manifest, folder and zip; strips as GIF and PNG sequence;
 *   safety — an existing destination is refused (or replaced only when asked); a failure half way
 *            (a full disk) leaves nothing behind and the old destination intact.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync, cpSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { unzipSync, strFromU8 } from 'fflate';
import * as ort from 'onnxruntime-node';
import type { GallerySource, SampleSpec } from '../../../core/api/contract.js';
import { UserError } from '../../../core/api/errors.js';
import { selectBackend } from '../../../core/backend/select.js';
import { parameterShapes, parameterValues } from '../../../core/generator/weights.js';
import { seedToZ } from '../../../core/generator/latents.js';
import { SamplerHost } from '../../../core/gallery/sampler-host.js';
import { loadSource } from '../../../core/generator/source.js';
import { buildGenerator } from '../../../core/generator/weights.js';
import { Sampler, oneHot } from '../../../core/generator/sampler.js';
import { ONNX_TOLERANCE, writeOnnxExport } from '../../../core/export/onnx-export.js';
import { writeItemsExport } from '../../../core/export/images-export.js';
import { EXPORT_MARKER, writeAtomically } from '../../../core/export/output.js';
import { GalleryStore } from '../../../core/store/gallery.js';
import { type Fixture, pixelsOf, projectWithCheckpoint } from '../../helpers/gallery.js';

const REPO = new URL('../../..', import.meta.url).pathname;
const noCtx = { item: () => {}, progress: () => {}, cancelled: () => false };
const seed = (s: number, psi = 0.7, classIndex: number | null = null): SampleSpec => ({ kind: 'seed', seed: s, psi, classIndex });

async function render(host: SamplerHost, source: GallerySource, specs: SampleSpec[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  await host.run({ op: 'render', source, specs }, { item: (i, png) => void (out[i] = Buffer.from(png)), progress: () => {}, cancelled: () => false });
  return Promise.all(out.map((png) => pixelsOf(png)));
}

describe('generator exports', () => {
  // Under the repository (ignored by git), so a shipped loader finds node_modules/@tensorflow/tfjs as a user's project would.
  let dir: string;
  let fx: Fixture;
  let host: SamplerHost;
  let source: GallerySource;

  before(async () => {
    await selectBackend({ prefer: 'wasm' });
    mkdirSync(join(REPO, 'test-results'), { recursive: true });
    dir = mkdtempSync(join(REPO, 'test-results', 'gallery-exports-'));
    fx = await projectWithCheckpoint({ after: () => {} } as never, dir);
    host = new SamplerHost(fx.project.db, 'wasm', 'test');
    const model = await host.run({ op: 'promote', runId: fx.runId, checkpointId: fx.checkpointId, name: 'Tiny' }, noCtx);
    source = { kind: 'model', modelId: model.id };
  });

  after(() => {
    host?.dispose();
    fx?.project.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('TF.js: plain @tensorflow/tfjs loads it in Node and gets the studio’s pixels; imported back, it samples identically', async () => {
    const out = join(dir, 'tiny-tfjs');
    const r = await host.run({ op: 'export', source, format: 'tfjs', out, overwrite: false }, noCtx);
    assert.deepEqual(r.files.sort(), ['README.md', 'atelier-latents.js', 'atelier.json', 'load-node.mjs', 'model.json', 'package.json', 'weights.bin']);
    const info = JSON.parse(readFileSync(join(out, 'atelier.json'), 'utf8'));
    assert.equal(info.zSize, 32);
    assert.equal(info.resolution, 16);
    assert.equal(info.colourMode, 'rgb');
    assert.deepEqual(info.classes, []);
    assert.equal(info.wAverage.length, 32);
    assert.equal(info.training.kimg, 0.32);
    assert.equal(JSON.parse(readFileSync(join(out, 'model.json'), 'utf8')).format, 'graph-model');

    // The shipped loader: tf.loadGraphModel with a file handler, atelier-latents.js for z.
    const loader = (await import(join(out, 'load-node.mjs'))) as {
      loadGenerator(): Promise<unknown>;
      sample(g: unknown, seeds: number[], o: { psi: number }): Promise<Array<{ seed: number; pixels: Uint8Array }>>;
    };
    const g = await loader.loadGenerator();
    const seeds = [0, 1, 2, 42];
    const outside = await loader.sample(g, seeds, { psi: 0.7 });
    const inside = await render(host, source, seeds.map((s) => seed(s)));
    outside.forEach((img, i) => assert.ok(Buffer.from(img.pixels).equals(inside[i]!), `seed ${img.seed}: identical pixels outside the studio`));

    // Import: a new model with the same weights → the same samples.
    const imported = await host.run({ op: 'import', path: join(out, 'model.json') }, noCtx);
    assert.equal(imported.name, 'Tiny (2)');
    assert.equal(imported.source, 'import');
    assert.equal(imported.importedFrom, out);
    assert.equal(imported.kimg, 0.32, 'the training summary travels');
    const specs = [seed(0), seed(5, 1), seed(9, 0.3)];
    const again = await render(host, { kind: 'model', modelId: imported.id }, specs);
    const original = await render(host, source, specs);
    again.forEach((p, i) => assert.ok(p.equals(original[i]!), `spec ${i}: identical after export and import`));
  });

  it('refuses tampered, truncated and foreign exports, naming the file; nothing is imported', async () => {
    const out = join(dir, 'tamper-src');
    await host.run({ op: 'export', source, format: 'tfjs', out, overwrite: false }, noCtx);
    const models = (): number => (fx.project.db.prepare('SELECT count(*) AS n FROM models').get() as { n: number }).n;
    const before = models();
    const copy = (name: string): string => {
      const to = join(dir, name);
      cpSync(out, to, { recursive: true });
      return to;
    };
    const refused = async (path: string, pattern: RegExp): Promise<void> => {
      await assert.rejects(host.run({ op: 'import', path }, noCtx), (e: unknown) => e instanceof UserError && pattern.test(e.message), path);
    };

    const flipped = copy('flipped');
    const bytes = readFileSync(join(flipped, 'weights.bin'));
    bytes[100] = bytes[100]! ^ 0xff;
    writeFileSync(join(flipped, 'weights.bin'), bytes);
    await refused(flipped, new RegExp(`${join(flipped, 'weights.bin').replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} was changed or damaged after export`));

    const truncated = copy('truncated');
    truncateSync(join(truncated, 'weights.bin'), 1000);
    await refused(truncated, /weights\.bin is truncated: 1,000 bytes where the export wrote/);

    const foreign = join(dir, 'foreign');
    mkdirSync(foreign);
    cpSync(join(out, 'model.json'), join(foreign, 'model.json'));
    await refused(join(foreign, 'model.json'), /foreign\/model\.json was not exported by GAN Atelier \(there is no atelier\.json beside it\)/);

    const noWeights = copy('no-weights');
    rmSync(join(noWeights, 'weights.bin'));
    await refused(noWeights, /weights\.bin is missing: the export is incomplete/);

    const html = join(dir, 'as-html');
    await host.run({ op: 'export', source, format: 'html', out: html, overwrite: false }, noCtx);
    await refused(html, /is a GAN Atelier html export; import the TF\.js export/);
    assert.equal(models(), before, 'nothing was imported');
  });

  it('ONNX: onnxruntime-node matches TF.js within the tolerance; a file that does not match is not written', async (t) => {
    const out = join(dir, 'tiny.onnx');
    const r = await host.run({ op: 'export', source, format: 'onnx', out, overwrite: false }, noCtx);
    assert.ok(r.onnxCheck, 'the check ran');
    assert.equal(r.onnxCheck.tolerance, ONNX_TOLERANCE);
    assert.equal(r.onnxCheck.samples, 8);
    assert.ok(r.onnxCheck.maxAbsDiff <= 1e-4, `max abs diff ${r.onnxCheck.maxAbsDiff}`);
    t.diagnostic(`ONNX vs TF.js (wasm), 16² unconditional: max abs diff ${r.onnxCheck.maxAbsDiff.toExponential(2)} on ${r.onnxCheck.samples} images, tolerance ${r.onnxCheck.tolerance}`);

    // Independently: ONNX Runtime on a seed not in the check gives the studio's pixels (±1 grey level).
    const session = await ort.InferenceSession.create(out);
    const z = seedToZ(1234, 32);
    const res = await session.run({ z: new ort.Tensor('float32', z, [1, 32]), psi: new ort.Tensor('float32', Float32Array.of(0.7), []) });
    const image = res['image']!;
    assert.deepEqual(image.dims, [1, 16, 16, 3]);
    const px = Float32Array.from(image.data as Float32Array, (v) => Math.round(Math.min(1, Math.max(-1, v)) * 127.5 + 127.5));
    const [studio] = await render(host, source, [seed(1234)]);
    let worst = 0;
    px.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - studio![i]!))));
    assert.ok(worst <= 1, `pixels within one grey level (worst ${worst})`);
    await session.release();

    // A reference the file cannot match: refused, nothing written.
    const loaded = loadSource(fx.project.db, source);
    const G = buildGenerator(loaded.meta, loaded.weights, 'test');
    t.after(() => G.dispose());
    const sampler = new Sampler(G, loaded.meta);
    const g = { label: 'Tiny', meta: loaded.meta, values: await parameterValues(G), shapes: parameterShapes(G) };
    const off = async (c: { psi: number; z: Float32Array[]; cls: Float32Array[] | null }) => {
      const v = await sampler.imagesFloat(c.z.map((zz) => ({ kind: 'z' as const, z: zz, cls: null, psi: c.psi })));
      return v.map((x, i) => (i === 7 ? x + 0.01 : x));
    };
    const bad = join(dir, 'bad.onnx');
    await assert.rejects(writeOnnxExport(bad, g, off, { overwrite: false, studioVersion: 'test' }), /does not compute the studio's images \(largest difference 1\.0\de-2, allowed 0\.001\); it was not written/);
    assert.equal(existsSync(bad), false);
    assert.deepEqual(readdirSync(dir).filter((f) => f.includes('bad.onnx')), [], 'no temporary file left');
  });

  it('ONNX and TF.js for a conditional generator: the class input', async (t) => {
    const cdir = join(dir, 'conditional');
    mkdirSync(cdir);
    const c = await projectWithCheckpoint(t, cdir, { numClasses: 3, seed: 5, name: 'cond' });
    const chost = new SamplerHost(c.project.db, 'wasm', 'test');
    t.after(() => chost.dispose());
    const csource: GallerySource = { kind: 'checkpoint', checkpointId: c.checkpointId };
    const r = await chost.run({ op: 'export', source: csource, format: 'onnx', out: join(cdir, 'cond.onnx'), overwrite: false }, noCtx);
    assert.equal(r.path, join(cdir, 'cond.onnx'), 'written exactly where asked (the path that was checked)');
    assert.ok(r.onnxCheck!.maxAbsDiff <= 1e-4, `max abs diff ${r.onnxCheck!.maxAbsDiff}`);
    t.diagnostic(`ONNX vs TF.js (wasm), 16² 3 classes: max abs diff ${r.onnxCheck!.maxAbsDiff.toExponential(2)}`);
    const session = await ort.InferenceSession.create(r.path);
    assert.deepEqual([...session.inputNames].sort(), ['class', 'psi', 'z']);
    await session.release();
    const tf = join(cdir, 'cond-tfjs');
    await chost.run({ op: 'export', source: csource, format: 'tfjs', out: tf, overwrite: false }, noCtx);
    const loader = (await import(join(tf, 'load-node.mjs'))) as {
      loadGenerator(): Promise<unknown>;
      sample(g: unknown, seeds: number[], o: { psi: number; classIndex: number }): Promise<Array<{ pixels: Uint8Array }>>;
    };
    const g = await loader.loadGenerator();
    const [outside] = await loader.sample(g, [3], { psi: 0.8, classIndex: 2 });
    const [inside] = await render(chost, csource, [seed(3, 0.8, 2)]);
    assert.ok(Buffer.from(outside!.pixels).equals(inside!), 'class 2, identical pixels');
    void oneHot;
  });

  it('images: PNGs named by seed with a provenance manifest, as a folder and as a zip; strips as GIF and PNG sequence', async () => {
    const folder = join(dir, 'pngs');
    const r = await host.run({ op: 'export', source, format: 'images', out: folder, overwrite: false, images: { seeds: '3-5', psi: 0.5 } }, noCtx);
    assert.equal(r.images, 3);
    assert.deepEqual(readdirSync(folder).sort(), [EXPORT_MARKER, 'manifest.json', 'seed-000003.png', 'seed-000004.png', 'seed-000005.png']);
    const manifest = JSON.parse(readFileSync(join(folder, 'manifest.json'), 'utf8'));
    assert.equal(manifest.generator, 'Tiny');
    assert.deepEqual(manifest.model, { id: source.kind === 'model' ? source.modelId : 0, name: 'Tiny' });
    assert.deepEqual(manifest.checkpoint, { id: fx.checkpointId, kimg: 0.32, step: 40 });
    assert.deepEqual(manifest.images[1], { file: 'seed-000004.png', seed: 4, psi: 0.5, classIndex: null, className: null, origin: 'seed', spec: seed(4, 0.5) });
    const [four] = await render(host, source, [seed(4, 0.5)]);
    assert.ok((await pixelsOf(readFileSync(join(folder, 'seed-000004.png')))).equals(four!));

    const zip = join(dir, 'pngs.zip');
    await host.run({ op: 'export', source, format: 'images', out: zip, overwrite: false, images: { seeds: '4', psi: 0.5 } }, noCtx);
    const entries = unzipSync(readFileSync(zip));
    assert.deepEqual(Object.keys(entries).sort(), ['manifest.json', 'seed-000004.png']);
    assert.equal(JSON.parse(strFromU8(entries['manifest.json']!)).images.length, 1);
    assert.ok((await pixelsOf(entries['seed-000004.png']!)).equals(four!));

    // Kept items: their own PNGs and provenance.
    const kept = await host.run({ op: 'save', source, spec: seed(8, 0.9), favourite: true, rejected: false, tags: ['best'] }, noCtx);
    const keptOut = join(dir, 'kept');
    const k = await writeItemsExport(new GalleryStore(fx.project.db), [kept.id], keptOut, { overwrite: false, studioVersion: 'test' });
    assert.deepEqual(k.files, [`item-${kept.id}.png`, 'manifest.json']);
    const km = JSON.parse(readFileSync(join(keptOut, 'manifest.json'), 'utf8'));
    assert.equal(km.images[0].itemId, kept.id);
    assert.equal(km.images[0].seed, 8);
    assert.deepEqual(km.images[0].tags, ['best']);
    assert.deepEqual(km.images[0].provenance.checkpoint, { id: fx.checkpointId, kimg: 0.32, step: 40 });
    assert.ok((await pixelsOf(readFileSync(join(keptOut, `item-${kept.id}.png`)))).equals((await render(host, source, [seed(8, 0.9)]))[0]!));

    const frames: SampleSpec[] = [0, 0.5, 1].map((t) => ({ kind: 'interpolate', from: { seed: 1, psi: 0.7, classIndex: null }, to: { seed: 2, psi: 0.7, classIndex: null }, t, mode: 'w-linear' }));
    const gif = await host.run({ op: 'strip', source, specs: frames, format: 'gif', out: join(dir, 'walk.gif'), fps: 10, overwrite: false }, noCtx);
    const gifBytes = readFileSync(gif.path);
    assert.equal(gifBytes.subarray(0, 6).toString('latin1'), 'GIF89a');
    assert.equal(gifBytes.readUInt16LE(6), 256, '16² frames scaled up 16× to 256 px');
    assert.equal(gif.images, 3);
    const seq = await host.run({ op: 'strip', source, specs: frames, format: 'png-sequence', out: join(dir, 'walk'), fps: 10, overwrite: false }, noCtx);
    assert.deepEqual(readdirSync(seq.path).sort(), [EXPORT_MARKER, 'frame-000.png', 'frame-001.png', 'frame-002.png', 'manifest.json']);
    const [first] = await render(host, source, [seed(1)]);
    assert.ok((await pixelsOf(readFileSync(join(seq.path, 'frame-000.png')))).equals(first!), 'the first frame is the first sample');
  });

  it('an existing destination is refused, or replaced only when asked; a failure half way leaves nothing and the old folder intact', async () => {
    const out = join(dir, 'exists');
    mkdirSync(out);
    writeFileSync(join(out, 'mine.txt'), 'keep me');
    await assert.rejects(
      host.run({ op: 'export', source, format: 'tfjs', out, overwrite: false }, noCtx),
      (e: unknown) => e instanceof UserError && e.code === 'exists' && e.message.includes(`A folder ${out} already exists. Pick another name, or confirm replacing it.`),
    );
    assert.equal(readFileSync(join(out, 'mine.txt'), 'utf8'), 'keep me');

    // The disk fills half way through replacing an earlier export: the temporary folder goes, the old one stays, the message says so.
    const earlier = join(dir, 'earlier');
    mkdirSync(earlier);
    writeFileSync(join(earlier, EXPORT_MARKER), '');
    writeFileSync(join(earlier, 'model.json'), 'old');
    const full = Object.assign(new Error('ENOSPC: no space left on device, write'), { code: 'ENOSPC' });
    await assert.rejects(
      writeAtomically(earlier, { kind: 'dir', overwrite: true }, async (tmp) => {
        writeFileSync(join(tmp, 'model.json'), '{}');
        throw full;
      }),
      (e: unknown) => e instanceof UserError && e.code === 'io' && e.message === `Cannot write ${earlier}: the disk is full. Free some space and try again; nothing already saved was changed.`,
    );
    assert.deepEqual(readdirSync(earlier).sort(), [EXPORT_MARKER, 'model.json']);
    assert.equal(readFileSync(join(earlier, 'model.json'), 'utf8'), 'old');
    assert.deepEqual(readdirSync(dir).filter((f) => f.startsWith('.earlier')), [], 'no temporary folder left');

    // A folder that is not one of our exports is never replaced, even when asked (it may hold photos, or the project).
    await assert.rejects(
      host.run({ op: 'export', source, format: 'tfjs', out, overwrite: true }, noCtx),
      (e: unknown) => e instanceof UserError && e.code === 'exists' && e.message.includes(`The folder ${out} was not made by a GAN Atelier export, so it is not replaced`),
    );
    assert.deepEqual(readdirSync(out), ['mine.txt']);
    // An earlier export is replaced when asked; a file is not replaced by a folder.
    const again = join(dir, 'again');
    await host.run({ op: 'export', source, format: 'tfjs', out: again, overwrite: false }, noCtx);
    writeFileSync(join(again, 'stale.txt'), 'from before');
    const r = await host.run({ op: 'export', source, format: 'tfjs', out: again, overwrite: true }, noCtx);
    assert.equal(existsSync(join(again, 'stale.txt')), false, 'an earlier export is replaced when asked');
    assert.ok(r.files.includes('model.json'));
    writeFileSync(join(dir, 'a-file'), 'x');
    await assert.rejects(host.run({ op: 'export', source, format: 'tfjs', out: join(dir, 'a-file'), overwrite: true }, noCtx), /is a file, and this export is a folder: it is not replaced/);
    await assert.rejects(host.run({ op: 'export', source, format: 'images', out: join(dir, 'missing', 'x'), overwrite: false, images: { seeds: '1' } }, noCtx), /The folder .*missing does not exist/);
    await assert.rejects(host.run({ op: 'export', source, format: 'images', out: join(dir, 'y'), overwrite: false, images: { seeds: '5000000000' } }, noCtx), /out of range/);
  });
});
