/**
 * One opener, three roles (core/store/project-file.ts `openProjectDb(path, { role })`): the
 * service's connection verifies and migrates; a worker's joins a file the service already opened
 * (refusing one at another schema, never migrating it) and waits longer for the lock; a read-only
 * look changes nothing, not even an old schema.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { UserError } from '../../../core/api/errors.js';
import { migrations, migrate, SCHEMA_VERSION } from '../../../core/store/migrations/index.js';
import { APPLICATION_ID, openProjectDb } from '../../../core/store/project-file.js';
import { Project } from '../../../core/store/project.js';
import { sha256File, tempDir } from '../../helpers/tmp.js';

function oldProject(path: string, version: number): void {
  const db = new Database(path);
  db.pragma(`application_id = ${APPLICATION_ID}`);
  migrate(db, migrations.filter((m) => m.version <= version));
  for (const [k, v] of [['id', 'x'], ['name', 'Old'], ['created_at', 'then'], ['created_by', '0.1.0'], ['settings', '{}']]) db.prepare('INSERT INTO project_meta (key, value) VALUES (?, ?)').run(k, v);
  db.close();
}

test("the service's and a worker's connections: WAL, foreign keys, each with its wait for the lock", (t) => {
  const path = join(tempDir(t), 'p.atelier');
  Project.create(path, 'p', { appVersion: 'test' }).close();
  const service = openProjectDb(path, { role: 'service' });
  const worker = openProjectDb(path, { role: 'worker' });
  try {
    for (const db of [service, worker]) {
      assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
      assert.equal(db.pragma('foreign_keys', { simple: true }), 1);
      assert.equal(db.pragma('synchronous', { simple: true }), 1, 'NORMAL');
    }
    assert.equal(service.pragma('busy_timeout', { simple: true }), 5000);
    assert.equal(worker.pragma('busy_timeout', { simple: true }), 10_000, 'a worker waits longer: the service answers the window first');
    // Both write the same file.
    worker.prepare("INSERT INTO labels (name, created_at) VALUES ('from the worker', 'now')").run();
    assert.equal(service.prepare('SELECT count(*) FROM labels').pluck().get(), 1);
  } finally {
    worker.close();
    service.close();
  }
});

test('a worker refuses a file at another schema and leaves it as it was; the service migrates it', (t) => {
  const path = join(tempDir(t), 'old.atelier');
  oldProject(path, SCHEMA_VERSION - 1);
  const before = sha256File(path);
  assert.throws(
    () => openProjectDb(path, { role: 'worker' }),
    (err: unknown) => err instanceof UserError && err.code === 'too-new' && /has project format \d+; this worker writes format \d+\. Open the project in the studio first/.test(err.message),
  );
  assert.equal(sha256File(path), before, 'not migrated by a worker');
  assert.ok(!existsSync(`${path}.v${SCHEMA_VERSION - 1}.bak`));
  const db = openProjectDb(path, { role: 'service' });
  t.after(() => db.close());
  assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
  assert.ok(existsSync(`${path}.v${SCHEMA_VERSION - 1}.bak`), 'the service backs up before migrating');
});

test('read-only: an old file is looked at, not migrated, not written', (t) => {
  const path = join(tempDir(t), 'look.atelier');
  oldProject(path, 3);
  const before = sha256File(path);
  const p = Project.inspect(path);
  try {
    assert.equal(p.readonly, true);
    assert.equal(p.summary().name, 'Old');
    assert.equal(p.db.pragma('user_version', { simple: true }), 3);
    assert.throws(() => p.db.prepare("INSERT INTO labels (name, created_at) VALUES ('x', 'now')").run(), /readonly/);
  } finally {
    p.close();
  }
  assert.equal(sha256File(path), before);
  assert.ok(!existsSync(`${path}.v3.bak`));
});
