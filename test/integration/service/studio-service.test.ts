import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient, createDispatcher } from '../../../core/api/dispatch.js';
import type { StudioEvent } from '../../../core/api/contract.js';
import { StudioService } from '../../../core/service/studio-service.js';
import { GrantedPaths, RootedPaths } from '../../../core/service/paths.js';
import { tempDir } from '../../helpers/tmp.js';

const ctx = { transport: 'ws' as const };

function browserService(root: string, home: string) {
  const service = new StudioService({ mode: 'browser', appHome: home, paths: new RootedPaths(root) });
  return { service, call: createClient(createDispatcher(service.handlers(), { log: () => undefined }), ctx) };
}

test('create, close and reopen from the recent list survive a restart of the service', async (t) => {
  const root = tempDir(t);
  const home = tempDir(t);
  const first = browserService(root, home);
  const events: StudioEvent[] = [];
  first.service.subscribe((e) => events.push(e));

  const created = await first.call('project.create', { path: join(root, 'Portraits'), name: 'Portraits' });
  assert.ok(created.ok, JSON.stringify(created));
  assert.equal(created.value.path, join(root, 'Portraits.atelier'), '.atelier is added');
  assert.ok(existsSync(join(root, 'Portraits.atelier')));
  assert.deepEqual(events.map((e) => e.type), ['project.changed', 'recent.changed']);

  const again = await first.call('project.create', { path: join(root, 'Portraits.atelier') });
  assert.ok(!again.ok && again.error.code === 'exists' && /already exists/.test(again.error.message));

  assert.deepEqual(await first.call('project.close', {}), { ok: true, value: null });
  assert.deepEqual(await first.call('project.current', {}), { ok: true, value: null });
  await first.service.dispose();

  const second = browserService(root, home);
  const recent = await second.call('project.recent', {});
  assert.ok(recent.ok);
  assert.equal(recent.value.length, 1);
  assert.equal(recent.value[0]!.name, 'Portraits');
  assert.equal(recent.value[0]!.exists, true);
  const opened = await second.call('project.open', { path: recent.value[0]!.path });
  assert.ok(opened.ok && opened.value.name === 'Portraits');
  const current = await second.call('project.current', {});
  assert.ok(current.ok && current.value?.path === join(root, 'Portraits.atelier'));
  await second.service.dispose();
});

test('browser mode: paths outside the chooser root are refused, symlinks included', async (t) => {
  const root = tempDir(t);
  const outside = tempDir(t);
  const { service, call } = browserService(root, tempDir(t));
  t.after(() => service.dispose());
  for (const path of [join(outside, 'x.atelier'), join(root, '..', 'escape.atelier')]) {
    const r = await call('project.create', { path });
    assert.ok(!r.ok && r.error.code === 'forbidden', `${path}: ${JSON.stringify(r)}`);
    assert.match(!r.ok ? r.error.message : '', /outside the folder this server offers/);
  }
  symlinkSync(outside, join(root, 'link'));
  const viaLink = await call('project.create', { path: join(root, 'link', 'y.atelier') });
  assert.ok(!viaLink.ok && viaLink.error.code === 'forbidden');
  assert.ok(!existsSync(join(outside, 'y.atelier')));
  const list = await call('files.list', { dir: outside });
  assert.ok(!list.ok && list.error.code === 'forbidden');
});

test('the chooser lists folders first, marks projects, hides dotfiles and stops at the root', async (t) => {
  const root = tempDir(t);
  mkdirSync(join(root, 'b-folder'));
  writeFileSync(join(root, 'a.atelier'), 'x');
  writeFileSync(join(root, 'c.png'), 'x');
  writeFileSync(join(root, '.hidden'), 'x');
  const { service, call } = browserService(root, tempDir(t));
  t.after(() => service.dispose());
  const r = await call('files.list', {});
  assert.ok(r.ok);
  assert.equal(r.value.parent, null);
  assert.deepEqual(r.value.entries.map((e) => [e.name, e.kind]), [['b-folder', 'dir'], ['a.atelier', 'project'], ['c.png', 'file']]);
  const sub = await call('files.list', { dir: join(root, 'b-folder') });
  assert.ok(sub.ok && sub.value.parent === r.value.dir);
});

test('desktop mode: only paths picked in a dialog (or in the recent list) may be opened', async (t) => {
  const dir = tempDir(t);
  let answer: string | null = join(dir, 'Picked');
  const service = new StudioService({ mode: 'desktop', appHome: tempDir(t), paths: new GrantedPaths(), pickProject: async () => answer });
  t.after(() => service.dispose());
  const call = createClient(createDispatcher(service.handlers(), { log: () => undefined }), ctx);

  const sneaky = await call('project.create', { path: join(dir, 'Sneaky.atelier') });
  assert.ok(!sneaky.ok && sneaky.error.code === 'forbidden');
  assert.ok(!existsSync(join(dir, 'Sneaky.atelier')));

  const picked = await call('dialog.pickProject', { mode: 'create' });
  assert.deepEqual(picked, { ok: true, value: { path: join(dir, 'Picked') } });
  const created = await call('project.create', { path: join(dir, 'Picked') });
  assert.ok(created.ok, JSON.stringify(created));

  answer = null;
  assert.deepEqual(await call('dialog.pickProject', { mode: 'open' }), { ok: true, value: { path: null } });
  const info = await call('app.info', {});
  assert.ok(info.ok && info.value.mode === 'desktop' && info.value.nativeDialogs);
  const list = await call('files.list', {});
  assert.ok(!list.ok && list.error.code === 'unavailable');
});

test('a recent entry whose file was deleted is marked missing, and can be forgotten', async (t) => {
  const root = tempDir(t);
  const { service, call } = browserService(root, tempDir(t));
  t.after(() => service.dispose());
  const created = await call('project.create', { path: join(root, 'gone.atelier') });
  assert.ok(created.ok);
  await call('project.close', {});
  const { rmSync } = await import('node:fs');
  rmSync(join(root, 'gone.atelier'));
  const recent = await call('project.recent', {});
  assert.ok(recent.ok && recent.value[0]!.exists === false);
  const open = await call('project.open', { path: join(root, 'gone.atelier') });
  assert.ok(!open.ok && open.error.code === 'not-found');
  const forgotten = await call('project.forget', { path: join(root, 'gone.atelier') });
  assert.deepEqual(forgotten, { ok: true, value: [] });
});

test('desktop mode: a path picked to read from (an import, a drop) is not one the studio may write to', () => {
  const paths = new GrantedPaths();
  const dir = realpathSync(tmpdir());
  const photos = join(dir, 'holiday-photos');
  paths.grant(photos, 'read');
  assert.doesNotThrow(() => paths.check(photos, 'read'));
  assert.throws(() => paths.check(photos, 'write'), /was picked to read from, not to save to/);
  paths.grant(photos, 'write');
  assert.doesNotThrow(() => paths.check(photos, 'write'));
  assert.throws(() => paths.check(join(dir, 'other'), 'read'), /was not picked in a dialog/);
});

test('desktop mode: a FID Inception is chosen in the dialog (a folder means its model.json), and only a chosen one is checked', async (t) => {
  const dir = realpathSync(tempDir(t));
  const fid = join(dir, 'fid-inception');
  mkdirSync(fid);
  writeFileSync(join(fid, 'model.json'), '{}');
  let picked: string | null = fid;
  const service = new StudioService({ mode: 'desktop', appHome: tempDir(t), paths: new GrantedPaths(), pickProject: async () => join(dir, 'P'), pickModelImport: async () => picked });
  t.after(() => service.dispose());
  const call = createClient(createDispatcher(service.handlers(), { log: () => undefined }), ctx);
  assert.ok((await call('dialog.pickProject', { mode: 'create' })).ok);
  assert.ok((await call('project.create', { path: join(dir, 'P') })).ok);

  // Typed, not chosen: refused before anything reads it.
  const typed = await call('metrics.setExtractor', { path: join(fid, 'model.json'), inputRange: [0, 255] });
  assert.ok(!typed.ok && typed.error.code === 'forbidden', JSON.stringify(typed));
  // Chosen (a folder, as Windows' and Linux's dialogs give): checked in a worker, from its model.json.
  assert.deepEqual(await call('dialog.pickModelImport', {}), { ok: true, value: { path: fid } });
  const chosen = await call('metrics.setExtractor', { path: fid, inputRange: [0, 255] });
  assert.ok(!chosen.ok && chosen.error.code === 'invalid-request', JSON.stringify(chosen));
  assert.ok(chosen.error.message.startsWith(`The feature extractor ${join(fid, 'model.json')} has no modelTopology or weightsManifest`), chosen.error.message);
  picked = null;
  assert.deepEqual(await call('dialog.pickModelImport', {}), { ok: true, value: { path: null } });
});
