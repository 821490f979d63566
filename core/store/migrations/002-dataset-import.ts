/**
 * Migration 2: what the dataset import needs beyond schema 1.
 *
 * - `images` is rebuilt with the big `pixels` blob as its last column: SQLite reads a row's
 *   columns in order, so the thumbnail grid (id, label, thumb) no longer walks every image's
 *   overflow pages. New columns: the import that added a row, the DICOM frame, a colour
 *   signature for near-duplicate checks. Rows are copied unchanged.
 * - `imports`: one row per import (sources, settings, counts, status).
 * - `import_skipped`: the files each import skipped, with the reason.
 * - `skipped_files`: the dataset's current list of files that could not be imported (latest
 *   reason per file; a file that later imports leaves the list).
 * - `duplicates`: every dropped copy, with the copy that was kept.
 *
 * The project's normalisation settings live in `project_meta` under 'dataset.normalisation'.
 */
import type { Migration } from './migration.js';

export const migration002: Migration = {
  version: 2,
  name: 'dataset import',
  up(db) {
    db.exec(`
      CREATE TABLE imports (
        id          INTEGER PRIMARY KEY,
        status      TEXT NOT NULL CHECK (status IN ('running', 'done', 'cancelled', 'failed', 'interrupted')),
        sources     TEXT NOT NULL,               -- JSON array of the paths picked
        settings    TEXT NOT NULL,               -- JSON NormaliseSettings used
        options     TEXT NOT NULL,               -- JSON ImportOptions used
        total       INTEGER,                     -- files found (null while listing)
        imported    INTEGER NOT NULL DEFAULT 0,
        unchanged   INTEGER NOT NULL DEFAULT 0,
        duplicates  INTEGER NOT NULL DEFAULT 0,
        skipped     INTEGER NOT NULL DEFAULT 0,
        pid         INTEGER,                     -- the worker process while running
        error       TEXT,
        started_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL,
        finished_at TEXT
      ) STRICT;

      CREATE TABLE images_v2 (
        id               INTEGER PRIMARY KEY,
        label_id         INTEGER REFERENCES labels(id) ON DELETE SET NULL,
        import_id        INTEGER REFERENCES imports(id) ON DELETE SET NULL,
        width            INTEGER NOT NULL,
        height           INTEGER NOT NULL,
        channels         INTEGER NOT NULL,         -- 1 (grayscale) or 3 (RGB)
        pixel_hash       TEXT NOT NULL UNIQUE,     -- sha256 of normalised pixels: exact duplicates
        phash            TEXT,                     -- 64-bit perceptual hash, 16 hex digits
        colour_sig       BLOB,                     -- 4×4 mean colours: near duplicates must match in colour too
        source_path      TEXT NOT NULL,
        source_format    TEXT NOT NULL,
        source_width     INTEGER,
        source_height    INTEGER,
        source_bit_depth INTEGER,
        source_frame     INTEGER,                  -- frame of a multi-frame DICOM file
        source_hash      TEXT,                     -- sha256 of the original file's bytes
        created_at       TEXT NOT NULL,
        thumb            BLOB NOT NULL,            -- small PNG for the grid
        pixels           BLOB NOT NULL             -- normalised image, PNG (last: see above)
      ) STRICT;
      INSERT INTO images_v2 (id, label_id, width, height, channels, pixel_hash, phash, source_path, source_format,
                             source_width, source_height, source_bit_depth, source_hash, created_at, thumb, pixels)
        SELECT id, label_id, width, height, channels, pixel_hash, phash, source_path, source_format,
               source_width, source_height, source_bit_depth, source_hash, created_at, thumb, pixels
        FROM images;
      DROP TABLE images;
      ALTER TABLE images_v2 RENAME TO images;
      CREATE INDEX images_label ON images(label_id);
      CREATE INDEX images_source_hash ON images(source_hash);
      CREATE INDEX images_source_path ON images(source_path);

      CREATE TABLE import_skipped (
        import_id INTEGER NOT NULL REFERENCES imports(id) ON DELETE CASCADE,
        file      TEXT NOT NULL,
        code      TEXT NOT NULL,
        reason    TEXT NOT NULL
      ) STRICT;
      CREATE INDEX import_skipped_import ON import_skipped(import_id);

      CREATE TABLE skipped_files (
        file      TEXT PRIMARY KEY,
        code      TEXT NOT NULL,
        reason    TEXT NOT NULL,
        import_id INTEGER REFERENCES imports(id) ON DELETE SET NULL,
        at        TEXT NOT NULL
      ) STRICT;

      CREATE TABLE duplicates (
        id            INTEGER PRIMARY KEY,
        import_id     INTEGER REFERENCES imports(id) ON DELETE SET NULL,
        kind          TEXT NOT NULL CHECK (kind IN ('exact', 'near')),
        file          TEXT NOT NULL,             -- the dropped copy
        source_hash   TEXT,                      -- its bytes' sha256: a re-import skips it unread
        kept_image_id INTEGER REFERENCES images(id) ON DELETE SET NULL,
        kept_file     TEXT NOT NULL,
        distance      INTEGER NOT NULL,          -- perceptual-hash Hamming distance (0 when exact)
        created_at    TEXT NOT NULL
      ) STRICT;
      CREATE INDEX duplicates_import ON duplicates(import_id);
      CREATE INDEX duplicates_source_hash ON duplicates(source_hash);
    `);
  },
};
