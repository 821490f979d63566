/**
 * The gallery through StudioApi with the real sampling worker (a child process), and the same
 * images through the `atelier` command line: identical pixels for the same model, seed and ψ.
 * Also: streaming and cancelling, promote/rename/delete with their events, the path policy for
 * exports, and requests the contract refuses.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { GallerySource, StudioEvent } from '../../../core/api/contract.js';
import { createClient, createDispatcher, type Client } from '../../../core/api/dispatch.js';
import { EXPORT_MARKER } from '../../../core/export/output.js';
import { RootedPaths } from '../../../core/service/paths.js';
import { StudioService } from '../../../core/service/studio-service.js';
import { type Fixture, pixelsOf, projectWithCheckpoint } from '../../helpers/gallery.js';

// The workers this test starts sample on wasm (the same backend the CLI child gets below).
process.env.ATELIER_BACKEND = 'wasm';
const BIN = new URL('../../../bin/atelier.js', import.meta.url).pathname;

function atelier(args: string[]) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ATELIER_BACKEND: 'wasm' }, timeout: 120_000 });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

describe('gallery through the service and the CLI', () => {
  let root: string;
  let fx: Fixture;
  let service: StudioService;
  let call: Client;
  const events: StudioEvent[] = [];

  before(async () => {
    root = realpathSync(mkdtempSync(join(tmpdir(), 'atelier-gallery-service-')));
    fx = await projectWithCheckpoint({ after: () => {} } as never, root);
    fx.project.close();
    service = new StudioService({ mode: 'browser', appHome: join(root, 'home'), paths: new RootedPaths(root) });
    mkdirSync(join(root, 'home'));
    service.subscribe((e) => events.push(e));
    call = createClient(createDispatcher(service.handlers(), { log: () => {} }), { transport: 'ws' });
    const opened = await call('project.open', { path: fx.path });
    assert.ok(opened.ok, JSON.stringify(opened));
  });

  after(async () => {
    await service?.dispose();
    rmSync(root, { recursive: true, force: true });
  });

  const value = async <T>(p: Promise<{ ok: true; value: T } | { ok: false; error: { message: string } }>): Promise<T> => {
    const r = await p;
    if (!r.ok) assert.fail(r.error.message);
    return r.value;
  };

  /** Starts a sample request and collects its images (data URLs by index) until `gallery.done`. */
  async function sample(requestId: string, specs: Array<{ kind: 'seed'; seed: number; psi: number; classIndex: null }>, source: GallerySource = { kind: 'model', modelId: 1 }) {
    const from = events.length;
    const started = await value(call('gallery.sample', { source, specs, requestId }));
    assert.deepEqual(started, { requestId, count: specs.length });
    const done = await new Promise<Extract<StudioEvent, { type: 'gallery.done' }>>((resolve) => {
      const check = (): void => {
        const d = events.slice(from).find((e): e is Extract<StudioEvent, { type: 'gallery.done' }> => e.type === 'gallery.done' && e.requestId === requestId);
        if (d) resolve(d);
        else setTimeout(check, 20);
      };
      check();
    });
    const images = events.slice(from).filter((e): e is Extract<StudioEvent, { type: 'gallery.image' }> => e.type === 'gallery.image' && e.requestId === requestId);
    return { done, images };
  }

  it('lists sources; promotes the checkpoint to a model (an event tells every window)', async () => {
    const sources = await value(call('gallery.sources', {}));
    assert.deepEqual(sources.models, []);
    assert.equal(sources.runs.length, 1);
    assert.deepEqual(sources.runs[0]!.checkpoints.map((c) => c.id), [fx.checkpointId]);
    const model = await value(call('models.promote', { runId: fx.runId, checkpointId: fx.checkpointId, name: 'Tiny' }));
    assert.equal(model.id, 1);
    const changed = events.filter((e) => e.type === 'models.changed');
    assert.equal(changed.length, 1);
    const info = await value(call('gallery.open', { source: { kind: 'model', modelId: 1 } }));
    assert.equal(info.backend, 'wasm');
    assert.equal(info.label, 'Tiny');
  });

  it('streams images as events, and the CLI makes the same pixels for the same model, seeds and ψ', async () => {
    const specs = [0, 1, 2, 3].map((seed) => ({ kind: 'seed' as const, seed, psi: 0.7, classIndex: null }));
    const { done, images } = await sample('page-0', specs);
    assert.equal(done.error, null);
    assert.equal(done.count, 4);
    assert.deepEqual(images.map((i) => i.index).sort(), [0, 1, 2, 3]);

    const out = join(root, 'cli-samples');
    const r = atelier(['sample', fx.path, '--model', 'Tiny', '--seeds', '0-3', '--psi', '0.7', '--out', out, '--json']);
    assert.equal(r.code, 0, r.err);
    const doc = JSON.parse(r.out);
    assert.equal(doc.images, 4);
    assert.equal(doc.backend, 'wasm');
    assert.deepEqual(readdirSync(out).sort(), [EXPORT_MARKER, 'manifest.json', 'seed-000000.png', 'seed-000001.png', 'seed-000002.png', 'seed-000003.png']);
    for (const img of images) {
      const cli = await pixelsOf(readFileSync(join(out, `seed-00000${img.index}.png`)));
      assert.ok((await pixelsOf(img.dataUrl)).equals(cli), `seed ${img.index}: the gallery and the CLI agree`);
    }
    // The same from the run's checkpoint (--run), and refusals with what to do.
    const viaRun = atelier(['sample', fx.path, '--run', String(fx.runId), '--seeds', '2', '--psi', '0.7', '--out', join(root, 'cli-run'), '--json']);
    assert.equal(viaRun.code, 0, viaRun.err);
    assert.ok((await pixelsOf(readFileSync(join(root, 'cli-run', 'seed-000002.png')))).equals(await pixelsOf(readFileSync(join(out, 'seed-000002.png')))));
    const again = atelier(['sample', fx.path, '--model', 'Tiny', '--seeds', '0', '--out', out]);
    assert.equal(again.code, 1);
    assert.match(again.err, /^atelier sample: A folder .*cli-samples already exists\. Pick another name, or pass --force to replace it\.$/);
    const unknown = atelier(['sample', fx.path, '--model', 'Faces', '--seeds', '0', '--out', join(root, 'x')]);
    assert.match(unknown.err, /There is no model "Faces" in .*Models: "Tiny"\./);
    const bad = atelier(['sample', fx.path, '--model', 'Tiny', '--seeds', '4294967296', '--out', join(root, 'x')]);
    assert.match(bad.err, /out of range: seeds are whole numbers from 0 to 4,294,967,295/);
    const noGenerator = atelier(['export', fx.path, '--format', 'html']);
    assert.match(noGenerator.err, /--format html exports a generator: name it with --model NAME or --run RUN/);
    // A backend that cannot start here is named, with what to do.
    const noBackend = atelier(['sample', fx.path, '--model', 'Tiny', '--seeds', '0', '--out', join(root, 'nb'), '--backend', 'tensorflow-gpu']);
    assert.equal(noBackend.code, 1);
    assert.match(noBackend.err, /^atelier sample: The 'tensorflow-gpu' backend \(from the sampling settings\) could not start: .*Pick another/);
    // ONNX from the command line: checked before it is written, the check in the JSON.
    const onnx = atelier(['export', fx.path, '--model', 'Tiny', '--format', 'onnx', '--out', join(root, 'tiny'), '--json']);
    assert.equal(onnx.code, 0, onnx.err);
    const onnxDoc = JSON.parse(onnx.out);
    assert.equal(onnxDoc.path, join(root, 'tiny.onnx'));
    assert.equal(onnxDoc.onnxCheck.tolerance, 0.001);
    assert.ok(onnxDoc.onnxCheck.maxAbsDiff <= 1e-4, `max abs diff ${onnxDoc.onnxCheck.maxAbsDiff}`);
  });

  it('cancels a long request at its next batch', async () => {
    const specs = Array.from({ length: 200 }, (_, seed) => ({ kind: 'seed' as const, seed, psi: 1, classIndex: null }));
    const from = events.length;
    const started = call('gallery.sample', { source: { kind: 'model', modelId: 1 }, specs, requestId: 'long' });
    await started;
    // Cancel as soon as the first image is in.
    await new Promise<void>((resolve) => {
      const check = (): void => (events.slice(from).some((e) => e.type === 'gallery.image' && e.requestId === 'long') ? resolve() : void setTimeout(check, 5));
      check();
    });
    assert.deepEqual(await value(call('gallery.cancel', { requestIds: ['long', 'unknown'] })), { cancelled: 1 });
    const { done } = await sample('after-cancel', [{ kind: 'seed', seed: 1, psi: 1, classIndex: null }]);
    assert.equal(done.count, 1, 'the worker answers the next request');
    const longDone = events.find((e): e is Extract<StudioEvent, { type: 'gallery.done' }> => e.type === 'gallery.done' && e.requestId === 'long');
    assert.ok(longDone && longDone.count < 200, `stopped after ${longDone?.count}`);
  });

  it('keeps, rates and lists items; renames and deletes the model without losing them', async () => {
    const item = await value(call('gallery.save', { source: { kind: 'model', modelId: 1 }, spec: { kind: 'seed', seed: 3, psi: 0.7, classIndex: null }, favourite: true }));
    assert.equal(item.favourite, true);
    // The answer is the ids (the items are read again on 'gallery.changed').
    assert.deepEqual(await value(call('gallery.update', { ids: [item.id], addTags: ['keeper'] })), { updated: [item.id] });
    const page = await value(call('gallery.items', { offset: 0, limit: 10, filter: 'favourites', source: { kind: 'model', modelId: 1 } }));
    assert.deepEqual(page.items.map((i) => i.id), [item.id]);
    assert.deepEqual(page.items[0]!.tags, ['keeper']);
    assert.equal((await value(call('project.current', {})))!.counts.galleryItems, 1);
    const renamed = await value(call('models.rename', { modelId: 1, name: 'Tiny faces' }));
    assert.equal(renamed.name, 'Tiny faces');
    const after = await value(call('models.delete', { modelId: 1 }));
    assert.deepEqual(after, []);
    const kept = await value(call('gallery.items', { offset: 0, limit: 10 }));
    assert.equal(kept.total, 1, 'the kept item stays');
    assert.equal(kept.items[0]!.provenance.model!.name, 'Tiny');
  });

  it('refuses what the contract and the path policy do not allow', async () => {
    const outside = await call('models.export', { source: { kind: 'checkpoint', checkpointId: fx.checkpointId }, format: 'tfjs', out: '/tmp/elsewhere-tfjs' });
    assert.equal(outside.ok, false);
    assert.equal(!outside.ok && outside.error.code, 'forbidden');
    const seedTooBig = await call('gallery.sample', { source: { kind: 'model', modelId: 1 }, specs: [{ kind: 'seed', seed: 2 ** 32, psi: 1, classIndex: null }], requestId: 'x' });
    assert.equal(!seedTooBig.ok && seedTooBig.error.code, 'invalid-request');
    assert.match(!seedTooBig.ok ? seedTooBig.error.message : '', /Seeds are whole numbers from 0 to 4,294,967,295/);
    const gone = await sample('gone', [{ kind: 'seed', seed: 1, psi: 1, classIndex: null }], { kind: 'model', modelId: 1 });
    assert.match(gone.done.error?.message ?? '', /There is no model 1 in this project/);
    const tf = await call('models.export', { source: { kind: 'checkpoint', checkpointId: fx.checkpointId }, format: 'tfjs', out: join(root, 'ok-tfjs') });
    assert.ok(tf.ok, JSON.stringify(tf));
    // Never over the served folder itself, nor over a folder holding the open project (replacing it would delete the project).
    const overRoot = await call('models.export', { source: { kind: 'checkpoint', checkpointId: fx.checkpointId }, format: 'tfjs', out: root, overwrite: true });
    assert.equal(!overRoot.ok && overRoot.error.code, 'forbidden');
    const overProject = await call('models.export', { source: { kind: 'checkpoint', checkpointId: fx.checkpointId }, format: 'onnx', out: fx.path, overwrite: true });
    assert.equal(!overProject.ok && overProject.error.code, 'forbidden');
    assert.match(!overProject.ok ? overProject.error.message : '', /holds the open project/);
    assert.ok(existsSync(fx.path), 'the project file is still there');
  });

  it('kept items of a deleted generator stay reachable: listed, rated, exported as PNGs (no generator needed) and deleted', async () => {
    // An imported model (the TF.js export just written): its items have no checkpoint to fall back on.
    const imported = await value(call('models.import', { path: join(root, 'ok-tfjs'), name: 'Imported' }));
    const source: GallerySource = { kind: 'model', modelId: imported.id };
    const item = await value(call('gallery.save', { source, spec: { kind: 'seed', seed: 5, psi: 0.7, classIndex: null }, tags: ['from-import'] }));
    assert.equal((await value(call('gallery.sources', {}))).orphaned, 0);
    await value(call('models.delete', { modelId: imported.id }));

    assert.equal((await value(call('gallery.sources', {}))).orphaned, 1, 'the Gallery offers them');
    const orphaned = await value(call('gallery.items', { orphaned: true, offset: 0, limit: 10 }));
    assert.deepEqual(orphaned.items.map((i) => i.id), [item.id]);
    assert.equal(orphaned.items[0]!.provenance.model!.name, 'Imported');
    const both = await call('gallery.items', { orphaned: true, source: { kind: 'checkpoint', checkpointId: fx.checkpointId }, offset: 0, limit: 10 });
    assert.equal(!both.ok && both.error.code, 'invalid-request');

    assert.deepEqual(await value(call('gallery.update', { ids: [item.id], favourite: true })), { updated: [item.id] });
    assert.deepEqual((await value(call('gallery.items', { orphaned: true, filter: 'favourites', offset: 0, limit: 10 }))).items.map((i) => i.id), [item.id]);

    const out = join(root, 'orphans');
    const r = await value(call('gallery.exportItems', { ids: [item.id], out }));
    assert.deepEqual(r.files, [`item-${item.id}.png`, 'manifest.json']);
    assert.ok((await pixelsOf(readFileSync(join(out, `item-${item.id}.png`)))).equals(await pixelsOf(item.png)), 'the kept PNG');
    const manifest = JSON.parse(readFileSync(join(out, 'manifest.json'), 'utf8'));
    assert.equal(manifest.generator, null);
    assert.deepEqual(manifest.images[0].provenance.model, { id: imported.id, name: 'Imported' });
    assert.equal(manifest.images[0].favourite, true);
    const zip = await value(call('gallery.exportItems', { ids: [item.id], out: join(root, 'orphans.zip') }));
    assert.equal(zip.images, 1);
    const outside = await call('gallery.exportItems', { ids: [item.id], out: '/tmp/elsewhere-items' });
    assert.equal(!outside.ok && outside.error.code, 'forbidden');

    assert.deepEqual(await value(call('gallery.delete', { ids: [item.id] })), { deleted: 1 });
    assert.equal((await value(call('gallery.sources', {}))).orphaned, 0);
  });
});
