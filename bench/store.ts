// Project file: create, open (header + quick_check + migrate), summary, and a batch insert of
// images-sized rows — the costs a user feels when opening a project of a few thousand images.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Project } from '../core/store/project.js';

const ROWS = 3000; // a typical small dataset
const PIXEL_BYTES = 12_000; // ≈ a 64×64 RGB PNG
const THUMB_BYTES = 3_000;

const dir = mkdtempSync(join(tmpdir(), 'atelier-bench-'));
const path = join(dir, 'bench.atelier');
const ms = (t0: bigint): number => Number(process.hrtime.bigint() - t0) / 1e6;

try {
  let t = process.hrtime.bigint();
  const p = Project.create(path, 'bench', { appVersion: 'bench' });
  const createMs = ms(t);

  const insert = p.db.prepare(`INSERT INTO images (pixels, thumb, width, height, channels, pixel_hash, source_path, source_format, created_at)
                               VALUES (?, ?, 64, 64, 3, ?, ?, 'png', ?)`);
  const pixels = randomBytes(PIXEL_BYTES);
  const thumb = randomBytes(THUMB_BYTES);
  t = process.hrtime.bigint();
  p.db.transaction(() => {
    for (let i = 0; i < ROWS; i++) insert.run(pixels, thumb, `hash-${i}`, `/data/img-${i}.png`, new Date().toISOString());
  })();
  const insertMs = ms(t);
  p.close();

  const opens: number[] = [];
  let summaryMs = 0;
  for (let i = 0; i < 5; i++) {
    t = process.hrtime.bigint();
    const q = Project.open(path);
    opens.push(ms(t));
    t = process.hrtime.bigint();
    q.summary();
    summaryMs = ms(t);
    q.close();
  }
  opens.sort((a, b) => a - b);
  const look = Project.inspect(path);
  const fileMB = +(look.summary().sizeBytes / 1e6).toFixed(1);
  look.close();
  console.log(
    JSON.stringify({
      rows: ROWS,
      fileMB,
      createMs: +createMs.toFixed(2),
      insertRowsPerSec: Math.round(ROWS / (insertMs / 1000)),
      openMsMedian: +opens[2]!.toFixed(2),
      summaryMs: +summaryMs.toFixed(2),
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
