/**
 * Bad files never stop an import: each is skipped with the right reason, everything else imports.
 * Run through the real CLI (`atelier import --json`), as a script on a remote box would.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { crc32, deflateSync } from 'node:zlib';
import sharp from 'sharp';
import { Project } from '../../../core/store/project.js';
import { put, tempDir } from '../../helpers/data.js';

const ATELIER = join(import.meta.dirname, '../../../bin/atelier.js');
const run = promisify(execFile);

function pngChunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body) >>> 0);
  return Buffer.concat([len, body, crc]);
}

/** A well-formed PNG whose header declares 60,000 × 60,000 RGB: 10.8 GB once decoded. */
function bombPng(): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(60_000, 0);
  ihdr.writeUInt32BE(60_000, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', ihdr),
    pngChunk('IDAT', deflateSync(Buffer.alloc(60_001 * 4))), // the first rows, all zero
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

async function noise(width: number, height: number, seed: number): Promise<Buffer> {
  const px = Buffer.alloc(width * height * 3);
  let s = seed;
  for (let i = 0; i < px.length; i++) px[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
  return sharp(px, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

test('0 bytes, truncated PNG, text named .jpg and a 60,000² PNG header are skipped with their reasons; the rest imports', async (t) => {
  const dir = tempDir(t);
  const src = join(dir, 'drop');
  const good = [
    put(join(src, 'good-1.png'), await noise(80, 60, 1)),
    put(join(src, 'sub', 'good-2.jpg'), await sharp(await noise(70, 90, 2)).jpeg().toBuffer()),
    put(join(src, 'good-3.webp'), await sharp(await noise(64, 64, 3)).webp().toBuffer()),
  ];
  const truncated = await noise(120, 120, 4);
  const bad: Record<string, { path: string; code: string; reason: RegExp }> = {
    empty: { path: put(join(src, 'empty.png'), ''), code: 'empty', reason: /0 bytes/ },
    truncated: { path: put(join(src, 'truncated.png'), truncated.subarray(0, truncated.length >> 1)), code: 'corrupt', reason: /Truncated or corrupt/ },
    text: { path: put(join(src, 'notes.jpg'), 'Shopping list:\n- eggs\n- milk\n'), code: 'not-an-image', reason: /Not an image.*text/ },
    bomb: { path: put(join(src, 'bomb.png'), bombPng()), code: 'too-large', reason: /60,000 × 60,000 pixels is above the limit.*header/ },
    bmp: { path: put(join(src, 'old.bmp'), Buffer.concat([Buffer.from('BM'), Buffer.alloc(60)])), code: 'unsupported', reason: /BMP.*Convert/ },
  };
  put(join(src, '.DS_Store'), 'litter'); // hidden: not even reported
  const unreadableWanted = process.getuid?.() !== 0; // root reads anything: no permission error to provoke
  if (unreadableWanted) {
    const locked = put(join(src, 'locked.png'), await noise(32, 32, 5));
    chmodSync(locked, 0o000);
    bad.locked = { path: locked, code: 'unreadable', reason: /permission denied/ };
  }

  const project = join(dir, 'bad.atelier');
  await run(process.execPath, [ATELIER, 'new', project]);
  const started = Date.now();
  const { stdout } = await run(process.execPath, [ATELIER, 'import', project, src, '--resolution', '64', '--json']);
  const doc = JSON.parse(stdout) as { ok: boolean; imported: number; duplicates: number; skipped: Array<{ file: string; reason: string; code: string }> };
  assert.ok(doc.ok);
  assert.equal(doc.imported, good.length);
  assert.equal(doc.duplicates, 0);
  assert.equal(doc.skipped.length, Object.keys(bad).length, JSON.stringify(doc.skipped, null, 1));
  for (const [name, b] of Object.entries(bad)) {
    const s = doc.skipped.find((k) => k.file === b.path);
    assert.ok(s, `${name} is listed as skipped`);
    assert.equal(s.code, b.code, `${name}: ${s.reason}`);
    assert.match(s.reason, b.reason, name);
  }
  assert.ok(Date.now() - started < 60_000, 'the bomb was refused without decoding 10 GB');

  // The project holds exactly the good files, and the dataset lists the skipped ones.
  const p = Project.inspect(project);
  try {
    const files = (p.db.prepare('SELECT source_path FROM images ORDER BY source_path').all() as Array<{ source_path: string }>).map((r) => r.source_path);
    assert.deepEqual(files, [...good].sort());
    assert.equal((p.db.prepare('SELECT count(*) AS n FROM skipped_files').get() as { n: number }).n, Object.keys(bad).length);
  } finally {
    p.close();
  }
});

test('the CLI refuses a different resolution once the project has images, and says what to do', async (t) => {
  const dir = tempDir(t);
  const project = join(dir, 'p.atelier');
  put(join(dir, 'a.png'), await noise(40, 40, 9));
  await run(process.execPath, [ATELIER, 'new', project]);
  await run(process.execPath, [ATELIER, 'import', project, join(dir, 'a.png'), '--resolution', '32', '--json']);
  const err = await run(process.execPath, [ATELIER, 'import', project, join(dir, 'a.png'), '--resolution', '64']).then(
    () => assert.fail('expected a failure'),
    (e: { code: number; stderr: string }) => e,
  );
  assert.equal(err.code, 1);
  assert.match(err.stderr, /resolution = 32.*64 would mix.*Leave resolution out/);
});
