// Import throughput, end to end through the real import worker: 3,000 small PNGs (Twemoji,
// 64×64 RGBA) and 300 large JPEGs (3000×2000, made here with sharp), each normalised to 256²
// RGB. Prints one JSON document. Target for the small set on a 2-core machine: ≥ 500 images/s.
// Also what the service feels while it runs: its event loop's longest stall and the Dataset view's
// reads (stats + a page) on the service's connection (the unit test only bounds them loosely).
//   node --import tsx bench/import.ts            (BENCH_SMALL / BENCH_LARGE change the counts)
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { startImport } from '../core/data/import-job.js';
import { JobManager } from '../core/jobs/job-manager.js';
import { DatasetStore } from '../core/store/dataset.js';
import { Project } from '../core/store/project.js';

const SMALL = Number(process.env.BENCH_SMALL ?? 3000); // small PNGs
const LARGE = Number(process.env.BENCH_LARGE ?? 300); // large JPEGs
const LARGE_W = 3000;
const LARGE_H = 2000;
const TARGET_SMALL = 500; // images/s on 2 cores
const EMOJI = join(import.meta.dirname, '../node_modules/emoji-datasource-twitter/img/twitter/64');

const dir = mkdtempSync(join(tmpdir(), 'atelier-bench-import-'));

/** Photo-sized JPEGs, each different (its own gradient, blobs and texture), so none is a duplicate. */
async function largeJpegs(into: string, n: number): Promise<void> {
  mkdirSync(into, { recursive: true });
  const w = LARGE_W / 4;
  const h = LARGE_H / 4;
  for (let i = 0; i < n; i++) {
    let seed = 0x9e3779b9 ^ (i * 2654435761);
    const rnd = (): number => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) >>> 8) / 16_777_216;
    const [gx, gy] = [rnd() * 2 - 1, rnd() * 2 - 1];
    const base = [rnd() * 255, rnd() * 255, rnd() * 255];
    const blobs = Array.from({ length: 8 }, () => ({ x: rnd() * w, y: rnd() * h, r: 20 + rnd() * 120, c: [rnd() * 255, rnd() * 255, rnd() * 255] }));
    const raw = Buffer.alloc(w * h * 3);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const o = (y * w + x) * 3;
        const g = ((x / w) * gx + (y / h) * gy) * 120;
        let c = [base[0]! + g, base[1]! - g, base[2]! + g / 2];
        for (const b of blobs) if ((x - b.x) ** 2 + (y - b.y) ** 2 < b.r ** 2) c = b.c;
        for (let k = 0; k < 3; k++) raw[o + k] = Math.max(0, Math.min(255, c[k]! + (rnd() - 0.5) * 16));
      }
    }
    // Drawn at 1/4 size and upscaled: photo-like at 3000×2000, generated quickly.
    await sharp(raw, { raw: { width: w, height: h, channels: 3 } }).resize(LARGE_W, LARGE_H, { kernel: 'cubic' }).jpeg({ quality: 88 }).toFile(join(into, `photo-${String(i).padStart(4, '0')}.jpg`));
  }
}

/** CPU seconds used so far by a process and all its threads, or by one of its threads (Linux /proc; null elsewhere). */
function cpuSeconds(pid: number | undefined, tid?: number): number | null {
  if (pid === undefined) return null;
  try {
    const stat = tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`;
    const fields = readFileSync(stat, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  } catch {
    return null;
  }
}

async function run(name: string, source: string, files: number) {
  const path = join(dir, `${name}.atelier`);
  const project = Project.create(path, name, { appVersion: 'bench' });
  try {
    const t0 = performance.now();
    const handle = await startImport(new JobManager(project), { sources: [source], settings: { resolution: 256, fit: 'crop', colourMode: 'rgb' } });
    // Steady state: from the first progress report past 10 % of the files to the end.
    let mark: { t: number; done: number } | null = null;
    handle.onProgress((p) => {
      if (!mark && p.done >= files * 0.1) mark = { t: performance.now(), done: p.done };
    });
    // The worker's own CPU time (all its threads), sampled until it exits: what the import costs
    // whatever else the machine is running.
    let cpu: number | null = null;
    let mainCpu: number | null = null; // the worker's main thread: listing, dedupe, SQLite (the decode threads do the rest)
    const sampler = setInterval(() => {
      cpu = cpuSeconds(handle.pid) ?? cpu;
      mainCpu = cpuSeconds(handle.pid, handle.pid) ?? mainCpu;
    }, 50);
    // What the service feels meanwhile: its event loop's longest gap (a 5 ms timer), and how long
    // the Dataset view's two reads (stats + a page of thumbnails) take on its own connection.
    const store = new DatasetStore(project.db);
    let last = performance.now();
    let maxGap = 0;
    const loop = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    const reads: number[] = [];
    let done = false;
    const reader = (async () => {
      while (!done) {
        const r0 = performance.now();
        store.stats(null);
        store.page(0, 50);
        reads.push(performance.now() - r0);
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
    const report = await handle.done;
    done = true;
    await reader;
    clearInterval(loop);
    clearInterval(sampler);
    const t1 = performance.now();
    reads.sort((a, b) => a - b);
    const seconds = (t1 - t0) / 1000;
    const m = mark as { t: number; done: number } | null;
    return {
      files,
      imported: report.imported,
      duplicates: report.duplicates,
      skipped: report.skipped.length,
      status: report.status,
      ...(report.status === 'done' ? {} : { error: report.error }),
      seconds: +seconds.toFixed(2),
      imagesPerSecond: Math.round(files / seconds),
      steadyImagesPerSecond: m ? Math.round((files - m.done) / ((t1 - m.t) / 1000)) : null,
      workerCpuSeconds: cpu,
      workerCpuMsPerImage: cpu === null ? null : +((cpu * 1000) / files).toFixed(2),
      coordinatorCpuMsPerImage: mainCpu === null ? null : +((mainCpu * 1000) / files).toFixed(2),
      // If the worker had every core to itself: cores / CPU time per image.
      impliedImagesPerSecondOnIdleCores: cpu === null ? null : Math.round((availableParallelism() * files) / cpu),
      fileMB: +(project.summary().sizeBytes / 1e6).toFixed(1),
      serviceLoopMaxGapMs: Math.round(maxGap),
      datasetReadsMs: reads.length === 0 ? null : { count: reads.length, median: +reads[reads.length >> 1]!.toFixed(1), max: +reads.at(-1)!.toFixed(1) },
    };
  } finally {
    project.close();
  }
}

try {
  const small = join(dir, 'small');
  mkdirSync(small);
  const names = readdirSync(EMOJI).sort().slice(0, SMALL);
  for (const n of names) copyFileSync(join(EMOJI, n), join(small, n));
  const large = join(dir, 'large');
  const tGen = performance.now();
  await largeJpegs(large, LARGE);
  const generateSeconds = (performance.now() - tGen) / 1000;

  const load = loadavg()[0]!;
  const smallResult = await run('small', small, names.length);
  const largeResult = await run('large', large, LARGE);
  console.log(
    JSON.stringify({
      machine: { cores: availableParallelism(), loadAverage1mBefore: +load.toFixed(2), loadAverage1mAfter: +loadavg()[0]!.toFixed(2) },
      normalise: { resolution: 256, fit: 'crop', colourMode: 'rgb' },
      smallPng: { source: '64×64 RGBA PNG (Twemoji)', ...smallResult, target: TARGET_SMALL, meetsTarget: smallResult.status === 'done' && smallResult.imported + smallResult.duplicates === smallResult.files && smallResult.imagesPerSecond >= TARGET_SMALL },
      largeJpeg: { source: `${LARGE_W}×${LARGE_H} JPEG q88`, ...largeResult, generateSeconds: +generateSeconds.toFixed(1) },
    }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
