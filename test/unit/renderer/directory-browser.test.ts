/**
 * The folder browsing both browser-mode choosers share (renderer/src/lib/state/
 * directory-browser.svelte.ts): a folder's listing and "up"; a first folder that cannot be listed
 * falls back to the root, a later one shows why; only the newest folder asked for is shown.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import '../../helpers/svelte-runes.js';
import type { DirListing } from '../../../core/api/contract.js';
import { FakeBackend, settle } from './fake-backend.js';

const { DirectoryBrowser } = await import('../../../renderer/src/lib/state/directory-browser.svelte.js');

function listing(dir: string, parent: string | null, names: string[] = []): DirListing {
  return { dir, parent, root: '/root', entries: names.map((name) => ({ name, path: `${dir}/${name}`, kind: name.includes('.') ? 'file' : 'dir', sizeBytes: 0 })), places: [], widen: '' };
}

test('lists a folder, tells the chooser, goes up to the parent', async () => {
  const backend = new FakeBackend();
  const shown: string[] = [];
  const browser = new DirectoryBrowser(backend, (l) => shown.push(l.dir));
  assert.equal(browser.canGoUp, false);

  const opening = browser.open('/root/photos');
  assert.equal(browser.loading, true);
  const call = backend.take('files.list');
  assert.deepEqual(call.params, { dir: '/root/photos' });
  call.answer(listing('/root/photos', '/root', ['cats', 'a.png']));
  await opening;
  assert.equal(browser.loading, false);
  assert.deepEqual(
    browser.entries.map((e) => e.name),
    ['cats', 'a.png'],
  );
  assert.equal(browser.canGoUp, true);
  assert.deepEqual(shown, ['/root/photos']);

  browser.up();
  assert.equal(browser.canGoUp, false, 'not while the parent is loading');
  const up = backend.take('files.list');
  assert.deepEqual(up.params, { dir: '/root' });
  up.answer(listing('/root', null, ['photos']));
  await settle();
  assert.equal(browser.listing?.dir, '/root');
  assert.equal(browser.canGoUp, false, 'the root has no parent');
  browser.up();
  assert.equal(backend.pending.length, 0, 'nothing above the root');
  assert.deepEqual(shown, ['/root/photos', '/root']);
});

test('the first folder falls back to the root when it is gone; a later one says why it failed', async () => {
  const backend = new FakeBackend();
  const browser = new DirectoryBrowser(backend);
  const opening = browser.open('/root/moved-away', true);
  backend.take('files.list').fail({ code: 'not-found', message: '/root/moved-away does not exist.' });
  await settle();
  const root = backend.take('files.list');
  assert.deepEqual(root.params, {}, 'the root');
  root.answer(listing('/root', null, ['photos']));
  await opening;
  assert.equal(browser.problem, null);
  assert.equal(browser.listing?.dir, '/root');

  const later = browser.open('/root/photos');
  backend.take('files.list').fail({ code: 'forbidden', message: '/root/photos cannot be read.' });
  await later;
  assert.equal(browser.problem, '/root/photos cannot be read.');
  assert.equal(browser.listing?.dir, '/root', 'the folder shown stays');
  assert.equal(browser.loading, false);
});

test('only the newest folder asked for is shown, whatever order the answers come in', async () => {
  const backend = new FakeBackend();
  const shown: string[] = [];
  const browser = new DirectoryBrowser(backend, (l) => shown.push(l.dir));
  void browser.open('/root/a');
  void browser.open('/root/b');
  const a = backend.take('files.list');
  const b = backend.take('files.list');
  b.answer(listing('/root/b', '/root'));
  await settle();
  assert.equal(browser.loading, false);
  a.answer(listing('/root/a', '/root'));
  await settle();
  assert.equal(browser.listing?.dir, '/root/b');
  assert.deepEqual(shown, ['/root/b']);
});
