/** Migration 2 on a project file written at schema 1: data kept, new tables present, backup made. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { migration001 } from '../../../core/store/migrations/001-initial.js';
import { SCHEMA_VERSION, migrate } from '../../../core/store/migrations/index.js';
import { APPLICATION_ID } from '../../../core/store/project-file.js';
import { Project } from '../../../core/store/project.js';
import { DatasetStore } from '../../../core/store/dataset.js';
import { tempDir } from '../../helpers/data.js';

test('a schema-1 project with images and labels opens at schema 2 with everything kept', async (t) => {
  const path = join(tempDir(t), 'old.atelier');
  const v1 = new Database(path);
  v1.pragma(`application_id = ${APPLICATION_ID}`);
  v1.pragma('journal_mode = WAL');
  migrate(v1, [migration001]);
  const at = '2026-01-01T00:00:00.000Z';
  const meta = v1.prepare('INSERT INTO project_meta (key, value) VALUES (?, ?)');
  for (const [k, v] of [['id', 'abc'], ['name', 'Old'], ['created_at', at], ['created_by', '0.0.1'], ['settings', '{}']]) meta.run(k, v);
  v1.prepare('INSERT INTO labels (id, name, created_at) VALUES (7, ?, ?)').run('sketches', at);
  const insert = v1.prepare(`INSERT INTO images (label_id, pixels, thumb, width, height, channels, pixel_hash, phash, source_path, source_format,
    source_width, source_height, source_bit_depth, source_hash, created_at) VALUES (?, ?, ?, 64, 64, 3, ?, ?, ?, 'png', 100, 80, 8, ?, ?)`);
  const before = [1, 2, 3].map((i) => ({ pixels: Buffer.alloc(9000, i), thumb: Buffer.alloc(300, 10 + i), hash: `h${i}`, path: `/pics/${i}.png` }));
  for (const [i, b] of before.entries()) insert.run(i === 2 ? null : 7, b.pixels, b.thumb, b.hash, `ph${i}`, b.path, `src${i}`, at);
  assert.equal(v1.pragma('user_version', { simple: true }), 1);
  v1.close();

  const project = Project.open(path);
  t.after(() => project.close());
  const db = project.db;
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.ok(existsSync(`${path}.v1.bak`), 'a backup of the schema-1 file');
  assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
  assert.deepEqual(db.pragma('foreign_key_check'), []);

  const rows = db.prepare('SELECT id, label_id, pixels, thumb, pixel_hash, source_path, source_width, import_id, source_frame FROM images ORDER BY id').all() as Array<Record<string, unknown>>;
  assert.equal(rows.length, 3);
  rows.forEach((r, i) => {
    assert.deepEqual(r.pixels, before[i]!.pixels);
    assert.deepEqual(r.thumb, before[i]!.thumb);
    assert.equal(r.pixel_hash, before[i]!.hash);
    assert.equal(r.source_path, before[i]!.path);
    assert.equal(r.source_width, 100);
    assert.equal(r.label_id, i === 2 ? null : 7);
    assert.equal(r.import_id, null);
    assert.equal(r.source_frame, null);
  });
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((r) => r.name);
  for (const name of ['imports', 'import_skipped', 'skipped_files', 'duplicates', 'images', 'labels', 'runs', 'jobs']) assert.ok(tables.includes(name), name);
  const columns = (db.prepare('PRAGMA table_info(images)').all() as Array<{ name: string }>).map((c) => c.name);
  assert.equal(columns.at(-1), 'pixels', 'the big blob is the last column: the grid reads thumbnails without walking it');

  const store = new DatasetStore(db);
  const stats = store.stats();
  assert.equal(stats.images, 3);
  assert.deepEqual(stats.labels.map((l) => [l.name, l.count]), [['sketches', 2]]);
  assert.equal(stats.unlabelled, 1);
  assert.equal(store.page(0, 10).items.length, 3);
  assert.equal(project.summary().counts.images, 3);
});

test('migration 3: a schema-2 project opens at schema 3 with its images, and removals are remembered from then on', async (t) => {
  const { migration002 } = await import('../../../core/store/migrations/002-dataset-import.js');
  const path = join(tempDir(t), 'v2.atelier');
  const v2 = new Database(path);
  v2.pragma(`application_id = ${APPLICATION_ID}`);
  migrate(v2, [migration001, migration002]);
  for (const [k, v] of [['id', 'x'], ['name', 'V2'], ['created_at', 'now'], ['created_by', '0.1.0'], ['settings', '{}']]) {
    v2.prepare('INSERT INTO project_meta (key, value) VALUES (?, ?)').run(k, v);
  }
  v2.prepare(`INSERT INTO images (width, height, channels, pixel_hash, source_path, source_format, source_hash, created_at, thumb, pixels)
              VALUES (16, 16, 3, 'p1', '/a.png', 'png', 's1', 'now', x'00', x'00')`).run();
  assert.equal(v2.pragma('user_version', { simple: true }), 2);
  v2.close();

  const p = Project.open(path);
  t.after(() => p.close());
  assert.equal(p.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.ok(SCHEMA_VERSION >= 3);
  assert.ok(existsSync(`${path}.v2.bak`), 'a backup of the schema-2 file was written before upgrading');
  const store = new DatasetStore(p.db);
  assert.equal(store.imageCount(), 1);
  assert.equal(store.stats().removed, 0);
  store.remove([1]);
  assert.ok(store.knownSourceHashes().has('s1'), 'the removed file is known to later imports');
});
