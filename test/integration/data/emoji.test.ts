/**
 * Real images: Twemoji (RGBA 64 × 64 PNGs) sorted into label folders by their emoji.json category,
 * imported through the real worker. Every expectation is computed here another way: sharp's own
 * decode, alpha composited by this file's arithmetic.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import sharp from 'sharp';
import { unzipSync, strFromU8 } from 'fflate';
import { exportDatasetZip } from '../../../core/export/dataset-zip.js';
import { EMOJI_DIR, EMOJI_JSON, newProject, pngPixels, runImport, storedImages } from '../../helpers/data.js';

const PER_CATEGORY = 40; // ~400 images: the whole suite stays well under two minutes on two cores
const BACKGROUND: [number, number, number] = [255, 0, 255]; // magenta: no emoji pixel is this, so compositing shows
/** Flags Twemoji draws identically (🇪🇦/🇪🇸, 🇫🇷/🇲🇫, 🇺🇸/🇺🇲) or nearly so (🇮🇩/🇲🇨): always in the sample. */
const TWINS = ['1f1ea-1f1e6.png', '1f1ea-1f1f8.png', '1f1eb-1f1f7.png', '1f1f2-1f1eb.png', '1f1fa-1f1f2.png', '1f1fa-1f1f8.png', '1f1ee-1f1e9.png', '1f1f2-1f1e8.png'];

interface Emoji {
  image: string;
  category: string;
  sort_order: number;
  has_img_twitter: boolean;
}

/** Copies a few of each category into `<dir>/<Category>/<image>.png`; returns them in import order. */
function emojiFolders(dir: string): Array<{ path: string; category: string }> {
  const all = (JSON.parse(readFileSync(EMOJI_JSON, 'utf8')) as Emoji[]).filter((e) => e.has_img_twitter && e.category !== 'Component');
  const byCategory = new Map<string, Emoji[]>();
  for (const e of all.sort((a, b) => a.sort_order - b.sort_order)) byCategory.set(e.category, [...(byCategory.get(e.category) ?? []), e]);
  const out: Array<{ path: string; category: string; rel: string }> = [];
  for (const [category, list] of byCategory) {
    mkdirSync(join(dir, category), { recursive: true });
    for (const e of list.filter((x, i) => i < PER_CATEGORY || TWINS.includes(x.image))) {
      const path = join(dir, category, e.image);
      copyFileSync(join(EMOJI_DIR, e.image), path);
      out.push({ path, category, rel: `${category}/${e.image}` });
    }
  }
  // The importer walks each folder in sorted order of the relative path.
  return out.sort((a, b) => (a.rel < b.rel ? -1 : 1));
}

/** The file composited onto BACKGROUND, computed here: round(c·a + bg·(1 − a)). */
async function composite(path: string): Promise<Buffer> {
  const { data, info } = await sharp(path).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  assert.equal(info.channels, 4);
  const out = Buffer.alloc(info.width * info.height * 3);
  for (let i = 0, o = 0; i < data.length; i += 4, o += 3) {
    const a = data[i + 3]! / 255;
    for (let c = 0; c < 3; c++) out[o + c] = Math.round(data[i + c]! * a + BACKGROUND[c]! * (1 - a));
  }
  return out;
}

test('a few hundred Twemoji in category folders: labels, exact and near duplicates, alpha composited onto the background', async (t) => {
  const p = newProject(t, 'emoji');
  const src = join(p.dir, 'emoji');
  const files = emojiFolders(src);
  const report = await runImport(p, [src], { resolution: 64, background: '#ff00ff', colourMode: 'rgb', fit: 'crop' }, { labels: 'folders' });
  assert.equal(report.status, 'done', report.error ?? '');
  assert.equal(report.skipped.length, 0, JSON.stringify(report.skipped));
  assert.equal(report.imported + report.duplicates, files.length, 'every file is imported or dropped as a duplicate');

  // Exact duplicates, found independently: identical composited pixels; the first in order is kept.
  const composited = new Map<string, Buffer>();
  const firstByHash = new Map<string, string>();
  const expectedExact = new Map<string, string>(); // dropped → kept
  for (const f of files) {
    const px = await composite(f.path);
    composited.set(f.path, px);
    const h = createHash('sha256').update(px).digest('hex');
    const first = firstByHash.get(h);
    if (first) expectedExact.set(f.path, first);
    else firstByHash.set(h, f.path);
  }
  assert.ok(expectedExact.size > 0, 'this sample has identical flags (e.g. 🇪🇦 and 🇪🇸): the test must see exact duplicates');
  const exact = report.duplicatePairs.filter((d) => d.kind === 'exact');
  assert.deepEqual(new Map(exact.map((d) => [d.file, d.keptFile])), expectedExact);

  // Near duplicates: the two sources really look alike (mean difference of a few levels of 255).
  const near = report.duplicatePairs.filter((x) => x.kind === 'near');
  assert.ok(
    near.some((d) => d.file.endsWith('1f1f2-1f1e8.png') && d.keptFile.endsWith('1f1ee-1f1e9.png')),
    'Monaco 🇲🇨 is found as a near copy of Indonesia 🇮🇩 (same colours, other proportions)',
  );
  for (const d of near) {
    const a = composited.get(d.file)!;
    const b = composited.get(d.keptFile)!;
    let sum = 0;
    for (let i = 0; i < a.length; i++) sum += Math.abs(a[i]! - b[i]!);
    assert.ok(sum / a.length < 12, `${d.file} vs ${d.keptFile}: mean difference ${(sum / a.length).toFixed(1)} is not a near duplicate`);
    assert.ok(d.distance <= 4);
  }

  // Labels: one per folder, counts = files in it minus the copies dropped from it.
  const dropped = new Set(report.duplicatePairs.map((d) => d.file));
  const expectedCounts = new Map<string, number>();
  for (const f of files) if (!dropped.has(f.path)) expectedCounts.set(f.category, (expectedCounts.get(f.category) ?? 0) + 1);
  const stats = p.store.stats();
  assert.deepEqual(new Map(stats.labels.map((l) => [l.name, l.count])), expectedCounts);
  assert.equal(stats.unlabelled, 0);
  assert.equal(stats.duplicatesDropped, report.duplicates);

  // Pixels: at 64² nothing is resampled, so each stored image is exactly the composite (±1 for rounding).
  const rows = storedImages(p);
  assert.equal(rows.length, report.imported);
  let transparentPixels = 0;
  for (const row of rows) {
    const got = await pngPixels(row.pixels);
    assert.deepEqual([got.width, got.height, got.channels], [64, 64, 3]);
    const want = composited.get(row.source_path)!;
    for (let i = 0; i < want.length; i++) {
      if (Math.abs(got.data[i]! - want[i]!) > 1) assert.fail(`${row.source_path} byte ${i}: stored ${got.data[i]}, composite ${want[i]}`);
    }
    if (got.data[0] === 255 && got.data[1] === 0 && got.data[2] === 255) transparentPixels++;
  }
  assert.ok(transparentPixels > rows.length / 2, 'transparent corners became the magenta background');

  // The grid: pages of thumbnails in import order.
  const page = p.store.page(0, 100);
  assert.equal(page.total, rows.length);
  assert.equal(page.items.length, 100);
  assert.deepEqual(page.items.map((i) => i.id), rows.slice(0, 100).map((r) => r.id));
  const thumb = await pngPixels(Buffer.from(page.items[0]!.thumb.split(',')[1]!, 'base64'));
  assert.deepEqual([thumb.width, thumb.height], [64, 64], 'a thumbnail is never larger than the image');
  const second = p.store.page(100, 100, stats.labels[0]!.id);
  assert.ok(second.items.every((i) => i.label === stats.labels[0]!.name));

  // Export: StyleGAN2-ADA layout with one class per category.
  const out = join(p.dir, 'emoji-dataset.zip');
  const result = await exportDatasetZip(p.store, out);
  const zip = unzipSync(readFileSync(out));
  const meta = JSON.parse(strFromU8(zip['dataset.json']!)) as { labels: Array<[string, number]>; classes: string[] };
  assert.equal(result.images, rows.length);
  assert.equal(meta.labels.length, rows.length);
  meta.labels.forEach(([name, cls], i) => {
    assert.equal(name, `${String(i).padStart(8, '0').slice(0, 5)}/img${String(i).padStart(8, '0')}.png`);
    assert.equal(meta.classes[cls], rows[i]!.label);
    assert.deepEqual(Buffer.from(zip[name]!), rows[i]!.pixels);
  });
});
