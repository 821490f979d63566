/**
 * Duplicates: an exact copy, a lossless re-save and a re-encoded JPEG of one picture are found
 * (and the original kept); a mirrored and a recoloured version are different pictures.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { newProject, put, runImport } from '../../helpers/data.js';

/** A photo-like picture: smooth shading, a few shapes, fine texture. */
async function picture(seed: number, width = 320, height = 240): Promise<Buffer> {
  const px = Buffer.alloc(width * height * 3);
  let s = seed;
  const rnd = (): number => ((s = (s * 1103515245 + 12345) >>> 0) >>> 8) / 16_777_216;
  const blobs = Array.from({ length: 5 }, () => ({ x: rnd() * width, y: rnd() * height, r: 20 + rnd() * 60, c: [rnd() * 255, rnd() * 255, rnd() * 255] }));
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 3;
      let rgb = [(x / width) * 200 + 30, (y / height) * 180 + 40, 120 + 60 * Math.sin((x + y) / 40 + seed)];
      for (const b of blobs) if ((x - b.x) ** 2 + (y - b.y) ** 2 < b.r ** 2) rgb = b.c;
      for (let c = 0; c < 3; c++) px[o + c] = Math.max(0, Math.min(255, Math.round(rgb[c]! + (rnd() - 0.5) * 12)));
    }
  }
  return sharp(px, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

test('an exact copy, a lossless re-save and a re-encoded JPEG are dropped as duplicates of the original', async (t) => {
  const p = newProject(t);
  const src = join(p.dir, 'shoot');
  const original = await picture(7);
  const a = put(join(src, 'a-original.png'), original);
  const copy = join(src, 'b-copy.png');
  copyFileSync(a, copy);
  const resaved = put(join(src, 'c-resaved.png'), await sharp(original).png({ compressionLevel: 9, adaptiveFiltering: true }).toBuffer());
  const jpeg = put(join(src, 'd-reencoded.jpg'), await sharp(original).jpeg({ quality: 82 }).toBuffer());
  put(join(src, 'e-mirrored.png'), await sharp(original).flop().png().toBuffer());
  put(join(src, 'f-recoloured.png'), await sharp(original).recomb([[0, 0, 1], [0, 1, 0], [1, 0, 0]]).png().toBuffer());
  put(join(src, 'g-other.png'), await picture(99));

  const report = await runImport(p, [src], { resolution: 128 });
  assert.equal(report.status, 'done');
  assert.equal(report.imported, 4, 'original, mirrored, recoloured, other');
  assert.equal(report.duplicates, 3);
  const pairs = new Map(report.duplicatePairs.map((d) => [d.file, d]));
  assert.deepEqual([pairs.get(copy)?.kind, pairs.get(copy)?.keptFile], ['exact', a]);
  assert.deepEqual([pairs.get(resaved)?.kind, pairs.get(resaved)?.keptFile], ['exact', a], 'same pixels, other bytes: still exact');
  assert.deepEqual([pairs.get(jpeg)?.kind, pairs.get(jpeg)?.keptFile], ['near', a]);
  assert.ok(pairs.get(jpeg)!.distance <= 4);
  const keptId = pairs.get(copy)!.keptImageId;
  assert.equal(p.store.image(keptId!).source.path, a, 'the pair points at the kept image');
  assert.equal(p.store.stats().duplicatesDropped, 3);
});

test('with the near-duplicate check off, the re-encoded JPEG is kept; exact copies are still dropped', async (t) => {
  const p = newProject(t);
  const src = join(p.dir, 'shoot');
  const original = await picture(3);
  put(join(src, 'a.png'), original);
  put(join(src, 'b.png'), original);
  put(join(src, 'c.jpg'), await sharp(original).jpeg({ quality: 82 }).toBuffer());
  const report = await runImport(p, [src], { resolution: 64 }, { nearThreshold: -1 });
  assert.equal(report.imported, 2);
  assert.deepEqual(report.duplicatePairs.map((d) => d.kind), ['exact']);
});
