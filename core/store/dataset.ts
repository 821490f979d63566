/**
 * The dataset tables: images, labels, imports, skipped files, duplicates. Prepared statements,
 * synchronous transactions. Used by the service (reads, edits) and by the import worker, which
 * writes through its own connection (WAL lets both work at once; busy_timeout covers the rest).
 */
import Database from 'better-sqlite3';
import type {
  DatasetImage,
  DatasetItem,
  DatasetPage,
  DatasetStats,
  DuplicatePair,
  ImportProgress,
  ImportReport,
  ImportStatus,
  LabelCount,
  NormaliseSettings,
  SkipCode,
  SkippedFile,
} from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { SCHEMA_VERSION } from './migrations/index.js';

export const NORMALISATION_KEY = 'dataset.normalisation';

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

/** What the dedupe needs to know about each image already in the dataset. */
export interface IndexedImage {
  id: number;
  pixelHash: string;
  phash: string | null;
  colourSig: Uint8Array | null;
  file: string;
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

/**
 * Opens a project file for a worker: no integrity check (the service did it on open) and no
 * migration — a file at another schema is refused.
 */
export function openDatasetDb(path: string): Database.Database {
  const db = new Database(path, { fileMustExist: true });
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 10000');
  const version = db.pragma('user_version', { simple: true }) as number;
  if (version !== SCHEMA_VERSION) {
    db.close();
    throw new UserError('too-new', `${path} has project format ${version}; this worker writes format ${SCHEMA_VERSION}. Open the project in the studio first.`, path);
  }
  return db;
}

export class DatasetStore {
  readonly db: Database.Database;
  private readonly labelIds = new Map<string, number>();
  private readonly s;

  constructor(db: Database.Database) {
    this.db = db;
    this.s = {
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM project_meta WHERE key = ?'),
      putMeta: db.prepare<[string, string]>('INSERT INTO project_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM images'),
      labelByName: db.prepare<[string], { id: number }>('SELECT id FROM labels WHERE name = ?'),
      insertLabel: db.prepare<[string, string]>('INSERT INTO labels (name, created_at) VALUES (?, ?)'),
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
      labelCounts: db.prepare<[], { id: number; name: string; count: number }>(
        'SELECT l.id, l.name, (SELECT count(*) FROM images i WHERE i.label_id = l.id) AS count FROM labels l ORDER BY l.id',
      ),
      unlabelled: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM images WHERE label_id IS NULL'),
      duplicateCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM duplicates'),
      skippedFiles: db.prepare<[], SkippedFile>('SELECT file, code, reason FROM skipped_files ORDER BY file'),
      skippedByCode: db.prepare<[], { code: SkipCode; count: number }>('SELECT code, count(*) AS count FROM skipped_files GROUP BY code ORDER BY count DESC'),
      pageAll: db.prepare<[number, number], ItemRow>(
        'SELECT i.id, i.label_id AS labelId, l.name AS label, i.thumb FROM images i LEFT JOIN labels l ON l.id = i.label_id ORDER BY i.id LIMIT ? OFFSET ?',
      ),
      pageLabel: db.prepare<[number, number, number], ItemRow>(
        'SELECT i.id, i.label_id AS labelId, l.name AS label, i.thumb FROM images i JOIN labels l ON l.id = i.label_id WHERE i.label_id = ? ORDER BY i.id LIMIT ? OFFSET ?',
      ),
      pageUnlabelled: db.prepare<[number, number], ItemRow>(
        'SELECT i.id, NULL AS labelId, NULL AS label, i.thumb FROM images i WHERE i.label_id IS NULL ORDER BY i.id LIMIT ? OFFSET ?',
      ),
      countLabel: db.prepare<[number], { n: number }>('SELECT count(*) AS n FROM images WHERE label_id = ?'),
      image: db.prepare<[number], ImageRow>(`SELECT i.id, i.label_id AS labelId, l.name AS label, i.pixels, i.width, i.height, i.channels,
          i.source_path, i.source_format, i.source_width, i.source_height, i.source_bit_depth, i.source_frame, i.source_hash, i.created_at
        FROM images i LEFT JOIN labels l ON l.id = i.label_id WHERE i.id = ?`),
      remove: db.prepare<[string]>('DELETE FROM images WHERE id IN (SELECT value FROM json_each(?))'),
      rememberRemoved: db.prepare<[string, string]>(
        `INSERT OR IGNORE INTO removed_sources (source_hash, file, removed_at)
         SELECT source_hash, source_path, ? FROM images WHERE source_hash IS NOT NULL AND id IN (SELECT value FROM json_each(?))`,
      ),
      removedCount: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM removed_sources'),
      forgetRemoved: db.prepare('DELETE FROM removed_sources'),
      relabel: db.prepare<[number | null, string]>('UPDATE images SET label_id = ? WHERE id IN (SELECT value FROM json_each(?))'),
      labelById: db.prepare<[number], { id: number; name: string }>('SELECT id, name FROM labels WHERE id = ?'),
      renameLabel: db.prepare<[string, number]>('UPDATE labels SET name = ? WHERE id = ?'),
      moveLabel: db.prepare<[number, number]>('UPDATE images SET label_id = ? WHERE label_id = ?'),
      deleteLabel: db.prepare<[number]>('DELETE FROM labels WHERE id = ?'),
      pruneLabels: db.prepare('DELETE FROM labels WHERE NOT EXISTS (SELECT 1 FROM images i WHERE i.label_id = labels.id)'),
      index: db.prepare<[], { id: number; pixelHash: string; phash: string | null; colourSig: Buffer | null; file: string }>(
        'SELECT id, pixel_hash AS pixelHash, phash, colour_sig AS colourSig, source_path AS file FROM images ORDER BY id',
      ),
      sourceHashes: db.prepare<[], { h: string }>(
        `SELECT source_hash AS h FROM images WHERE source_hash IS NOT NULL
         UNION SELECT source_hash FROM duplicates WHERE source_hash IS NOT NULL
         UNION SELECT source_hash FROM removed_sources`,
      ),
      exportChunk: db.prepare<[number, number], { id: number; pixels: Buffer; labelId: number | null; width: number; channels: number }>(
        'SELECT id, pixels, label_id AS labelId, width, channels FROM images WHERE id > ? ORDER BY id LIMIT ?',
      ),
    };
  }

  // -------------------------------------------------------------------------------------------
  // Settings.

  settings(): NormaliseSettings | null {
    const row = this.s.getMeta.get(NORMALISATION_KEY);
    return row ? (JSON.parse(row.value) as NormaliseSettings) : null;
  }

  saveSettings(settings: NormaliseSettings): void {
    this.s.putMeta.run(NORMALISATION_KEY, JSON.stringify(settings));
  }

  imageCount(): number {
    return this.s.count.get()!.n;
  }

  // -------------------------------------------------------------------------------------------
  // Imports.

  beginImport(sources: string[], settings: NormaliseSettings, options: object): number {
    const at = now();
    return Number(this.s.insertImport.run(JSON.stringify(sources), JSON.stringify(settings), JSON.stringify(options), null, at, at).lastInsertRowid);
  }

  setImportPid(importId: number, pid: number | null): void {
    this.s.setPid.run(pid, importId);
  }

  /** Imports left 'running' by a process that is gone (a crash, a kill) become 'interrupted'. */
  markInterrupted(isAlive: (pid: number) => boolean = pidAlive): number {
    let n = 0;
    for (const row of this.s.runningImports.all()) {
      if (row.pid !== null && isAlive(row.pid)) continue;
      const at = now();
      this.s.finishImport.run('interrupted', 'The import stopped unexpectedly (the studio or the worker quit). What was committed before is kept; import the same files again to finish.', at, at, row.id);
      n++;
    }
    return n;
  }

  /** One transaction: the batch's rows and the import's counts. Fills in `ref.id` of new images. */
  commitBatch(importId: number, batch: Batch, counts: ImportCounts): void {
    const at = now();
    this.labelIds.clear(); // the service may have pruned or renamed labels since the last batch
    this.db.transaction(() => {
      for (const img of batch.images) {
        const info = this.s.insertImage.run({
          labelId: img.label === null ? null : this.labelId(img.label),
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

  /** sha256 of every file already imported or dropped as a duplicate. */
  knownSourceHashes(): Set<string> {
    return new Set(this.s.sourceHashes.all().map((r) => r.h));
  }

  *indexedImages(): IterableIterator<IndexedImage> {
    for (const r of this.s.index.iterate()) {
      yield { id: r.id, pixelHash: r.pixelHash, phash: r.phash, colourSig: r.colourSig ? new Uint8Array(r.colourSig) : null, file: r.file };
    }
  }

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

  // -------------------------------------------------------------------------------------------
  // Views and edits.

  labels(): LabelCount[] {
    return this.s.labelCounts.all().map((l, classIndex) => ({ ...l, classIndex }));
  }

  stats(importing: ImportProgress | null = null): DatasetStats {
    const last = this.s.lastImport.get();
    return {
      images: this.imageCount(),
      settings: this.settings(),
      labels: this.labels(),
      unlabelled: this.s.unlabelled.get()!.n,
      duplicatesDropped: this.s.duplicateCount.get()!.n,
      removed: this.s.removedCount.get()!.n,
      skipped: this.s.skippedFiles.all(),
      skippedByCode: this.s.skippedByCode.all(),
      importing,
      lastImport: last ? { importId: last.id, status: last.status, finishedAt: last.finished_at, imported: last.imported } : null,
    };
  }

  page(offset: number, limit: number, label?: number | 'unlabelled'): DatasetPage {
    let rows: ItemRow[];
    let total: number;
    if (label === undefined) {
      rows = this.s.pageAll.all(limit, offset);
      total = this.imageCount();
    } else if (label === 'unlabelled') {
      rows = this.s.pageUnlabelled.all(limit, offset);
      total = this.s.unlabelled.get()!.n;
    } else {
      rows = this.s.pageLabel.all(label, limit, offset);
      total = this.s.countLabel.get(label)!.n;
    }
    const items: DatasetItem[] = rows.map((r) => ({ id: r.id, labelId: r.labelId, label: r.label, thumb: dataUrl(r.thumb) }));
    return { total, offset, items };
  }

  image(id: number): DatasetImage {
    const r = this.s.image.get(id);
    if (!r) throw new UserError('not-found', `Image ${id} is not in this project's dataset (it may have been removed). Refresh the dataset view.`);
    return {
      id: r.id,
      labelId: r.labelId,
      label: r.label,
      png: dataUrl(r.pixels),
      width: r.width,
      height: r.height,
      channels: r.channels,
      source: {
        path: r.source_path,
        format: r.source_format,
        width: r.source_width,
        height: r.source_height,
        bitDepth: r.source_bit_depth,
        frame: r.source_frame,
        hash: r.source_hash,
      },
      createdAt: r.created_at,
    };
  }

  /** Removes images; their source files stay out of later imports until `forgetRemoved`. */
  remove(ids: number[]): number {
    return this.db.transaction(() => {
      this.s.rememberRemoved.run(new Date().toISOString(), JSON.stringify(ids));
      const n = this.s.remove.run(JSON.stringify(ids)).changes;
      this.s.pruneLabels.run();
      this.labelIds.clear();
      return n;
    })();
  }

  /** Lets files removed earlier be imported again. Returns how many were remembered. */
  forgetRemoved(): number {
    return this.s.forgetRemoved.run().changes;
  }

  relabel(ids: number[], label: string | null): number {
    return this.db.transaction(() => {
      const n = this.s.relabel.run(label === null ? null : this.labelId(label.normalize('NFC')), JSON.stringify(ids)).changes;
      this.s.pruneLabels.run();
      this.labelIds.clear();
      return n;
    })();
  }

  /** Renames label `id`; onto the name of another label, the two merge. */
  renameLabel(id: number, name: string): void {
    const clean = name.normalize('NFC');
    this.db.transaction(() => {
      const label = this.s.labelById.get(id);
      if (!label) throw new UserError('not-found', `Label ${id} does not exist any more. Refresh the dataset view.`);
      const other = this.s.labelByName.get(clean);
      if (other && other.id !== id) {
        this.s.moveLabel.run(other.id, id);
        this.s.deleteLabel.run(id);
      } else this.s.renameLabel.run(clean, id);
      this.labelIds.clear();
    })();
  }

  /** Images in id order, `chunk` at a time (the connection stays free between chunks). */
  *exportRows(chunk = 64): IterableIterator<{ id: number; pixels: Buffer; labelId: number | null; width: number; channels: number }> {
    let after = 0;
    for (;;) {
      const rows = this.s.exportChunk.all(after, chunk);
      if (rows.length === 0) return;
      yield* rows;
      after = rows[rows.length - 1]!.id;
    }
  }

  private labelId(name: string): number {
    const cached = this.labelIds.get(name);
    if (cached !== undefined) return cached;
    const row = this.s.labelByName.get(name);
    const id = row ? row.id : Number(this.s.insertLabel.run(name, now()).lastInsertRowid);
    this.labelIds.set(name, id);
    return id;
  }
}

interface ItemRow {
  id: number;
  labelId: number | null;
  label: string | null;
  thumb: Buffer;
}

interface ImageRow {
  id: number;
  labelId: number | null;
  label: string | null;
  pixels: Buffer;
  width: number;
  height: number;
  channels: number;
  source_path: string;
  source_format: string;
  source_width: number | null;
  source_height: number | null;
  source_bit_depth: number | null;
  source_frame: number | null;
  source_hash: string | null;
  created_at: string;
}

function dataUrl(png: Buffer): string {
  return `data:image/png;base64,${png.toString('base64')}`;
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}
