/**
 * Looking at a project leaves no trace: `atelier info` (and a refused, damaged file) leave no
 * `-wal` / `-shm` beside it; a project the studio has open is read without disturbing it; and a
 * project on read-only media (a tmpfs remounted read-only; skipped where mounting fails) opens
 * for `info`, which only reads.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { closeSync, copyFileSync, openSync, readdirSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Project } from '../../../core/store/project.js';
import { smallDisk } from '../../helpers/small-disk.js';
import { sha256File, tempDir } from '../../helpers/tmp.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const BIN = join(ROOT, 'bin/atelier.js');
const info = (path: string) => spawnSync(process.execPath, [BIN, 'info', path, '--json'], { cwd: ROOT, encoding: 'utf8' });

/** A closed project with a little in it (WAL mode, no -wal beside it once closed). */
function project(dir: string): string {
  const path = join(dir, 'p.atelier');
  const p = Project.create(path, 'p', { appVersion: 'test' });
  p.db.prepare("INSERT INTO labels (name, created_at) VALUES ('cats', 'x')").run();
  p.close();
  return path;
}

test('atelier info leaves nothing beside the project', (t) => {
  const dir = tempDir(t);
  const path = project(dir);
  assert.deepEqual(readdirSync(dir), ['p.atelier']);
  const before = sha256File(path);
  const r = info(path);
  assert.equal(r.status, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { project: { counts: { labels: number } } }).project.counts.labels, 1);
  assert.deepEqual(readdirSync(dir), ['p.atelier'], 'no -wal, no -shm');
  assert.equal(sha256File(path), before, 'not a byte changed');
});

test('a damaged project is refused untouched, with nothing left beside it', (t) => {
  const dir = tempDir(t);
  const path = project(dir);
  // Scribble over the second page (a table's b-tree page): the header stays ours, quick_check fails.
  const fd = openSync(path, 'r+');
  writeSync(fd, Buffer.alloc(512, 0xa5), 0, 512, 4096 + 8);
  closeSync(fd);
  const before = sha256File(path);
  const r = info(path);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /is damaged/);
  assert.equal(sha256File(path), before);
  assert.deepEqual(readdirSync(dir), ['p.atelier'], 'no -wal, no -shm');
});

test('a project open in the studio is read without disturbing it', (t) => {
  const dir = tempDir(t);
  const path = project(dir);
  const studio = new Database(path);
  t.after(() => studio.close());
  studio.pragma('journal_mode = WAL');
  studio.prepare("INSERT INTO labels (name, created_at) VALUES ('dogs', 'x')").run(); // in the -wal, not yet in the file
  const r = info(path);
  assert.equal(r.status, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { project: { counts: { labels: number } } }).project.counts.labels, 2, 'sees what is in the -wal');
  studio.prepare("INSERT INTO labels (name, created_at) VALUES ('birds', 'x')").run();
  assert.equal(studio.prepare('SELECT count(*) FROM labels').pluck().get(), 3, 'the studio goes on writing');
  assert.deepEqual(readdirSync(dir).sort(), ['p.atelier', 'p.atelier-shm', 'p.atelier-wal'], 'its -wal and -shm are left to it');
});

test('a project on read-only media opens for info', (t) => {
  const disk = smallDisk(t, 1024);
  if ('skip' in disk) return t.skip(disk.skip);
  const path = join(disk.dir, 'p.atelier');
  copyFileSync(project(tempDir(t)), path);
  const remount = spawnSync('mount', ['-o', 'remount,ro', disk.dir], { encoding: 'utf8' });
  if (remount.status !== 0) return t.skip(`cannot remount the tmpfs read-only: ${remount.stderr.trim()}`);
  const r = info(path);
  assert.equal(r.status, 0, r.stderr);
  assert.equal((JSON.parse(r.stdout) as { project: { counts: { labels: number } } }).project.counts.labels, 1);
  assert.deepEqual(readdirSync(disk.dir), ['p.atelier']);
});
