/**
 * The first hour in the Train view, end to end (the real `atelier serve`, its train worker on
 * wasm, the bundled MobileNetV2, the built renderer, Debian's Chromium; 48 Twemoji at 16²):
 *  - before Start, the form says what to expect from this machine's measured speed (a speed table
 *    in the server's per-user folder, written here as a run would have left it): images/s, how
 *    long until samples usually become recognisable, how long the chosen duration takes — and the
 *    numbers follow the duration typed;
 *  - a tiny CPU run is judged while it trains (evaluations at its checkpoints, MobileNetV2), and
 *    the panel shows the quality on its 0–100 scale with both ends named, the judge, samples
 *    beside their closest training image, the KID one click away, and never "No evaluation yet"
 *    beside a result;
 *  - the finished run says in plain words how it turned out and offers Continue training, which
 *    lengthens the run and goes on from its last checkpoint.
 * The run's evaluation budget is lifted (0: no limit): a run this tiny trains for a few seconds,
 * less on an idle machine than the judge takes to load, so any budget would leave its evaluations
 * for later; the 10% pacing over a real run is checked in test/unit/metrics/first-hour.test.ts.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Page } from 'playwright-core';
import { emojiStudio, type EmojiStudio, fillByLabel, listProblems, pageWithProject, goToSection } from './harness.js';

const PROJECT_NAME = 'Firsthour';
const IMAGES = 48;
/** This machine's measured speed at 16² on wasm, as a finished default run leaves it. */
const MEASURED = 40;
/** Three checkpoints of two ticks (2 steps of 32 each), each evaluated on 16 dataset and 8 generated images. */
const RUN = { kimg: '0.384', tickKimg: '0.064', snapshotTicks: '2', channelBase: '256', channelMax: '32', evalEvery: '1', evalReals: '16', evalFakes: '8', evalBudget: '0', backend: 'wasm' };
const TIMEOUT = 180_000;

let studio: EmojiStudio | undefined;

before(async () => {
  studio = await emojiStudio('first-hour', PROJECT_NAME, IMAGES);
  writeFileSync(join(studio.home, 'speeds.json'), JSON.stringify({ 'wasm@16': { imgPerSec: MEASURED, samples: 3, updatedAt: new Date().toISOString() } }));
});

after(async () => {
  await studio?.close();
});

const text = async (page: Page, testId: string): Promise<string> => ((await page.getByTestId(testId).first().textContent()) ?? '').replace(/\s+/g, ' ').trim();
/** "about 21 min" → 21; "under a minute" → 0. */
const minutes = (s: string): number => (/under a minute/.test(s) ? 0 : Number(/about (\d+) min/.exec(s)?.[1] ?? NaN));

test('the form says what to expect; a CPU run is judged while it trains; a finished short run says so and continues', async (t) => {
  const w = await pageWithProject(t, studio!.browser, studio!.server.url, `${PROJECT_NAME}.atelier`, studio!.project);
  const page = w.page;
  const t0 = Date.now();
  const mark = (what: string): void => t.diagnostic(`${((Date.now() - t0) / 1000).toFixed(1)} s: ${what}`);
  await goToSection(page, 'Train');
  const form = page.getByRole('form', { name: 'New run' });
  await form.waitFor();
  await form.getByRole('radio', { name: 'Baseline', exact: true }).check();
  await form.getByLabel('Compute backend').selectOption('wasm');

  // Expectations before Start: this machine's speed, the time to recognisable samples, the run's length.
  const expect = form.getByTestId('expectation');
  await expect.getByTestId('expect-rate').waitFor({ timeout: 60_000 });
  const line = ((await expect.textContent()) ?? '').replace(/\s+/g, ' ');
  assert.match(line, /On your processor(, \d+ cores?)? \(wasm\) this trains at about 40 images\/s \(measured on this machine\)\./, line);
  const kimg = Number(await form.getByLabel('Duration (kimg)').inputValue());
  const recognisableKimg = Number(/\((\d+) kimg\); this run of/.exec(line)?.[1]);
  assert.ok(recognisableKimg > 0 && kimg >= recognisableKimg, `the default duration (${kimg} kimg) reaches recognisable samples (${recognisableKimg} kimg)`);
  assert.equal(minutes(await text(page, 'expect-recognisable')), Math.round((recognisableKimg * 1000) / MEASURED / 60), line);
  assert.equal(minutes(await text(page, 'expect-duration')), Math.round((kimg * 1000) / MEASURED / 60), line);
  assert.equal(await form.getByTestId('expect-short').count(), 0, 'the default run is not called short');
  await page.screenshot({ path: '/tmp/atelier-first-hour-form.png' });
  // A longer duration takes longer; a shorter one than recognisable is said to end blurry.
  await form.getByLabel('Duration (kimg)').fill(String(kimg * 2));
  await page.waitForFunction((m) => /about (\d+) min/.exec(document.querySelector('[data-testid="expect-duration"]')?.textContent ?? '')?.[1] === String(m), Math.round((kimg * 2 * 1000) / MEASURED / 60));
  await form.getByLabel('Duration (kimg)').fill('5');
  assert.match(await text(page, 'expect-short'), /^It ends before that: expect blurry samples/);
  assert.equal(minutes(await text(page, 'expect-duration')), Math.round(5000 / MEASURED / 60));
  // The compute line in plain words.
  assert.match(await text(page, 'compute-chosen'), /^Automatic uses your (processor, \d+ cores? \(\w+\)|graphics card \([\w-]+\)|NVIDIA graphics card \([\w-]+\))\.$/);
  mark('expectations checked');

  // A tiny run with evaluations at every checkpoint.
  await form.getByText('Advanced settings').click();
  await fillByLabel(form, {
    'Channel base': RUN.channelBase,
    'Channel max': RUN.channelMax,
    'Tick (kimg)': RUN.tickKimg,
    'Checkpoint every (ticks)': RUN.snapshotTicks,
    'Evaluate every (checkpoints)': RUN.evalEvery,
    'Dataset images per evaluation': RUN.evalReals,
    'Generated images per evaluation': RUN.evalFakes,
    'Evaluation time budget (%)': RUN.evalBudget,
    'Duration (kimg)': RUN.kimg,
  });
  assert.match(await text(page, 'expectation'), /your capacity settings change it/);
  // Record what the panel shows as it changes: was the quality on screen while the run was still training?
  await page.evaluate(() => {
    const seen: Array<{ status: string; quality: boolean; none: boolean }> = [];
    (window as unknown as { __seen: typeof seen }).__seen = seen;
    new MutationObserver(() => {
      seen.push({
        status: document.querySelector('[data-testid="run-status"] [data-status]')?.getAttribute('data-status') ?? '',
        quality: document.querySelector('[data-testid="quality-score"]') !== null,
        none: document.querySelector('[data-testid="no-evaluation"]') !== null,
      });
    }).observe(document.body, { childList: true, subtree: true, characterData: true, attributes: true });
  });
  await form.getByRole('button', { name: 'Start training' }).click();
  const panel = page.getByRole('region', { name: 'Run 1 · baseline' });
  await panel.waitFor();
  assert.match(await text(page, 'run-backend'), /^(your processor(, \d+ cores?)? \(wasm\)|not started yet)$/);
  mark('started');

  await page.getByTestId('run-status').locator('[data-status="done"]').waitFor({ timeout: TIMEOUT });
  mark('done');
  const seen = await page.evaluate(() => (window as unknown as { __seen: Array<{ status: string; quality: boolean; none: boolean }> }).__seen);
  assert.ok(seen.some((s) => s.status === 'running' && s.quality), `the quality showed while the run was training: ${JSON.stringify(seen.filter((s, i) => i === 0 || JSON.stringify(s) !== JSON.stringify(seen[i - 1])))}`);
  assert.ok(!seen.some((s) => s.quality && s.none), 'never "No evaluation yet" beside a result');

  // The quality on its scale, both ends named, the judge, the closest training images, the expert numbers a click away.
  const quality = page.getByTestId('quality');
  const score = Number(await quality.getAttribute('data-score'));
  assert.ok(score >= 0 && score <= 100, `a quality from 0 to 100: ${score}`);
  const q = ((await quality.textContent()) ?? '').replace(/\s+/g, ' ');
  assert.match(q, new RegExp(`Quality ${Math.round(score)} of 100: (still blurry|taking shape|recognisable|close to your images) at 0\\.384 kimg\\.`), q);
  assert.match(q, /0: the untrained generator/);
  assert.match(q, /100: as close as your own images are to each other/);
  assert.match(q, /Judged by a small image network \(MobileNetV2\), quick enough for a processor, comparing 8 samples with 16 of your images\./);
  assert.equal(Number(await quality.locator('meter').getAttribute('value')).toFixed(1), score.toFixed(1));
  const pairs = page.getByTestId('nearest-pair');
  assert.equal(await pairs.count(), 4, 'four samples beside their closest training image');
  await page.waitForFunction(() => Array.from(document.querySelectorAll<HTMLImageElement>('[data-testid="nearest-pair"] img')).every((img) => img.complete && img.naturalWidth === 16));
  assert.equal(await page.getByTestId('no-evaluation').count(), 0);
  const expert = page.getByTestId('expert-numbers');
  assert.equal(await expert.locator('p').first().isVisible(), false, 'the KID is behind a click');
  await expert.getByText('Expert numbers').click();
  assert.match(((await expert.textContent()) ?? '').replace(/\s+/g, ' '), /KID -?[\d.]+ ± [\d.]+ \(untrained generator [\d.e−-]+; your images against themselves -?[\d.e−-]+;/);
  // Several evaluations while it trained: the quality chart has a point per checkpoint.
  await page.waitForFunction(() => Number(document.querySelector('figure[data-chart="Quality"]')?.getAttribute('data-points')) === 3);

  // The verdict: in plain words, matching the score, with Continue training.
  const verdict = page.getByTestId('run-verdict');
  const v = ((await verdict.locator('p').textContent()) ?? '').replace(/\s+/g, ' ');
  const level = await verdict.getAttribute('data-level');
  if (score < 40) {
    assert.equal(level, 'blurry');
    assert.match(v, /^Still blurry — this is normal for a run this short; continue training for about \d+(\.\d)? more (minutes?|hours)\.$/, v);
  } else if (score < 60) {
    assert.equal(level, 'shaping');
    assert.match(v, /^Taking shape, not there yet; continue training for about \d+(\.\d)? more (minutes?|hours) for clearer samples\.$/, v);
  } else {
    assert.equal(level, 'good');
  }
  await verdict.scrollIntoViewIfNeeded();
  await page.screenshot({ path: '/tmp/atelier-first-hour-verdict.png', fullPage: true });
  const more = Number(/([\d.]+) kimg more/.exec((await verdict.textContent()) ?? '')?.[1]);
  assert.ok(more > 0, 'Continue training says how much more');
  mark('verdict checked');

  // Continue training: the run gets longer and goes on from its last checkpoint.
  await verdict.getByRole('button', { name: 'Continue training' }).click();
  await page.getByTestId('run-status').locator('[data-status="running"]').waitFor({ timeout: TIMEOUT });
  const total = Number((0.384 + more).toFixed(3));
  await page.waitForFunction(
    (t) => {
      const m = /([\d.,]+) of ([\d.,]+) kimg/.exec(document.querySelector('[data-testid="kimg-done"]')?.textContent ?? '');
      return m !== null && Math.abs(Number(m[2]!.replace(/,/g, '')) - t) < 0.01 && Number(m[1]!.replace(/,/g, '')) > 0.384;
    },
    total,
    { timeout: TIMEOUT },
  );
  assert.equal(await page.getByTestId('run-verdict').count(), 0, 'no verdict while it trains again');
  await panel.getByRole('button', { name: 'Stop', exact: true }).click();
  await page.getByTestId('run-status').locator('[data-status="stopped"]').waitFor({ timeout: TIMEOUT });
  mark('continued past its first end, then stopped');

  // The speed table still holds this machine's measured default speed: a tiny run's speed is not a default run's.
  await page.getByRole('button', { name: 'New run', exact: true }).click();
  await page.getByRole('form', { name: 'New run' }).getByLabel('Compute backend').selectOption('wasm');
  assert.match(await text(page, 'expect-rate'), /^40 images\/s$/);

  assert.equal(((await page.getByRole('alert').first().textContent()) ?? '').trim(), '', 'no error was shown');
  assert.deepEqual(listProblems(w.problems), [], 'the page logged errors or CSP violations');
});
