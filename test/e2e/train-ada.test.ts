/**
 * The ADA preset in the browser mode, end to end: the real `atelier serve`, its train worker on
 * wasm, the built renderer, Debian's Chromium. With 48 real Twemoji at 16 × 16 the Train view
 * suggests "ADA — for small datasets" with its two-sentence explanation and picks it; the
 * augmentation settings show for it (and hide for Baseline); a short ADA run trains to the end and
 * its "Augmentation" chart draws the strength p and r_t with the target as a line.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { emojiStudio, type EmojiStudio, fillByLabel, listProblems, pageWithProject, goToSection } from './harness.js';

const SCREENSHOT = '/tmp/atelier-train-ada.png';
const PROJECT_NAME = 'Small';
const IMAGES = 48;
/** 4 ticks of a tiny net on wasm; a few seconds each on a busy machine. */
const RUN = { kimg: '0.192', tickKimg: '0.048', channelBase: '256', channelMax: '16', target: '0.5', speed: '0.5', backend: 'wasm' };
const TRAINING_TIMEOUT = 120_000;

let studio: EmojiStudio | undefined;

before(async () => {
  studio = await emojiStudio('ada', PROJECT_NAME, IMAGES);
});

after(async () => {
  await studio?.close();
});

test('ADA is suggested for 48 images; an ADA run draws p and r_t with the target', async (t) => {
  const w = await pageWithProject(t, studio!.browser, studio!.server.url, `${PROJECT_NAME}.atelier`, studio!.project);
  const page = w.page;
  await goToSection(page, 'Train');
  const form = page.getByRole('form', { name: 'New run' });
  await form.waitFor();

  // The ADA card: suggested, picked, explained in two plain sentences.
  const ada = form.getByRole('radio', { name: 'ADA — for small datasets' });
  assert.equal(await ada.isChecked(), true, 'ADA is picked');
  const card = form.locator('label.card', { has: page.getByRole('radio', { name: 'ADA — for small datasets' }) });
  const cardText = ((await card.textContent()) ?? '').replace(/\s+/g, ' ');
  assert.match(cardText, /Suggested/);
  assert.match(cardText, /The discriminator only ever sees augmented images .* so it cannot memorise the few real ones\. How often images are augmented adapts by itself/);
  assert.match(cardText, /Suggested because with 48 images, the discriminator would soon memorise them/);

  // Advanced: the augmentation settings for ADA, not for Baseline.
  await form.getByText('Advanced settings').click();
  const augmentation = form.getByRole('group', { name: 'Augmentation (ADA)' });
  await augmentation.waitFor();
  await form.getByRole('radio', { name: 'Baseline', exact: true }).check();
  await augmentation.waitFor({ state: 'detached' });
  await ada.check();
  await fillByLabel(augmentation, { Pipeline: 'bgc', 'Overfitting target (r_t)': RUN.target, 'Adaptation speed (kimg)': RUN.speed });
  await fillByLabel(form, { 'Channel base': RUN.channelBase, 'Channel max': RUN.channelMax, 'Tick (kimg)': RUN.tickKimg, 'Duration (kimg)': RUN.kimg, 'Compute backend': RUN.backend });
  await form.getByText('Advanced settings (6 changed)').waitFor();
  await form.getByRole('button', { name: 'Start training' }).click();

  // It trains to the end; the Augmentation chart draws p, r_t and the target at every tick.
  await page.getByRole('region', { name: 'Run 1 · ada' }).waitFor();
  await page.getByTestId('run-status').locator('[data-status="done"]').waitFor({ timeout: TRAINING_TIMEOUT });
  const chart = page.locator('figure[data-chart="Augmentation"]');
  await page.waitForFunction(() => Number(document.querySelector('figure[data-chart="Augmentation"]')?.getAttribute('data-points')) >= 4, undefined, { timeout: 20_000 });
  assert.ok(await chart.locator('.uplot canvas').count() > 0, 'drawn on a canvas');
  const legend = ((await chart.locator('.u-legend').textContent()) ?? '').replace(/\s+/g, ' ');
  assert.match(legend, /how often altered \(p\):?\s*[\d.]+/, legend);
  assert.match(legend, /overfitting signal \(r_t\):?\s*-?[\d.]+/, legend);
  assert.match(legend, /its target:?\s*0\.5/, legend);
  assert.match(((await chart.textContent()) ?? '').replace(/\s+/g, ' '), /Images are altered more often while the overfitting signal \(how surely the critic calls your images real; expert: r_t\) is above 0\.5/);
  await chart.screenshot({ path: SCREENSHOT });
  const titles = await page.locator('figure[data-chart]').evaluateAll((fs) => fs.map((f) => f.getAttribute('data-chart')));
  assert.deepEqual(titles, ['Training balance', 'What the critic thinks', 'Augmentation', 'Speed']);

  await page.getByText('Settings and checkpoints of this run').click();
  const settings = ((await page.locator('details.settings').textContent()) ?? '').replace(/\s+/g, ' ');
  assert.match(settings, /augment\.kind ?ada/);
  assert.match(settings, /augment\.pipe ?bgc/);
  assert.match(settings, /augment\.target ?0\.5/);
  assert.match(settings, /augment\.speedKimg ?0\.5/);
  assert.equal(((await page.getByRole('alert').first().textContent()) ?? '').trim(), '', 'no error was shown');
  assert.deepEqual(listProblems(w.problems), [], 'the page logged errors or CSP violations');
});
