import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { SCHEMA_VERSION } from '../../../core/store/migrations/index.js';
import { sha256File, tempDir } from '../../helpers/tmp.js';

const BIN = new URL('../../../bin/atelier.js', import.meta.url).pathname;

function atelier(args: string[], env: NodeJS.ProcessEnv = {}) {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { code: r.status, out: r.stdout.trim(), err: r.stderr.trim() };
}

test('atelier new + info --json', (t) => {
  const dir = tempDir(t);
  const made = atelier(['new', join(dir, 'faces'), '--name', 'Faces', '--json']);
  assert.equal(made.code, 0, made.err);
  const created = JSON.parse(made.out);
  assert.equal(created.ok, true);
  assert.equal(created.project.path, join(dir, 'faces.atelier'));
  assert.ok(existsSync(join(dir, 'faces.atelier')));

  const info = atelier(['info', join(dir, 'faces.atelier'), '--json']);
  assert.equal(info.code, 0, info.err);
  const doc = JSON.parse(info.out);
  assert.equal(doc.project.name, 'Faces');
  assert.equal(doc.project.id, created.project.id);
  assert.equal(doc.project.schemaVersion, SCHEMA_VERSION);
  assert.deepEqual(doc.project.counts, { images: 0, labels: 0, runs: 0, checkpoints: 0, models: 0, galleryItems: 0 });

  const human = atelier(['info', join(dir, 'faces.atelier')]);
  assert.match(human.out, /^Faces {2}\(.*faces\.atelier\)\n {2}project format \d+/);
});

test('failures exit non-zero with one line naming the file', (t) => {
  const dir = tempDir(t);
  const text = join(dir, 'notes.atelier');
  writeFileSync(text, 'hello');
  const r = atelier(['info', text, '--json']);
  assert.equal(r.code, 1);
  assert.equal(r.err.split('\n').length, 1);
  assert.match(r.err, /^atelier info: .*notes\.atelier is not a GAN Atelier project/);
  assert.deepEqual(JSON.parse(r.out).error.code, 'not-a-project');

  atelier(['new', join(dir, 'p.atelier')]);
  const again = atelier(['new', join(dir, 'p.atelier')]);
  assert.equal(again.code, 1);
  assert.match(again.err, /already exists/);

  assert.equal(atelier(['bogus']).code, 2);
  const badFlag = atelier(['info', join(dir, 'p.atelier'), '--frobnicate']);
  assert.equal(badFlag.code, 1);
  assert.match(badFlag.err, /Unknown option '--frobnicate'/);
});

test('info never writes: an older-looking or newer file is reported, untouched', (t) => {
  const dir = tempDir(t);
  const path = join(dir, 'future.atelier');
  atelier(['new', path]);
  const db = new Database(path);
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  const before = sha256File(path);
  const r = atelier(['info', path]);
  assert.equal(r.code, 1);
  assert.match(r.err, /newer version of GAN Atelier/);
  assert.equal(sha256File(path), before);
});
