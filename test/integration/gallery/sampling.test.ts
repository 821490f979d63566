/**
 * Sampling, keeping and latent arithmetic, in-process (the sampling worker's own code,
 * core/gallery/sampler-host.ts) on a real project file with a real checkpoint, on wasm:
 * the same seed, ψ and class give the same pixels whatever else is in the batch; interpolation
 * end points and one-term arithmetic give exactly their sources; kept items remember where they
 * came from; a model promoted from a checkpoint samples exactly like it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { UserError } from '../../../core/api/errors.js';
import type { GallerySource, SampleSpec } from '../../../core/api/contract.js';
import { selectBackend } from '../../../core/backend/select.js';
import { seedToZ } from '../../../core/generator/latents.js';
import { Sampler } from '../../../core/generator/sampler.js';
import { SamplerHost } from '../../../core/gallery/sampler-host.js';
import { GalleryStore } from '../../../core/store/gallery.js';
import { type Fixture, pixelsOf, projectWithCheckpoint, tempDir } from '../../helpers/gallery.js';

/** Renders specs and returns each image's pixels, in order. */
async function render(host: SamplerHost, source: GallerySource, specs: SampleSpec[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const r = await host.run({ op: 'render', source, specs }, { item: (i, png) => void (out[i] = Buffer.from(png)), progress: () => {}, cancelled: () => false });
  assert.equal(r.count, specs.length);
  return Promise.all(out.map((png) => pixelsOf(png)));
}

const noCtx = { item: () => {}, progress: () => {}, cancelled: () => false };
const seed = (s: number, psi = 0.7, classIndex: number | null = null): SampleSpec => ({ kind: 'seed', seed: s, psi, classIndex });

describe('sampling in the worker’s host', () => {
  let fx: Fixture;
  let host: SamplerHost;
  let source: GallerySource;

  let dir: string;

  before(async () => {
    await selectBackend({ prefer: 'wasm' });
    dir = realpathSync(mkdtempSync(join(tmpdir(), 'atelier-sampling-')));
    fx = await projectWithCheckpoint({ after: () => {} } as unknown as TestContext, dir);
    host = new SamplerHost(fx.project.db, 'wasm', 'test');
    source = { kind: 'checkpoint', checkpointId: fx.checkpointId };
  });

  after(() => {
    host?.dispose();
    fx?.project.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('opens a checkpoint: what it makes', async () => {
    const info = await host.run({ op: 'open', source }, noCtx);
    assert.deepEqual(info, { label: 'Run 1 · baseline at 0.32 kimg', resolution: 16, channels: 3, classNames: [], zDim: 32, wDim: 32 });
  });

  it('same seed and ψ → identical pixels, whatever the batch; another ψ or seed → another image', async () => {
    const page = await render(host, source, [0, 1, 2, 3, 4, 5].map((s) => seed(s)));
    const alone = await render(host, source, [seed(3)]);
    const reordered = await render(host, source, [seed(5), seed(3)]);
    assert.ok(page[3]!.equals(alone[0]!), 'seed 3 alone');
    assert.ok(page[3]!.equals(reordered[1]!), 'seed 3 second in another batch');
    assert.ok(page[5]!.equals(reordered[0]!), 'seed 5 first');
    assert.ok(!page[3]!.equals(page[4]!), 'seeds differ');
    const [lowPsi] = await render(host, source, [seed(3, 0.2)]);
    assert.ok(!lowPsi!.equals(page[3]!), 'ψ changes the image');
    // ψ = 0 is the average w: every seed gives the same image.
    const [a0, b0] = await render(host, source, [seed(1, 0), seed(2, 0)]);
    assert.ok(a0!.equals(b0!), 'ψ 0 gives the average image for every seed');
  });

  it('interpolation end points equal their source samples, linear in w and slerp in z', async () => {
    const from = { seed: 10, psi: 0.7, classIndex: null };
    const to = { seed: 11, psi: 0.5, classIndex: null };
    const [a, b] = await render(host, source, [seed(10, 0.7), seed(11, 0.5)]);
    for (const mode of ['w-linear', 'z-slerp'] as const) {
      const frames = await render(
        host,
        source,
        [0, 0.5, 1].map((t) => ({ kind: 'interpolate', from, to, t, mode })),
      );
      assert.ok(frames[0]!.equals(a!), `${mode}: t = 0 is the first sample`);
      assert.ok(frames[2]!.equals(b!), `${mode}: t = 1 is the second sample`);
      assert.ok(!frames[1]!.equals(a!) && !frames[1]!.equals(b!), `${mode}: the middle is neither`);
    }
  });

  it('keeps an image with where it came from; latent arithmetic over kept items and set averages', async () => {
    const store = new GalleryStore(fx.project.db);
    const A = await host.run({ op: 'save', source, spec: seed(20), favourite: true, rejected: false, tags: ['smile', 'smile', ' a '] }, noCtx);
    const B = await host.run({ op: 'save', source, spec: seed(21), favourite: false, rejected: false, tags: [] }, noCtx);
    const C = await host.run({ op: 'save', source, spec: seed(22, 1), favourite: false, rejected: true, tags: [] }, noCtx);
    assert.equal(A.seed, 20);
    assert.equal(A.psi, 0.7);
    assert.equal(A.origin, 'seed');
    assert.equal(A.favourite, true);
    assert.deepEqual(A.tags, ['a', 'smile']);
    assert.equal(C.rejected, true);
    assert.equal(A.checkpointId, fx.checkpointId);
    assert.equal(A.runId, fx.runId);
    assert.equal(A.modelId, null);
    assert.deepEqual(A.provenance.run, { id: fx.runId, name: 'Run 1 · baseline' });
    assert.deepEqual(A.provenance.checkpoint, { id: fx.checkpointId, kimg: 0.32, step: 40 });
    assert.equal(A.provenance.generator, 'Run 1 · baseline at 0.32 kimg');
    assert.equal(A.provenance.backend, 'wasm');
    assert.equal(A.provenance.noise, 'const');
    assert.deepEqual(A.provenance.spec, seed(20));
    assert.deepEqual(store.latents(A.id).z, seedToZ(20, 32), 'the z it was drawn from is kept');
    const [a] = await render(host, source, [seed(20)]);
    assert.ok((await pixelsOf(A.png)).equals(a!), 'the kept PNG is the sample');

    const [pa, pb, pc] = await Promise.all([A, B, C].map((x) => pixelsOf(x.png)));
    const ref = (id: number) => ({ itemId: id });
    const frames = await render(host, source, [
      // One term of one item: exactly that item.
      { kind: 'arithmetic', terms: [{ sign: 1, refs: [ref(A.id)] }] },
      // A − A + C: exactly C.
      { kind: 'arithmetic', terms: [{ sign: 1, refs: [ref(A.id)] }, { sign: -1, refs: [ref(A.id)] }, { sign: 1, refs: [ref(C.id)] }] },
      // The average of a set of one item twice: the item.
      { kind: 'arithmetic', terms: [{ sign: 1, refs: [ref(B.id), ref(B.id)] }] },
      // The average of {A, B} is the midpoint of A and B in w.
      { kind: 'arithmetic', terms: [{ sign: 1, refs: [ref(A.id), ref(B.id)] }] },
      { kind: 'interpolate', from: ref(A.id), to: ref(B.id), t: 0.5, mode: 'w-linear' },
      // A − B + C with kept items, and with seeds drawn now: the same image.
      { kind: 'arithmetic', terms: [{ sign: 1, refs: [ref(A.id)] }, { sign: -1, refs: [ref(B.id)] }, { sign: 1, refs: [ref(C.id)] }] },
      { kind: 'arithmetic', terms: [{ sign: 1, refs: [{ seed: 20, psi: 0.7, classIndex: null }] }, { sign: -1, refs: [{ seed: 21, psi: 0.7, classIndex: null }] }, { sign: 1, refs: [{ seed: 22, psi: 1, classIndex: null }] }] },
    ]);
    assert.ok(frames[0]!.equals(pa!), 'A');
    assert.ok(frames[1]!.equals(pc!), 'A − A + C = C');
    assert.ok(frames[2]!.equals(pb!), 'mean(B, B) = B');
    assert.ok(frames[3]!.equals(frames[4]!), 'mean(A, B) = lerp(A, B, ½)');
    assert.ok(frames[5]!.equals(frames[6]!), 'A − B + C from kept items = from their seeds');
    assert.ok(![pa, pb, pc].some((p) => p!.equals(frames[5]!)), 'A − B + C is a new image');

    // Kept: the arithmetic result itself, with its recipe.
    const D = await host.run({ op: 'save', source, spec: { kind: 'arithmetic', terms: [{ sign: 1, refs: [ref(A.id)] }, { sign: -1, refs: [ref(B.id)] }, { sign: 1, refs: [ref(C.id)] }] }, favourite: false, rejected: false, tags: ['mix'] }, noCtx);
    assert.equal(D.origin, 'arithmetic');
    assert.equal(D.seed, null);
    assert.equal(store.latents(D.id).z, null);
    assert.ok((await pixelsOf(D.png)).equals(frames[5]!));
    // Slerp needs z: an arithmetic result has none.
    await assert.rejects(
      host.run({ op: 'render', source, specs: [{ kind: 'interpolate', from: ref(D.id), to: ref(A.id), t: 0.5, mode: 'z-slerp' }] }, noCtx),
      (e: unknown) => e instanceof UserError && /needs two images made from seeds.*linear in w/.test(e.message),
    );

    // Curation and listing.
    const page = store.page({ offset: 0, limit: 10, filter: 'favourites' });
    assert.deepEqual(page.items.map((i) => i.id), [A.id]);
    assert.deepEqual(page.tags, ['a', 'mix', 'smile']);
    assert.deepEqual(store.page({ offset: 0, limit: 10, tag: 'mix' }).items.map((i) => i.id), [D.id]);
    assert.deepEqual(store.update([A.id], { rejected: true }), [A.id]);
    const rejected = store.get(A.id);
    assert.equal(rejected!.rejected, true);
    assert.equal(rejected!.favourite, false, 'rejecting clears the star');
    assert.deepEqual(store.page({ offset: 0, limit: 10, filter: 'unrated', scope: { checkpointId: fx.checkpointId } }).items.map((i) => i.id), [D.id, B.id]);
  });

  it('a model promoted from the checkpoint samples exactly like it, keeps the metrics, and its items survive its deletion', async () => {
    const model = await host.run({ op: 'promote', runId: fx.runId, checkpointId: fx.checkpointId, name: 'Tiny faces' }, noCtx);
    assert.equal(model.name, 'Tiny faces');
    assert.equal(model.source, 'checkpoint');
    assert.equal(model.kimg, 0.32);
    assert.deepEqual(model.metrics, { 'Loss/D': 0.5, 'Loss/G': 1.25 });
    const modelSource: GallerySource = { kind: 'model', modelId: model.id };
    const specs = [seed(0), seed(7, 1), { kind: 'interpolate', from: { seed: 1, psi: 0.7, classIndex: null }, to: { seed: 2, psi: 0.7, classIndex: null }, t: 0.25, mode: 'z-slerp' } as SampleSpec];
    const fromModel = await render(host, modelSource, specs);
    const fromCheckpoint = await render(host, source, specs);
    fromModel.forEach((p, i) => assert.ok(p.equals(fromCheckpoint[i]!), `spec ${i}`));
    await assert.rejects(host.run({ op: 'promote', runId: fx.runId, checkpointId: fx.checkpointId, name: 'tiny FACES' }, noCtx), /already exists/);
    await assert.rejects(host.run({ op: 'promote', runId: fx.runId + 1, checkpointId: fx.checkpointId, name: 'x' }, noCtx), /belongs to run/);

    // Items kept from the checkpoint can be used with the model (same weights); kept from the model, they name it.
    const kept = await host.run({ op: 'save', source: modelSource, spec: seed(30), favourite: true, rejected: false, tags: [] }, noCtx);
    assert.deepEqual(kept.provenance.model, { id: model.id, name: 'Tiny faces' });
    assert.equal(kept.modelId, model.id);
    const [viaItem, seed30] = await render(host, modelSource, [{ kind: 'arithmetic', terms: [{ sign: 1, refs: [{ itemId: kept.id }] }] }, seed(30)]);
    assert.ok(viaItem!.equals(seed30!), 'the kept item is its seed’s sample');
    fx.project.db.prepare('DELETE FROM models WHERE id = ?').run(model.id);
    const store = new GalleryStore(fx.project.db);
    const after = store.require(kept.id);
    assert.equal(after.modelId, null);
    assert.deepEqual(after.provenance.model, { id: model.id, name: 'Tiny faces' }, 'provenance outlives the model');
    await assert.rejects(host.run({ op: 'open', source: modelSource }, noCtx), /There is no model/);
  });

  it('refuses kept items of another generator in arithmetic, and out-of-range classes', async (t) => {
    const other = await projectWithCheckpoint(t, tempDir(t), { seed: 99, numClasses: 2, name: 'other' });
    const otherHost = new SamplerHost(other.project.db, 'wasm', 'test');
    t.after(() => otherHost.dispose());
    const otherSource: GallerySource = { kind: 'checkpoint', checkpointId: other.checkpointId };
    // A second checkpoint in our project: items of the first do not mix with it.
    const item = new GalleryStore(fx.project.db).page({ offset: 0, limit: 1, scope: { checkpointId: fx.checkpointId } }).items[0]!;
    const cp2 = fx.project.db.prepare('INSERT INTO checkpoints (run_id, kimg, step, weights, state, created_at) SELECT run_id, 0.64, 80, weights, state, created_at FROM checkpoints WHERE id = ?').run(fx.checkpointId);
    await assert.rejects(
      host.run({ op: 'render', source: { kind: 'checkpoint', checkpointId: Number(cp2.lastInsertRowid) }, specs: [{ kind: 'arithmetic', terms: [{ sign: 1, refs: [{ itemId: item.id }] }] }] }, noCtx),
      /made by another generator/,
    );
    await assert.rejects(otherHost.run({ op: 'render', source: otherSource, specs: [seed(1, 0.7, 2)] }, noCtx), /class 2 does not exist: this generator has 2 classes, 0 to 1 \(class 0, class 1\)/);
    await assert.rejects(host.run({ op: 'render', source, specs: [seed(1, 0.7, 0)] }, noCtx), /has no classes/);
    // Classes change the image; the same class, the same image.
    const [c0, c1, c0again] = await render(otherHost, otherSource, [seed(1, 0.7, 0), seed(1, 0.7, 1), seed(1, 0.7, 0)]);
    assert.ok(!c0!.equals(c1!));
    assert.ok(c0!.equals(c0again!));
  });

  it('a cancelled request stops at its next batch', async () => {
    let seen = 0;
    const r = await host.run({ op: 'render', source, specs: Array.from({ length: 64 }, (_, i) => seed(i)) }, { item: () => void seen++, progress: () => {}, cancelled: () => seen >= 1 });
    assert.equal(r.cancelled, true);
    assert.ok(r.count < 64 && r.count === seen, `stopped after ${r.count}`);
  });

  it('keeping an image the grid just showed stores those bytes and w without rendering it again', async (t) => {
    const shown: Buffer[] = [];
    await host.run({ op: 'render', source, specs: [seed(40), seed(41)] }, { item: (i, png) => void (shown[i] = Buffer.from(png)), progress: () => {}, cancelled: () => false });
    let renders = 0;
    const original = Sampler.prototype.render;
    Sampler.prototype.render = function (this: Sampler, ...args: Parameters<Sampler['render']>) {
      renders++;
      return original.apply(this, args);
    };
    t.after(() => (Sampler.prototype.render = original));
    const kept = await host.run({ op: 'save', source, spec: { psi: 0.7, classIndex: null, seed: 41, kind: 'seed' }, favourite: true, rejected: false, tags: [] }, noCtx);
    assert.equal(renders, 0, 'no second render (the key does not depend on the order of the spec\'s fields)');
    assert.ok(Buffer.from(kept.png.slice(kept.png.indexOf(',') + 1), 'base64').equals(shown[1]!), 'the PNG the grid was sent');
    // What a host that never showed it stores: the same image and w.
    const fresh = new SamplerHost(fx.project.db, 'wasm', 'test');
    t.after(() => fresh.dispose());
    const again = await fresh.run({ op: 'save', source, spec: seed(41), favourite: false, rejected: false, tags: [] }, noCtx);
    assert.equal(renders, 1, 'a spec not shown before is rendered');
    const store = new GalleryStore(fx.project.db);
    assert.deepEqual(store.latents(kept.id).w, store.latents(again.id).w);
    assert.ok((await pixelsOf(kept.png)).equals(await pixelsOf(again.png)));
    store.delete([kept.id, again.id]);
  });
});
