/**
 * The Dataset view in the browser mode, end to end: the real `atelier serve` and its import
 * worker, the built renderer, Debian's Chromium. A folder of real Twemoji PNGs in three label
 * folders, one exact copy and three bad files is imported through the server-side chooser; the
 * test then checks what a user sees: thumbnails that loaded, the counts, the duplicate, the
 * skipped files with reasons, a label filter, a second import that adds nothing, removal, and
 * the StyleGAN2-ADA export.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Browser, Locator, Page } from 'playwright-core';
import { REPO_ROOT, cleanup, launchBrowser, listProblems, newContext, requireRendererBuild, startServer, tempDir, watchedPage, type Server } from './harness.js';

const SCREENSHOT = '/tmp/atelier-dataset.png';
const PROJECT_NAME = 'Emoji';
const EMOJI_DIR = join(REPO_ROOT, 'node_modules', 'emoji-datasource-twitter', 'img', 'twitter', '64');
const EMOJI_JSON = join(REPO_ROOT, 'node_modules', 'emoji-datasource-twitter', 'emoji.json');
/** Three categories whose first 40 Twemoji have no exact or near twins (checked with the CLI at the default threshold). */
const CATEGORIES = ['Animals & Nature', 'Food & Drink', 'Travel & Places'];
const PER_CATEGORY = 40;
const BAD_FILES = ['empty.png', 'truncated.png', 'notes.jpg'];

interface Emoji {
  image: string;
  category: string;
  sort_order: number;
  has_img_twitter: boolean;
}

let browser: Browser | undefined;
let server: Server | undefined;
let root = '';
let home = '';
/** What the fixture holds, counted from the files written. */
const expected = { labels: new Map<string, number>(), images: 0, duplicate: { copy: '', original: '' } };

/** `<root>/emoji/<Category>/<image>.png`, one exact copy, and three files that are not images. */
function writeFixture(dir: string): void {
  const all = (JSON.parse(readFileSync(EMOJI_JSON, 'utf8')) as Emoji[]).filter((e) => e.has_img_twitter).sort((a, b) => a.sort_order - b.sort_order);
  for (const category of CATEGORIES) {
    mkdirSync(join(dir, category), { recursive: true });
    const picked = all.filter((e) => e.category === category).slice(0, PER_CATEGORY);
    for (const e of picked) copyFileSync(join(EMOJI_DIR, e.image), join(dir, category, e.image));
    expected.labels.set(category, picked.length);
    expected.images += picked.length;
    if (category === CATEGORIES[0]) {
      // Sorted after the original ("copy…" > "1f…"), so the original is the copy that is kept.
      expected.duplicate = { copy: `copy of ${picked[0]!.image}`, original: picked[0]!.image };
      copyFileSync(join(EMOJI_DIR, picked[0]!.image), join(dir, category, expected.duplicate.copy));
    }
  }
  writeFileSync(join(dir, 'empty.png'), '');
  writeFileSync(join(dir, 'truncated.png'), readFileSync(join(EMOJI_DIR, all[0]!.image)).subarray(0, 120));
  writeFileSync(join(dir, 'notes.jpg'), 'Shopping list: apples, pears, plums.\n');
}

before(async () => {
  requireRendererBuild();
  root = tempDir('atelier-e2e-dataset-root-');
  home = tempDir('atelier-e2e-dataset-home-');
  writeFixture(join(root, 'emoji'));
  [browser, server] = await Promise.all([launchBrowser(), startServer({ root, home })]);
});

after(async () => {
  await server?.stop();
  await browser?.close();
  cleanup(root, home);
});

/** The chooser's "emoji" folder, ticked; then the settings step. */
async function pickFixture(page: Page): Promise<ReturnType<Page['getByRole']>> {
  await page.getByRole('button', { name: 'Import images…' }).click();
  const dialog = page.getByRole('dialog', { name: 'Import images' });
  await dialog.getByRole('list', { name: `Contents of ${root}` }).waitFor();
  await dialog.getByRole('checkbox', { name: 'emoji', exact: true }).check();
  await dialog.getByText(`To import (1)`).waitFor();
  await dialog.getByRole('button', { name: 'Next' }).click();
  return dialog;
}

/** Waits until the element's whole text is `text`. */
async function hasText(locator: Locator, text: string): Promise<void> {
  await locator.filter({ hasText: new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`) }).waitFor();
}

/** Counts in the stats panel's Labels table, by name. */
async function labelCounts(page: Page): Promise<Map<string, number>> {
  const rows = await page.getByRole('table', { name: 'Labels' }).getByRole('row').all();
  const out = new Map<string, number>();
  for (const row of rows) {
    const header = row.getByRole('rowheader');
    if ((await header.count()) === 0) continue; // the column headers
    const name = (await header.textContent())?.trim() ?? '';
    const cells = row.getByRole('cell');
    out.set(name, Number((await cells.first().textContent())?.replace(/,/g, '').trim()));
  }
  return out;
}

/** Rendered grid options: how many, and whether each one's thumbnail has loaded. */
async function gridImages(page: Page): Promise<{ options: number; loaded: number; setsize: number[] }> {
  return page.getByRole('listbox').first().evaluate((list) => {
    const options = Array.from(list.querySelectorAll('[role="option"]'));
    const imgs = options.map((o) => o.querySelector('img')).filter((i): i is HTMLImageElement => i !== null);
    return {
      options: options.length,
      loaded: imgs.filter((i) => i.complete && i.naturalWidth > 0).length,
      setsize: [...new Set(options.map((o) => Number(o.getAttribute('aria-setsize'))))],
    };
  });
}

async function waitForThumbnails(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const list = document.querySelector('[role="listbox"][aria-multiselectable="true"]');
    const imgs = Array.from(list?.querySelectorAll<HTMLImageElement>('[role="option"] img') ?? []);
    const options = list?.querySelectorAll('[role="option"]').length ?? 0;
    return options > 0 && imgs.length === options && imgs.every((i) => i.complete && i.naturalWidth > 0);
  });
}

test('import a folder through the chooser, see the grid, the counts and the skipped list; filter, re-import, remove, relabel, rename, export', async (t) => {
  const context = await newContext(browser!);
  context.setDefaultTimeout(20_000); // imports run in a worker: slower when the machine is busy
  t.after(() => context.close());
  const w = await watchedPage(context);
  const page = w.page;
  await page.goto(server!.url);

  // A new project, through the Projects view.
  await page.getByRole('button', { name: 'New project…' }).click();
  const newDialog = page.getByRole('dialog', { name: 'New project' });
  await newDialog.getByLabel('Project name').fill(PROJECT_NAME);
  await newDialog.getByRole('listbox', { name: `Contents of ${root}` }).waitFor();
  await newDialog.getByRole('button', { name: 'Create project' }).click();
  await page.getByTestId('project-path').filter({ hasText: join(root, `${PROJECT_NAME}.atelier`) }).waitFor();

  // The Dataset view of an empty project: a call to action that says what can be imported.
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Dataset' }).click();
  const empty = page.getByRole('region', { name: 'No images yet' });
  await empty.waitFor();
  assert.match((await empty.textContent()) ?? '', /PNG, JPEG, WebP, AVIF, TIFF \(16-bit too\), GIF and DICOM/);

  // Import: the chooser, then the suggested settings (64 px Twemoji → 64 × 64, RGB), labels from folders.
  const dialog = await pickFixture(page);
  const suggestion = dialog.getByRole('region', { name: 'Suggested from your images' });
  await suggestion.getByText('64 × 64, RGB').waitFor();
  assert.equal(await dialog.getByLabel('Resolution').inputValue(), '64');
  assert.equal(await dialog.getByRole('radio', { name: /RGB \(colour\)/ }).isChecked(), true);
  await dialog.getByRole('checkbox', { name: 'Labels from folder names' }).check();
  assert.equal(await dialog.getByRole('slider', { name: /Near-duplicate threshold/ }).inputValue(), '4');

  // Record whether the progress bar was ever on screen (the import takes a few seconds).
  await page.evaluate(() => {
    const seen: string[] = [];
    (window as unknown as { __progressSeen: string[] }).__progressSeen = seen;
    new MutationObserver(() => {
      const bar = document.querySelector('progress');
      if (bar) seen.push(bar.closest('section')?.textContent ?? '');
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
  });
  await dialog.getByRole('button', { name: 'Start import' }).click();
  const result = page.getByRole('status', { name: 'Import result' });
  await result.getByText('Import finished').waitFor({ timeout: 60_000 });
  const progressSeen = await page.evaluate(() => (window as unknown as { __progressSeen: string[] }).__progressSeen);
  assert.ok(progressSeen.some((text) => /images\/s/.test(text)), `the progress bar showed the rate: ${JSON.stringify(progressSeen.slice(-2))}`);
  const files = expected.images + 1 + BAD_FILES.length;
  assert.match(
    (await page.getByTestId('import-summary').textContent())?.replace(/\s+/g, ' ') ?? '',
    new RegExp(`${expected.images} images imported · 1 duplicate dropped · 3 files skipped · 0 unchanged .* ${files} files in`),
  );

  // The grid: thumbnails that really loaded, only the rows in view (virtualised) of all of them.
  const grid = page.getByRole('listbox', { name: 'All images' });
  await grid.waitFor();
  await waitForThumbnails(page);
  let shown = await gridImages(page);
  assert.deepEqual(shown.setsize, [expected.images], 'every option knows the full count');
  assert.ok(shown.options > 0 && shown.options < expected.images, `only the visible rows are rendered (${shown.options} of ${expected.images})`);
  assert.equal(shown.loaded, shown.options);
  assert.equal((await page.getByTestId('grid-count').textContent())?.trim(), `${expected.images} images`);

  // The stats: total, per label (from the fixture's folders), duplicates, skipped files with reasons.
  await hasText(page.getByTestId('stat-images'), String(expected.images)); // the stats follow import.finished
  await hasText(page.getByTestId('stat-duplicates'), '1');
  await hasText(page.getByTestId('stat-skipped'), '3');
  assert.deepEqual(await labelCounts(page), expected.labels);
  await page.getByText('Duplicates dropped (1)').click();
  const pair = page.getByRole('list', { name: 'Duplicate pairs' }).getByRole('listitem');
  await pair.waitFor();
  assert.match((await pair.textContent())?.replace(/\s+/g, ' ') ?? '', new RegExp(`exact ${expected.duplicate.copy} dropped; kept ${expected.duplicate.original}`));
  await page.getByText('Skipped files (3)').click();
  const skipped = page.getByRole('list', { name: 'Skipped files' }).getByRole('listitem');
  assert.equal(await skipped.count(), 3);
  for (const name of BAD_FILES) {
    const text = (await skipped.filter({ hasText: join(root, 'emoji', name) }).textContent()) ?? '';
    const reason = text.split('—')[1]?.split(join(root, 'emoji', name))[0]?.trim() ?? '';
    assert.ok(reason.length > 10, `${name} is listed with a reason: ${JSON.stringify(text)}`);
  }

  // Scrolled to the end, the last image is there too.
  await grid.evaluate((el) => el.scrollTo(0, el.scrollHeight));
  await page.locator(`[role="option"][aria-posinset="${expected.images}"] img`).waitFor();
  await waitForThumbnails(page);

  // Click one: the detail panel shows it at full size with where it came from.
  await grid.evaluate((el) => el.scrollTo(0, 0));
  const first = grid.getByRole('option', { name: /^Image 1 of / });
  await first.click();
  await page.getByRole('button', { name: 'Close image details' }).waitFor();
  const detail = page.getByRole('complementary', { name: 'Details and statistics' });
  assert.match((await detail.textContent()) ?? '', /Normalised64 × 64, RGB/);
  assert.match((await detail.textContent()) ?? '', new RegExp(`Original${join(root, 'emoji', CATEGORIES[0]!)}`));
  await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLImageElement>('img[alt^="Image "]')).some((i) => i.naturalWidth === 64));
  await page.screenshot({ path: SCREENSHOT });

  // Filter by one label: only its images.
  const label = CATEGORIES[1]!;
  const count = expected.labels.get(label)!;
  await page.getByLabel('Filter by label').selectOption({ label: `${label} (${count})` });
  const filtered = page.getByRole('listbox', { name: `Images labelled ${label}` });
  await filtered.waitFor();
  await waitForThumbnails(page);
  assert.equal((await page.getByTestId('grid-count').textContent())?.trim(), `${count} of ${expected.images} images`);
  shown = await gridImages(page);
  assert.deepEqual(shown.setsize, [count]);
  const names = await filtered.getByRole('option').evaluateAll((os) => os.map((o) => o.getAttribute('aria-label') ?? ''));
  assert.ok(names.every((n) => n.endsWith(`, ${label}`)), `every image shown is labelled ${label}`);
  await page.getByLabel('Filter by label').selectOption({ label: `All labels (${expected.images})` });
  await grid.waitFor();

  // The same folder again: the stored settings are shown read-only, and nothing new comes in.
  const again = await pickFixture(page);
  await again.getByText('These were fixed at the first import').waitFor();
  assert.equal(await again.getByLabel('Resolution').count(), 0, 'the resolution cannot be changed any more');
  await again.getByRole('checkbox', { name: 'Labels from folder names' }).check();
  await again.getByRole('button', { name: 'Start import' }).click();
  await result.getByText('Nothing new').waitFor({ timeout: 60_000 });
  assert.match(
    (await page.getByTestId('import-summary').textContent())?.replace(/\s+/g, ' ') ?? '',
    new RegExp(`0 images imported · 0 duplicates dropped · 3 files skipped · ${expected.images + 1} unchanged`),
  );
  assert.equal(await page.getByTestId('stat-images').textContent(), String(expected.images));
  assert.deepEqual(await labelCounts(page), expected.labels);

  // Select two (click, then Ctrl-click) and remove them.
  await waitForThumbnails(page);
  await grid.getByRole('option', { name: /^Image 1 of / }).click();
  await grid.getByRole('option', { name: /^Image 2 of / }).click({ modifiers: ['Control'] });
  await page.getByText('2 selected').waitFor();
  assert.equal(await grid.locator('[role="option"][aria-selected="true"]').count(), 2);
  await page.getByRole('button', { name: 'Remove…' }).click();
  const confirm = page.getByRole('dialog', { name: 'Remove images' });
  await confirm.getByRole('button', { name: 'Remove 2 images' }).click();
  await page.getByTestId('stat-images').filter({ hasText: String(expected.images - 2) }).waitFor();
  // Removed files are remembered, so a later import of the folder leaves them out.
  await page.getByTestId('stat-removed').filter({ hasText: /^2$/ }).waitFor();
  await page.getByRole('button', { name: 'Allow removed files back' }).waitFor();
  await page.getByTestId('grid-count').filter({ hasText: `${expected.images - 2} images` }).waitFor();
  const afterRemoval = await labelCounts(page);
  assert.equal([...afterRemoval.values()].reduce((a, b) => a + b, 0), expected.images - 2);
  await waitForThumbnails(page);
  assert.deepEqual((await gridImages(page)).setsize, [expected.images - 2]);

  // Relabel one image to a new label.
  await grid.getByRole('option', { name: /^Image 1 of / }).click();
  await page.getByText('1 selected').waitFor();
  await page.getByRole('button', { name: 'Relabel…' }).click();
  const relabel = page.getByRole('dialog', { name: 'Relabel images' });
  await relabel.getByLabel('New label name').fill('Favourites');
  await relabel.getByRole('button', { name: 'Relabel' }).click();
  await page.getByRole('table', { name: 'Labels' }).getByRole('rowheader', { name: 'Favourites', exact: true }).waitFor();
  assert.equal((await labelCounts(page)).get('Favourites'), 1);
  await grid.getByRole('option', { name: /^Image 1 of .*, Favourites$/ }).waitFor(); // once the page is fetched again

  // Rename a label in the stats panel.
  const renamed = CATEGORIES[2]!;
  await page.getByRole('button', { name: `Rename label ${renamed}` }).click();
  await page.getByLabel(`New name for ${renamed}`).fill('Places');
  await page.getByRole('button', { name: 'Save' }).click();
  await page.getByRole('table', { name: 'Labels' }).getByRole('rowheader', { name: 'Places', exact: true }).waitFor();
  assert.equal((await labelCounts(page)).get('Places'), expected.labels.get(renamed));

  // Export for StyleGAN2-ADA through the chooser: a plain-named zip in the export folder beside the
  // project, not in the folder the images came from (the chooser showed that one last).
  await page.getByRole('button', { name: 'Export for StyleGAN2-ADA…' }).click();
  const exportDialog = page.getByRole('dialog', { name: 'Export for StyleGAN2-ADA' });
  await exportDialog.getByRole('listbox', { name: `Contents of ${join(root, `${PROJECT_NAME}-exports`)}` }).waitFor();
  assert.equal(await exportDialog.getByLabel('File name').inputValue(), `${PROJECT_NAME}-dataset.zip`);
  await exportDialog.getByRole('button', { name: 'Export', exact: true }).click();
  const archive = join(root, `${PROJECT_NAME}-exports`, `${PROJECT_NAME}-dataset.zip`);
  await page.getByRole('status', { name: 'Export result' }).getByText(`Exported ${expected.images - 2} images with 4 classes to ${archive}`).waitFor();
  assert.equal(readFileSync(archive).subarray(0, 4).toString('latin1'), 'PK\x03\x04', 'a zip archive was written');

  assert.equal(((await page.getByRole('alert').first().textContent()) ?? '').trim(), '', 'no error was shown');
  assert.deepEqual(listProblems(w.problems), [], 'the page logged errors or CSP violations');
});
