/**
 * The Gallery and Models views in the browser mode, end to end: the real `atelier serve`, its
 * sampling worker on wasm, the built renderer, Debian's Chromium. A project with a run and a
 * checkpoint of a small random generator is made in this process (no training needed); then,
 * as a user: open it, the grid fills by seed; its images are the CLI's pixels for the same
 * seeds and ψ; change ψ, star an image, reload — the star is still there; walk between two
 * picked images (the first frame is the first image); promote the checkpoint to a model in the
 * Train view, find it in Models, export the standalone page, rename it, delete it (the kept
 * image stays); delete the run: the image is under "Kept from deleted generators" and exports.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { selectBackend } from '../../core/backend/select.js';
import { pixelsOf, projectWithCheckpoint } from '../helpers/gallery.js';
import { cleanup, launchBrowser, listProblems, REPO_ROOT, requireRendererBuild, type Server, startServer, tempDir, pageWithProject, goToSection } from './harness.js';

const SCREENSHOT = '/tmp/atelier-gallery.png';
const run = promisify(execFile);

let browser: Browser | undefined;
let server: Server | undefined;
let root = '';
let home = '';
let projectPath = '';

before(async () => {
  requireRendererBuild();
  process.env.ATELIER_BACKEND = 'wasm'; // the server's sampling worker and the CLI: one backend, one set of pixels
  root = tempDir('atelier-e2e-gallery-root-');
  home = tempDir('atelier-e2e-gallery-home-');
  await selectBackend({ prefer: 'wasm' });
  const fx = await projectWithCheckpoint({ after: () => {} } as never, root, { name: 'Critters' });
  fx.project.close();
  projectPath = fx.path;
  [browser, server] = await Promise.all([launchBrowser(), startServer({ root, home })]);
});

after(async () => {
  await server?.stop();
  await browser?.close();
  cleanup(root, home);
});

/** The decoded pixels of the grid's image for a seed. */
async function cellPixels(page: Page, seed: number): Promise<Buffer> {
  const src = await page.locator(`li[data-seed="${seed}"] img`).getAttribute('src');
  assert.ok(src, `seed ${seed} has an image`);
  return pixelsOf(src);
}

async function waitForCells(page: Page, seeds: number[]): Promise<void> {
  for (const s of seeds) await page.locator(`li[data-seed="${s}"] img`).waitFor({ timeout: 60_000 });
}

test('explore by seed and ψ, star, reload, walk; promote, export, rename and delete a model', async (t) => {
  // Open the project.
  const w = await pageWithProject(t, browser!, server!.url, 'Critters.atelier', projectPath);
  const page = w.page;

  // The Gallery: the run's checkpoint is open, the grid fills by seed.
  await goToSection(page, 'Gallery');
  const generator = page.getByRole('combobox', { name: 'Generator' });
  await generator.waitFor();
  assert.match((await generator.locator('option:checked').textContent()) ?? '', /Run 1 · baseline at 0\.32 kimg/);
  await waitForCells(page, [0, 1, 2, 3]);
  await page.getByTestId('gallery-status').filter({ hasText: /sampled on wasm · first image in \d+ ms/ }).waitFor();
  assert.equal(await page.getByTestId('psi-value').textContent(), '0.70');

  // The same pixels as the command line for the same checkpoint, seeds and ψ.
  const cliOut = join(root, 'cli-0.7');
  await run(process.execPath, [join(REPO_ROOT, 'bin', 'atelier.js'), 'sample', projectPath, '--run', '1', '--seeds', '0-3', '--psi', '0.7', '--out', cliOut], { env: { ...process.env, ATELIER_BACKEND: 'wasm' } });
  for (const seed of [0, 1, 2, 3]) {
    const cli = await pixelsOf(readFileSync(join(cliOut, `seed-00000${seed}.png`)));
    assert.ok((await cellPixels(page, seed)).equals(cli), `seed ${seed}: the gallery shows the CLI's pixels`);
  }

  // Change ψ: the grid is redrawn (another image for the same seed).
  const before07 = await cellPixels(page, 2);
  await page.getByRole('slider', { name: 'Truncation ψ' }).fill('0.5');
  await page.getByTestId('psi-value').filter({ hasText: '0.50' }).waitFor();
  await page.waitForFunction((prev) => {
    const img = document.querySelector<HTMLImageElement>('li[data-seed="2"] img');
    return img !== null && img.getAttribute('src') !== prev;
  }, await page.locator('li[data-seed="2"] img').getAttribute('src'));
  await waitForCells(page, [2]);
  assert.ok(!(await cellPixels(page, 2)).equals(before07), 'ψ 0.5 draws seed 2 differently');

  // Star seed 2: kept, with where it came from.
  const star = page.getByRole('button', { name: 'Favourite seed 2', exact: true });
  await star.click();
  await page.waitForFunction(() => document.querySelector('button[aria-label="Favourite seed 2"]')?.getAttribute('aria-pressed') === 'true');
  const kept = page.getByRole('list', { name: 'Kept items' });
  await kept.locator('li').first().waitFor();
  assert.match((await kept.locator('li').first().textContent()) ?? '', /seed 2, ψ 0\.5 · Run 1 · baseline at 0\.32 kimg/);

  // Reload: the same generator and ψ, and the star is still there (it lives in the project file).
  await page.reload();
  await page.getByRole('combobox', { name: 'Generator' }).waitFor();
  await page.getByTestId('psi-value').filter({ hasText: '0.50' }).waitFor();
  await waitForCells(page, [2]);
  await page.waitForFunction(() => document.querySelector('button[aria-label="Favourite seed 2"]')?.getAttribute('aria-pressed') === 'true');
  await page.getByRole('combobox', { name: 'Show kept items' }).selectOption('favourites');
  assert.equal(await page.getByRole('list', { name: 'Kept items' }).locator('li').count(), 1, 'one favourite after the reload');

  // Walk from seed 0 to seed 1: the first frame is seed 0's image, the last seed 1's.
  await waitForCells(page, [0, 1]);
  await page.getByRole('button', { name: 'Pick seed 0', exact: true }).click();
  await page.getByRole('button', { name: 'Pick seed 1', exact: true }).click();
  await page.getByRole('spinbutton', { name: 'Frames' }).fill('5');
  await page.getByRole('button', { name: 'Walk', exact: true }).click();
  const strip = page.getByRole('list', { name: 'Walk frames' });
  await page.waitForFunction(() => document.querySelector('[aria-label="Walk frames"]')?.getAttribute('data-frames') === '5');
  const frame = async (i: number): Promise<Buffer> => pixelsOf((await strip.getByRole('img', { name: `Frame ${i}` }).getAttribute('src'))!);
  assert.ok((await frame(1)).equals(await cellPixels(page, 0)), 'the walk starts at seed 0');
  assert.ok((await frame(5)).equals(await cellPixels(page, 1)), 'the walk ends at seed 1');
  await page.screenshot({ path: SCREENSHOT });

  // Promote the checkpoint to a model in the Train view.
  await goToSection(page, 'Train');
  await page.getByRole('button', { name: /^Run 1 · baseline/ }).click();
  await page.getByRole('button', { name: 'Promote to model…' }).click();
  const promote = page.getByRole('dialog', { name: 'Promote to a model' });
  await promote.getByLabel('Model name').fill('Critters v1');
  await promote.getByRole('button', { name: 'Promote' }).click();
  await page.getByRole('status').filter({ hasText: 'Promoted to the model “Critters v1”' }).waitFor();

  // Models: listed; export the standalone page through the chooser; rename; delete.
  await goToSection(page, 'Models');
  const card = page.getByRole('listitem', { name: 'Critters v1' });
  await card.waitFor();
  const cardText = ((await card.textContent()) ?? '').replace(/\s+/g, ' ');
  assert.match(cardText, /16×16 RGB · from “Run 1 · baseline” at 0\.32 kimg/);
  // Models show their quality, not losses (this checkpoint was never evaluated).
  assert.match(cardText, /Quality not measured at this checkpoint/);
  assert.doesNotMatch(cardText, /Loss\/[GD]/);
  await card.getByRole('button', { name: 'Export…' }).click();
  const exportDialog = page.getByRole('dialog', { name: 'Export Critters v1' });
  await exportDialog.getByText('Standalone page').click();
  await exportDialog.getByLabel('File name').fill('critters-page');
  await exportDialog.getByRole('button', { name: 'Export', exact: true }).click();
  await page.getByTestId('export-result').filter({ hasText: 'critters-page' }).waitFor({ timeout: 60_000 });
  assert.ok(readFileSync(join(root, 'Critters-exports', 'critters-page', 'index.html'), 'utf8').includes('Critters v1'), 'in the export folder beside the project');

  await card.getByRole('button', { name: 'Rename…' }).click();
  const renameDialog = page.getByRole('dialog', { name: 'Rename Critters v1' });
  await renameDialog.getByLabel('New name').fill('Critters final');
  await renameDialog.getByRole('button', { name: 'Rename' }).click();
  const renamed = page.getByRole('listitem', { name: 'Critters final' });
  await renamed.waitFor();
  await renamed.getByRole('button', { name: 'Delete…' }).click();
  const confirm = page.getByRole('dialog', { name: 'Delete Critters final?' });
  assert.match((await confirm.textContent()) ?? '', /Images kept from it in the Gallery stay/);
  await confirm.getByRole('button', { name: 'Delete model' }).click();
  await page.getByRole('heading', { name: 'No models yet' }).waitFor();

  // The kept image is still in the Gallery.
  await goToSection(page, 'Gallery');
  await page.getByRole('list', { name: 'Kept items' }).locator('li').first().waitFor();

  // Delete the run too: the kept image's generator is gone, and the Gallery still has it, under
  // "Kept from deleted generators" (the only entry left), where it exports as a PNG.
  await goToSection(page, 'Train');
  await page.getByRole('button', { name: 'Delete run Run 1 · baseline' }).click();
  await page.getByRole('dialog', { name: 'Delete run' }).getByRole('button', { name: 'Delete run' }).click();
  await page.getByRole('button', { name: 'Delete run Run 1 · baseline' }).waitFor({ state: 'detached' });
  await goToSection(page, 'Gallery');
  await page.waitForFunction(() => document.querySelector<HTMLSelectElement>('select[aria-label="Generator"]')?.value === 'orphaned');
  assert.match((await page.getByRole('combobox', { name: 'Generator' }).locator('option:checked').textContent()) ?? '', /Kept from deleted generators \(1\)/);
  const orphans = page.getByRole('list', { name: 'Kept items' });
  await orphans.locator('li').first().waitFor();
  assert.match((await orphans.locator('li').first().textContent()) ?? '', /seed 2, ψ 0\.5 · Run 1 · baseline at 0\.32 kimg/);
  await page.getByRole('button', { name: 'Export these 1 as PNGs…' }).click();
  const keptDialog = page.getByRole('dialog', { name: 'Export kept images' });
  await keptDialog.getByLabel('File name').fill('orphans');
  await keptDialog.getByRole('button', { name: 'Export', exact: true }).click();
  await page.getByRole('status', { name: 'Export result' }).filter({ hasText: 'orphans' }).waitFor();
  assert.equal(readdirSync(join(root, 'Critters-exports', 'orphans')).filter((f) => f.endsWith('.png')).length, 1);

  assert.equal(((await page.getByRole('alert').first().textContent()) ?? '').trim(), '', 'no error was shown');
  assert.deepEqual(listProblems(w.problems), [], 'the page logged errors or CSP violations');
});
