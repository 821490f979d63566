/**
 * Migration 6 (core/store/migrations/006-job-kinds.ts) on a schema-5 project: the jobs table is
 * rebuilt with the kinds a worker runs (train, evaluate, import, merge); every job is kept with its
 * id, params, progress and run, a backup is written, the foreign key to runs still holds, and the
 * kinds that never ran ('sample', 'export') are refused from then on.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import Database from 'better-sqlite3';
import { JobManager } from '../../../core/jobs/job-manager.js';
import { migrations, migrate, SCHEMA_VERSION } from '../../../core/store/migrations/index.js';
import { APPLICATION_ID } from '../../../core/store/project-file.js';
import { JOB_KINDS } from '../../../core/store/jobs.js';
import { Project } from '../../../core/store/project.js';
import { tempDir } from '../../helpers/tmp.js';

test('migration 6: a schema-5 project keeps its jobs, with the kinds that run; sample and export are refused from then on', (t) => {
  const path = join(tempDir(t), 'v5.atelier');
  const v5 = new Database(path);
  v5.pragma(`application_id = ${APPLICATION_ID}`);
  v5.pragma('foreign_keys = ON');
  migrate(v5, migrations.filter((m) => m.version <= 5));
  for (const [k, v] of [['id', 'x'], ['name', 'V5'], ['created_at', 'now'], ['created_by', '0.1.0'], ['settings', '{}']]) v5.prepare('INSERT INTO project_meta (key, value) VALUES (?, ?)').run(k, v);
  v5.prepare(`INSERT INTO runs (id, name, preset, config, status, kimg_done, created_at, updated_at) VALUES (3, 'a run', 'baseline', '{}', 'paused', 2, 'then', 'then')`).run();
  const insert = v5.prepare('INSERT INTO jobs (id, kind, status, run_id, pid, params, progress, error, heartbeat_at, created_at, updated_at) VALUES (?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?)');
  insert.run(7, 'train', 'paused', 3, '{"runId":3}', '{"runId":3,"step":40,"kimg":0.32}', null, 'hb', 't0', 't1');
  insert.run(8, 'evaluate', 'failed', 3, '{"kind":"evaluate","runId":3}', null, 'It ran out of memory.', null, 't2', 't3');
  insert.run(9, 'import', 'done', null, '{"importId":1}', '{"importId":1,"status":"done"}', null, null, 't4', 't5');
  assert.equal(v5.pragma('user_version', { simple: true }), 5);
  v5.close();

  const p = Project.open(path);
  t.after(() => p.close());
  assert.ok(SCHEMA_VERSION >= 6);
  assert.equal(p.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.ok(existsSync(`${path}.v5.bak`), 'a backup of the schema-5 file');
  assert.equal(p.db.pragma('integrity_check', { simple: true }), 'ok');
  assert.deepEqual(p.db.pragma('foreign_key_check'), []);

  // Every job, as it was.
  const rows = p.db.prepare('SELECT id, kind, status, run_id, params, progress, error, heartbeat_at, created_at, updated_at FROM jobs ORDER BY id').all();
  assert.deepEqual(rows, [
    { id: 7, kind: 'train', status: 'paused', run_id: 3, params: '{"runId":3}', progress: '{"runId":3,"step":40,"kimg":0.32}', error: null, heartbeat_at: 'hb', created_at: 't0', updated_at: 't1' },
    { id: 8, kind: 'evaluate', status: 'failed', run_id: 3, params: '{"kind":"evaluate","runId":3}', progress: null, error: 'It ran out of memory.', heartbeat_at: null, created_at: 't2', updated_at: 't3' },
    { id: 9, kind: 'import', status: 'done', run_id: null, params: '{"importId":1}', progress: '{"importId":1,"status":"done"}', error: null, heartbeat_at: null, created_at: 't4', updated_at: 't5' },
  ]);
  // The store reads them.
  const manager = new JobManager(p);
  assert.deepEqual(manager.recent().map((j) => [j.id, j.kind, j.status]), [[9, 'import', 'done'], [8, 'evaluate', 'failed'], [7, 'train', 'paused']]);

  // The CHECK follows the kinds: the four that run are accepted, the two that never ran are not.
  const add = p.db.prepare("INSERT INTO jobs (kind, status, created_at, updated_at) VALUES (?, 'queued', 'now', 'now')");
  for (const kind of JOB_KINDS) add.run(kind);
  assert.deepEqual([...JOB_KINDS].sort(), ['evaluate', 'import', 'merge', 'train']);
  for (const kind of ['sample', 'export', 'painting']) assert.throws(() => add.run(kind), /CHECK constraint failed/, kind);

  // The rebuilt table still points at runs: deleting the run lets go of its jobs, not the jobs themselves.
  p.db.prepare('DELETE FROM runs WHERE id = 3').run();
  assert.deepEqual(p.db.prepare('SELECT id, run_id FROM jobs WHERE id IN (7, 8) ORDER BY id').all(), [
    { id: 7, run_id: null },
    { id: 8, run_id: null },
  ]);
});
