import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, openSync, readFileSync, writeFileSync, writeSync, closeSync, statSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Project } from '../../../core/store/project.js';
import { APPLICATION_ID } from '../../../core/store/project-file.js';
import { SCHEMA_VERSION, migrate, migrations } from '../../../core/store/migrations/index.js';
import { UserError } from '../../../core/api/errors.js';
import { sha256File, tempDir } from '../../helpers/tmp.js';

const opts = { appVersion: '0.0.0-test' };

function rejects(fn: () => unknown, code: string, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UserError, `expected a UserError, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.match(err.message, pattern);
    return true;
  });
}

test('a new project file is SQLite, ours, at the current schema, WAL, with foreign keys on', (t) => {
  const path = join(tempDir(t), 'p.atelier');
  const p = Project.create(path, 'Sketches', opts);
  try {
    assert.equal(p.db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(p.db.pragma('application_id', { simple: true }), APPLICATION_ID);
    assert.equal(p.db.pragma('journal_mode', { simple: true }), 'wal');
    assert.equal(p.db.pragma('foreign_keys', { simple: true }), 1);
    assert.ok((p.db.pragma('busy_timeout', { simple: true }) as number) >= 1000);
    const tables = p.db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all();
    for (const t of ['project_meta', 'images', 'labels', 'runs', 'metrics', 'checkpoints', 'previews', 'models', 'gallery_items', 'jobs']) {
      assert.ok(tables.includes(t), `table ${t} missing`);
    }
    const s = p.summary();
    assert.equal(s.name, 'Sketches');
    assert.equal(s.path, path);
    assert.match(s.id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(s.counts, { images: 0, labels: 0, runs: 0, checkpoints: 0, models: 0, galleryItems: 0 });
  } finally {
    p.close();
  }
  assert.equal(readFileSync(path).subarray(0, 16).toString('latin1'), 'SQLite format 3\0');
});

test('migrations from an empty database reach the current schema, one transaction each', (t) => {
  const db = new Database(join(tempDir(t), 'm.db'));
  try {
    assert.deepEqual(migrate(db), migrations.map((m) => m.version));
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.deepEqual(migrate(db), [], 'a second run applies nothing');
  } finally {
    db.close();
  }
});

test('a failing migration leaves the file at the version before it', (t) => {
  const db = new Database(join(tempDir(t), 'm.db'));
  try {
    const broken = [
      ...migrations,
      { version: SCHEMA_VERSION + 1, name: 'broken', up: (d: Database.Database) => d.exec('CREATE TABLE half (x); SELECT * FROM no_such_table;') },
    ];
    assert.throws(() => migrate(db, broken), /no_such_table/);
    assert.equal(db.pragma('user_version', { simple: true }), SCHEMA_VERSION);
    assert.equal(db.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'half'").pluck().get(), 0);
  } finally {
    db.close();
  }
});

test('reopening keeps what was stored', (t) => {
  const path = join(tempDir(t), 'p.atelier');
  const p = Project.create(path, 'Keep', opts);
  p.db.prepare("INSERT INTO labels (name, created_at) VALUES ('cats', 'now')").run();
  p.close();
  const again = Project.open(path);
  try {
    assert.equal(again.summary().counts.labels, 1);
    assert.equal(again.summary().name, 'Keep');
  } finally {
    again.close();
  }
});

test('a file from a newer version is refused and left byte-for-byte unchanged', (t) => {
  const path = join(tempDir(t), 'future.atelier');
  Project.create(path, 'Future', opts).close();
  const db = new Database(path);
  db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
  db.close();
  const before = sha256File(path);
  const mtime = statSync(path).mtimeMs;
  rejects(() => Project.open(path), 'too-new', new RegExp(`newer version of GAN Atelier.*format ${SCHEMA_VERSION + 5}.*Update the studio.*untouched`));
  rejects(() => Project.inspect(path), 'too-new', /newer version/);
  assert.equal(sha256File(path), before);
  assert.equal(statSync(path).mtimeMs, mtime);
  assert.ok(!existsSync(`${path}.v${SCHEMA_VERSION + 5}.bak`));
});

test('a file that is not SQLite, an empty file and a folder get clear messages', (t) => {
  const dir = tempDir(t);
  const text = join(dir, 'notes.atelier');
  writeFileSync(text, 'these are my notes, not a database\n'.repeat(10));
  const before = sha256File(text);
  rejects(() => Project.open(text), 'not-a-project', /notes\.atelier is not a GAN Atelier project \(it is not an SQLite database\)/);
  assert.equal(sha256File(text), before);

  const empty = join(dir, 'empty.atelier');
  writeFileSync(empty, '');
  rejects(() => Project.open(empty), 'not-a-project', /empty\.atelier is empty \(0 bytes\)/);
  assert.equal(statSync(empty).size, 0);

  rejects(() => Project.open(dir), 'invalid-request', /is a folder/);
  rejects(() => Project.open(join(dir, 'missing.atelier')), 'not-found', /missing\.atelier does not exist/);
});

test('an SQLite file from another program is refused, untouched', (t) => {
  const path = join(tempDir(t), 'other.db');
  const db = new Database(path);
  db.exec('CREATE TABLE contacts (name TEXT); INSERT INTO contacts VALUES (\'Ada\');');
  db.close();
  const before = sha256File(path);
  rejects(() => Project.open(path), 'not-a-project', /SQLite database written by another program.*untouched/);
  assert.equal(sha256File(path), before);
});

test('a corrupt project is reported, not opened and not repaired', (t) => {
  const path = join(tempDir(t), 'broken.atelier');
  const p = Project.create(path, 'Broken', opts);
  const insert = p.db.prepare('INSERT INTO labels (name, created_at) VALUES (?, ?)');
  p.db.transaction(() => {
    for (let i = 0; i < 3000; i++) insert.run(`label-${i}-${'x'.repeat(40)}`, 'now');
  })();
  p.close();
  const pageSize = 4096;
  const pages = statSync(path).size / pageSize;
  assert.ok(pages > 10);
  // Scribble over a few pages in the middle of the labels table (not the header page).
  const fd = openSync(path, 'r+');
  const junk = Buffer.alloc(pageSize, 0xa5);
  for (const page of [Math.floor(pages / 2), Math.floor(pages / 2) + 1]) writeSync(fd, junk, 0, pageSize, page * pageSize);
  closeSync(fd);
  const before = sha256File(path);
  rejects(() => Project.open(path), 'corrupt', /broken\.atelier is damaged .*not opened and not changed.*backup/);
  assert.equal(sha256File(path), before);
});

test('a project in a folder without write permission gives a permission message', { skip: process.getuid?.() === 0 ? 'root can write anywhere' : false }, (t) => {
  const dir = tempDir(t);
  chmodSync(dir, 0o500);
  t.after(() => chmodSync(dir, 0o700));
  assert.throws(() => Project.create(join(dir, 'p.atelier'), 'x', opts), /permission denied/);
});
