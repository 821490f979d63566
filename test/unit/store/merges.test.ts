/**
 * Migration 7 and the merge store (core/store/merges.ts): a schema-6 project gains the merge
 * tables (backed up first); a checkpoint puts and drops blobs with its state in one transaction
 * (a failing write leaves the previous checkpoint whole); only the newest preview per class is
 * kept; deleting a merge deletes its blobs, previews and evaluations, never its model.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { migrations, migrate } from '../../../core/store/migrations/index.js';
import { APPLICATION_ID } from '../../../core/store/project-file.js';
import { MergeStore } from '../../../core/store/merges.js';
import { Project } from '../../../core/store/project.js';
import { tempDir } from '../../helpers/tmp.js';

test('migration 7: a schema-6 project gains the merge tables, backed up first', (t) => {
  const path = join(tempDir(t), 'v6.atelier');
  const v6 = new Database(path);
  v6.pragma(`application_id = ${APPLICATION_ID}`);
  v6.pragma('foreign_keys = ON');
  migrate(v6, migrations.filter((m) => m.version <= 6));
  for (const [k, v] of [['id', 'x'], ['name', 'V6'], ['created_at', 'now'], ['created_by', '0.1.0'], ['settings', '{}']]) v6.prepare('INSERT INTO project_meta (key, value) VALUES (?, ?)').run(k, v);
  v6.close();
  const p = Project.open(path);
  t.after(() => p.close());
  assert.equal(p.db.pragma('user_version', { simple: true }), 7);
  assert.ok(existsSync(`${path}.v6.bak`), 'a backup of the schema-6 file');
  const tables = (p.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'merge%' ORDER BY name").all() as Array<{ name: string }>).map((r) => r.name);
  assert.deepEqual(tables, ['merge_blobs', 'merge_evaluations', 'merge_previews', 'merges']);
  assert.throws(() => p.db.prepare("INSERT INTO merges (name, status, request, created_at, updated_at) VALUES ('m', 'dreaming', '{}', 'a', 'a')").run(), /CHECK constraint failed/);
});

test('merge store: checkpoints are atomic; the newest preview per class; delete cascades but keeps the model', (t) => {
  const p = Project.create(join(tempDir(t), 'p.atelier'), 'p', { appVersion: 'test' });
  t.after(() => p.close());
  const store = new MergeStore(p.db);
  const id = store.create('A + B', '{"sources":[]}');
  assert.equal(store.lastCheckpoint(id), null, 'no checkpoint yet');
  store.checkpoint(id, '{"stage":0}', new Map([['stage', new Uint8Array([1, 2, 3])], ['rooted-1', new Uint8Array([4])]]), []);
  store.checkpoint(id, '{"stage":1}', new Map([['merged', new Uint8Array([5, 6])]]), ['stage', 'rooted-1']);
  const last = store.lastCheckpoint(id)!;
  assert.equal(last.state, '{"stage":1}');
  assert.deepEqual([...last.blobs].map(([k, v]) => [k, [...v]]), [['merged', [5, 6]]]);

  // A write that fails part-way (the state, written after the blobs, cannot be bound) leaves the last checkpoint whole.
  assert.throws(() => store.checkpoint(id, {} as unknown as string, new Map([['merged', new Uint8Array([9])], ['x', new Uint8Array([7])]]), []));
  const still = store.lastCheckpoint(id)!;
  assert.equal(still.state, '{"stage":1}');
  assert.deepEqual([...still.blobs].map(([k, v]) => [k, [...v]]), [['merged', [5, 6]]]);

  for (const [kimg, cls] of [[0.1, 0], [0.1, 1], [0.2, 0]] as const) store.addPreview(id, { stage: 2, kind: 'joint', kimg, classIndex: cls, className: cls ? 'B' : 'A', png: Buffer.from([kimg * 10]) });
  assert.deepEqual(store.previews(id).map((r) => [r.classIndex, r.kimg]), [[0, 0.2], [1, 0.1]]);
  store.addEvaluation(id, { stage: 2, step: 4, fraction: 0.5, evaluation: '{"average":0.1}' });

  p.db.prepare("INSERT INTO models (name, weights, metadata, created_at, source) VALUES ('A + B', x'00', '{}', 'now', 'import')").run();
  store.finish(id, 1);
  assert.deepEqual([store.get(id)!.status, store.get(id)!.modelId, store.lastCheckpoint(id)!.blobs.size], ['done', 1, 0], 'done: the blobs go, the model stays linked');
  store.delete(id);
  for (const table of ['merges', 'merge_blobs', 'merge_previews', 'merge_evaluations']) assert.deepEqual(p.db.prepare(`SELECT count(*) AS n FROM ${table}`).get(), { n: 0 }, table);
  assert.deepEqual(p.db.prepare('SELECT count(*) AS n FROM models').get(), { n: 1 }, 'the model stays');
});
