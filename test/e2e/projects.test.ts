/**
 * Projects in the browser mode, end to end: the real `atelier serve`, the built renderer, Debian's
 * Chromium. One server at a time, one Chromium for the file; the tests run in order and build on
 * each other (create → restart and reopen → close).
 */
import assert from 'node:assert/strict';
import { closeSync, mkdirSync, openSync, readSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test, type TestContext } from 'node:test';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import WebSocket from 'ws';
import { SCHEMA_VERSION } from '../../core/store/migrations/index.js';
import {
  cleanup,
  launchBrowser,
  listProblems,
  newContext,
  requireRendererBuild,
  startServer,
  tempDir,
  watchedPage,
  type Server,
  type WatchedPage,
} from './harness.js';

const SCREENSHOT = '/tmp/atelier-projects.png';
const PROJECT_NAME = 'Botanical sketches';

let browser: Browser | undefined;
let server: Server | undefined;
let root = '';
let home = '';
/** Where test (a) creates the project. */
let projectPath = '';
/** Every page a test opened, checked for console errors and CSP violations. */
const watched: Array<{ name: string; w: WatchedPage }> = [];

before(async () => {
  requireRendererBuild();
  root = tempDir('atelier-e2e-root-');
  home = tempDir('atelier-e2e-home-');
  mkdirSync(join(root, 'sketches'));
  mkdirSync(join(root, 'sketches', 'old'));
  writeFileSync(join(root, 'sketches', 'notes.atelier'), 'Plant list: fern, moss, ivy.\n'.repeat(10));
  writeFileSync(join(root, 'readme.txt'), 'not a project');
  projectPath = join(root, 'sketches', `${PROJECT_NAME}.atelier`);
  [browser, server] = await Promise.all([launchBrowser(), startServer({ root, home })]);
});

after(async () => {
  await server?.stop();
  await browser?.close();
  cleanup(root, home);
});

/** A fresh context (cookies and all) with one watched page at the server's printed address. */
async function openStudio(t: TestContext, name: string): Promise<{ context: BrowserContext; page: Page; w: WatchedPage }> {
  const context = await newContext(browser!);
  t.after(() => context.close()); // also when the test fails half-way
  const w = await watchedPage(context);
  watched.push({ name, w });
  const response = await w.page.goto(server!.url);
  assert.equal(response?.status(), 200, 'the page behind the token loads');
  assert.equal(new URL(w.page.url()).search, '', 'the token is taken out of the address bar');
  await w.page.getByRole('heading', { name: 'Projects', level: 1 }).waitFor();
  return { context, page: w.page, w };
}

function assertClean(name: string, w: WatchedPage): void {
  assert.deepEqual(listProblems(w.problems), [], `${name}: the page logged errors or CSP violations`);
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function readMagic(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.alloc(16);
    readSync(fd, buf, 0, 16, 0);
    return buf.toString('latin1');
  } finally {
    closeSync(fd);
  }
}

test('(a) a project created through the UI with the chooser exists on disk and its path is shown', async (t) => {
  const { context, page, w } = await openStudio(t, 'create');

  await page.getByRole('button', { name: 'New project…' }).click();
  const dialog = page.getByRole('dialog', { name: 'New project' });
  await dialog.getByLabel('Project name').fill(PROJECT_NAME);

  // The chooser starts at the root: folders first, then files; into "sketches".
  const list = dialog.getByRole('listbox');
  await list.getByRole('option', { name: /sketches/ }).waitFor();
  const names = await list.getByRole('option').allTextContents();
  assert.match(names[0] ?? '', /^\s*sketches\s*Folder/, `folders come first: ${JSON.stringify(names)}`);
  assert.match(names[1] ?? '', /readme\.txt/);
  await list.getByRole('option', { name: /sketches/ }).click();
  await dialog.getByRole('listbox', { name: `Contents of ${join(root, 'sketches')}` }).waitFor();
  // Up and back in, by keyboard this time: Backspace goes up, Enter goes into the active folder.
  await list.press('Backspace');
  await dialog.getByRole('listbox', { name: `Contents of ${root}` }).waitFor();
  await list.press('Home');
  await list.press('Enter');
  await dialog.getByRole('listbox', { name: `Contents of ${join(root, 'sketches')}` }).waitFor();

  // The file name follows the project name; an existing file name is refused before sending.
  const fileName = dialog.getByLabel('File name');
  assert.equal(await fileName.inputValue(), `${PROJECT_NAME}.atelier`);
  await dialog.getByText(projectPath, { exact: true }).waitFor();
  await fileName.fill('notes');
  await dialog.getByText('notes.atelier already exists in this folder', { exact: false }).waitFor();
  assert.equal(await dialog.getByRole('button', { name: 'Create project' }).isDisabled(), true);
  await fileName.fill(`${PROJECT_NAME}.atelier`);
  await dialog.getByRole('button', { name: 'Create project' }).click();

  await page.getByTestId('project-path').filter({ hasText: projectPath }).waitFor();
  assert.equal(await dialog.count(), 0, 'the dialog closed');
  assert.equal(readMagic(projectPath), 'SQLite format 3\0', 'the file on disk is an SQLite database');

  // The card and the header name the project and its full path.
  const card = page.getByRole('region', { name: PROJECT_NAME });
  assert.equal(await card.getByTestId('project-path').textContent(), projectPath);
  assert.match((await card.textContent()) ?? '', new RegExp(`Format version\\s*${SCHEMA_VERSION}`));
  assert.match((await card.textContent()) ?? '', /Images\s*0/);
  const header = page.getByRole('banner', { name: 'Current project' });
  assert.match((await header.textContent()) ?? '', new RegExp(`${PROJECT_NAME}\\s*${escapeRegExp(projectPath)}`));
  // It heads the recent list, marked open.
  const recent = page.getByRole('list', { name: 'Recent projects' });
  assert.match((await recent.getByRole('listitem').first().textContent()) ?? '', new RegExp(`${PROJECT_NAME}\\s*Open`));

  // The other views know the project is open and empty.
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Dataset' }).click();
  await page.getByRole('heading', { name: 'No images yet' }).waitFor();
  await page.getByRole('link', { name: 'Projects' }).click();
  await card.waitFor();

  await page.screenshot({ path: SCREENSHOT });
  assertClean('create', w);
  await context.close();
});

test('(b) after a restart with the same ATELIER_HOME the recent list reopens the project', async (t) => {
  // A page left open sees the server go away and says so.
  const { context: oldContext, page: oldPage, w: oldWatch } = await openStudio(t, 'before restart');
  assertClean('before restart', oldWatch);
  oldWatch.stopWatching(); // from here on, failed reconnects are expected in its console
  assert.equal(await server!.stop(), 0, 'the server exits cleanly on SIGTERM');
  await oldPage.getByRole('status').filter({ hasText: 'Connection lost' }).waitFor();
  await oldContext.close();

  server = await startServer({ root, home });
  const { context, page, w } = await openStudio(t, 'after restart');
  const recent = page.getByRole('list', { name: 'Recent projects' });
  const item = recent.getByRole('listitem').filter({ hasText: projectPath });
  await item.waitFor();
  assert.match((await item.textContent()) ?? '', /Last opened/);
  assert.equal(await item.getByText('Missing').count(), 0);
  assert.equal(await page.getByTestId('project-path').count(), 0, 'a restarted server has no project open');

  await item.getByRole('button', { name: PROJECT_NAME, exact: true }).click();
  await page.getByTestId('project-path').filter({ hasText: projectPath }).waitFor();
  assert.match((await page.getByRole('banner', { name: 'Current project' }).textContent()) ?? '', new RegExp(PROJECT_NAME));
  assertClean('after restart', w);
  await context.close();
});

test('(c) closing the project leaves no project open and keeps it in the recent list', async (t) => {
  const { context, page, w } = await openStudio(t, 'close');
  await page.getByTestId('project-path').filter({ hasText: projectPath }).waitFor(); // still open on the server
  await page.getByRole('button', { name: 'Close project' }).click();
  await page.getByRole('banner', { name: 'Current project' }).getByText('No project open').waitFor();
  assert.equal(await page.getByTestId('project-path').count(), 0);
  await page.getByRole('list', { name: 'Recent projects' }).getByRole('button', { name: PROJECT_NAME, exact: true }).waitFor();

  // Another view now says there is nothing open.
  await page.getByRole('link', { name: 'Train' }).click();
  await page.getByRole('heading', { name: 'No project open' }).waitFor();
  assertClean('close', w);
  await context.close();
});

test('(d) without the token nothing is served and no socket opens; with its cookie both work', async () => {
  const { origin, token } = server!;
  for (const path of ['/', '/index.html', '/?token=wrong']) {
    const res = await fetch(`${origin}${path}`, { redirect: 'manual' });
    assert.equal(res.status, 403, `GET ${path} without the token`);
    assert.match(await res.text(), /needs its access token/);
  }

  const first = await fetch(`${origin}/?token=${token}`, { redirect: 'manual' });
  assert.equal(first.status, 303);
  const setCookie = first.headers.get('set-cookie') ?? '';
  assert.match(setCookie, /HttpOnly/);
  assert.match(setCookie, /SameSite=Strict/);
  const cookie = setCookie.split(';')[0]!;
  const page = await fetch(`${origin}/index.html`, { headers: { cookie } });
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<meta http-equiv="Content-Security-Policy"/);

  const refused = (headers: Record<string, string>): Promise<string> =>
    new Promise((resolve, reject) => {
      const ws = new WebSocket(`ws://127.0.0.1:${server!.port}/api`, { headers });
      ws.on('open', () => {
        ws.close();
        reject(new Error(`the socket opened with ${JSON.stringify(headers)}`));
      });
      ws.on('error', (err) => resolve(err.message));
    });
  assert.match(await refused({ Origin: origin }), /403/, 'no token');
  assert.match(await refused({ Origin: 'http://evil.example', cookie }), /403/, 'foreign Origin');
  assert.match(await refused({ cookie }), /403/, 'no Origin');

  const reply = await new Promise<unknown>((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${server!.port}/api`, { headers: { Origin: origin, cookie } });
    ws.on('open', () => ws.send(JSON.stringify({ id: 7, method: 'app.info', params: {} })));
    ws.on('message', (data) => {
      ws.close();
      resolve(JSON.parse(String(data)));
    });
    ws.on('error', reject);
  });
  assert.deepEqual((reply as { kind: string; id: number }).kind, 'reply');
  assert.equal((reply as { id: number }).id, 7);
  assert.equal((reply as { result: { ok: boolean; value: { mode: string } } }).result.value.mode, 'browser');
});

test('(e) opening a file that is not a project shows the error in the alert region', async (t) => {
  const { context, page, w } = await openStudio(t, 'not a project');
  const alert = page.getByRole('alert');
  assert.equal(((await alert.textContent()) ?? '').trim(), '', 'no error before');

  await page.getByRole('button', { name: 'Open project…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Open project' });
  const list = dialog.getByRole('listbox');
  await list.getByRole('option', { name: /sketches/ }).click();
  // A plain file is listed but cannot be picked; a .atelier file can.
  await list.getByRole('option', { name: /notes\.atelier/ }).click();
  await dialog.getByRole('button', { name: 'Open', exact: true }).click();

  const bad = join(root, 'sketches', 'notes.atelier');
  await alert.filter({ hasText: 'is not a GAN Atelier project' }).waitFor();
  assert.equal(
    ((await alert.locator('p').textContent()) ?? '').trim(),
    `${bad} is not a GAN Atelier project (it is not an SQLite database). Pick a .atelier file, or create a new project.`,
  );
  assert.equal(await page.getByTestId('project-path').count(), 0, 'nothing was opened');
  assert.equal(readMagic(bad).startsWith('Plant list'), true, 'the file was left untouched');

  await alert.getByRole('button', { name: 'Dismiss' }).click();
  assert.equal(((await alert.textContent()) ?? '').trim(), '');
  assertClean('not a project', w);
  await context.close();
});

test('(f) no page logged console errors or CSP violations, and the recorder does catch them', async (t) => {
  assert.ok(watched.length >= 4, 'the tests above opened their pages');
  for (const { name, w } of watched) {
    if (name !== 'before restart') assertClean(name, w); // that one was checked before the server went away
  }

  // The recorder is not blind: an inline script and an inline style are refused and reported.
  const { context, page, w } = await openStudio(t, 'csp probe');
  await page.evaluate(() => {
    const script = document.createElement('script');
    script.textContent = 'document.title = "inline ran"';
    document.head.append(script);
    const style = document.createElement('style');
    style.textContent = 'body { background: red; }';
    document.head.append(style);
  });
  await page.waitForFunction(() => true);
  assert.notEqual(await page.title(), 'inline ran', 'the inline script did not run');
  // Each is reported once per policy that refuses it: the <meta> one and the server's header.
  const directives = [...new Set(w.problems.cspViolations.map((v) => v.split(' ')[0]))].sort();
  assert.deepEqual(directives, ['script-src-elem', 'style-src-elem']);
  assert.ok(w.problems.consoleErrors.some((m) => m.includes('Content Security Policy')), 'Chromium logs the refusal as a console error too');
  await context.close();
});
