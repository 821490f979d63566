/**
 * Decoding and normalisation, file by file (no worker): EXIF orientation, CMYK, WebP, AVIF, GIF's
 * first frame, 8- and 16-bit TIFF, the three fits, grayscale, zip archives as sources.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import sharp from 'sharp';
import type { NormaliseSettings } from '../../../core/api/contract.js';
import { DEFAULT_IMPORT, DEFAULT_NORMALISE } from '../../../core/data/options.js';
import { processEntry, type EntryOutcome } from '../../../core/data/process-entry.js';
import { expandSources } from '../../../core/data/sources.js';
import { suggestSettings } from '../../../core/data/suggest.js';
import { newProject, pngPixels, put, runImport, storedImages, tempDir } from '../../helpers/data.js';

async function one(dir: string, name: string, bytes: Buffer, settings: Partial<NormaliseSettings>): Promise<{ outcome: EntryOutcome; px: Awaited<ReturnType<typeof pngPixels>> }> {
  const path = put(join(dir, name), bytes);
  const outcome = await processEntry(
    { file: path, rel: name, label: null, size: bytes.length, loc: { kind: 'file', path } },
    { settings: { ...DEFAULT_NORMALISE, ...settings }, options: DEFAULT_IMPORT, known: new Set() },
  );
  assert.equal(outcome.kind, 'images', JSON.stringify(outcome));
  if (outcome.kind !== 'images') throw new Error('unreachable');
  return { outcome, px: await pngPixels(outcome.images[0]!.png) };
}

const at = (px: { data: Buffer; width: number; channels: number }, x: number, y: number): number[] => [...px.data.subarray((y * px.width + x) * px.channels, (y * px.width + x + 1) * px.channels)];

function near(actual: number[], expected: number[], tolerance: number, what: string): void {
  assert.equal(actual.length, expected.length, what);
  actual.forEach((v, i) => assert.ok(Math.abs(v - expected[i]!) <= tolerance, `${what}: got ${actual}, expected about ${expected}`));
}

/** Red on the left half, blue on the right. */
function halves(width: number, height: number): Promise<Buffer> {
  const raw = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) raw.set(x < width / 2 ? [255, 0, 0] : [0, 0, 255], (y * width + x) * 3);
  return sharp(raw, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

test('EXIF orientation is applied: a landscape JPEG tagged "rotate 90°" imports as portrait', async (t) => {
  const dir = tempDir(t);
  const jpeg = await sharp(await halves(40, 20)).jpeg({ quality: 95 }).withMetadata({ orientation: 6 }).toBuffer();
  const { outcome, px } = await one(dir, 'rotated.jpg', jpeg, { resolution: 16, fit: 'stretch' });
  assert.deepEqual(outcome.kind === 'images' && [outcome.width, outcome.height], [20, 40], 'provenance records the upright size');
  // Rotated 90° clockwise: the left (red) half is now on top.
  near(at(px, 8, 2), [255, 0, 0], 40, 'top');
  near(at(px, 8, 13), [0, 0, 255], 40, 'bottom');
});

test('a CMYK JPEG is converted to RGB', async (t) => {
  const dir = tempDir(t);
  const cmyk = await sharp({ create: { width: 48, height: 48, channels: 3, background: '#3366cc' } }).toColourspace('cmyk').jpeg().toBuffer();
  assert.equal((await sharp(cmyk).metadata()).space, 'cmyk');
  const { px } = await one(dir, 'print.jpg', cmyk, { resolution: 32 });
  assert.equal(px.channels, 3);
  const [r, g, b] = at(px, 16, 16) as [number, number, number];
  assert.ok(b > g && g > r && b > 150, `a blue stays blue, got ${[r, g, b]}`);
});

test('WebP, AVIF and 8-bit TIFF decode; a GIF gives its first frame', async (t) => {
  const dir = tempDir(t);
  const base = sharp({ create: { width: 24, height: 24, channels: 3, background: '#20a040' } });
  for (const [name, bytes] of [
    ['g.webp', await base.clone().webp({ lossless: true }).toBuffer()],
    ['g.avif', await base.clone().avif({ lossless: true }).toBuffer()],
    ['g.tiff', await base.clone().tiff().toBuffer()],
  ] as const) {
    const { px } = await one(dir, name, bytes, { resolution: 16 });
    near(at(px, 8, 8), [0x20, 0xa0, 0x40], 3, name);
  }
  const red = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#ff0000' } }).png().toBuffer();
  const green = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#00ff00' } }).png().toBuffer();
  const gif = await sharp([red, green], { join: { animated: true } }).gif().toBuffer();
  assert.equal((await sharp(gif).metadata()).pages, 2);
  const { px } = await one(dir, 'anim.gif', gif, { resolution: 16 });
  near(at(px, 8, 8), [255, 0, 0], 8, 'first frame');
});

/** A minimal baseline TIFF: little endian, one strip, 16-bit gray (sharp writes 8-bit TIFF only). */
function tiff16(values: Uint16Array, width: number, height: number): Buffer {
  const entries: Array<[number, number, number, number]> = [
    [256, 3, 1, width], [257, 3, 1, height], [258, 3, 1, 16], [259, 3, 1, 1], [262, 3, 1, 1],
    [273, 4, 1, 0 /* set below */], [277, 3, 1, 1], [278, 3, 1, height], [279, 4, 1, values.byteLength],
  ];
  const ifdSize = 2 + entries.length * 12 + 4;
  const dataAt = 8 + ifdSize;
  entries[5]![3] = dataAt;
  const out = Buffer.alloc(dataAt + values.byteLength);
  out.write('II', 0, 'latin1');
  out.writeUInt16LE(42, 2);
  out.writeUInt32LE(8, 4);
  out.writeUInt16LE(entries.length, 8);
  entries.forEach(([tag, type, count, value], i) => {
    const o = 10 + i * 12;
    out.writeUInt16LE(tag, o);
    out.writeUInt16LE(type, o + 2);
    out.writeUInt32LE(count, o + 4);
    if (type === 3) out.writeUInt16LE(value, o + 8);
    else out.writeUInt32LE(value, o + 8);
  });
  Buffer.from(values.buffer, values.byteOffset, values.byteLength).copy(out, dataAt);
  return out;
}

test('a 16-bit TIFF keeps its depth in the provenance and its values to the last rounding', async (t) => {
  const dir = tempDir(t);
  const side = 16;
  const values = new Uint16Array(side * side).map((_, i) => i * 250); // 0 … 63,750
  const { outcome, px } = await one(dir, 'scan.tif', tiff16(values, side, side), { resolution: side, colourMode: 'grayscale' });
  assert.equal(outcome.kind === 'images' && outcome.bitDepth, 16);
  assert.deepEqual([...px.data], Array.from(values, (v) => Math.round(v / 257)));
});

test('fit: crop takes the centre, pad adds borders in the pad colour, stretch keeps everything', async (t) => {
  const dir = tempDir(t);
  // 96 × 32: three 32 × 32 squares, red | green | blue.
  const raw = Buffer.alloc(96 * 32 * 3);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 96; x++) raw.set([[255, 0, 0], [0, 255, 0], [0, 0, 255]][Math.floor(x / 32)]!, (y * 96 + x) * 3);
  const strip = await sharp(raw, { raw: { width: 96, height: 32, channels: 3 } }).png().toBuffer();

  const crop = (await one(dir, 'crop.png', strip, { resolution: 16, fit: 'crop' })).px;
  near(at(crop, 4, 8), [0, 255, 0], 4, 'crop: the centre square fills it'); // away from the edges, where the kernel reaches the neighbours
  near(at(crop, 11, 8), [0, 255, 0], 4, 'crop');

  const pad = (await one(dir, 'pad.png', strip, { resolution: 48, fit: 'pad', padColour: '#ffff00' })).px;
  near(at(pad, 24, 2), [255, 255, 0], 0, 'pad: yellow border above');
  near(at(pad, 24, 45), [255, 255, 0], 0, 'pad: and below');
  near(at(pad, 4, 24), [255, 0, 0], 8, 'pad: the whole strip, scaled to 48 × 16');
  near(at(pad, 43, 24), [0, 0, 255], 8, 'pad');

  const stretch = (await one(dir, 'stretch.png', strip, { resolution: 48, fit: 'stretch' })).px;
  near(at(stretch, 4, 2), [255, 0, 0], 8, 'stretch: red on the left, from top…');
  near(at(stretch, 4, 45), [255, 0, 0], 8, '…to bottom');
  near(at(stretch, 43, 24), [0, 0, 255], 8, 'stretch');
});

test('grayscale mode stores one channel with BT.601 luma', async (t) => {
  const dir = tempDir(t);
  const { px } = await one(dir, 'red.png', await sharp({ create: { width: 8, height: 8, channels: 3, background: '#ff0000' } }).png().toBuffer(), { resolution: 16, colourMode: 'grayscale' });
  assert.equal(px.channels, 1);
  assert.equal(px.data[0], Math.round(0.299 * 255));
});

test('a zip archive is a source: labels from the folders inside its single top folder; hidden files and __MACOSX are left out', async (t) => {
  const p = newProject(t);
  const png = (hex: string): Promise<Buffer> => sharp({ create: { width: 20, height: 20, channels: 3, background: hex } }).png().toBuffer();
  const zip = zipSync({
    'export/cats/a.png': await png('#aa0000'),
    'export/cats/b.png': await png('#00aa00'),
    'export/dogs/c.png': await png('#0000aa'),
    'export/dogs/.hidden.png': await png('#aaaa00'),
    '__MACOSX/export/cats/._a.png': new Uint8Array([0, 5, 22, 7]),
  });
  const archive = put(join(p.dir, 'pets.zip'), zip);
  const listed = await expandSources([archive], 'folders');
  assert.deepEqual(listed.entries.map((e) => [e.rel, e.label]), [['cats/a.png', 'cats'], ['cats/b.png', 'cats'], ['dogs/c.png', 'dogs']]);
  const report = await runImport(p, [archive], { resolution: 16 }, { labels: 'folders' });
  assert.equal(report.imported, 3);
  assert.deepEqual(storedImages(p).map((r) => [r.source_path, r.label]), [
    [`${archive}!/export/cats/a.png`, 'cats'],
    [`${archive}!/export/cats/b.png`, 'cats'],
    [`${archive}!/export/dogs/c.png`, 'dogs'],
  ]);
});

test('the suggestion: the largest power of two under the median shorter side, RGB for colour, a word on transparency', async (t) => {
  const dir = tempDir(t);
  const make = (w: number, h: number, bg: sharp.Color, channels: 3 | 4 = 3) => sharp({ create: { width: w, height: h, channels, background: bg } }).png().toBuffer();
  put(join(dir, 'a.png'), await make(300, 200, '#336699'));
  put(join(dir, 'b.png'), await make(500, 400, '#993366'));
  put(join(dir, 'c.png'), await make(1200, 900, { r: 10, g: 200, b: 30, alpha: 0.5 }, 4));
  const s = await suggestSettings([dir]);
  assert.equal(s.medianShortSide, 400);
  assert.equal(s.settings.resolution, 256);
  assert.equal(s.settings.colourMode, 'rgb');
  assert.ok(s.reasons.some((r) => /transparent/.test(r)), s.reasons.join(' '));
  put(join(dir, 'gray.png'), await sharp({ create: { width: 64, height: 64, channels: 3, background: '#777777' } }).png().toBuffer());
  const grayOnly = await suggestSettings([join(dir, 'gray.png')]);
  assert.deepEqual([grayOnly.settings.colourMode, grayOnly.settings.resolution], ['grayscale', 64], 'RGB files whose pixels are all gray');
});
