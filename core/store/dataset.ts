/**
 * The dataset as the studio browses and edits it: the normalisation settings, images (pages of
 * thumbnails, one at full size), labels, what was skipped or dropped, removals. Import
 * bookkeeping (the `imports` table and the batches an import commits) is ./imports.ts.
 * Prepared statements, synchronous transactions; the service's connection, and the workers' for
 * reads (the import's dedupe index, the dataset export).
 */
import type Database from 'better-sqlite3';
import type { DatasetImage, DatasetItem, DatasetPage, DatasetStats, ImportProgress, ImportStatus, LabelCount, NormaliseSettings, SkipCode, SkippedFile } from '../api/contract.js';
import { UserError } from '../api/errors.js';
import { LabelIds } from './labels.js';

export const NORMALISATION_KEY = 'dataset.normalisation';

/** What the dedupe needs to know about each image already in the dataset. */
export interface IndexedImage {
  id: number;
  pixelHash: string;
  phash: string | null;
  colourSig: Uint8Array | null;
  file: string;
}

export class DatasetStore {
  readonly db: Database.Database;
  private readonly labelIds: LabelIds;
  private readonly s;

  constructor(db: Database.Database) {
    this.db = db;
    this.labelIds = new LabelIds(db);
    this.s = {
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM project_meta WHERE key = ?'),
      putMeta: db.prepare<[string, string]>('INSERT INTO project_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
      count: db.prepare<[], { n: number }>('SELECT count(*) AS n FROM images'),
      labelByName: db.prepare<[string], { id: number }>('SELECT id FROM labels WHERE name = ?'),
      lastImport: db.prepare<[], { id: number; status: ImportStatus; finished_at: string | null; imported: number }>(
        'SELECT id, status, finished_at, imported FROM imports ORDER BY id DESC LIMIT 1',
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
  // What an import needs to know.

  /** sha256 of every file already imported or dropped as a duplicate. */
  knownSourceHashes(): Set<string> {
    return new Set(this.s.sourceHashes.all().map((r) => r.h));
  }

  *indexedImages(): IterableIterator<IndexedImage> {
    for (const r of this.s.index.iterate()) {
      yield { id: r.id, pixelHash: r.pixelHash, phash: r.phash, colourSig: r.colourSig ? new Uint8Array(r.colourSig) : null, file: r.file };
    }
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
      const n = this.s.relabel.run(label === null ? null : this.labelIds.id(label.normalize('NFC')), JSON.stringify(ids)).changes;
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
