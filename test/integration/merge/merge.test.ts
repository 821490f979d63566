/**
 * A tiny merge end to end: two small generators trained here on clearly different emoji (flags;
 * smileys) become one class-conditional generator whose each class is closer (KID) to its own
 * source than to the other; it is stored as a normal model and sampled by class like any other.
 * A root without a discriminator (a TF.js export) gets one trained first, and the result says so.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readFloatsAndDispose } from '../../../core/backend/read.js';
import { selectBackend } from '../../../core/backend/select.js';
import { buildGenerator } from '../../../core/generator/weights.js';
import { seedToZ } from '../../../core/generator/latents.js';
import { modelSummary } from '../../../core/generator/model-summary.js';
import { Sampler, oneHot } from '../../../core/generator/sampler.js';
import { SamplerHost } from '../../../core/gallery/sampler-host.js';
import { loadSource } from '../../../core/generator/source.js';
import { evaluatePerClass } from '../../../core/merge/evaluate.js';
import { type MergeProgress, type MergePreview, mergedModelRecord, runMerge } from '../../../core/merge/merge.js';
import { openMergeSources } from '../../../core/merge/open.js';
import { ModelStore } from '../../../core/store/models.js';
import { Project } from '../../../core/store/project.js';
import { categoryPixels, pixelFeatures, storeModel, tinyMergeConfig, trainTiny } from '../../helpers/merge.js';

const REPO = new URL('../../..', import.meta.url).pathname;

describe('merge', () => {
  let dir: string;
  let project: Project;

  before(async () => {
    await selectBackend({ prefer: 'wasm' });
    mkdirSync(join(REPO, 'test-results'), { recursive: true });
    dir = mkdtempSync(join(REPO, 'test-results', 'merge-'));
    project = Project.create(join(dir, 'merge.atelier'), 'merge', { appVersion: 'test' });
  });

  after(() => {
    project?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('merges generators of flags and of smileys into one whose classes are each closer to their own source', async (t) => {
    // Two sources trained here, 60 steps of 8 each, on 64 emoji of their category.
    storeModel(project, 'Flags', await trainTiny(await categoryPixels('Flags', 64), tinyMergeConfig(1), 60));
    storeModel(project, 'Smileys', await trainTiny(await categoryPixels('Smileys & Emotion', 64), tinyMergeConfig(2), 60));
    const sources = await openMergeSources([{ kind: 'model', model: 'Flags' }, { kind: 'model', model: 'Smileys' }], { db: project.db });
    t.after(() => sources.forEach((s) => s.dispose()));
    assert.match(sources[0]!.networks!.dNote, /its discriminator from "Flags run"/);

    const progress: MergeProgress[] = [];
    const previews: MergePreview[] = [];
    const out = await runMerge({
      sources,
      settings: { kimgRoot: 0.256, kimgMerge: 0.512, seed: 3, batch: 8 },
      callbacks: { checkpoint: () => {}, progress: (p) => void progress.push(p), preview: (p) => void previews.push(p) },
      evaluation: { extractor: pixelFeatures, images: 64, everyCheckpoints: 1 },
    });
    assert.equal(out.outcome, 'completed');
    const result = out.result!;

    // Stages, progress and previews: rooting Smileys on Flags, averaging, the joint fine-tune.
    assert.deepEqual(result.stages.map((s) => [s.kind, s.source, s.steps]), [['root', 1, 32], ['average', null, 0], ['joint', null, 64]]);
    assert.deepEqual([...new Set(progress.map((p) => p.kind))], ['root', 'average', 'joint', null]);
    assert.ok(progress.every((p, i) => i === 0 || p.fraction >= progress[i - 1]!.fraction - 1e-9), 'progress never goes back');
    assert.equal(progress.at(-1)!.fraction, 1);
    assert.deepEqual([...new Set(previews.filter((p) => p.kind === 'joint').map((p) => p.className))], ['Flags', 'Smileys'], 'per-class previews');
    assert.ok(previews.filter((p) => p.kind === 'root').every((p) => p.className === 'Smileys'));

    // Each class is closer to its own source than to the other (KID on pixels, 64 images a set).
    const G = buildGenerator(result.meta, result.weights, 'the merged generator');
    const { evaluation: ev } = await evaluatePerClass(G, sources, [0, 1], ['Flags', 'Smileys'], { extractor: pixelFeatures, images: 64, seed: 11, cross: true });
    G.dispose();
    const [[ff, fs], [sf, ss]] = ev.cross! as [[number, number], [number, number]];
    t.diagnostic(`KID (pixels): Flags class vs Flags ${ff.toFixed(4)}, vs Smileys ${fs.toFixed(4)}; Smileys class vs Flags ${sf.toFixed(4)}, vs Smileys ${ss.toFixed(4)}`);
    assert.ok(ff < fs, `the Flags class is closer to Flags (${ff}) than to Smileys (${fs})`);
    assert.ok(ss < sf, `the Smileys class is closer to Smileys (${ss}) than to Flags (${sf})`);
    // The evaluation the merge ran itself: each class against its own source, and the average.
    assert.deepEqual(result.evaluation!.classes.map((c) => c.className), ['Flags', 'Smileys']);
    assert.ok(Math.abs(result.evaluation!.average - (result.evaluation!.classes[0]!.kid + result.evaluation!.classes[1]!.kid) / 2) < 1e-12);
    // …and along the joint fine-tune (the per-class chart): at each of its checkpoints.
    const chart = progress.filter((p) => p.evaluation !== undefined && p.kind === 'joint');
    assert.ok(chart.length >= 1, 'evaluated during the joint fine-tune');
    assert.deepEqual(chart[0]!.evaluation!.classes.map((c) => c.className), ['Flags', 'Smileys']);

    // A normal model: stored with the store's functions, listed, sampled by class.
    const row = new ModelStore(project.db).insert(mergedModelRecord(result, 'Flags + Smileys'));
    const summary = modelSummary(row);
    assert.deepEqual(summary.classNames, ['Flags', 'Smileys']);
    assert.equal(summary.resolution, 16);
    const loaded = loadSource(project.db, { kind: 'model', modelId: row.id });
    assert.equal(loaded.meta.source.kind, 'merge');
    const sampler = new Sampler(buildGenerator(loaded.meta, loaded.weights, 'the stored model'), loaded.meta);
    const z = seedToZ(5, loaded.meta.net.zDim);
    const [a, b] = await Promise.all([0, 1].map((c) => sampler.imagesFloat([{ kind: 'z', z, cls: oneHot(loaded.meta, c), psi: 1 }])));
    assert.ok(a!.some((v, i) => Math.abs(v - b![i]!) > 0.05), 'the class picker changes the image');
    sampler.dispose();
    // No bigger than its root, but for the class embedding.
    const rootBytes = new ModelStore(project.db).weights(new ModelStore(project.db).find('Flags')!.id).length;
    const net = loaded.meta.net;
    assert.ok(row.sizeBytes <= rootBytes + 4 * (2 * net.wDim + net.wDim * net.wDim) + 4096, `${row.sizeBytes} vs the root's ${rootBytes}`);
  });

  it('trains a discriminator first for a root that has none (a TF.js export), and says so', async (t) => {
    // Flags exported to TF.js, as from another project: a generator without its discriminator.
    const host = new SamplerHost(project.db, 'wasm', 'test');
    t.after(() => host.dispose());
    const flags = new ModelStore(project.db).find('Flags')!;
    const out = join(dir, 'flags-tfjs');
    await host.run({ op: 'export', source: { kind: 'model', modelId: flags.id }, format: 'tfjs', out, overwrite: false }, { item: () => {}, progress: () => {}, cancelled: () => false });
    const sources = await openMergeSources([{ kind: 'tfjs', path: out }, { kind: 'model', model: 'Smileys' }], { db: project.db });
    t.after(() => sources.forEach((s) => s.dispose()));
    const logs: string[] = [];
    const r = await runMerge({ sources, settings: { kimgRoot: 0.064, kimgRootD: 0.032, kimgMerge: 0.064, seed: 4, batch: 8, classes: ['flag', 'smiley'] }, previewImages: 0, callbacks: { checkpoint: () => {}, log: (l) => void logs.push(l) } });
    const src = r.result!.meta.source;
    assert.equal(src.kind, 'merge');
    if (src.kind !== 'merge') return;
    assert.deepEqual(src.stages.map((s) => [s.kind, s.source, s.steps]), [['root-d', 0, 4], ['root', 1, 8], ['average', null, 0], ['joint', null, 8]]);
    assert.ok(src.notes.some((n) => /has no discriminator: an export carries only the generator; one is trained from scratch against its own samples first/.test(n)), src.notes.join(' | '));
    assert.ok(logs.some((l) => l.includes('trained from scratch')));
    assert.deepEqual(src.sources.map((s) => [s.className, s.kind]), [['flag', 'tfjs'], ['smiley', 'model']]);
    const images = await readFloatsAndDispose(await sources[0]!.generate(seedToZ(1, 32), null, 1));
    assert.ok(images.every(Number.isFinite));
  });
});
