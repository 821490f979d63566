/**
 * Before Start at 32², where no measured CPU run reached recognisable samples (core/train/
 * speed-table.ts STILL_BLURRY): the Train view promises no time to recognisable samples and says
 * what a measured run showed instead; a speed this machine measured at the old 32² widths (an
 * untagged entry in the per-user table) is not offered as this machine's. The real `atelier
 * serve`, the built renderer, Debian's Chromium, 24 Twemoji imported at 32².
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { emojiStudio, type EmojiStudio, goToSection, listProblems, pageWithProject } from './harness.js';

const PROJECT_NAME = 'Wider';
let studio: EmojiStudio | undefined;

before(async () => {
  studio = await emojiStudio('expect-32', PROJECT_NAME, 24, 'Animals & Nature', 32);
  // Left by a run at the old 32² widths (512/32), before the table noted widths.
  writeFileSync(join(studio.home, 'speeds.json'), JSON.stringify({ 'wasm@32': { imgPerSec: 110, samples: 4, updatedAt: new Date().toISOString() } }));
});

after(async () => {
  await studio?.close();
});

test('at 32² the form says a measured run was still blurry instead of promising a time, at the typical speed of today’s widths', async (t) => {
  const w = await pageWithProject(t, studio!.browser, studio!.server.url, `${PROJECT_NAME}.atelier`, studio!.project);
  const page = w.page;
  await goToSection(page, 'Train');
  const form = page.getByRole('form', { name: 'New run' });
  await form.waitFor({ timeout: 60_000 });
  await form.getByLabel('Compute backend').selectOption('wasm');
  const expect = form.getByTestId('expectation');
  await expect.getByTestId('expect-rate').waitFor({ timeout: 60_000 });
  const line = ((await expect.textContent()) ?? '').replace(/\s+/g, ' ');
  assert.match(line, /this trains at about 45 images\/s \(typical for a 2-core machine; measured once a run has trained here\)/, line);
  assert.match(await expect.getByTestId('expect-blurry').textContent().then((s) => (s ?? '').replace(/\s+/g, ' ')), /at 32 × 32 on a processor, a run was still blurry after 40 kimg \(about 15 min at this speed\)/);
  assert.equal(await expect.getByTestId('expect-recognisable').count(), 0, 'no time to recognisable samples is promised');
  assert.doesNotMatch(line, /usually become recognisable/);
  assert.match(line, /this run of 40 kimg takes about 15 min\./, line);
  assert.deepEqual(listProblems(w.problems), []);
});
