/**
 * Migration 5 (core/store/migrations/005-metrics.ts) on a schema-3 and on a schema-4 project (data
 * kept, a backup made; features, evaluations and alerts tables), and what the metrics keep:
 * features per image and extractor (gone with their image), evaluations (kept when their checkpoint
 * is pruned), alerts (gone with their run), the project's extractor, and a branch of a run from an
 * earlier checkpoint.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { migration001 } from '../../../core/store/migrations/001-initial.js';
import { migration002 } from '../../../core/store/migrations/002-dataset-import.js';
import { migration003 } from '../../../core/store/migrations/003-removed-sources.js';
import { migration004 } from '../../../core/store/migrations/004-gallery.js';
import { migrate, SCHEMA_VERSION } from '../../../core/store/migrations/index.js';
import { APPLICATION_ID } from '../../../core/store/project-file.js';
import { Project } from '../../../core/store/project.js';
import { MetricsStore } from '../../../core/store/metrics.js';
import { branchRun } from '../../../core/store/run-branch.js';
import { RunStore } from '../../../core/store/runs.js';
import { tempDir } from '../../helpers/tmp.js';

test('migration 5: a schema-3 project with images and a run opens at the current schema (through 5), everything kept', (t) => {
  const path = join(tempDir(t), 'v3.atelier');
  const v3 = new Database(path);
  v3.pragma(`application_id = ${APPLICATION_ID}`);
  migrate(v3, [migration001, migration002, migration003]);
  for (const [k, v] of [['id', 'x'], ['name', 'V3'], ['created_at', 'now'], ['created_by', '0.1.0'], ['settings', '{}']]) v3.prepare('INSERT INTO project_meta (key, value) VALUES (?, ?)').run(k, v);
  v3.prepare(`INSERT INTO images (width, height, channels, pixel_hash, source_path, source_format, created_at, thumb, pixels) VALUES (16, 16, 3, 'p1', '/a.png', 'png', 'now', x'00', x'01')`).run();
  v3.prepare(`INSERT INTO runs (name, preset, config, status, kimg_done, created_at, updated_at) VALUES ('old run', 'baseline', '{"seed":1}', 'paused', 2, 'now', 'now')`).run();
  v3.prepare(`INSERT INTO metrics (run_id, name, kimg, value, at) VALUES (1, 'Loss/G', 2, 0.5, 'now')`).run();
  v3.close();

  const p = Project.open(path);
  t.after(() => p.close());
  assert.equal(p.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.ok(SCHEMA_VERSION >= 4);
  assert.ok(existsSync(`${path}.v3.bak`), 'a backup of the schema-3 file');
  const runs = new RunStore(p.db);
  assert.equal(runs.getRun(1)!.name, 'old run');
  assert.deepEqual(runs.metricSeries(1), { 'Loss/G': [[2, 0.5]] });
  const tables = p.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
  for (const name of ['image_features', 'evaluations', 'run_alerts']) assert.ok(tables.includes(name), name);
  const store = new MetricsStore(p.db);
  assert.deepEqual(store.evaluations(1), []);
  assert.deepEqual(store.alerts(1), []);
  assert.equal(store.extractor(), null);
});

test('migration 5: a schema-4 project (gallery and models) opens at the current schema (through 5) with its data and a .v4.bak backup', (t) => {
  const path = join(tempDir(t), 'v4.atelier');
  const v4 = new Database(path);
  v4.pragma(`application_id = ${APPLICATION_ID}`);
  migrate(v4, [migration001, migration002, migration003, migration004]);
  for (const [k, v] of [['id', 'x'], ['name', 'V4'], ['created_at', 'now'], ['created_by', '0.1.0'], ['settings', '{}']]) v4.prepare('INSERT INTO project_meta (key, value) VALUES (?, ?)').run(k, v);
  v4.prepare(`INSERT INTO images (width, height, channels, pixel_hash, source_path, source_format, created_at, thumb, pixels) VALUES (16, 16, 3, 'p1', '/a.png', 'png', 'now', x'00', x'01')`).run();
  v4.prepare(`INSERT INTO runs (id, name, preset, config, status, kimg_done, created_at, updated_at) VALUES (1, 'gallery-era run', 'baseline', '{"seed":4}', 'done', 8, 'now', 'now')`).run();
  v4.prepare(`INSERT INTO metrics (run_id, name, kimg, value, at) VALUES (1, 'Loss/D', 8, 0.25, 'now')`).run();
  v4.prepare(`INSERT INTO checkpoints (id, run_id, kimg, step, weights, state, created_at) VALUES (3, 1, 8, 80, x'0a0b', '{}', 'now')`).run();
  v4.prepare(`INSERT INTO models (id, name, checkpoint_id, weights, metadata, created_at, run_id, source) VALUES (2, 'kept model', 3, x'0102', '{}', 'now', 1, 'checkpoint')`).run();
  v4.prepare(`INSERT INTO gallery_items (id, model_id, seed, psi, png, favourite, tags, created_at, run_id, origin) VALUES (5, 2, 42, 0.7, x'89', 1, '[]', 'now', 1, 'seed')`).run();
  assert.equal(v4.pragma('user_version', { simple: true }), 4);
  v4.close();

  const p = Project.open(path);
  t.after(() => p.close());
  assert.ok(SCHEMA_VERSION >= 5);
  assert.equal(p.db.pragma('user_version', { simple: true }), SCHEMA_VERSION, 'through migration 5');
  assert.ok(existsSync(`${path}.v4.bak`), 'a backup of the schema-4 file');
  assert.deepEqual(p.db.pragma('foreign_key_check'), []);
  const runs = new RunStore(p.db);
  assert.equal(runs.getRun(1)!.name, 'gallery-era run');
  assert.deepEqual(runs.metricSeries(1), { 'Loss/D': [[8, 0.25]] });
  assert.deepEqual(runs.listCheckpoints(1).map((c) => [c.id, c.kimg, c.step]), [[3, 8, 80]]);
  assert.deepEqual(p.db.prepare('SELECT name, checkpoint_id, run_id, source FROM models WHERE id = 2').get(), { name: 'kept model', checkpoint_id: 3, run_id: 1, source: 'checkpoint' });
  assert.deepEqual(p.db.prepare('SELECT model_id, seed, run_id, origin FROM gallery_items WHERE id = 5').get(), { model_id: 2, seed: 42, run_id: 1, origin: 'seed' });
  // The metrics tables are there and work on the old rows.
  const store = new MetricsStore(p.db);
  assert.deepEqual(store.evaluations(1), []);
  const e = store.addEvaluation({ runId: 1, checkpointId: 3, kimg: 8, source: 'on-demand', extractor: 'x', reference: false, realCount: 1, fakeCount: 4, metrics: { 'Metrics/kid': 0.5 }, seconds: 1 });
  assert.equal(e.checkpointId, 3);
  assert.equal(store.imageFeatures('x', [1]).size, 0);
});

test('features per image and extractor, evaluations, alerts and the extractor setting, with their lifetimes', (t) => {
  const p = Project.create(join(tempDir(t), 'm.atelier'), 'm', { appVersion: 'test' });
  t.after(() => p.close());
  const db = p.db;
  const insert = db.prepare(`INSERT INTO images (width, height, channels, pixel_hash, source_path, source_format, created_at, thumb, pixels) VALUES (16, 16, 3, ?, ?, 'png', 'now', x'00', x'01')`);
  const ids = [1, 2, 3].map((i) => Number(insert.run(`h${i}`, `/${i}.png`).lastInsertRowid));
  const store = new MetricsStore(db);
  const f = (v: number): Float32Array => Float32Array.from({ length: 2048 }, (_, i) => v + i / 2048);
  store.saveImageFeatures('ext-a', [{ imageId: ids[0]!, features: f(1) }, { imageId: ids[1]!, features: f(2) }]);
  store.saveImageFeatures('ext-b', [{ imageId: ids[0]!, features: f(9) }]);
  const got = store.imageFeatures('ext-a', ids);
  assert.deepEqual([...got.keys()], [ids[0], ids[1]], 'the third image has none yet');
  assert.deepEqual(got.get(ids[1]!), f(2), 'float32 round trip');
  assert.deepEqual(store.imageFeatures('ext-b', ids).get(ids[0]!), f(9), 'kept apart by extractor');
  // A removed image takes its features with it (the dataset changed: so does the cache).
  db.prepare('DELETE FROM images WHERE id = ?').run(ids[0]);
  assert.equal(store.featureCount('ext-a'), 1);
  assert.equal(store.featureCount('ext-b'), 0);

  const runs = new RunStore(db);
  const run = runs.createRun('r', 'baseline', { seed: 1 }, 10);
  const cps = [1, 2, 3].map((k) => runs.saveCheckpoint(run.id, { kimg: k, step: k, weights: Buffer.alloc(8), state: {} }, 1));
  const e = store.addEvaluation({ runId: run.id, checkpointId: cps[2]!, kimg: 3, source: 'training', extractor: 'ext-a', reference: false, realCount: 8, fakeCount: 8, metrics: { 'Metrics/kid': 0.01, 'Metrics/fid': NaN }, seconds: 4.5 });
  assert.deepEqual(e.metrics, { 'Metrics/kid': 0.01 }, 'a value that was not finite is left out');
  assert.equal(e.checkpointId, cps[2]);
  // Pruned checkpoint: the evaluation stays, without it.
  runs.saveCheckpoint(run.id, { kimg: 4, step: 4, weights: Buffer.alloc(8), state: {} }, 1);
  assert.equal(store.evaluations(run.id)[0]!.checkpointId, null);

  const a = store.addAlert(run.id, { kimg: 3, code: 'd-overfit', severity: 'warning', what: 'What.', todo: 'Do.' });
  assert.deepEqual(store.alerts(run.id), [a]);
  store.setExtractor({ path: '/models/fid/model.json', inputRange: [0, 255] });
  assert.deepEqual(store.extractor(), { path: '/models/fid/model.json', inputRange: [0, 255] });
  store.setExtractor(null);
  assert.equal(store.extractor(), null);
  runs.deleteRun(run.id);
  assert.deepEqual(store.alerts(run.id), []);
  assert.deepEqual(store.evaluations(run.id), []);
});

test('a branch copies the chosen checkpoint and the history up to it; the original keeps everything', (t) => {
  const p = Project.create(join(tempDir(t), 'b.atelier'), 'b', { appVersion: 'test' });
  t.after(() => p.close());
  const runs = new RunStore(p.db);
  const store = new MetricsStore(p.db);
  const run = runs.createRun('source', 'baseline', { seed: 3, kimg: 10 }, 10);
  const cps: number[] = [];
  for (let k = 1; k <= 4; k++) {
    runs.reportTick(run.id, k, { 'Loss/G': k, 'Metrics/kid': k / 100 });
    cps.push(runs.saveCheckpoint(run.id, { kimg: k, step: k * 10, weights: Buffer.from([k, k, k, k]), state: { loop: { step: k * 10 } } }, 10));
    store.addEvaluation({ runId: run.id, checkpointId: cps.at(-1)!, kimg: k, source: 'training', extractor: 'x', reference: false, realCount: 4, fakeCount: 4, metrics: { 'Metrics/kid': k / 100 }, seconds: 1 });
    runs.addPreview(run.id, k, Buffer.from([k]));
  }
  runs.markBest(run.id, cps[1]!);
  const source = runs.getRun(run.id)!;
  const branch = branchRun(p.db, source, runs.getCheckpoint(cps[1]!)!, 'source ↳ 2 kimg');
  assert.equal(branch.status, 'paused');
  assert.equal(branch.kimgDone, 2);
  assert.deepEqual((branch.config as { branchedFrom: unknown }).branchedFrom, { runId: run.id, checkpointId: cps[1], kimg: 2 });
  const copied = runs.listCheckpoints(branch.id);
  assert.deepEqual(copied.map((c) => [c.kimg, c.step, c.isBest]), [[2, 20, true]], 'one checkpoint, the best so far there');
  assert.deepEqual(runs.latestCheckpoint(branch.id)!.weights, Buffer.from([2, 2, 2, 2]));
  assert.deepEqual(runs.metricSeries(branch.id)['Loss/G'], [[1, 1], [2, 2]]);
  assert.deepEqual(store.evaluations(branch.id).map((e) => [e.kimg, e.checkpointId]), [[1, null], [2, copied[0]!.id]]);
  assert.deepEqual(runs.listPreviews(branch.id).map((pv) => pv.kimg), [2]);
  // The original is untouched.
  assert.equal(runs.listCheckpoints(run.id).length, 4);
  assert.equal(runs.metricSeries(run.id)['Loss/G']!.length, 4);
  assert.equal(runs.getRun(run.id)!.kimgDone, 4);
});
