/**
 * DICOM: fixtures written with dcmjs, decoded pixel values checked against the VOI windowing
 * formula of PS3.3 C.11.2.1.2.1 — implemented again here, apart from the code under test.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { processEntry, type EntryOutcome } from '../../../core/data/process-entry.js';
import { DEFAULT_IMPORT, DEFAULT_NORMALISE } from '../../../core/data/options.js';
import type { NormaliseSettings } from '../../../core/api/contract.js';
import { suggestSettings } from '../../../core/data/suggest.js';
import { dicomFile, newProject, pngPixels, put, runImport, storedImages, tempDir } from '../../helpers/data.js';

const SIDE = 64;
const settings: NormaliseSettings = { ...DEFAULT_NORMALISE, resolution: SIDE, colourMode: 'grayscale' };

/** PS3.3 C.11.2.1.2.1, linear, output 0–255 before rounding. */
function windowLinear(x: number, c: number, w: number): number {
  if (x <= c - 0.5 - (w - 1) / 2) return 0;
  if (x > c - 0.5 + (w - 1) / 2) return 255;
  return ((x - (c - 0.5)) / (w - 1) + 0.5) * 255;
}

async function decodeOne(dir: string, name: string, bytes: Buffer, s: NormaliseSettings = settings): Promise<EntryOutcome> {
  const path = put(join(dir, name), bytes);
  return processEntry({ file: path, rel: name, label: null, size: bytes.length, loc: { kind: 'file', path } }, { settings: s, options: DEFAULT_IMPORT, known: new Set() });
}

async function framePixels(o: EntryOutcome, frame = 0): Promise<Buffer> {
  assert.equal(o.kind, 'images', JSON.stringify(o).slice(0, 300));
  if (o.kind !== 'images') throw new Error('unreachable');
  const px = await pngPixels(o.images[frame]!.png);
  assert.deepEqual([px.width, px.height, px.channels], [SIDE, SIDE, 1]);
  return px.data;
}

/** Compares decoded values with expected 0–255 floats: every pixel within ±1 of the formula, nearly all a nearest integer. */
function assertClose(actual: Buffer, expected: Float64Array, what: string): void {
  let exact = 0;
  for (let i = 0; i < expected.length; i++) {
    const want = Math.round(expected[i]!);
    assert.ok(Math.abs(actual[i]! - want) <= 1, `${what}: pixel ${i} is ${actual[i]}, the formula gives ${expected[i]!.toFixed(3)}`);
    if (Math.abs(actual[i]! - expected[i]!) <= 0.5 + 1e-4) exact++; // a nearest integer (either one at an exact .5)
  }
  assert.ok(exact / expected.length > 0.99, `${what}: only ${exact} of ${expected.length} pixels match the formula exactly`);
}

test('MONOCHROME2, 16-bit signed with rescale and window tags: pixels follow the windowing formula', async (t) => {
  const dir = tempDir(t);
  const stored = new Int16Array(SIDE * SIDE);
  for (let i = 0; i < stored.length; i++) stored[i] = (i % SIDE) * 20 + Math.floor(i / SIDE) * 3 - 300; // -300 … 1149
  const [slope, intercept, centre, width] = [2, -1024, 40, 400];
  const bytes = dicomFile(
    {
      Rows: SIDE, Columns: SIDE, SamplesPerPixel: 1, PhotometricInterpretation: 'MONOCHROME2',
      BitsAllocated: 16, BitsStored: 16, HighBit: 15, PixelRepresentation: 1,
      RescaleSlope: slope, RescaleIntercept: intercept, WindowCenter: centre, WindowWidth: width,
    },
    stored.buffer,
  );
  const got = await framePixels(await decodeOne(dir, 'ct.dcm', bytes));
  const want = Float64Array.from(stored, (s) => windowLinear(s * slope + intercept, centre, width));
  assertClose(got, want, 'CT window 40/400');
  // The window clips: some pixels black, some white, some between.
  assert.ok(got.includes(0) && got.includes(255) && got.some((v) => v > 10 && v < 245));
});

test('MONOCHROME1 without window tags: the pixel range maps to white…black (inverted)', async (t) => {
  const dir = tempDir(t);
  const stored = new Uint8Array(SIDE * SIDE);
  for (let i = 0; i < stored.length; i++) stored[i] = 10 + ((i * 7) % 191); // 10 … 200
  const bytes = dicomFile(
    { Rows: SIDE, Columns: SIDE, SamplesPerPixel: 1, PhotometricInterpretation: 'MONOCHROME1', BitsAllocated: 8, BitsStored: 8, HighBit: 7, PixelRepresentation: 0 },
    stored.buffer,
  );
  const got = await framePixels(await decodeOne(dir, 'cr.dcm', bytes));
  const [lo, hi] = [10, 200];
  // Window from the range: centre (lo+hi)/2 + 0.5, width hi-lo+1; MONOCHROME1 then inverted.
  const want = Float64Array.from(stored, (s) => 255 - windowLinear(s, (lo + hi) / 2 + 0.5, hi - lo + 1));
  assertClose(got, want, 'MONOCHROME1 from range');
  assert.equal(got[stored.indexOf(10)], 255, 'the lowest value is white in MONOCHROME1');
  assert.equal(got[stored.indexOf(200)], 0, 'the highest value is black');
});

test('12-bit stored in 16 bits: bits above High Bit are masked off before windowing', async (t) => {
  const dir = tempDir(t);
  const stored = new Uint16Array(SIDE * SIDE);
  const values = new Uint16Array(SIDE * SIDE);
  for (let i = 0; i < stored.length; i++) {
    values[i] = (i * 37) % 4096;
    stored[i] = values[i]! | ((i % 16) << 12); // overlay bits in the top nibble
  }
  const bytes = dicomFile(
    { Rows: SIDE, Columns: SIDE, SamplesPerPixel: 1, PhotometricInterpretation: 'MONOCHROME2', BitsAllocated: 16, BitsStored: 12, HighBit: 11, PixelRepresentation: 0, WindowCenter: 2048, WindowWidth: 4096 },
    stored.buffer,
  );
  const got = await framePixels(await decodeOne(dir, 'mr.dcm', bytes));
  assertClose(got, Float64Array.from(values, (v) => windowLinear(v, 2048, 4096)), '12-bit');
});

/** RLE Lossless (PS3.5 Annex G) with literal runs only: enough to exercise the decoder. */
function rleFrame(values: Uint16Array): Buffer {
  const segs = [0, 1].map((b) => {
    const bytes = Buffer.from(Array.from(values, (v) => (b === 0 ? v >> 8 : v & 255)));
    const parts: Buffer[] = [];
    for (let i = 0; i < bytes.length; i += 128) {
      const chunk = bytes.subarray(i, i + 128);
      parts.push(Buffer.from([chunk.length - 1]), chunk);
    }
    const seg = Buffer.concat(parts);
    return seg.length % 2 ? Buffer.concat([seg, Buffer.from([0x80])]) : seg;
  });
  const header = Buffer.alloc(64);
  header.writeUInt32LE(2, 0);
  header.writeUInt32LE(64, 4);
  header.writeUInt32LE(64 + segs[0]!.length, 8);
  return Buffer.concat([header, ...segs]);
}

/** Wraps a frame as encapsulated Pixel Data: empty offset table item, one fragment, sequence delimiter. */
function encapsulate(part10: Buffer, frame: Buffer): Buffer {
  const item = (data: Buffer): Buffer => {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(0xfffe, 0);
    h.writeUInt16LE(0xe000, 2);
    h.writeUInt32LE(data.length, 4);
    return Buffer.concat([h, data]);
  };
  const el = Buffer.alloc(12);
  el.writeUInt16LE(0x7fe0, 0);
  el.writeUInt16LE(0x0010, 2);
  el.write('OB', 4, 'latin1');
  el.writeUInt32LE(0xffffffff, 8);
  const end = Buffer.from([0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
  return Buffer.concat([part10, el, item(Buffer.alloc(0)), item(frame), end]);
}

test('RLE Lossless is decoded; JPEG 2000 is skipped as an unsupported encoding, naming it', async (t) => {
  const dir = tempDir(t);
  const values = new Uint16Array(SIDE * SIDE).map((_, i) => (i * 13) % 1000);
  const fields = { Rows: SIDE, Columns: SIDE, SamplesPerPixel: 1, PhotometricInterpretation: 'MONOCHROME2', BitsAllocated: 16, BitsStored: 16, HighBit: 15, PixelRepresentation: 0, WindowCenter: 500, WindowWidth: 1000 };
  const rle = encapsulate(dicomFile(fields, undefined, '1.2.840.10008.1.2.5'), rleFrame(values));
  assertClose(await framePixels(await decodeOne(dir, 'rle.dcm', rle)), Float64Array.from(values, (v) => windowLinear(v, 500, 1000)), 'RLE');

  const j2k = encapsulate(dicomFile(fields, undefined, '1.2.840.10008.1.2.4.90'), Buffer.from([0xff, 0x4f, 0xff, 0x51, 1, 2, 3, 4]));
  const o = await decodeOne(dir, 'j2k.dcm', j2k);
  assert.equal(o.kind, 'skipped');
  assert.equal(o.kind === 'skipped' && o.code, 'dicom-unsupported');
  assert.match(o.kind === 'skipped' ? o.reason : '', /JPEG 2000.*1\.2\.840\.10008\.1\.2\.4\.90.*Convert/);
});

test('a DICOM folder imports through the worker: multi-frame gives one image per frame, no pixel data is skipped, grayscale is suggested', async (t) => {
  const p = newProject(t);
  const src = join(p.dir, 'series');
  const frames = 3;
  const multi = new Uint16Array(SIDE * SIDE * frames);
  for (let f = 0; f < frames; f++) for (let i = 0; i < SIDE * SIDE; i++) multi[f * SIDE * SIDE + i] = f === 0 ? i % 1024 : f === 1 ? 1023 - (i % 1024) : (i * 31) % 1024;
  put(
    join(src, 'cine.dcm'),
    dicomFile(
      { Rows: SIDE, Columns: SIDE, NumberOfFrames: frames, SamplesPerPixel: 1, PhotometricInterpretation: 'MONOCHROME2', BitsAllocated: 16, BitsStored: 10, HighBit: 9, PixelRepresentation: 0, WindowCenter: 512, WindowWidth: 1024 },
      multi.buffer,
    ),
  );
  put(join(src, 'report.dcm'), dicomFile({ Modality: 'SR', SOPClassUID: '1.2.840.10008.5.1.4.1.1.88.11' }));
  const suggestion = await suggestSettings([src]);
  assert.equal(suggestion.settings.colourMode, 'grayscale', suggestion.reasons.join(' '));
  assert.equal(suggestion.settings.resolution, SIDE);

  const report = await runImport(p, [src]); // settings from the suggestion
  assert.equal(report.status, 'done', report.error ?? '');
  assert.equal(report.imported, frames);
  assert.deepEqual(report.skipped.map((s) => [s.file.endsWith('report.dcm'), s.code]), [[true, 'dicom-no-pixels']]);
  const rows = storedImages(p);
  assert.deepEqual(rows.map((r) => r.source_frame), [0, 1, 2]);
  for (let f = 0; f < frames; f++) {
    const px = await pngPixels(rows[f]!.pixels);
    assert.equal(px.channels, 1, 'a DICOM set is stored grayscale');
    const want = Float64Array.from(multi.subarray(f * SIDE * SIDE, (f + 1) * SIDE * SIDE), (v) => windowLinear(v, 512, 1024));
    assertClose(px.data, want, `frame ${f}`);
  }
});
