/**
 * The Merge view in the browser mode, end to end: the real `atelier serve`, its merge worker and
 * sampling worker on wasm, the built renderer, Debian's Chromium. A project with two tiny 16²
 * models ("Light", "Dark") is made in this process; then, as a user: open it, go to Merge, pick
 * both, name their classes, set a short length, press Merge; watch the stages end one by one,
 * see the newest images of each class and a point per class on the quality chart; open the
 * result in the Gallery, where a class picker switches between the two classes' images.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { selectBackend } from '../../core/backend/select.js';
import { Project } from '../../core/store/project.js';
import { storeModel, tinyMergeConfig, trainTiny } from '../helpers/merge.js';
import { cleanup, launchBrowser, listProblems, requireRendererBuild, type Server, startServer, tempDir, pageWithProject, goToSection } from './harness.js';

let browser: Browser | undefined;
let server: Server | undefined;
let root = '';
let home = '';
let projectPath = '';

before(async () => {
  requireRendererBuild();
  process.env.ATELIER_BACKEND = 'wasm'; // the server's workers
  root = tempDir('atelier-e2e-merge-root-');
  home = tempDir('atelier-e2e-merge-home-');
  await selectBackend({ prefer: 'wasm' });
  projectPath = join(root, 'Mix.atelier');
  const p = Project.create(projectPath, 'Mix', { appVersion: 'test' });
  try {
    storeModel(p, 'Light', await trainTiny(new Uint8Array(8 * 16 * 16 * 3).fill(220), tinyMergeConfig(31), 2));
    storeModel(p, 'Dark', await trainTiny(new Uint8Array(8 * 16 * 16 * 3).fill(30), tinyMergeConfig(32), 2));
  } finally {
    p.close();
  }
  [browser, server] = await Promise.all([launchBrowser(), startServer({ root, home })]);
});

after(async () => {
  try {
    await server?.stop();
  } finally {
    await browser?.close();
    cleanup(root, home);
  }
});

test('merge two models from the Merge view, see each class, open the result in the Gallery and switch classes', async (t) => {
  const w = await pageWithProject(t, browser!, server!.url, 'Mix.atelier', projectPath);
  const page = w.page;

  // The Merge view: no merges yet, the form offers the project's two models.
  await goToSection(page, 'Merge');
  const form = page.getByRole('form', { name: 'New merge' });
  await form.waitFor();
  const merge = form.getByRole('button', { name: 'Merge', exact: true });
  assert.equal(await merge.isDisabled(), true, 'nothing picked: Merge is off');
  await form.getByRole('checkbox', { name: /^Light model/ }).check();
  assert.equal(await form.getByRole('status').textContent(), 'Pick two or more generators.');
  await form.getByRole('checkbox', { name: /^Dark model/ }).check();
  // Class names default to the models' names.
  assert.equal(await form.getByRole('textbox', { name: 'Class name for Light' }).inputValue(), 'Light');
  await form.getByRole('textbox', { name: 'Class name for Light' }).fill('light');
  await form.getByRole('textbox', { name: 'Class name for Dark' }).fill('dark');
  await form.getByLabel('Rooting length (kimg)').fill('0.032');
  await form.getByLabel('Fine-tune length (kimg)').fill('0.032');
  await form.getByText('Expert settings').click();
  await form.getByLabel('Batch').fill('8');
  await form.getByLabel('Previews every (kimg)').fill('0.016');
  await form.getByLabel('Checkpoint every (ticks)').fill('1');
  await form.getByLabel('Quality images per class').fill('4');
  await form.getByLabel('Quality every (checkpoints)').fill('0');
  const t0 = Date.now();
  const at = (what: string): void => t.diagnostic(`${what}: ${((Date.now() - t0) / 1000).toFixed(1)} s after Merge`);
  await merge.click();

  // The merge: its stages in words, each done in turn; images of each class; the quality chart.
  // While the worker opens and checks the generators, the form says so; then the merge shows.
  await form.getByRole('status').filter({ hasText: 'Opening the generators and checking them…' }).waitFor();
  const panel = page.getByRole('region', { name: 'Merge light + dark' });
  await panel.waitFor({ timeout: 120_000 });
  at('the merge is shown (sources opened and checked)');
  const stages = panel.getByRole('list', { name: 'Stages' }).getByRole('listitem');
  assert.deepEqual(
    (await stages.locator('.title').allTextContents()).map((s) => s.trim()),
    ['Rooting "Dark" on "Light"', 'Averaging the networks', 'Fine-tuning on every class'],
  );
  try {
    await panel.getByTestId('merge-status').filter({ hasText: /^Done: “light \+ dark” is in Models and the Gallery/ }).waitFor({ timeout: 240_000 });
  } catch (err) {
    // What the merge was doing: the server's log and the page.
    await page.screenshot({ path: '/tmp/atelier-merge-e2e.png' });
    t.diagnostic(`server stderr:\n${server!.stderr().slice(-3000)}\npanel: ${await panel.textContent()}`);
    throw err;
  }
  at('done');
  assert.deepEqual(
    (await stages.locator('.state').allTextContents()).map((s) => s.trim().split(' · ')[0]),
    ['done', 'done', 'done'],
  );
  const previews = panel.getByRole('region', { name: 'Images of each class' });
  for (const c of ['light', 'dark']) {
    const img = previews.getByRole('img', { name: `Images of ${c}` });
    await img.waitFor();
    assert.match((await img.getAttribute('src')) ?? '', /^data:image\/png;base64,/);
  }
  const chart = panel.locator('figure[data-chart="Quality per class"]');
  await chart.waitFor();
  assert.equal(await chart.getAttribute('data-points'), '1', 'one evaluation: at the end');
  assert.match((await chart.textContent()) ?? '', /light[\s\S]*dark/);

  // The result in the Gallery: a class picker with both classes; switching changes the images.
  await panel.getByRole('button', { name: 'Open in Gallery' }).click();
  const generator = page.getByRole('combobox', { name: 'Generator' });
  await generator.waitFor();
  await page.waitForFunction(() => /light \+ dark/.test(document.querySelector('select[aria-label="Generator"] option:checked')?.textContent ?? ''));
  const classPicker = page.getByRole('combobox', { name: 'Class' });
  await classPicker.waitFor();
  assert.deepEqual((await classPicker.locator('option').allTextContents()).map((s) => s.trim()), ['light', 'dark']);
  const cell = page.locator('li[data-seed="0"] img');
  await cell.waitFor({ timeout: 60_000 });
  const first = await cell.getAttribute('src');
  at('the Gallery shows the merged model');
  await classPicker.selectOption({ label: 'dark' });
  await page.waitForFunction((before) => {
    const src = document.querySelector('li[data-seed="0"] img')?.getAttribute('src');
    return src !== undefined && src !== null && src !== before;
  }, first, { timeout: 60_000 });
  assert.notEqual(await cell.getAttribute('src'), first, 'class "dark" draws other images for the same seed');

  // And it is a model: listed in Models with its classes.
  await goToSection(page, 'Models');
  const listed = page.getByRole('listitem', { name: 'light + dark' });
  await listed.getByText(/2 classes \(light, dark\)/).waitFor();
  assert.equal(await listed.locator('.badge').textContent(), 'merged');
  await listed.getByText('merged from “Light”, “Dark”').waitFor();
  assert.deepEqual(listProblems(w.problems), [], 'the page logged errors or CSP violations');
});
