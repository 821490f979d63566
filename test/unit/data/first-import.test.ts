/**
 * A first import as a newcomer makes it, through the real import worker: near-duplicates catch a
 * resized re-encode of a photo without merging two distinct emoji (inbox and outbox trays); the
 * suggestion sees that every image sits in a first-level folder (labels from folders) and flags
 * tiny classes; the tiny-class choice leaves a folder out or brings it in unlabelled; the
 * project's own files (.atelier, -wal, -shm) kept in the picked folder are not data.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { suggestSettings } from '../../../core/data/suggest.js';
import { EMOJI_DIR, EMOJI_JSON, newProject, runImport, storedImages } from '../../helpers/data.js';

/**
 * A photo-like 3000×2000 JPEG (no camera photo ships with the repository): smooth random colour
 * regions with grain, seeded; and its copy resized to 2400×1600 and re-encoded at a lower quality.
 */
async function photoAndCopy(dir: string): Promise<{ photo: string; copy: string }> {
  let s = 12345;
  const rnd = (): number => (s = (s * 1103515245 + 12345) >>> 0) / 2 ** 32;
  const small = Buffer.alloc(60 * 40 * 3);
  for (let i = 0; i < small.length; i++) small[i] = Math.floor(rnd() * 256);
  const base = await sharp(small, { raw: { width: 60, height: 40, channels: 3 } }).resize(3000, 2000, { kernel: 'cubic' }).blur(2).raw().toBuffer();
  for (let i = 0; i < base.length; i++) base[i] = Math.max(0, Math.min(255, base[i]! + Math.floor((rnd() - 0.5) * 64)));
  const photo = join(dir, 'photo.jpg');
  const copy = join(dir, 'photo-2400.jpg');
  await sharp(base, { raw: { width: 3000, height: 2000, channels: 3 } }).jpeg({ quality: 92 }).toFile(photo);
  await sharp(photo).resize(2400, 1600).jpeg({ quality: 80 }).toFile(copy);
  return { photo, copy };
}

test('near-duplicates: a resized re-encode of a photo is caught; inbox and outbox trays stay two images (32² and 64²)', async (t) => {
  const src = join(newProject(t, 'src').dir, 'src');
  mkdirSync(src);
  const { photo, copy } = await photoAndCopy(src);
  copyFileSync(join(EMOJI_DIR, '1f4e5.png'), join(src, 'inbox-tray.png'));
  copyFileSync(join(EMOJI_DIR, '1f4e4.png'), join(src, 'outbox-tray.png'));
  for (const resolution of [32, 64]) {
    const p = newProject(t, `dups-${resolution}`);
    const report = await runImport(p, [src], { resolution });
    assert.equal(report.status, 'done');
    assert.deepEqual(
      report.duplicatePairs.map((d) => [d.kind, [d.file, d.keptFile].sort()]),
      [['near', [copy, photo].sort()]],
      `${resolution}²: the photo and its copy are one image, the trays are not merged`,
    );
    assert.equal(report.imported, 3);
    assert.deepEqual(
      storedImages(p).map((i) => i.source_path.split('/').at(-1)).filter((n) => n!.includes('tray')).sort(),
      ['inbox-tray.png', 'outbox-tray.png'],
    );
  }
});

test('the suggestion sees folders as classes and flags tiny ones; the choice leaves them out or unlabels them; project files are not data', async (t) => {
  const p = newProject(t, 'emoji');
  const src = join(p.dir, 'emoji');
  const emoji = (JSON.parse(readFileSync(EMOJI_JSON, 'utf8')) as Array<{ image: string; category: string; sort_order: number; has_img_twitter: boolean }>)
    .filter((e) => e.has_img_twitter && e.category === 'Smileys & Emotion')
    .sort((a, b) => a.sort_order - b.sort_order)
    .map((e) => e.image)
    .slice(0, 23);
  const fill = (folder: string, names: string[]): void => {
    mkdirSync(join(src, folder), { recursive: true });
    for (const n of names) copyFileSync(join(EMOJI_DIR, n), join(src, folder, n));
  };
  fill('faces', emoji.slice(0, 10));
  fill('more faces', emoji.slice(10, 20));
  fill('misc', emoji.slice(20, 22));
  const all = await suggestSettings([src]);
  assert.equal(all.folders.allInFolders, true, 'every image sits in a first-level folder: labels from folders');
  assert.deepEqual(all.folders.classes, [
    { name: 'faces', files: 10 },
    { name: 'more faces', files: 10 },
    { name: 'misc', files: 2 },
  ]);
  assert.deepEqual(all.folders.tiny, ['misc']);

  // A loose file at the top: not every image is in a folder, so labels stay off by default.
  copyFileSync(join(EMOJI_DIR, emoji[22]!), join(src, 'loose.png'));
  assert.equal((await suggestSettings([src])).folders.allInFolders, false);

  // The project's own files in the picked folder are neither imported nor reported.
  for (const name of ['old.atelier', 'old.atelier-wal', 'old.atelier-shm', 'old.atelier-reserve']) writeFileSync(join(src, 'faces', name), 'not an image');
  const left = await runImport(p, [src], { resolution: 16 }, { labels: 'folders', leaveOutFolders: ['misc'], nearThreshold: -1 });
  assert.equal(left.status, 'done');
  assert.deepEqual(left.skipped, [], 'nothing reported: the project files are not candidates');
  const labels = (rows: ReturnType<typeof storedImages>): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const r of rows) out[r.label ?? '(none)'] = (out[r.label ?? '(none)'] ?? 0) + 1;
    return out;
  };
  assert.deepEqual(labels(storedImages(p)), { faces: 10, 'more faces': 10, '(none)': 1 }, 'misc left out; the loose file unlabelled');

  const q = newProject(t, 'unlabelled');
  await runImport(q, [src], { resolution: 16 }, { labels: 'folders', unlabelledFolders: ['misc'], nearThreshold: -1 });
  assert.deepEqual(labels(storedImages(q)), { faces: 10, 'more faces': 10, '(none)': 3 }, 'misc’s two images in, without a label');
});
