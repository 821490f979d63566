/**
 * Import bookkeeping: the `imports` table (one row per import: sources, settings, counts, status,
 * the worker's pid), the files each import skipped, the duplicates it dropped, and the batches
 * the import worker commits (images, duplicates, skipped files and the counts in one
 * transaction). The import worker writes through its own connection; the service reads reports
 * and marks imports whose worker is gone as interrupted.
 */
import type Database from 'better-sqlite3';
import type { DuplicatePair, ImportReport, ImportStatus, LabelSource, NormaliseSettings, SkippedFile } from '../api/contract.js';
import { processAlive } from './jobs.js';
import { LabelIds } from './labels.js';

/** Per-import options, kept with each import (`imports.options`). Defaults and why: core/data/options.ts. */
export interface ImportOptions {
  /** 'folders': each first-level subfolder name becomes a label (class). */
  labels: LabelSource;
  /** With 'folders': first-level folders whose images are imported without a label (e.g. tiny classes). */
  unlabelledFolders: string[];
  /** With 'folders': first-level folders left out of the import. */
  leaveOutFolders: string[];
  /** Near duplicates: perceptual-hash Hamming distance at or below this (of 64 bits) drops a copy; -1 turns it off. */
  nearThreshold: number;
  /** Near duplicates must also match in colour: largest difference of the 4×4 mean-colour grid (0–255). */
  nearColourTolerance: number;
  /** Images above this many pixels (width × height × frames) are skipped before decoding (decompression bombs). */
  maxPixels: number;
  /** Files above this many bytes are skipped unread. */
  maxFileBytes: number;
  /** Images per transaction: a cancel or a crash loses at most the batch in flight. */
  batchSize: number;
  /** Longest time a finished image waits before its batch is committed, in ms. */
  batchMs: number;
  /** Decode threads inside the import worker (0: one per CPU core). */
  threads: number;
  /** zlib level of the stored PNGs (1 fastest: run-length matching only … 9 smallest). */
  pngLevel: number;
  /** Side of the grid thumbnails in pixels (never above the resolution). */
  thumbSize: number;
  /** Least time between two progress reports, in ms. */
  progressMs: number;
}

/** An image kept by the dedupe, before and after it has a row: `id` is filled in on insert. */
export interface KeptRef {
  id: number;
  file: string;
}

export interface NewImage {
  ref: KeptRef;
  label: string | null;
  size: number;
  channels: number;
  pixelHash: string;
  phash: string;
  colourSig: Uint8Array;
  sourcePath: string;
  sourceFormat: string;
  sourceWidth: number;
  sourceHeight: number;
  sourceBitDepth: number;
  sourceFrame: number | null;
  sourceHash: string;
  thumb: Uint8Array;
  pixels: Uint8Array;
}

export interface NewDuplicate {
  kind: 'exact' | 'near';
  file: string;
  sourceHash: string;
  kept: KeptRef;
  distance: number;
}

export interface Batch {
  images: NewImage[];
  duplicates: NewDuplicate[];
  skipped: SkippedFile[];
}

export interface ImportCounts {
  total: number | null;
  imported: number;
  unchanged: number;
  duplicates: number;
  skipped: number;
}

interface ImportRow {
  id: number;
  status: ImportStatus;
  sources: string;
  settings: string;
  total: number | null;
  imported: number;
  unchanged: number;
  duplicates: number;
  skipped: number;
  pid: number | null;
  error: string | null;
  started_at: string;
  updated_at: string;
  finished_at: string | null;
}

const now = (): string => new Date().toISOString();

const INTERRUPTED =
  'The import stopped unexpectedly (the studio or the worker quit). What was committed before is kept; import the same files again to finish.';

export class ImportStore {
  readonly db: Database.Database;
  private readonly labels: LabelIds;
  private readonly s;

  constructor(db: Database.Database) {
    this.db = db;
    this.labels = new LabelIds(db);
    this.s = {
      insertImage: db.prepare(`INSERT INTO images (label_id, import_id, width, height, channels, pixel_hash, phash, colour_sig,
          source_path, source_format, source_width, source_height, source_bit_depth, source_frame, source_hash, created_at, thumb, pixels)
        VALUES (@labelId, @importId, @size, @size, @channels, @pixelHash, @phash, @colourSig,
          @sourcePath, @sourceFormat, @sourceWidth, @sourceHeight, @sourceBitDepth, @sourceFrame, @sourceHash, @createdAt, @thumb, @pixels)`),
      unskip: db.prepare<[string]>('DELETE FROM skipped_files WHERE file = ?'),
      insertDuplicate: db.prepare(`INSERT INTO duplicates (import_id, kind, file, source_hash, kept_image_id, kept_file, distance, created_at)
        VALUES (@importId, @kind, @file, @sourceHash, @keptImageId, @keptFile, @distance, @createdAt)`),
      insertSkipped: db.prepare<[number, string, string, string]>('INSERT INTO import_skipped (import_id, file, code, reason) VALUES (?, ?, ?, ?)'),
      upsertSkipped: db.prepare<[string, string, string, number, string]>(`INSERT INTO skipped_files (file, code, reason, import_id, at) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(file) DO UPDATE SET code = excluded.code, reason = excluded.reason, import_id = excluded.import_id, at = excluded.at`),
      insertImport: db.prepare<[string, string, string, number | null, string, string]>(
        "INSERT INTO imports (status, sources, settings, options, pid, started_at, updated_at) VALUES ('running', ?, ?, ?, ?, ?, ?)",
      ),
      updateCounts: db.prepare(`UPDATE imports SET total = @total, imported = @imported, unchanged = @unchanged, duplicates = @duplicates,
          skipped = @skipped, updated_at = @at WHERE id = @id`),
      finishImport: db.prepare<[string, string | null, string, string, number]>('UPDATE imports SET status = ?, error = ?, updated_at = ?, finished_at = ? WHERE id = ?'),
      setPid: db.prepare<[number | null, number]>('UPDATE imports SET pid = ? WHERE id = ?'),
      importRow: db.prepare<[number], ImportRow>('SELECT * FROM imports WHERE id = ?'),
      lastImport: db.prepare<[], ImportRow>('SELECT * FROM imports ORDER BY id DESC LIMIT 1'),
      runningImports: db.prepare<[], ImportRow>("SELECT * FROM imports WHERE status = 'running'"),
      importSkipped: db.prepare<[number], SkippedFile>('SELECT file, code, reason FROM import_skipped WHERE import_id = ? ORDER BY rowid'),
      importDuplicates: db.prepare<[number], { kind: 'exact' | 'near'; file: string; keptFile: string; keptImageId: number | null; distance: number }>(
        'SELECT kind, file, kept_file AS keptFile, kept_image_id AS keptImageId, distance FROM duplicates WHERE import_id = ? ORDER BY id',
      ),
    };
  }

  /** Every path ever picked for an import (files and folders, as picked), oldest first, once each. */
  sourcePaths(): string[] {
    const rows = this.db.prepare<[], { sources: string }>('SELECT sources FROM imports ORDER BY id').all();
    return [...new Set(rows.flatMap((r) => JSON.parse(r.sources) as string[]))];
  }

  beginImport(sources: string[], settings: NormaliseSettings, options: ImportOptions): number {
    const at = now();
    return Number(this.s.insertImport.run(JSON.stringify(sources), JSON.stringify(settings), JSON.stringify(options), null, at, at).lastInsertRowid);
  }

  setImportPid(importId: number, pid: number | null): void {
    this.s.setPid.run(pid, importId);
  }

  /** Imports left 'running' by a process that is gone (a crash, a kill) become 'interrupted'. */
  markInterrupted(isAlive: (pid: number) => boolean = processAlive): number {
    let n = 0;
    for (const row of this.s.runningImports.all()) {
      if (row.pid !== null && isAlive(row.pid)) continue;
      const at = now();
      this.s.finishImport.run('interrupted', INTERRUPTED, at, at, row.id);
      n++;
    }
    return n;
  }

  /** One transaction: the batch's rows and the import's counts. Fills in `ref.id` of new images. */
  commitBatch(importId: number, batch: Batch, counts: ImportCounts): void {
    const at = now();
    this.labels.clear(); // the service may have pruned or renamed labels since the last batch
    this.db.transaction(() => {
      for (const img of batch.images) {
        const info = this.s.insertImage.run({
          labelId: img.label === null ? null : this.labels.id(img.label),
          importId,
          size: img.size,
          channels: img.channels,
          pixelHash: img.pixelHash,
          phash: img.phash,
          colourSig: img.colourSig,
          sourcePath: img.sourcePath,
          sourceFormat: img.sourceFormat,
          sourceWidth: img.sourceWidth,
          sourceHeight: img.sourceHeight,
          sourceBitDepth: img.sourceBitDepth,
          sourceFrame: img.sourceFrame,
          sourceHash: img.sourceHash,
          createdAt: at,
          thumb: img.thumb,
          pixels: img.pixels,
        });
        img.ref.id = Number(info.lastInsertRowid);
        this.s.unskip.run(img.sourcePath);
      }
      for (const d of batch.duplicates) {
        if (d.kept.id <= 0) throw new Error(`duplicate of ${d.kept.file} committed before it`);
        this.s.insertDuplicate.run({ importId, kind: d.kind, file: d.file, sourceHash: d.sourceHash, keptImageId: d.kept.id, keptFile: d.kept.file, distance: d.distance, createdAt: at });
        this.s.unskip.run(d.file);
      }
      for (const k of batch.skipped) {
        this.s.insertSkipped.run(importId, k.file, k.code, k.reason);
        this.s.upsertSkipped.run(k.file, k.code, k.reason, importId, at);
      }
      this.s.updateCounts.run({ id: importId, at, ...counts });
    })();
  }

  finishImport(importId: number, status: Exclude<ImportStatus, 'running'>, error: string | null = null): void {
    const at = now();
    this.s.finishImport.run(status, error, at, at, importId);
  }

  /** The status of import `importId` as stored, or null when there is no such import. */
  status(importId: number): ImportStatus | null {
    return this.s.importRow.get(importId)?.status ?? null;
  }

  /** The report of one import (default: the latest), or null when there was none. */
  report(importId?: number): ImportReport | null {
    const row = importId === undefined ? this.s.lastImport.get() : this.s.importRow.get(importId);
    if (!row) return null;
    const started = Date.parse(row.started_at);
    const ended = Date.parse(row.finished_at ?? row.updated_at);
    const seconds = Math.max(0, (ended - started) / 1000);
    const files = row.imported + row.unchanged + row.duplicates + row.skipped;
    return {
      importId: row.id,
      status: row.status,
      sources: JSON.parse(row.sources) as string[],
      settings: JSON.parse(row.settings) as NormaliseSettings,
      startedAt: row.started_at,
      finishedAt: row.finished_at,
      total: row.total ?? 0,
      imported: row.imported,
      unchanged: row.unchanged,
      duplicates: row.duplicates,
      skipped: this.s.importSkipped.all(row.id),
      duplicatePairs: this.s.importDuplicates.all(row.id) as DuplicatePair[],
      seconds,
      imagesPerSecond: seconds > 0 ? files / seconds : 0,
      error: row.error,
    };
  }
}
