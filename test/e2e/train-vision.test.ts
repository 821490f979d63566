/**
 * The vision-aided preset in the browser mode, end to end: the real `atelier serve`, its train
 * worker on wasm with nsfwjs' MobileNetV2 as the one judge to pick from, the built renderer,
 * Debian's Chromium. Before Start the form shows the judges' settings (the two lists as text
 * fields), a cost estimate with its source, and measures the judge's cost on this machine; while the run trains, its Judges panel lists the
 * networks the studio has (licence, training data), says when the first judge is picked, then what
 * it added and how well it told the images from the samples, and draws the judge's chart; after a
 * reload the selection is read back from the run's checkpoint.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { emojiStudio, type EmojiStudio, fillByLabel, listProblems, pageWithProject, goToSection } from './harness.js';

const PROJECT_NAME = 'Judged';
const IMAGES = 32;
/** 2 ticks of a tiny net at batch 8; the judge (32² input) joins at the first tick and trains through the second. */
const RUN = { kimg: '0.064', tickKimg: '0.032', batch: '8', channelBase: '256', channelMax: '16', backend: 'wasm' };
const VISION = { backbones: 'mobilenetv2', k: '1', input: '32', warmup: '0', selectAt: '0.032' };
const MV2 = 'MobileNetV2 ×1.4 (nsfwjs “mid”)';
const TRAINING_TIMEOUT = 100_000;
const SCREENSHOT = '/tmp/atelier-train-vision.png';

let studio: EmojiStudio | undefined;

before(async () => {
  studio = await emojiStudio('vision', PROJECT_NAME, IMAGES);
});

after(async () => {
  await studio?.close();
});

const squash = (s: string | null): string => (s ?? '').replace(/\s+/g, ' ').trim();

test('a vision-aided run picks a judge and its Judges panel says which, when and why', async (t) => {
  const w = await pageWithProject(t, studio!.browser, studio!.server.url, `${PROJECT_NAME}.atelier`, studio!.project);
  const page = w.page;
  await goToSection(page, 'Train');
  const form = page.getByRole('form', { name: 'New run' });
  await form.waitFor({ timeout: 60_000 }); // the compute probe (a worker) comes first: slow on a busy machine

  // The form: the judges' settings (lists as text, checked as typed) and what the judges cost, with its source.
  await form.getByRole('radio', { name: 'Vision-aided — learns faster from few images' }).check();
  assert.match(squash(await form.getByTestId('expect-judges').textContent()), /each judge added about 5\.5–7 s to a step .*bench\/results\/vision-ablation-16px-100img-1kimg\.json/);
  await form.getByText('Advanced settings').click();
  const judges = form.getByRole('group', { name: 'Vision-aided judges' });
  await judges.waitFor();
  await fillByLabel(judges, { 'Pretrained judges to pick from': 'mobilenetv2,clip' });
  await judges.getByText('there is no bundled network "clip"').waitFor();
  assert.equal(await form.getByRole('button', { name: 'Start training' }).isDisabled(), true, 'a bad list holds Start back');
  await fillByLabel(judges, {
    'Pretrained judges to pick from': VISION.backbones,
    'Judges at most (k)': VISION.k,
    'Judges’ image size': VISION.input,
    'Judge warm-up (kimg)': VISION.warmup,
    'Add judges at (kimg)': VISION.selectAt,
  });
  await form.getByRole('checkbox', { name: /^Automatic: \d+ images per step/ }).uncheck();
  await form.getByLabel('Batch size').fill(RUN.batch);
  await fillByLabel(form, {
    'Channel base': RUN.channelBase,
    'Channel max': RUN.channelMax,
    'Tick (kimg)': RUN.tickKimg,
    'Evaluate every (checkpoints)': '0',
    'Duration (kimg)': RUN.kimg,
    'Compute backend': RUN.backend,
  });
  // What the judges cost per step, measured on this machine with these settings (a worker, seconds).
  await form.getByRole('button', { name: 'Measure on this machine' }).click();
  const cost = form.getByTestId('judge-cost');
  await cost.waitFor({ timeout: 60_000 });
  assert.match(squash(await cost.textContent()), /^Measured here on your processor, \d+ cores? \(wasm\), batch 8, judges’ images at 32 × 32: MobileNetV2 ×1\.4 \(nsfwjs “mid”\) \d+(\.\d+)? s per step each\.$/);
  await form.getByRole('button', { name: 'Start training' }).click();

  // The Judges panel: the schedule in words, the networks the studio has, then the pick.
  await page.getByRole('region', { name: 'Run 1 · vision-aided' }).waitFor();
  const panel = page.getByTestId('judges');
  await panel.waitFor({ timeout: 30_000 });
  assert.match(squash(await panel.locator('.intro').textContent()), /adds one of them, at 0\.032 kimg; each judge steers the generator as soon as it joins\. They see the images at 32 × 32\./);
  await panel.getByText('The pretrained networks the studio has').click();
  const cells = async (id: string): Promise<string[]> => (await panel.locator(`tr[data-backbone="${id}"]`).locator('th, td').allTextContents()).map(squash);
  const [name, use, licence, data] = await cells('mobilenetv2');
  assert.equal(name, `${MV2}mobilenetv2`);
  assert.match(use!, /^(may pick|picked)$/);
  assert.match(licence!, /^MIT \(nsfwjs\); base network Apache-2\.0/);
  assert.match(data!, /^ImageNet \(pretraining\), then nsfwjs’ ~60,000 web images/);
  assert.equal((await cells('inception'))[1], 'not offered');

  const picked = panel.getByTestId('judge-selections').getByRole('listitem');
  await picked.first().waitFor({ timeout: TRAINING_TIMEOUT });
  const sentence = /^Added MobileNetV2 ×1\.4 \(nsfwjs “mid”\) at 0\.0\d+ kimg: it told your images from the samples \d+% of the time\.$/;
  assert.match(squash(await picked.first().textContent()), sentence);
  assert.equal(await picked.count(), 1, 'k = 1: one judge');
  assert.equal(await panel.getByTestId('judge-next').count(), 0, 'no judge left to pick');
  assert.equal((await cells('mobilenetv2'))[1], 'picked');

  // It trains to the end; the judge's chart draws its losses and its own p from the tick statistics.
  await page.getByTestId('run-status').locator('[data-status="done"]').waitFor({ timeout: TRAINING_TIMEOUT });
  const chart = panel.locator(`figure[data-chart="Judge: ${MV2}"]`);
  await page.waitForFunction((title) => Number(document.querySelector(`figure[data-chart="${title}"]`)?.getAttribute('data-points')) >= 1, `Judge: ${MV2}`, { timeout: 20_000 });
  const legend = squash(await chart.locator('.u-legend').textContent());
  assert.match(legend, /its loss:?\s*-?[\d.]+/, legend);
  assert.match(legend, /how often altered \(p\):?\s*[\d.]+/, legend);
  await panel.screenshot({ path: SCREENSHOT });

  // Read back from the run's newest checkpoint after a reload (no live progress any more).
  await page.reload();
  await goToSection(page, 'Train');
  await page.getByTestId('judges').getByTestId('judge-selections').getByRole('listitem').first().waitFor({ timeout: 20_000 });
  assert.match(squash(await page.getByTestId('judge-selections').getByRole('listitem').first().textContent()), sentence);

  assert.equal(squash(await page.getByRole('alert').first().textContent()), '', 'no error was shown');
  assert.deepEqual(listProblems(w.problems), [], 'the page logged errors or CSP violations');
});
