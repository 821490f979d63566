/**
 * Metrics in the Train view, end to end: the real `atelier serve`, its train worker on wasm, the
 * bundled MobileNetV2 (a CPU run's judge), the built renderer, Debian's Chromium. A project of 48 Twemoji at 16² is
 * made on the command line; two tiny runs are started from the view with evaluations at every
 * checkpoint (8 dataset and 8 generated images, no time limit): the KID chart draws, the best
 * snapshot's badge shows in the checkpoint list, the note says which network judged and what the
 * numbers compare with, the finished run offers no resume from its newest checkpoint (only branches
 * from older ones); then the compare view shows the two runs' differing settings and curves, and
 * says they were evaluated on different numbers of images (the second run generates 4, not 8).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Locator, Page } from 'playwright-core';
import { emojiStudio, type EmojiStudio, fillByLabel, listProblems, pageWithProject, goToSection } from './harness.js';

const PROJECT_NAME = 'Metrics';
const IMAGES = 48;
/** A tick is 2 steps of 32; a checkpoint every 2 ticks; 4 ticks: two checkpoints, each evaluated. */
const RUN = { tickKimg: '0.064', snapshotTicks: '2', channelBase: '256', backend: 'wasm', evalEvery: '1', evalReals: '8', evalFakes: '8', evalBudget: '0' };
const TIMEOUT = 120_000;

let studio: EmojiStudio | undefined;

before(async () => {
  studio = await emojiStudio('metrics', PROJECT_NAME, IMAGES);
});

after(async () => {
  await studio?.close();
});

/** Fills the new-run form's advanced settings and starts a run. */
async function startRun(page: Page, o: { kimg: string; channelMax: string; seed: string; evalFakes?: string }): Promise<void> {
  const form = page.getByRole('form', { name: 'New run' });
  await form.waitFor();
  // ADA is suggested for this small dataset; these runs compare baselines.
  await form.getByRole('radio', { name: 'Baseline', exact: true }).check();
  await form.getByText('Advanced settings').click();
  await fillByLabel(form, {
    'Channel base': RUN.channelBase,
    'Channel max': o.channelMax,
    'Tick (kimg)': RUN.tickKimg,
    'Checkpoint every (ticks)': RUN.snapshotTicks,
    'Evaluate every (checkpoints)': RUN.evalEvery,
    'Dataset images per evaluation': RUN.evalReals,
    'Generated images per evaluation': o.evalFakes ?? RUN.evalFakes,
    'Evaluation time budget (%)': RUN.evalBudget,
    'Best snapshot by': 'kid',
    'Duration (kimg)': o.kimg,
    Seed: o.seed,
    'Compute backend': RUN.backend,
  });
  await form.getByRole('button', { name: 'Start training' }).click();
}

async function statusIs(page: Page, status: string): Promise<void> {
  await page.getByTestId('run-status').locator(`[data-status="${status}"]`).waitFor({ timeout: TIMEOUT });
}

async function chart(figure: Locator): Promise<{ points: number; legend: string }> {
  return figure.evaluate((f) => ({ points: Number(f.getAttribute('data-points')), legend: (f.querySelector('.u-legend')?.textContent ?? '').replace(/\s+/g, ' ') }));
}

test('a short run with evaluations shows the KID chart and the best badge; the compare view shows two runs', async (t) => {
  const w = await pageWithProject(t, studio!.browser, studio!.server.url, `${PROJECT_NAME}.atelier`, studio!.project);
  const page = w.page;
  const t0 = Date.now();
  const mark = (what: string): void => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
  await goToSection(page, 'Train');

  // Run 1: four ticks, two checkpoints, each evaluated.
  await startRun(page, { kimg: '0.256', channelMax: '32', seed: '1' });
  mark('run 1 started');
  await page.getByRole('region', { name: 'Run 1 · baseline' }).waitFor();
  await statusIs(page, 'done');
  mark('run 1 done');
  const panel = page.getByTestId('metrics-panel');
  const kid = panel.locator('figure[data-chart="KID"]');
  await page.waitForFunction(() => Number(document.querySelector('figure[data-chart="KID"]')?.getAttribute('data-points') ?? 0) >= 2, undefined, { timeout: TIMEOUT });
  const k = await chart(kid);
  assert.ok(k.points >= 2, `KID points: ${k.points}`);
  assert.match(k.legend, /KID:?\s*-?[\d.]+/, `the legend shows the latest KID: ${k.legend}`);
  assert.equal(await panel.locator('figure[data-chart="Precision and recall"]').count(), 1, 'precision and recall are charted too');
  assert.equal(await panel.locator('figure[data-chart="FID"]').count(), 1);
  // The best snapshot: a badge in the checkpoint list, on a checkpoint with a KID value, and its summary.
  const badge = page.getByTestId('best-badge');
  await badge.waitFor();
  assert.equal(await badge.count(), 1);
  const bestRow = page.locator('li[data-checkpoint-id]').filter({ has: badge });
  assert.match((await bestRow.textContent()) ?? '', /KID -?[\d.]+ ± [\d.]+/);
  assert.match((await page.getByTestId('best-snapshot').textContent()) ?? '', /Best\s*KID -?[\d.]+ at [\d.]+ kimg/);
  assert.match((await page.getByTestId('metrics-note').textContent()) ?? '', /judged by MobileNetV2 .* not runs judged by the InceptionV3 or published FID or KID/);
  // Finished: its newest checkpoint cannot be resumed (the service refuses), its older one branches.
  const rows = page.locator('li[data-checkpoint-id]'); // newest first
  assert.equal(await rows.count(), 2);
  assert.equal(await rows.first().getByRole('button', { name: /^Resume/ }).count(), 0);
  assert.match((await rows.first().getByTestId('finished-hint').textContent()) ?? '', /start a new run from its weights/);
  assert.equal(await rows.last().getByRole('button', { name: 'Resume from here' }).count(), 1);
  const bestIsNewest = (await rows.first().getByTestId('best-badge').count()) === 1;
  assert.equal(await page.getByTestId('best-snapshot').getByRole('button', { name: 'Resume from the best snapshot' }).count(), bestIsNewest ? 0 : 1, `best is the newest: ${bestIsNewest}`);
  await panel.scrollIntoViewIfNeeded();
  await page.screenshot({ path: '/tmp/atelier-metrics.png' });

  // Run 2: another seed and width, two ticks, one evaluation of 4 generated images (the dataset's features are cached).
  await page.getByRole('button', { name: 'New run', exact: true }).click();
  await startRun(page, { kimg: '0.128', channelMax: '16', seed: '2', evalFakes: '4' });
  await page.getByRole('region', { name: 'Run 2 · baseline' }).waitFor();
  await statusIs(page, 'done');
  await page.waitForFunction(() => Number(document.querySelector('figure[data-chart="KID"]')?.getAttribute('data-points') ?? 0) >= 1, undefined, { timeout: TIMEOUT });
  mark('run 2 done');

  // Compare: the settings that differ, the best snapshots, both runs on the charts.
  await page.getByRole('button', { name: 'Compare', exact: true }).click();
  const compare = page.getByTestId('compare-runs');
  await compare.waitFor();
  await compare.getByLabel('Run A').selectOption({ label: 'Run 1 · baseline' });
  await compare.getByLabel('Run B').selectOption({ label: 'Run 2 · baseline' });
  const table = compare.getByRole('table', { name: 'Settings that differ' });
  await table.getByRole('row', { name: /net\.channelMax/ }).waitFor();
  const rowText = async (name: RegExp): Promise<string> => ((await table.getByRole('row', { name }).textContent()) ?? '').replace(/\s+/g, ' ');
  assert.match(await rowText(/net\.channelMax/), /net\.channelMax ?32 ?16/);
  assert.match(await rowText(/^seed/), /seed ?1 ?2/);
  assert.match(await rowText(/best snapshot/), /KID -?[\d.]+ at [\d.]+ kimg.*KID -?[\d.]+ at [\d.]+ kimg/);
  const kidBoth = await chart(compare.locator('figure[data-chart="KID"]'));
  assert.ok(kidBoth.points >= 2);
  assert.match(kidBoth.legend, /Run 1 · baseline: KID.*Run 2 · baseline: KID/, kidBoth.legend);
  assert.equal(await compare.locator('figure[data-chart="Losses"]').count(), 1);
  assert.equal(await compare.getByTestId('compare-samples').textContent(), 'These runs were evaluated on different numbers of images; compare the shapes of the curves, not the values.');
  await page.screenshot({ path: '/tmp/atelier-compare.png' });
  mark('compared');

  assert.deepEqual(listProblems(w.problems), [], 'the page logged errors or CSP violations');
});
