/**
 * The Train view in the browser mode, end to end: the real `atelier serve`, its train worker on
 * the wasm backend, the built renderer, Debian's Chromium. A project with 48 real Twemoji at
 * 16 × 16 is made through the command line (fast), opened in the UI, and a tiny run is started
 * from the view: the test then watches what a user watches — the preview grid refreshing, the
 * charts drawing, kimg going up — pauses (a checkpoint is written), resumes (kimg goes on from
 * the pause, not from 0) and stops it.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { emojiStudio, type EmojiStudio, fillByLabel, listProblems, pageWithProject, goToSection } from './harness.js';

const SCREENSHOT = '/tmp/atelier-train.png';
const PROJECT_NAME = 'Critters';
const IMAGES = 48;
/**
 * A run this small takes a couple of seconds per tick (2 steps of 32 images) on wasm. The test
 * pauses and stops it long before its duration, which only has to outlast a fast machine.
 */
const RUN = { kimg: '4', tickKimg: '0.064', channelBase: '256', channelMax: '32', backend: 'wasm' };
/** Starting a worker (TF.js, wasm, the dataset) and a few ticks; generous for a busy machine. */
const TRAINING_TIMEOUT = 60_000;

let studio: EmojiStudio | undefined;

before(async () => {
  studio = await emojiStudio('train', PROJECT_NAME, IMAGES);
});

after(async () => {
  await studio?.close();
});

/** The number in "0.128 of 0.64 kimg" (the run panel's Done figure) or "at 0.128 kimg" (the preview's caption). */
function kimgIn(text: string | null): number {
  const m = /([\d.,]+)/.exec(text ?? '');
  assert.ok(m, `a kimg figure in ${JSON.stringify(text)}`);
  return Number(m[1]!.replace(/,/g, ''));
}

async function kimgOf(locator: Locator): Promise<number> {
  return kimgIn(await locator.textContent());
}

/** Waits until the run's status badge says `status`. */
async function statusIs(page: Page, status: string, timeout = TRAINING_TIMEOUT): Promise<void> {
  await page.getByTestId('run-status').locator(`[data-status="${status}"]`).waitFor({ timeout });
}

/** Waits until `locator`'s kimg figure is above `than`; returns it. */
async function kimgAbove(page: Page, testId: string, than: number, timeout = TRAINING_TIMEOUT): Promise<number> {
  await page.waitForFunction(
    ([id, min]) => {
      const text = document.querySelector(`[data-testid="${id}"]`)?.textContent ?? '';
      const m = /([\d.,]+)/.exec(text);
      return m !== null && Number(m[1]!.replace(/,/g, '')) > (min as number);
    },
    [testId, than] as const,
    { timeout },
  );
  return kimgOf(page.getByTestId(testId));
}

/** Each chart's drawn points (kimg values) and whether its canvas is there. */
async function charts(page: Page): Promise<Array<{ title: string; points: number; canvas: boolean; legend: string }>> {
  return page.locator('figure[data-chart]').evaluateAll((figures) =>
    figures.map((f) => ({
      title: f.getAttribute('data-chart') ?? '',
      points: Number(f.getAttribute('data-points')),
      canvas: f.querySelector('.uplot canvas') !== null,
      legend: (f.querySelector('.u-legend')?.textContent ?? '').replace(/\s+/g, ' '),
    })),
  );
}

test('start a short run, watch the preview grid and the charts update, pause, resume, stop', async (t) => {
  // Open the project made on the command line.
  const w = await pageWithProject(t, studio!.browser, studio!.server.url, `${PROJECT_NAME}.atelier`, studio!.project);
  const page = w.page;
  const t0 = Date.now();
  const mark = (what: string): void => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);

  // The Train view: ADA suggested for 48 images (test/e2e/train-ada.test.ts runs it); Baseline picked here, and defaults from the dataset.
  await goToSection(page, 'Train');
  const form = page.getByRole('form', { name: 'New run' });
  await form.waitFor();
  assert.equal(await form.getByRole('radio', { name: 'ADA — for small datasets' }).isChecked(), true, 'the suggested preset is picked');
  const baseline = form.getByRole('radio', { name: 'Baseline', exact: true });
  await baseline.check();
  assert.equal(await baseline.isChecked(), true, 'Baseline is picked');
  const formText = ((await form.textContent()) ?? '').replace(/\s+/g, ' ');
  assert.match(formText, /StyleGAN2-style generator/, 'the card says what the preset does');
  assert.match(formText, new RegExp(`${IMAGES} images at 16 × 16, RGB, no labels`));
  assert.ok(Number(await form.getByLabel('Duration (kimg)').inputValue()) > 0, 'a default duration');
  await form.getByText(/Automatic: \d+ images per step/).waitFor();
  assert.equal(await form.getByRole('checkbox', { name: /Use the .* labels as classes/ }).count(), 0, 'no labels, no conditional option');

  mark('form shown');
  // A tiny run: advanced capacity and tick, a short duration, wasm.
  await form.getByText('Advanced settings').click();
  await fillByLabel(form, { 'Channel base': RUN.channelBase, 'Channel max': RUN.channelMax, 'Tick (kimg)': RUN.tickKimg, 'Duration (kimg)': RUN.kimg, 'Compute backend': RUN.backend });
  await form.getByText('Advanced settings (3 changed)').waitFor();
  // The compute report: probed in a worker, a spinner meanwhile.
  await form.getByTestId('compute-chosen').waitFor({ timeout: 60_000 });
  assert.match((await form.getByTestId('compute-chosen').textContent()) ?? '', /^Automatic uses .+\.$/);

  mark('compute report shown');
  await form.getByRole('button', { name: 'Start training' }).click();

  mark('started');
  // Running, listed, on the backend asked for.
  const panel = page.getByRole('region', { name: 'Run 1 · baseline' });
  await panel.waitFor();
  await statusIs(page, 'running');
  const runs = page.getByRole('list', { name: 'Training runs' });
  await runs.getByRole('button', { name: /^Run 1 · baseline Running/ }).waitFor();
  assert.equal(await runs.getByRole('button', { name: 'Delete run Run 1 · baseline' }).isDisabled(), true, 'a running run cannot be deleted');
  await page.getByTestId('run-backend').filter({ hasText: RUN.backend }).waitFor({ timeout: TRAINING_TIMEOUT });

  // Record every kimg figure the panel shows from here on (to check resume never goes back).
  // (No named functions inside evaluate: tsx would wrap them in a helper the page lacks.)
  await page.evaluate(() => {
    const seen: Array<{ at: number; text: string }> = [];
    (window as unknown as { __kimgSeen: typeof seen }).__kimgSeen = seen;
    seen.push({ at: performance.now(), text: document.querySelector('[data-testid="kimg-done"]')?.textContent ?? '' });
    new MutationObserver(() => {
      const text = document.querySelector('[data-testid="kimg-done"]')?.textContent ?? '';
      if (seen[seen.length - 1]?.text !== text) seen.push({ at: performance.now(), text });
    }).observe(document.body, { childList: true, subtree: true, characterData: true });
  });

  mark('running on the backend');
  // The preview grid appears (a decoded PNG), then refreshes at a later kimg.
  const preview = page.getByRole('img', { name: /^Samples from fixed seeds at / });
  await preview.waitFor({ timeout: TRAINING_TIMEOUT });
  await page.waitForFunction(() => {
    const img = document.querySelector<HTMLImageElement>('img[data-preview-id]');
    return img !== null && img.complete && img.naturalWidth > 0;
  });
  // The grid's id and its kimg line are read together: the grid may refresh between two reads.
  const shown = (): Promise<{ id: string | null; kimg: string }> =>
    page.evaluate(() => ({
      id: document.querySelector('img[data-preview-id]')?.getAttribute('data-preview-id') ?? null,
      kimg: document.querySelector('[data-testid="preview-kimg"]')?.textContent ?? '',
    }));
  const first = await shown();
  const firstPreview = kimgIn(first.kimg);
  const laterPreview = await kimgAbove(page, 'preview-kimg', firstPreview);
  assert.notEqual((await shown()).id, first.id, 'a new grid was fetched');
  assert.equal(await preview.evaluate((img: HTMLImageElement) => getComputedStyle(img).imageRendering), 'pixelated', '16 px samples keep hard edges');
  assert.ok(laterPreview > firstPreview);

  mark('preview refreshed');
  // The charts: drawn on canvases, with points, and the legend shows the latest values.
  await page.waitForFunction(() => Array.from(document.querySelectorAll('figure[data-chart]')).every((f) => Number(f.getAttribute('data-points')) >= 2));
  let drawn = await charts(page);
  assert.deepEqual(
    drawn.map((c) => c.title),
    ['Training balance', 'What the critic thinks', 'Speed'],
  );
  for (const c of drawn) assert.ok(c.canvas && c.points >= 2, `${c.title}: a canvas with points (${c.points})`);
  assert.match(drawn[0]!.legend, /generator:?\s*-?[\d.]+/, 'the balance legend shows the generator’s loss');
  assert.match(drawn[1]!.legend, /score of your images:?\s*-?[\d.]+/, 'the critic legend shows its score of the real images');
  assert.match(drawn[2]!.legend, /images\/s:?\s*[\d.]+/, 'the speed legend shows images/s');
  // The plots follow their boxes' width (a narrower window: one column of charts).
  const plotWidths = (): Promise<Array<{ plot: number; box: number }>> =>
    page.locator('figure[data-chart] .plot').evaluateAll((boxes) =>
      boxes.map((b) => ({ plot: b.querySelector('.uplot')?.getBoundingClientRect().width ?? 0, box: b.getBoundingClientRect().width })),
    );
  const wide = await plotWidths();
  await page.setViewportSize({ width: 1000, height: 860 });
  await page.waitForFunction(
    (before) => Array.from(document.querySelectorAll('figure[data-chart] .plot')).every((b, i) => {
      const plot = b.querySelector('.uplot')?.getBoundingClientRect().width ?? 0;
      return plot !== before[i]!.plot && plot <= b.getBoundingClientRect().width;
    }),
    wide,
  );
  await page.setViewportSize({ width: 1280, height: 860 });
  await page.waitForFunction((before) => Array.from(document.querySelectorAll('figure[data-chart] .uplot')).every((u, i) => u.getBoundingClientRect().width === before[i]!.plot), wide);
  for (const w of wide) assert.ok(w.plot > 200 && w.plot <= w.box, `a plot fills its box: ${w.plot} of ${w.box} px`);

  // Mark the canvases: the same ones must still be there later (the plots are fed, not re-made).
  await page.locator('figure[data-chart] .uplot canvas').evaluateAll((cs) => cs.forEach((c) => c.setAttribute('data-first', '1')));
  const pointsBefore = drawn.map((c) => c.points);

  // kimg done goes up; images/s is shown.
  const doneBefore = await kimgOf(page.getByTestId('kimg-done'));
  await kimgAbove(page, 'kimg-done', doneBefore);
  assert.match((await page.getByTestId('img-per-sec').textContent()) ?? '', /^[\d.,]+ images\/s$/);

  mark('kimg went up');
  // Pause: a checkpoint is written and the run says where it can resume from.
  await panel.getByRole('button', { name: 'Pause', exact: true }).click();
  await statusIs(page, 'paused');
  const checkpoint = await kimgOf(page.getByTestId('latest-checkpoint'));
  assert.ok(checkpoint > 0, 'a checkpoint exists');
  const pausedAt = await kimgOf(page.getByTestId('kimg-done'));
  assert.equal(pausedAt, checkpoint, 'paused exactly at its checkpoint');
  assert.ok(pausedAt < Number(RUN.kimg), 'paused before the end');
  const resume = panel.getByRole('button', { name: `Resume from checkpoint at ${checkpoint} kimg` });
  await resume.waitFor();
  const pointsAtPause = (await charts(page)).map((c) => c.points);

  mark('paused');
  // Resume: running again, and kimg goes on from the checkpoint, never back to 0.
  const resumedAt = await page.evaluate(() => performance.now());
  await resume.click();
  await statusIs(page, 'running');
  await kimgAbove(page, 'preview-kimg', pausedAt);
  await kimgAbove(page, 'kimg-done', pausedAt);
  await page.screenshot({ path: SCREENSHOT }); // mid-run: status, figures, grid and charts

  mark('resumed and went on');

  // Stop: saved and stopped for good (it could still be resumed later).
  await panel.getByRole('button', { name: 'Stop', exact: true }).click();
  await statusIs(page, 'stopped');
  const stoppedAt = await kimgOf(page.getByTestId('kimg-done'));
  assert.ok(stoppedAt > pausedAt && stoppedAt < Number(RUN.kimg), `stopped at ${stoppedAt} kimg, after the pause and before the end`);
  assert.equal(await kimgOf(page.getByTestId('latest-checkpoint')), stoppedAt, 'a checkpoint where it stopped');
  await panel.getByRole('button', { name: `Resume from checkpoint at ${stoppedAt} kimg` }).waitFor();
  assert.equal(await runs.getByRole('button', { name: 'Delete run Run 1 · baseline' }).isDisabled(), false, 'a stopped run can be deleted');
  const seen = await page.evaluate(() => (window as unknown as { __kimgSeen: Array<{ at: number; text: string }> }).__kimgSeen);
  const sinceResume = seen.filter((s) => s.at >= resumedAt).map((s) => kimgIn(s.text));
  assert.ok(sinceResume.length > 0 && sinceResume.every((k) => k >= pausedAt), `after resuming, kimg never went below ${pausedAt}: ${sinceResume.join(', ')}`);
  const allSeen = seen.map((s) => kimgIn(s.text));
  assert.ok(
    allSeen.every((k, i) => i === 0 || k >= allSeen[i - 1]!),
    `kimg done only went up: ${allSeen.join(', ')}`,
  );
  mark('stopped');

  // The charts grew on the same canvases.
  drawn = await charts(page);
  drawn.forEach((c, i) => assert.ok(c.points > pointsAtPause[i]! && pointsAtPause[i]! >= pointsBefore[i]!, `${c.title} grew: ${pointsBefore[i]} → ${pointsAtPause[i]} → ${c.points}`));
  assert.equal(await page.locator('figure[data-chart] .uplot canvas[data-first="1"]').count(), drawn.length, 'the plots were updated in place');

  // Transfer learning: a second run starts from the first one's weights, D's first block frozen.
  await page.getByRole('button', { name: 'New run', exact: true }).click();
  const form2 = page.getByRole('form', { name: 'New run' });
  await form2.getByRole('radio', { name: 'Baseline', exact: true }).check();
  await form2.getByLabel('Weights to start from').selectOption({ index: 1 });
  await form2.getByLabel('Frozen D blocks').fill('1');
  await form2.getByText('Advanced settings').click();
  await fillByLabel(form2, { 'Channel base': RUN.channelBase, 'Channel max': RUN.channelMax, 'Tick (kimg)': RUN.tickKimg, 'Duration (kimg)': RUN.tickKimg, 'Compute backend': RUN.backend });
  await form2.getByRole('button', { name: 'Start training' }).click();
  await runs.getByRole('button', { name: /^Run 2 · baseline/ }).waitFor();
  await statusIs(page, 'done');
  await page.getByText('Settings and checkpoints of this run').click();
  const settingsText = ((await page.locator('details.settings').textContent()) ?? '').replace(/\s+/g, ' ');
  assert.match(settingsText, /transferFrom\.runId ?1/, 'the run started from run 1');
  assert.match(settingsText, /freezeD ?1/, 'with D\'s first block frozen');
  assert.ok((await kimgOf(page.getByTestId('preview-kimg'))) > 0, 'it trained from those weights and drew a preview');
  mark('transfer run done');

  assert.equal(((await page.getByRole('alert').first().textContent()) ?? '').trim(), '', 'no error was shown');
  assert.deepEqual(listProblems(w.problems), [], 'the page logged errors or CSP violations');
  mark('checked');
});
