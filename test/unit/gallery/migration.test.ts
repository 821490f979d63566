/** Migration 4 on a schema-3 project: models and kept items gain their columns, nothing is lost. */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { migration001 } from '../../../core/store/migrations/001-initial.js';
import { migration002 } from '../../../core/store/migrations/002-dataset-import.js';
import { migration003 } from '../../../core/store/migrations/003-removed-sources.js';
import { SCHEMA_VERSION, migrate } from '../../../core/store/migrations/index.js';
import { APPLICATION_ID } from '../../../core/store/project-file.js';
import { Project } from '../../../core/store/project.js';
import { GalleryStore } from '../../../core/store/gallery.js';
import { tempDir } from '../../helpers/gallery.js';

test('migration 4: a schema-3 project with a model and a kept item opens at the current schema (through 4) with both intact', (t) => {
  const path = join(tempDir(t), 'v3.atelier');
  const v3 = new Database(path);
  v3.pragma(`application_id = ${APPLICATION_ID}`);
  migrate(v3, [migration001, migration002, migration003]);
  for (const [k, v] of [['id', 'x'], ['name', 'V3'], ['created_at', 'now'], ['created_by', '0.1.0'], ['settings', '{}']]) {
    v3.prepare('INSERT INTO project_meta (key, value) VALUES (?, ?)').run(k, v);
  }
  v3.prepare("INSERT INTO models (id, name, weights, metadata, created_at) VALUES (1, 'old', x'0102', '{}', 'then')").run();
  v3.prepare("INSERT INTO gallery_items (id, model_id, seed, psi, png, favourite, tags, created_at) VALUES (5, 1, 42, 0.7, x'89', 1, '[\"a\"]', 'then')").run();
  assert.equal(v3.pragma('user_version', { simple: true }), 3);
  v3.close();

  const p = Project.open(path);
  t.after(() => p.close());
  assert.ok(SCHEMA_VERSION >= 4);
  assert.equal(p.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.ok(existsSync(`${path}.v3.bak`), 'a backup of the schema-3 file');
  assert.deepEqual(p.db.pragma('foreign_key_check'), []);
  const model = p.db.prepare('SELECT name, weights, source, run_id FROM models WHERE id = 1').get() as Record<string, unknown>;
  assert.deepEqual(model, { name: 'old', weights: Buffer.from([1, 2]), source: 'checkpoint', run_id: null });
  const item = p.db.prepare('SELECT seed, psi, favourite, tags, origin, provenance, z, recipe FROM gallery_items WHERE id = 5').get() as Record<string, unknown>;
  assert.deepEqual(item, { seed: 42, psi: 0.7, favourite: 1, tags: '["a"]', origin: 'seed', provenance: '{}', z: null, recipe: null });
  // The store reads the old row, and curation works on it.
  const store = new GalleryStore(p.db);
  assert.deepEqual(store.update([5], { addTags: ['b'] }), [5]);
  const updated = store.get(5);
  assert.deepEqual(updated!.tags, ['a', 'b']);
  assert.equal(updated!.favourite, true);
  assert.throws(() => p.db.prepare("UPDATE gallery_items SET origin = 'painted' WHERE id = 5").run(), /CHECK constraint failed/);
  // Deleting the model keeps the item.
  p.db.prepare('DELETE FROM models WHERE id = 1').run();
  assert.equal((p.db.prepare('SELECT model_id FROM gallery_items WHERE id = 5').get() as { model_id: number | null }).model_id, null);
});
