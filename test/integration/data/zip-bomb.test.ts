/**
 * Zip archives made to hurt: entries of zeros that inflate a thousandfold (a zip bomb), a size
 * that lies, names that climb out of the archive with `..`. A bomb is refused before it is
 * inflated, with a reason naming the ratio and the limit, and the reading process's peak memory
 * barely moves (measured in a child process: getrusage's maxRSS); a lying entry stops at its
 * declared size; `..` entries are counted as skipped, so the totals add up.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EMOJI_DIR, newProject, runImport } from '../../helpers/data.js';
import { tempDir } from '../../helpers/tmp.js';
import { fileEntry, writeRawZip, zerosEntry } from '../../helpers/zip-bomb.js';

const ROOT = new URL('../../..', import.meta.url).pathname;
const READER = join(ROOT, 'test/fixtures/data/read-zip-entries.ts');
const MiB = 2 ** 20;

interface Read {
  peakRiseKiB: number;
  outcomes: Array<{ name: string; bytes?: number; code?: string; reason?: string }>;
}

function readAll(archive: string): Read {
  const out = execFileSync(process.execPath, ['--import', 'tsx', READER, archive], { cwd: ROOT, encoding: 'utf8', maxBuffer: 1 << 20 });
  return JSON.parse(out.trim().split('\n').at(-1)!) as Read;
}

test('a zip bomb (256 MiB of zeros in 0.25 MB) is refused unread: peak memory rises under 32 MiB, the reason names ratio and limit', async (t) => {
  const dir = tempDir(t);
  const bomb = await zerosEntry('bomb.png', 256 * MiB);
  assert.ok(bomb.data.length < MiB, `the bomb is small (${bomb.data.length} bytes)`);
  const archive = join(dir, 'bomb.zip');
  writeRawZip(archive, [bomb]);
  const read = readAll(archive);
  const [outcome] = read.outcomes;
  assert.equal(outcome?.bytes, undefined, 'not inflated');
  assert.equal(outcome?.code, 'too-large');
  assert.match(outcome!.reason!, /268,435,456 bytes/, 'the declared size');
  assert.match(outcome!.reason!, /100-fold once past 16 MiB/, 'the ratio and the size it applies above');
  assert.match(outcome!.reason!, /never past 2,147,483,647 bytes/, 'the absolute limit');
  assert.ok(read.peakRiseKiB < 32 * 1024, `peak RSS rose ${(read.peakRiseKiB / 1024).toFixed(1)} MiB`);
});

test('an entry whose declared size lies stops inflating at that size', async (t) => {
  const dir = tempDir(t);
  const liar = await zerosEntry('small.png', 64 * MiB, 4096); // says 4 KiB, holds 64 MiB
  const archive = join(dir, 'liar.zip');
  writeRawZip(archive, [liar]);
  const read = readAll(archive);
  assert.equal(read.outcomes[0]?.code, 'corrupt');
  assert.match(read.outcomes[0]!.reason!, /declared size of 4,096 bytes/);
  assert.ok(read.peakRiseKiB < 32 * 1024, `peak RSS rose ${(read.peakRiseKiB / 1024).toFixed(1)} MiB`);
});

test('an ordinary deflated image in a zip still reads back byte for byte', async (t) => {
  const dir = tempDir(t);
  const png = readFileSync(join(EMOJI_DIR, '1f600.png'));
  const archive = join(dir, 'ok.zip');
  writeRawZip(archive, [fileEntry('face.png', png)]);
  assert.deepEqual(readAll(archive).outcomes, [{ name: 'face.png', bytes: png.length }]);
});

test('import: the bomb is skipped with its reason, `..` entries are counted as skipped, the image is imported', async (t) => {
  const p = newProject(t);
  const png = readFileSync(join(EMOJI_DIR, '1f600.png'));
  const archive = join(p.dir, 'mixed.zip');
  writeRawZip(archive, [
    fileEntry('face.png', png),
    await zerosEntry('bomb.png', 64 * MiB),
    fileEntry('../escape.png', readFileSync(join(EMOJI_DIR, '1f601.png'))),
    fileEntry('sub/../../twice.png', readFileSync(join(EMOJI_DIR, '1f602.png'))),
  ]);
  const report = await runImport(p, [archive], { resolution: 32 });
  assert.equal(report.status, 'done');
  assert.equal(report.total, 4, 'every entry is accounted for');
  assert.equal(report.imported, 1);
  const skipped = Object.fromEntries(report.skipped.map((s) => [s.file.slice(archive.length + 2), s]));
  assert.deepEqual(Object.keys(skipped).sort(), ['../escape.png', 'bomb.png', 'sub/../../twice.png']);
  assert.equal(skipped['bomb.png']!.code, 'too-large');
  assert.match(skipped['bomb.png']!.reason, /zip bomb/);
  for (const name of ['../escape.png', 'sub/../../twice.png']) assert.match(skipped[name]!.reason, /leads out of the archive/);
});
