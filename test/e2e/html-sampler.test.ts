/**
 * The standalone HTML sampler, exported with `atelier export --format html`, opened from disk
 * (file://) in Debian's Chromium: it loads with no network and no CSP violation, draws a
 * non-blank image for a seed, follows the seed, ψ and class controls, refuses an out-of-range
 * seed in words, draws z exactly as the studio does (core/generator/latents.ts), and its pixels
 * match the studio's for the same seed, ψ and class (TF.js in the browser on another backend:
 * within a grey level or two).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { after, before, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { selectBackend } from '../../core/backend/select.js';
import { seedToZ } from '../../core/generator/latents.js';
import { pixelsOf, projectWithCheckpoint } from '../helpers/gallery.js';
import { cleanup, launchBrowser, listProblems, newContext, REPO_ROOT, tempDir, watchedPage } from './harness.js';

const run = promisify(execFile);
const SCREENSHOT = '/tmp/atelier-html-sampler.png';

let browser: Browser | undefined;
let root = '';
let projectPath = '';

const atelier = (args: string[]) => run(process.execPath, [join(REPO_ROOT, 'bin', 'atelier.js'), ...args], { env: { ...process.env, ATELIER_BACKEND: 'wasm' } });

before(async () => {
  root = tempDir('atelier-e2e-html-');
  await selectBackend({ prefer: 'wasm' });
  const fx = await projectWithCheckpoint({ after: () => {} } as never, root, { name: 'Pets', numClasses: 2 });
  fx.project.close();
  projectPath = fx.path;
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  cleanup(root);
});

test('the exported page, opened from disk, draws the generator for a seed, ψ and class — offline', async (t) => {
  const out = join(root, 'pets-page');
  const { stdout } = await atelier(['export', projectPath, '--run', '1', '--format', 'html', '--out', out, '--json']);
  const doc = JSON.parse(stdout);
  assert.equal(doc.ok, true);
  assert.deepEqual(doc.files.sort(), ['README.txt', 'atelier-latents.js', 'atelier.json', 'index.html', 'model.js', 'sampler.js', 'tf-setup.js', 'tf.min.js']);

  const context = await newContext(browser!);
  t.after(() => context.close());
  const w = await watchedPage(context);
  const page = w.page;
  const requested: string[] = [];
  page.on('request', (r) => requested.push(r.url()));
  await page.goto(pathToFileURL(join(out, 'index.html')).href);
  await page.locator('body[data-state="drawn"]').waitFor({ timeout: 60_000 });

  // A non-blank image for seed 0.
  const stats = await page.evaluate(() => {
    const c = document.getElementById('image') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    let min = 255;
    let max = 0;
    for (let i = 0; i < d.length; i += 4) {
      min = Math.min(min, d[i]!, d[i + 1]!, d[i + 2]!);
      max = Math.max(max, d[i]!, d[i + 1]!, d[i + 2]!);
    }
    return { min, max, seed: c.getAttribute('data-seed'), width: c.width, backend: (window as unknown as { tf: { getBackend(): string } }).tf.getBackend() };
  });
  assert.equal(stats.seed, '0');
  assert.equal(stats.width, 16);
  assert.ok(stats.max - stats.min > 40, `the image is not blank (values ${stats.min}–${stats.max})`);
  t.diagnostic(`TF.js in Chromium ran on ${stats.backend}`);
  assert.match((await page.locator('#status').textContent()) ?? '', /^Seed 0, ψ 1\.00, class class 0 · TensorFlow\.js on \w+\.$/);

  // z exactly as the studio draws it.
  for (const seed of [0, 1, 42, 123456, 4294967295]) {
    const z = await page.evaluate((s) => Array.from((window as unknown as { atelierSampler: { seedToZ(s: number, n: number): Float32Array } }).atelierSampler.seedToZ(s, 32)), seed);
    assert.deepEqual(z, Array.from(seedToZ(seed, 32)), `seed ${seed}: the page's z is the studio's`);
  }

  // The controls: seed 5, ψ 0.7, class 1 → the studio's image for them.
  await page.getByRole('spinbutton', { name: 'Seed' }).fill('5');
  await page.getByRole('spinbutton', { name: 'Seed' }).press('Enter');
  await page.getByRole('slider', { name: 'ψ' }).fill('0.7');
  await page.getByRole('combobox', { name: 'Class' }).selectOption('1');
  await page.locator('#status').filter({ hasText: 'Seed 5, ψ 0.70, class class 1' }).waitFor();
  assert.equal(await page.locator('#image').getAttribute('data-seed'), '5');
  const inPage = await page.evaluate(async () => {
    const c = document.getElementById('image') as HTMLCanvasElement;
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data;
    const rgb: number[] = [];
    for (let i = 0; i < d.length; i += 4) rgb.push(d[i]!, d[i + 1]!, d[i + 2]!);
    return rgb;
  });
  await atelier(['sample', projectPath, '--run', '1', '--seeds', '5', '--psi', '0.7', '--class', '1', '--out', join(root, 'studio')]);
  const studio = await pixelsOf(readFileSync(join(root, 'studio', 'seed-000005.png')));
  let worst = 0;
  let differing = 0;
  inPage.forEach((v, i) => {
    const d = Math.abs(v - studio[i]!);
    worst = Math.max(worst, d);
    if (d > 0) differing++;
  });
  t.diagnostic(`page vs studio (wasm), seed 5 ψ 0.7 class 1: ${differing} of ${inPage.length} values differ, by at most ${worst}`);
  assert.ok(worst <= 2, `the page draws the studio's image (worst difference ${worst} grey levels)`);

  // The next-seed button, and a seed out of range refused in words.
  await page.getByRole('button', { name: 'Next seed' }).click();
  await page.locator('#status').filter({ hasText: 'Seed 6,' }).waitFor();
  await page.getByRole('spinbutton', { name: 'Seed' }).fill('4294967296');
  await page.getByRole('spinbutton', { name: 'Seed' }).press('Enter');
  await page.locator('#status').filter({ hasText: 'The seed must be a whole number from 0 to 4294967295.' }).waitFor();
  await page.screenshot({ path: SCREENSHOT });

  assert.deepEqual(requested.filter((u) => !u.startsWith('file://')), [], 'nothing but files beside the page was loaded');
  assert.deepEqual(listProblems(w.problems), [], 'no console errors, exceptions or CSP violations');
});
