import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Project } from '../../../core/store/project.js';
import { GalleryStore } from '../../../core/store/gallery.js';
import { RunStore } from '../../../core/store/runs.js';
import { tempDir } from '../../helpers/tmp.js';

function open(t: TestContext) {
  const project = Project.create(join(tempDir(t), 'runs.atelier'), 'runs', { appVersion: 'test' });
  t.after(() => project.close());
  return { project, runs: new RunStore(project.db) };
}

test('a run keeps its config, status and per-tick statistics (NaN as a gap)', (t) => {
  const { runs } = open(t);
  const run = runs.createRun('first', 'baseline', { resolution: 32, batch: 8 }, 100);
  assert.deepEqual(run.config, { resolution: 32, batch: 8 });
  assert.equal(run.status, 'queued');
  runs.reportTick(run.id, 4, { 'Loss/G': 1.5, 'Loss/D': 0.7 });
  runs.reportTick(run.id, 8, { 'Loss/G': Number.NaN, 'Loss/D': 0.6 });
  runs.setStatus(run.id, 'failed', 'Training diverged');
  const again = runs.getRun(run.id)!;
  assert.equal(again.kimgDone, 8);
  assert.equal(again.error, 'Training diverged');
  assert.deepEqual(runs.metricSeries(run.id), { 'Loss/D': [[4, 0.7], [8, 0.6]], 'Loss/G': [[4, 1.5], [8, null]] });
  assert.deepEqual(runs.metricSeries(run.id, 4), { 'Loss/D': [[8, 0.6]], 'Loss/G': [[8, null]] });
});

test('checkpoints round-trip exactly and pruning keeps the newest and the best', (t) => {
  const { runs } = open(t);
  const run = runs.createRun('r', 'baseline', {}, null);
  const ids: number[] = [];
  for (let k = 1; k <= 6; k++) {
    const weights = Buffer.from(new Float32Array([k, k / 3, -k]).buffer);
    ids.push(runs.saveCheckpoint(run.id, { kimg: k, step: k * 10, weights, state: { step: k * 10, p: k / 10 } }, 3));
    if (k === 2) runs.markBest(run.id, ids[1]!);
  }
  assert.deepEqual(runs.listCheckpoints(run.id).map((c) => [c.kimg, c.isBest]), [[2, true], [4, false], [5, false], [6, false]]);
  const latest = runs.latestCheckpoint(run.id)!;
  assert.equal(latest.step, 60);
  assert.deepEqual(latest.state, { step: 60, p: 0.6 });
  assert.deepEqual(Array.from(new Float32Array(latest.weights.buffer, latest.weights.byteOffset, 3)), [6, 2, -6]);
});

test('deleting a run removes its metrics, checkpoints and previews with it', (t) => {
  const { project, runs } = open(t);
  const run = runs.createRun('r', 'baseline', {}, null);
  runs.reportTick(run.id, 1, { x: 1 });
  runs.saveCheckpoint(run.id, { kimg: 1, step: 1, weights: Buffer.alloc(4), state: {} });
  runs.addPreview(run.id, 1, Buffer.from('png'));
  assert.equal(runs.latestPreview(run.id)!.kimg, 1);
  runs.deleteRun(run.id);
  for (const table of ['metrics', 'checkpoints', 'previews']) {
    assert.equal(project.db.prepare(`SELECT count(*) FROM ${table}`).pluck().get(), 0, table);
  }
});

test('a starred image pins its checkpoint: pruning keeps it until the star is taken off; a model’s stars pin nothing', (t) => {
  const { project, runs } = open(t);
  const gallery = new GalleryStore(project.db);
  const run = runs.createRun('r', 'baseline', {}, null);
  const save = (k: number): number => runs.saveCheckpoint(run.id, { kimg: k, step: k * 10, weights: Buffer.alloc(12), state: {} }, 3);
  const star = (checkpointId: number, seed: number, favourite: boolean, modelId: number | null = null) =>
    gallery.insert({
      modelId,
      checkpointId,
      runId: run.id,
      origin: 'seed',
      seed,
      w: new Float32Array(4),
      z: null,
      psi: 0.7,
      classIndex: null,
      className: null,
      png: Buffer.from([1]),
      favourite,
      rejected: false,
      tags: [],
      recipe: { kind: 'seed', seed, psi: 0.7, classIndex: null },
      provenance: { generator: 'r', model: null, run: { id: run.id, name: 'r' }, checkpoint: { id: checkpointId, kimg: 1, step: 10 }, spec: { kind: 'seed', seed, psi: 0.7, classIndex: null }, noise: 'const', latentAlgorithm: 'test', backend: 'wasm', studioVersion: 'test' },
    });
  const first = save(1);
  const second = save(2);
  const starred = star(first, 42, true);
  star(first, 43, false); // kept, not starred: pins nothing
  project.db.prepare("INSERT INTO models (name, weights, metadata, created_at) VALUES ('m', x'00', '{}', '')").run();
  star(second, 7, true, 1); // starred from a model that was this checkpoint: the model holds its weights
  for (let k = 3; k <= 7; k++) save(k);

  const kept = runs.listCheckpoints(run.id);
  assert.deepEqual(kept.map((c) => [c.kimg, c.starred]), [[1, 1], [5, 0], [6, 0], [7, 0]], 'the starred checkpoint stays beside the newest three');
  assert.deepEqual(runs.starredImages(run.id), [{ itemId: starred.id, checkpointId: first, kimg: 1, label: 'seed 42, ψ 0.7' }]);
  assert.equal(gallery.get(starred.id)!.checkpointId, first, 'the star can still be sampled from its checkpoint');

  gallery.update([starred.id], { favourite: false });
  save(8);
  assert.deepEqual(runs.listCheckpoints(run.id).map((c) => c.kimg), [6, 7, 8], 'unstarred, it is pruned like any other');
  assert.deepEqual(runs.starredImages(run.id), []);
});
