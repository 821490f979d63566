/**
 * The first hour's file handling in the browser mode, end to end (the real `atelier serve`, its
 * sampling worker on wasm, the built renderer, Debian's Chromium):
 *   - the chooser offers the served folder, home and recent places, marks what lies outside the
 *     root and says how to widen it; a recent project outside the root says why it cannot open;
 *   - a star pins its checkpoint: checkpoints written after it (as training writes them, through
 *     the store on another connection) prune the others, not the starred one; the Train view
 *     marks it, and deleting the run names the starred image;
 *   - the Gallery's export chooser starts in the export folder beside the project, with a plain name;
 *   - import: the project's -wal/-shm are not offered, labels from folders start on when every
 *     image is in a first-level folder, a tiny class is flagged and can be left out.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { selectBackend } from '../../core/backend/select.js';
import { Project } from '../../core/store/project.js';
import { RunStore } from '../../core/store/runs.js';
import { EMOJI_DIR, EMOJI_JSON } from '../helpers/data.js';
import { projectWithCheckpoint } from '../helpers/gallery.js';
import { cleanup, launchBrowser, listProblems, newContext, requireRendererBuild, type Server, startServer, tempDir, watchedPage } from './harness.js';

let browser: Browser | undefined;
let server: Server | undefined;
let root = '';
let home = '';
let outside = '';
let projectPath = '';

before(async () => {
  requireRendererBuild();
  process.env.ATELIER_BACKEND = 'wasm';
  root = tempDir('atelier-e2e-first-root-');
  home = tempDir('atelier-e2e-first-home-');
  outside = tempDir('atelier-e2e-first-outside-');
  await selectBackend({ prefer: 'wasm' });
  mkdirSync(join(root, 'studio'));
  mkdirSync(join(root, 'me'));
  const fx = await projectWithCheckpoint({ after: () => {} } as never, join(root, 'studio'), { name: 'Critters' });
  fx.project.close();
  projectPath = fx.path;
  // The recent list (shared with the desktop app) names a project outside the served folder.
  const away = join(outside, 'Away.atelier');
  Project.create(away, 'Away', { appVersion: 'test' }).close();
  writeFileSync(join(home, 'recent.json'), JSON.stringify([{ path: away, name: 'Away', lastOpened: new Date().toISOString() }]));
  [browser, server] = await Promise.all([launchBrowser(), startServer({ root, home, env: { HOME: join(root, 'me') } })]);
});

after(async () => {
  await server?.stop();
  await browser?.close();
  cleanup(root, home, outside);
});

/** Opens the project through the chooser unless the server has it open already (the tests share one server). */
async function ensureOpen(page: Page): Promise<void> {
  await page.getByRole('button', { name: 'Open project…' }).and(page.locator(':enabled')).waitFor();
  if (await page.getByTestId('project-path').filter({ hasText: projectPath }).isVisible()) return;
  await page.getByRole('button', { name: 'Open project…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Open project' });
  await dialog.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Served folder' }).click();
  await dialog.getByRole('listbox', { name: `Contents of ${root}` }).getByRole('option', { name: /^studio/ }).click();
  await dialog.getByRole('listbox', { name: `Contents of ${join(root, 'studio')}` }).getByRole('option', { name: /Critters\.atelier/ }).click();
  await dialog.getByRole('button', { name: 'Open', exact: true }).click();
  await page.getByTestId('project-path').filter({ hasText: projectPath }).waitFor();
}

test('the chooser offers places and says how to widen the root; Recent obeys the root', async (t) => {
  const context = await newContext(browser!);
  t.after(() => context.close());
  const w = await watchedPage(context);
  const page = w.page;
  await page.goto(server!.url);

  // Recent: the project outside the root is listed, marked, and cannot be opened.
  const away = page.getByRole('listitem').filter({ hasText: 'Away' });
  await away.getByText('Outside the served folder').waitFor();
  assert.equal(await away.getByRole('button', { name: 'Away', exact: true }).isDisabled(), true);
  assert.match((await away.textContent()) ?? '', /restart with `npm start -- --root \/` or `atelier serve --root \/`/);

  await page.getByRole('button', { name: 'Open project…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Open project' });
  const places = dialog.getByRole('navigation', { name: 'Places' });
  await places.getByRole('button', { name: 'Served folder' }).waitFor();
  assert.match((await dialog.getByTestId('chooser-widen').textContent()) ?? '', new RegExp(`offers ${root.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} and the folders inside it\\. To reach folders outside .* ATELIER_ROOT`));
  // Home (inside the root here) opens; so does the served folder again.
  await places.getByRole('button', { name: 'Home' }).click();
  await dialog.getByRole('listbox', { name: `Contents of ${join(root, 'me')}` }).waitFor();
  await places.getByRole('button', { name: 'Served folder' }).click();
  await dialog.getByRole('listbox', { name: `Contents of ${root}` }).waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();

  // Open the project; its folder is now a recent place.
  await ensureOpen(page);
  await page.getByRole('button', { name: 'Open project…' }).click();
  await places.getByRole('button', { name: 'studio (recent)' }).click();
  await dialog.getByRole('listbox', { name: `Contents of ${join(root, 'studio')}` }).waitFor();
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  assert.deepEqual(listProblems(w.problems), [], 'the page logged errors or CSP violations');
});

test('a star keeps its checkpoint through pruning; deleting the run names it; exports start beside the project', async (t) => {
  const context = await newContext(browser!);
  t.after(() => context.close());
  const w = await watchedPage(context);
  const page = w.page;
  await page.goto(server!.url);
  await ensureOpen(page);

  // Star seed 0 of the run's only checkpoint (0.32 kimg).
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Gallery' }).click();
  await page.locator('li[data-seed="0"] img').waitFor({ timeout: 60_000 });
  await page.getByRole('button', { name: 'Favourite seed 0', exact: true }).click();
  await page.waitForFunction(() => document.querySelector('button[aria-label="Favourite seed 0"]')?.getAttribute('aria-pressed') === 'true');

  // Training goes on: four more checkpoints, written on another connection (keep 3).
  const project = Project.open(projectPath);
  const runs = new RunStore(project.db);
  const first = runs.listCheckpoints(1)[0]!;
  const stored = runs.getCheckpoint(first.id)!;
  for (let k = 1; k <= 4; k++) runs.saveCheckpoint(1, { kimg: k, step: 125 * k, weights: stored.weights, state: stored.state });
  assert.deepEqual(runs.listCheckpoints(1).map((c) => c.kimg), [0.32, 2, 3, 4], 'the starred checkpoint was kept; the unstarred one at 1 kimg was pruned');
  project.close();

  // The export chooser starts in the export folder beside the project, with a plain name.
  await page.getByRole('button', { name: 'Export these 1 as PNGs…' }).click();
  const keptDialog = page.getByRole('dialog', { name: 'Export kept images' });
  await keptDialog.getByRole('listbox', { name: `Contents of ${join(root, 'studio', 'Critters-exports')}` }).waitFor();
  const name = await keptDialog.getByLabel('File name').inputValue();
  assert.match(name, /^[\w.-]+-kept$/, `a plain name: ${name}`);
  await keptDialog.getByRole('button', { name: 'Export', exact: true }).click();
  await page.getByRole('status', { name: 'Export result' }).filter({ hasText: name }).waitFor();
  assert.equal(readdirSync(join(root, 'studio', 'Critters-exports', name)).filter((f) => f.endsWith('.png')).length, 1);

  // The Train view marks the pinned checkpoint; deleting the run names the starred image.
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Train' }).click();
  await page.getByRole('button', { name: /^Run 1 · baseline/ }).click();
  const pinned = page.locator(`li[data-checkpoint-id="${first.id}"]`);
  await pinned.waitFor();
  assert.match((await pinned.getByTestId('starred-badge').textContent()) ?? '', /★ 1 kept/);
  await page.getByRole('button', { name: 'Delete run Run 1 · baseline' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete run' });
  const warning = ((await confirm.getByTestId('delete-run-starred').textContent()) ?? '').replace(/\s+/g, ' ');
  assert.match(warning, /1 starred image comes from this run’s checkpoints\. It stays in the Gallery under “Kept from deleted generators”, but cannot be sampled again/);
  assert.match(warning, /seed 0, ψ 0\.7 — checkpoint at 0\.32 kimg/);
  await confirm.getByRole('button', { name: 'Cancel' }).click();
  assert.deepEqual(listProblems(w.problems), [], 'the page logged errors or CSP violations');
});

test('import: the project’s own files are not offered; labels from folders start on; a tiny class is flagged and can be left out', async (t) => {
  const context = await newContext(browser!);
  t.after(() => context.close());
  const w = await watchedPage(context);
  const page = w.page;
  await page.goto(server!.url);
  await ensureOpen(page);
  const emoji = (JSON.parse(readFileSync(EMOJI_JSON, 'utf8')) as Array<{ image: string; category: string; sort_order: number; has_img_twitter: boolean }>)
    .filter((e) => e.has_img_twitter && e.category === 'Smileys & Emotion')
    .sort((a, b) => a.sort_order - b.sort_order)
    .map((e) => e.image);
  const fill = (folder: string, names: string[]): void => {
    mkdirSync(join(root, 'pics', folder), { recursive: true });
    for (const n of names) copyFileSync(join(EMOJI_DIR, n), join(root, 'pics', folder, n));
  };
  fill('faces', emoji.slice(0, 10));
  fill('more faces', emoji.slice(10, 20));
  fill('misc', emoji.slice(20, 22));

  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Dataset' }).click();
  await page.getByRole('button', { name: 'Import images…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Import images' });
  // The open project's folder: the project is shown (not importable); its -wal and -shm are not there at all.
  await dialog.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'studio (recent)' }).click();
  const studioList = dialog.getByRole('list', { name: `Contents of ${join(root, 'studio')}` });
  await studioList.getByText('Critters.atelier', { exact: true }).waitFor();
  assert.ok(readdirSync(join(root, 'studio')).includes('Critters.atelier-wal'), 'the -wal file is on disk (the project is open)');
  assert.equal(await studioList.getByText(/Critters\.atelier-(wal|shm)/).count(), 0, 'and not offered');
  await dialog.getByRole('navigation', { name: 'Places' }).getByRole('button', { name: 'Served folder' }).click();
  await dialog.getByRole('list', { name: `Contents of ${root}` }).waitFor();
  await dialog.getByRole('checkbox', { name: 'pics', exact: true }).check();
  await dialog.getByRole('button', { name: 'Next' }).click();

  // Every image is in a first-level folder: labels from folders are on; misc is flagged.
  await dialog.getByTestId('import-folders').filter({ hasText: 'Every image is in a subfolder: faces (10), more faces (10), misc (2).' }).waitFor();
  assert.equal(await dialog.getByRole('checkbox', { name: 'Labels from folder names' }).isChecked(), true);
  const tiny = dialog.getByTestId('tiny-classes');
  assert.match(((await tiny.textContent()) ?? '').replace(/\s+/g, ' '), /One folder is much smaller than the rest: misc \(2 files\)\. A class with so few images is hard for a generator to learn\./);
  assert.equal(await tiny.getByRole('radio', { name: 'Keep it as a class' }).isChecked(), true);
  await tiny.getByRole('radio', { name: 'Leave it out of this import' }).check();
  await dialog.getByRole('button', { name: 'Start import' }).click();
  await page.getByRole('status').getByText('Import finished').waitFor({ timeout: 60_000 });
  const labels = page.getByRole('table', { name: 'Labels' });
  await labels.getByRole('rowheader', { name: 'more faces', exact: true }).waitFor();
  assert.deepEqual((await labels.getByRole('rowheader').allTextContents()).map((s) => s.trim()).sort(), ['faces', 'more faces']);
  assert.deepEqual(listProblems(w.problems), [], 'the page logged errors or CSP violations');
});
