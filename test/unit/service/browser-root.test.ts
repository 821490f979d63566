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
  assert.ok(recent.ok && (recent.value as Array<{ path: string }>).some((r) => r.path === elsewhere), 'the shared recent list names it');
  const opened = await web('project.open', { path: elsewhere }, { transport: 'ws' });
  assert.equal(!opened.ok && opened.error.code, 'forbidden');
  assert.match(!opened.ok ? opened.error.message : '', /outside the folder this server offers/);

  // A fresh desktop session (no dialog yet) reopens it from the recent list.
  const again = new StudioService({ mode: 'desktop', appHome, paths: new GrantedPaths() });
  t.after(() => again.dispose());
  assert.ok((await createDispatcher(again.handlers(), { log: () => undefined })('project.open', { path: elsewhere }, ctx)).ok);
});
