/**
 * The browser mode's root is the only rule for project paths: the recent list (shared with the
 * desktop app, in the same app home) does not let a project outside `--root` be opened. The
 * desktop app still reopens recent projects without a dialog.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { createDispatcher } from '../../../core/api/dispatch.js';
import { GrantedPaths, RootedPaths } from '../../../core/service/paths.js';
import { StudioService } from '../../../core/service/studio-service.js';
import { Project } from '../../../core/store/project.js';
import { tempDir } from '../../helpers/tmp.js';

test('browser mode: a recent project outside --root is refused; the desktop app reopens it', async (t) => {
  const appHome = tempDir(t);
  const elsewhere = join(tempDir(t), 'private.atelier');
  Project.create(elsewhere, 'private', { appVersion: 'test' }).close();
  const ctx = { transport: 'ipc' as const };

  // The desktop app opened it once (picked in a dialog): it is in the recent list.
  const picked = new GrantedPaths();
  picked.grant(elsewhere, 'project');
  const desktop = new StudioService({ mode: 'desktop', appHome, paths: picked });
  const desk = createDispatcher(desktop.handlers(), { log: () => undefined });
  assert.ok((await desk('project.open', { path: elsewhere }, ctx)).ok);
  await desktop.dispose();

  const browser = new StudioService({ mode: 'browser', appHome, paths: new RootedPaths(tempDir(t)) });
  t.after(() => browser.dispose());
  const web = createDispatcher(browser.handlers(), { log: () => undefined });
  const recent = await web('project.recent', {}, { transport: 'ws' });
  const entry = recent.ok ? (recent.value as Array<{ path: string; blocked: string | null }>).find((r) => r.path === elsewhere) : undefined;
  assert.ok(entry, 'the shared recent list names it');
  assert.match(entry.blocked ?? '', /^Outside the folder this server offers \(.*\)\. To reach folders outside .*, restart with `npm start -- --root \/` or `atelier serve --root \/`/, 'and says why it cannot be opened here, and how to widen');
  const opened = await web('project.open', { path: elsewhere }, { transport: 'ws' });
  assert.equal(!opened.ok && opened.error.code, 'forbidden');
  assert.match(!opened.ok ? opened.error.message : '', /outside the folder this server offers/);

  // A fresh desktop session (no dialog yet) reopens it from the recent list.
  const again = new StudioService({ mode: 'desktop', appHome, paths: new GrantedPaths() });
  t.after(() => again.dispose());
  assert.ok((await createDispatcher(again.handlers(), { log: () => undefined })('project.open', { path: elsewhere }, ctx)).ok);
});

test('the chooser offers the served folder, home, mounted volumes and recent places; those outside the root are marked', async (t) => {
  const { chooserPlaces, volumesFromMounts, listDir } = await import('../../../core/service/file-chooser.js');
  assert.deepEqual(
    volumesFromMounts(['/dev/sda1 / ext4 rw 0 0', '/dev/sdb1 /mnt/photos ext4 rw 0 0', '/dev/sdc1 /media/ann/USB\\040Stick vfat rw 0 0', 'proc /proc proc rw 0 0', 'tmpfs /run/media/ann/cam tmpfs rw 0 0'].join('\n')),
    ['/mnt/photos', '/media/ann/USB Stick', '/run/media/ann/cam'],
  );
  const root = tempDir(t);
  const outside = tempDir(t);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(join(root, 'home'));
  mkdirSync(join(root, 'disk'));
  mkdirSync(join(root, 'projects'));
  const places = chooserPlaces(root, { home: join(root, 'home'), volumes: [join(root, 'disk'), outside, '/nonexistent/volume'], recentDirs: [join(root, 'projects'), join(root, 'home')] });
  assert.deepEqual(
    places.map((p) => [p.kind, p.name, p.path, p.inside]),
    [
      ['root', 'Served folder', root, true],
      ['home', 'Home', join(root, 'home'), true],
      ['volume', 'disk', join(root, 'disk'), true],
      ['volume', outside.split('/').at(-1), outside, false],
      ['recent', 'projects', join(root, 'projects'), true],
    ],
  );
  const listing = listDir(root, join(root, 'disk'), places);
  assert.equal(listing.places, places);
  assert.match(listing.widen, /restart with `npm start -- --root \/` or `atelier serve --root \/` \(any folder instead of \/\), or set ATELIER_ROOT/);
  assert.throws(() => listDir(root, outside, places), /is outside the folder this server offers .* To reach folders outside/);
});
