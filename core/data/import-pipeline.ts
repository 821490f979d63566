/**
 * The import, run inside the import worker process: list the sources, decode them on a pool of
 * threads, decide duplicates in a fixed order (so "which copy is kept" is the same on every run),
 * and commit in batch transactions. A cancel stops taking new files and commits what is already
 * decided; a crash loses at most the batch in flight. The host reaches in only through hooks.
 */
import type { ImportProgress, ImportReport, SkippedFile } from '../api/contract.js';
import type { ImportJobParams } from '../jobs/kinds.js';
import { DatasetStore } from '../store/dataset.js';
import { DiskReserve, explainDiskFull, isDiskFull } from '../store/disk-full.js';
import { ImportStore, type Batch, type ImportCounts, type KeptRef, type NewImage } from '../store/imports.js';
import { openProjectDb } from '../store/project-file.js';
import { Checkpointer } from './checkpointer.js';
import { DecodePool } from './decode-pool.js';
import { DuplicateIndex } from './dedupe.js';
import type { EntryOutcome } from './process-entry.js';
import { expandSources, type SourceEntry } from './sources.js';

/** The import job's params (the `imports` row the caller created, sources, settings, options) and the project file (absolute). */
export interface ImportJob extends ImportJobParams {
  projectPath: string;
}

export interface PipelineHooks {
  onProgress?: (p: ImportProgress) => void;
  /** Polled between files. */
  cancelled?: () => boolean;
}

const WINDOW_PER_THREAD = 12; // files decoded ahead of the one being committed, per thread
const RATE_WINDOW_MS = 3000; // images/s is measured over the last few seconds
const DEFAULT_AUTOCHECKPOINT = 1000; // SQLite's own, should the checkpoint thread fail

export async function runImport(job: ImportJob, hooks: PipelineHooks = {}): Promise<ImportReport> {
  const db = openProjectDb(job.projectPath, { role: 'worker' });
  const dataset = new DatasetStore(db);
  const store = new ImportStore(db);
  // Room for the import's last write should the disk fill: it then ends 'failed', saying why, not 'running'.
  const reserve = new DiskReserve(job.projectPath, 'import');
  reserve.hold();
  let pool: DecodePool | null = null;
  let checkpointer: Checkpointer | null = null;
  const { importId, options } = job;
  try {
    // WAL checkpoints happen on a thread of their own, never inside a commit (see checkpointer.ts);
    // without that thread, SQLite's automatic ones.
    const autoCheckpoints = (): unknown => db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT}`);
    db.pragma('wal_autocheckpoint = 0');
    try {
      checkpointer = new Checkpointer(job.projectPath, autoCheckpoints);
    } catch {
      autoCheckpoints();
    }

    // The decode threads start first: their start-up (a few hundred milliseconds, mostly loading
    // modules) overlaps listing the sources and loading the index.
    const known = dataset.knownSourceHashes();
    const decoders = new DecodePool(options.threads, {
      settings: job.settings,
      options: { maxPixels: options.maxPixels, maxFileBytes: options.maxFileBytes, pngLevel: options.pngLevel, thumbSize: options.thumbSize },
      known: [...known],
    });
    pool = decoders;

    // List the sources.
    const listed = await expandSources(job.sources, options.labels, job.confine ?? null);
    // The folder choices (tiny classes): left out, or in without their label.
    const leaveOut = new Set(options.leaveOutFolders ?? []);
    const unlabelled = new Set(options.unlabelledFolders ?? []);
    const entries = listed.entries
      .filter((e) => e.label === null || !leaveOut.has(e.label))
      .map((e) => (e.label !== null && unlabelled.has(e.label) ? { ...e, label: null } : e));
    const counts: ImportCounts = { total: entries.length + listed.skipped.length, imported: 0, unchanged: 0, duplicates: 0, skipped: 0 };
    let batch: Batch = { images: [], duplicates: [], skipped: [] };
    for (const s of listed.skipped) {
      batch.skipped.push(s);
      counts.skipped++;
    }

    // Load what the dataset already holds, for duplicates and for "already imported".
    const index = new DuplicateIndex();
    for (const img of dataset.indexedImages()) index.add(img.pixelHash, img.phash, img.colourSig, { id: img.id, file: img.file });

    // Progress: files done, images/s over a sliding window, ETA.
    const samples: Array<[number, number]> = [[Date.now(), 0]];
    let done = listed.skipped.length;
    let lastReport = 0;
    const progress = (force: boolean): void => {
      const t = Date.now();
      samples.push([t, done]);
      while (samples.length > 2 && t - samples[0]![0] > RATE_WINDOW_MS) samples.shift();
      if (!force && t - lastReport < options.progressMs) return;
      lastReport = t;
      const [t0, d0] = samples[0]!;
      const rate = t > t0 ? ((done - d0) * 1000) / (t - t0) : 0;
      const left = (counts.total ?? 0) - done;
      hooks.onProgress?.({
        importId,
        done,
        total: counts.total,
        imported: counts.imported,
        duplicates: counts.duplicates,
        skipped: counts.skipped,
        unchanged: counts.unchanged,
        imagesPerSecond: Math.round(rate * 10) / 10,
        etaSeconds: rate > 0 ? Math.ceil(left / rate) : null,
      });
    };
    progress(true);

    let lastCommit = Date.now();
    const commit = (): void => {
      store.commitBatch(importId, batch, counts);
      checkpointer?.request();
      batch = { images: [], duplicates: [], skipped: [] };
      lastCommit = Date.now();
    };

    // Decode ahead on the pool, decide in order.
    let cancelled = false;
    if (entries.length > 0) {
      const window = decoders.size * WINDOW_PER_THREAD;
      const inflight = new Map<number, Promise<EntryOutcome>>();
      let next = 0;
      for (let i = 0; i < entries.length; i++) {
        while (next < entries.length && next - i < window) {
          const p = decoders.run(entries[next]!);
          p.catch(() => {}); // observed below, in order
          inflight.set(next, p);
          next++;
        }
        if (hooks.cancelled?.()) {
          cancelled = true;
          break;
        }
        const outcome = await inflight.get(i)!;
        inflight.delete(i);
        decide(entries[i]!, outcome, job, index, batch, counts);
        done++;
        if (batch.images.length + batch.duplicates.length + batch.skipped.length >= options.batchSize || Date.now() - lastCommit >= options.batchMs) commit();
        progress(false);
      }
      if (!cancelled && hooks.cancelled?.()) cancelled = true;
    }

    // What is decided is committed, cancelled or not.
    commit();
    store.finishImport(importId, cancelled ? 'cancelled' : 'done');
    progress(true);
    return store.report(importId)!;
  } catch (raw) {
    // A full disk in one line naming the project, not SQLite's "database or disk is full".
    const err = explainDiskFull(raw, job.projectPath);
    if (isDiskFull(raw)) reserve.release();
    try {
      store.finishImport(importId, 'failed', (err as Error)?.message ?? String(err));
    } catch {
      // The database itself may be what failed; the caller reports the error.
    }
    throw err;
  } finally {
    reserve.release();
    await pool?.close();
    await checkpointer?.close(true);
    db.close();
  }
}

/** One file's outcome into the batch: new image, duplicate, already imported, or skipped. */
function decide(entry: SourceEntry, outcome: EntryOutcome, job: ImportJob, index: DuplicateIndex, batch: Batch, counts: ImportCounts): void {
  if (outcome.kind === 'skipped') {
    const s: SkippedFile = { file: entry.file, code: outcome.code, reason: outcome.reason };
    batch.skipped.push(s);
    counts.skipped++;
    return;
  }
  if (outcome.kind === 'unchanged') {
    counts.unchanged++;
    return;
  }
  const { nearThreshold, nearColourTolerance } = job.options;
  for (const img of outcome.images) {
    const file = img.frame === null ? entry.file : `${entry.file} (frame ${img.frame + 1})`;
    const exact = index.findExact(img.pixelHash);
    const near = exact ? null : index.findNear(img.phash, img.colourSig, nearThreshold, nearColourTolerance);
    if (exact || near) {
      batch.duplicates.push({
        kind: exact ? 'exact' : 'near',
        file,
        sourceHash: outcome.sourceHash,
        kept: (exact ?? near!.kept) as KeptRef,
        distance: exact ? 0 : near!.distance,
      });
      counts.duplicates++;
      continue;
    }
    const ref: KeptRef = { id: 0, file };
    index.add(img.pixelHash, img.phash, img.colourSig, ref);
    const row: NewImage = {
      ref,
      label: entry.label,
      size: img.size,
      channels: img.channels,
      pixelHash: img.pixelHash,
      phash: img.phash,
      colourSig: img.colourSig,
      sourcePath: entry.file,
      sourceFormat: outcome.format,
      sourceWidth: outcome.width,
      sourceHeight: outcome.height,
      sourceBitDepth: outcome.bitDepth,
      sourceFrame: img.frame,
      sourceHash: outcome.sourceHash,
      thumb: img.thumb,
      pixels: img.png,
    };
    batch.images.push(row);
    counts.imported++;
  }
}
