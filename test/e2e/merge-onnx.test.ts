/**
 * Adding a generator made by another tool, as ONNX, in the Merge view (browser mode, the real
 * `atelier serve` and its ONNX probe worker, the built renderer, Debian's Chromium). As a user:
 * "Add a generator file…", pick an .onnx file in the chooser; the studio says what it read (16
 * random numbers, no class, 16×16 colour, channels first, values −1…1) with a strip of images it
 * made; correct the value range and read again (the words and the images change); add it, and it
 * is offered with the project's generators. A file that is not ONNX is refused right there, with
 * the reason, and cannot be added.
 */
import assert from 'node:assert/strict';
import { copyFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { Project } from '../../core/store/project.js';
import { cleanup, launchBrowser, listProblems, requireRendererBuild, type Server, startServer, tempDir, pageWithProject, goToSection } from './harness.js';

const FIXTURE = new URL('../fixtures/merge/gen16-nchw-tanh.onnx', import.meta.url).pathname;

let browser: Browser | undefined;
let server: Server | undefined;
let root = '';
let home = '';
let projectPath = '';

before(async () => {
  requireRendererBuild();
  root = tempDir('atelier-e2e-merge-onnx-root-');
  home = tempDir('atelier-e2e-merge-onnx-home-');
  projectPath = join(root, 'Mix.atelier');
  Project.create(projectPath, 'Mix', { appVersion: 'test' }).close();
  copyFileSync(FIXTURE, join(root, 'pixels.onnx'));
  writeFileSync(join(root, 'broken.onnx'), 'this is not an ONNX model');
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

test('pick an .onnx file in the Merge form: see what the studio read and its images, correct it, add it; a broken file is refused', async (t) => {
  const w = await pageWithProject(t, browser!, server!.url, 'Mix.atelier', projectPath);
  const page = w.page;
  await goToSection(page, 'Merge');
  const form = page.getByRole('form', { name: 'New merge' });
  await form.waitFor();

  const pick = async (file: string): Promise<void> => {
    await form.getByRole('button', { name: 'Add a generator file…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Add a generator file' });
    await dialog.getByRole('listbox').getByRole('option', { name: new RegExp(file.replace('.', '\\.')) }).click();
    await dialog.getByText(`Picks ${join(root, file)}`).waitFor();
    await dialog.getByRole('button', { name: 'Add', exact: true }).click();
    await dialog.waitFor({ state: 'detached' });
  };

  // A file that is not ONNX: the reason, naming the file; it cannot be added.
  await pick('broken.onnx');
  const broken = form.getByRole('region', { name: 'Check broken.onnx' });
  await broken.getByRole('alert').filter({ hasText: /broken\.onnx cannot be used as a merge source: ONNX Runtime cannot load it/ }).waitFor({ timeout: 60_000 });
  assert.equal(await broken.getByRole('button', { name: 'Add this generator' }).isDisabled(), true);
  await broken.getByRole('button', { name: 'Cancel' }).click();
  await broken.waitFor({ state: 'detached' });

  // A generator: what was read, in words, and a strip of its images.
  await pick('pixels.onnx');
  const check = form.getByRole('region', { name: 'Check pixels.onnx' });
  const facts = check.getByRole('list', { name: 'What the studio read' });
  await facts.waitFor({ timeout: 60_000 });
  const fact = async (field: string): Promise<string> => ((await facts.locator(`[data-field="${field}"]`).textContent()) ?? '').replace(/\s+/g, ' ').trim();
  assert.equal(await fact('latent'), 'It makes an image from 16 random numbers (input “z”).');
  assert.equal(await fact('class'), 'It takes no class.');
  assert.equal(await fact('output'), 'Its images are 16×16, colour, laid out channels first (NCHW), with values from −1 to 1.');
  assert.match((await check.getByTestId('inferred').textContent()) ?? '', /value range \[-1,1\] \(its last operator\)/);
  const img = check.getByRole('img', { name: 'Images pixels.onnx made' });
  const first = (await img.getAttribute('src')) ?? '';
  assert.match(first, /^data:image\/png;base64,/);

  // Corrected: read as 0…255, the words and the images change.
  await check.getByText('Correct what was read').click();
  await check.getByLabel('Value range').selectOption('[0,255]');
  await check.getByRole('button', { name: 'Read again with these' }).click();
  await facts.locator('[data-field="output"]').filter({ hasText: 'from 0 to 255' }).waitFor({ timeout: 60_000 });
  assert.notEqual(await img.getAttribute('src'), first, 'the images are read again with the new range');
  assert.ok(!((await check.getByTestId('inferred').textContent()) ?? '').includes('value range'), 'the range is given now, not inferred');

  // Added: offered with the project's generators.
  await check.getByRole('button', { name: 'Add this generator' }).click();
  await check.waitFor({ state: 'detached' });
  await form.getByRole('checkbox', { name: /^pixels ONNX file .*pixels\.onnx · 16×16/ }).check();
  assert.equal(await form.getByRole('textbox', { name: 'Class name for pixels' }).inputValue(), 'pixels');
  assert.deepEqual(listProblems(w.problems), [], 'the page logged errors or CSP violations');
});
