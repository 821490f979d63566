/**
 * 16-bit sources keep their precision until the final 8-bit encode. The source is built so that
 * rounding to 8 bits first — either way, rounding or truncating — changes the result, and the
 * test imports those 8-bit versions too, to show they do come out different.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import sharp from 'sharp';
import { newProject, pngPixels, put, runImport, storedImages } from '../../helpers/data.js';

const SRC = 128;
const OUT = 64;
const A = 141; // 16-bit: 0.549 of an 8-bit step — rounds to 1, truncates to 0
const B = 245; // 16-bit: 0.953 of an 8-bit step — rounds to 1, truncates to 0

/**
 * Left half: 2 × 2 cells [A A; A 0], which average to 3A/4 = 105.75 (0.41 of a step → 0).
 * Right half: B everywhere (0.95 of a step → 1).
 */
function source(): Uint16Array {
  const px = new Uint16Array(SRC * SRC);
  for (let y = 0; y < SRC; y++) for (let x = 0; x < SRC; x++) px[y * SRC + x] = x < SRC / 2 ? (y % 2 === 1 && x % 2 === 1 ? 0 : A) : B;
  return px;
}

/** Values well inside each half (away from the seam, where the resampling kernel mixes them). */
function halves(pixels: Buffer): { left: Set<number>; right: Set<number> } {
  const left = new Set<number>();
  const right = new Set<number>();
  for (let y = 6; y < OUT - 6; y++) {
    for (let x = 6; x < OUT / 2 - 6; x++) left.add(pixels[y * OUT + x]!);
    for (let x = OUT / 2 + 6; x < OUT - 6; x++) right.add(pixels[y * OUT + x]!);
  }
  return { left, right };
}

async function importOne(t: Parameters<typeof newProject>[0], name: string, png: Buffer) {
  const p = newProject(t, name);
  const file = put(join(p.dir, `${name}.png`), png);
  const report = await runImport(p, [file], { resolution: OUT, colourMode: 'grayscale', fit: 'stretch' });
  assert.equal(report.imported, 1, JSON.stringify(report.skipped));
  const [row] = storedImages(p);
  const px = await pngPixels(row!.pixels);
  assert.equal(px.channels, 1);
  return halves(px.data);
}

test('a 16-bit PNG is resized at 16 bits and rounded once, at the end', async (t) => {
  const px = source();
  const png16 = await sharp(px, { raw: { width: SRC, height: SRC, channels: 1 } }).toColourspace('grey16').png().toBuffer();
  assert.equal((await sharp(png16).metadata()).depth, 'ushort');

  const kept = await importOne(t, 'sixteen', png16);
  // 3A/4 / 257 = 0.41 → 0; B / 257 = 0.95 → 1.
  assert.deepEqual([...kept.left], [0]);
  assert.deepEqual([...kept.right], [1]);

  // Rounded to 8 bits first: A → 1 so the left half averages 0.75 → 1.
  const rounded = await sharp(Buffer.from(Uint8Array.from(px, (v) => Math.round(v / 257))), { raw: { width: SRC, height: SRC, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  const early = await importOne(t, 'rounded-first', rounded);
  assert.deepEqual([[...early.left], [...early.right]], [[1], [1]], 'rounding first changes the left half');
  // Truncated to 8 bits first (v >> 8): B → 0.
  const truncated = await sharp(Buffer.from(Uint8Array.from(px, (v) => v >> 8)), { raw: { width: SRC, height: SRC, channels: 1 } }).toColourspace('b-w').png().toBuffer();
  const cut = await importOne(t, 'truncated-first', truncated);
  assert.deepEqual([[...cut.left], [...cut.right]], [[0], [0]], 'truncating first changes the right half');
});

test('16-bit transparency is composited at 16 bits: transparent pixels become exactly the background', async (t) => {
  // RGBA 16-bit: left half transparent, right half opaque mid-gray at a value between two 8-bit steps.
  const side = 32;
  const px = new Uint16Array(side * side * 4);
  for (let i = 0; i < side * side; i++) {
    const opaque = i % side >= side / 2;
    px.set(opaque ? [30_000, 30_000, 30_000, 65_535] : [1234, 5678, 910, 0], i * 4);
  }
  const png = await sharp(px, { raw: { width: side, height: side, channels: 4 } }).toColourspace('rgb16').png().toBuffer();
  const p = newProject(t);
  const report = await runImport(p, [put(join(p.dir, 'rgba16.png'), png)], { resolution: side, background: '#ffffff', colourMode: 'rgb' });
  assert.equal(report.imported, 1);
  const got = await pngPixels(storedImages(p)[0]!.pixels);
  assert.deepEqual([got.data[0], got.data[1], got.data[2]], [255, 255, 255], 'white, not 254 (65280/257) as an 8-bit background scaled by 256 would give');
  const o = (side - 1) * 3;
  assert.deepEqual([got.data[o], got.data[o + 1], got.data[o + 2]], Array(3).fill(Math.round(30_000 / 257)));
});
