/**
 * Migration 1: the first schema. Every table family the studio keeps in a project file.
 * Later issues extend it with new numbered migrations; this file never changes once shipped.
 */
import type { Migration } from './migration.js';

export const migration001: Migration = {
  version: 1,
  name: 'initial schema',
  up(db) {
    db.exec(`
      -- Project metadata as key/value: id, name, created_at, created_by, settings (JSON).
      CREATE TABLE project_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      ) STRICT;

      -- Classes, e.g. from first-level folder names.
      CREATE TABLE labels (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL UNIQUE,
        created_at TEXT NOT NULL
      ) STRICT;

      -- The dataset: normalised pixels, a thumbnail and where each image came from.
      CREATE TABLE images (
        id               INTEGER PRIMARY KEY,
        label_id         INTEGER REFERENCES labels(id) ON DELETE SET NULL,
        pixels           BLOB NOT NULL,            -- normalised image, PNG
        thumb            BLOB NOT NULL,            -- small image for the grid
        width            INTEGER NOT NULL,
        height           INTEGER NOT NULL,
        channels         INTEGER NOT NULL,         -- 1 (grayscale) or 3 (RGB)
        pixel_hash       TEXT NOT NULL UNIQUE,     -- sha256 of normalised pixels: exact duplicates
        phash            TEXT,                     -- perceptual hash: near duplicates
        source_path      TEXT NOT NULL,
        source_format    TEXT NOT NULL,
        source_width     INTEGER,
        source_height    INTEGER,
        source_bit_depth INTEGER,
        source_hash      TEXT,                     -- sha256 of the original file's bytes
        created_at       TEXT NOT NULL
      ) STRICT;
      CREATE INDEX images_label ON images(label_id);

      -- Training runs: the full resolved config as JSON.
      CREATE TABLE runs (
        id         INTEGER PRIMARY KEY,
        name       TEXT NOT NULL,
        preset     TEXT NOT NULL,
        config     TEXT NOT NULL,
        status     TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'stopped', 'done', 'failed')),
        kimg_done  REAL NOT NULL DEFAULT 0,
        kimg_total REAL,
        backend    TEXT,
        error      TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;

      -- Metric series by hierarchical name ('Loss/G', 'Metrics/kid'), one row per tick.
      CREATE TABLE metrics (
        run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        name   TEXT NOT NULL,
        kimg   REAL NOT NULL,
        value  REAL,                               -- NULL stands for NaN/inf
        at     TEXT NOT NULL,
        PRIMARY KEY (run_id, name, kimg)
      ) STRICT;

      -- Snapshots: weights as one blob, the rest of the state (step, optimiser, RNG, p) as JSON.
      CREATE TABLE checkpoints (
        id         INTEGER PRIMARY KEY,
        run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        kimg       REAL NOT NULL,
        step       INTEGER NOT NULL,
        weights    BLOB NOT NULL,
        state      TEXT NOT NULL,
        is_best    INTEGER NOT NULL DEFAULT 0,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX checkpoints_run ON checkpoints(run_id, kimg);

      -- Fixed-seed preview grids, one per tick.
      CREATE TABLE previews (
        id         INTEGER PRIMARY KEY,
        run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        kimg       REAL NOT NULL,
        png        BLOB NOT NULL,
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX previews_run ON previews(run_id, kimg);

      -- Generators ready to sample or export; they keep their own weights so pruning
      -- checkpoints never loses a model.
      CREATE TABLE models (
        id            INTEGER PRIMARY KEY,
        name          TEXT NOT NULL UNIQUE,
        checkpoint_id INTEGER REFERENCES checkpoints(id) ON DELETE SET NULL,
        weights       BLOB NOT NULL,
        metadata      TEXT NOT NULL,
        created_at    TEXT NOT NULL
      ) STRICT;

      -- What the user kept from exploring, with where it came from.
      CREATE TABLE gallery_items (
        id            INTEGER PRIMARY KEY,
        model_id      INTEGER REFERENCES models(id) ON DELETE SET NULL,
        checkpoint_id INTEGER REFERENCES checkpoints(id) ON DELETE SET NULL,
        seed          INTEGER,
        latent        BLOB,                        -- float32 z or w
        psi           REAL,
        class_index   INTEGER,
        png           BLOB,
        favourite     INTEGER NOT NULL DEFAULT 0,
        rejected      INTEGER NOT NULL DEFAULT 0,
        tags          TEXT NOT NULL DEFAULT '[]',
        created_at    TEXT NOT NULL
      ) STRICT;

      -- Long work done by engine workers.
      CREATE TABLE jobs (
        id           INTEGER PRIMARY KEY,
        kind         TEXT NOT NULL CHECK (kind IN ('import', 'train', 'merge', 'evaluate', 'sample', 'export')),
        status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'done', 'failed', 'cancelled')),
        run_id       INTEGER REFERENCES runs(id) ON DELETE SET NULL,
        pid          INTEGER,
        params       TEXT NOT NULL DEFAULT '{}',
        progress     TEXT,
        error        TEXT,
        heartbeat_at TEXT,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
      ) STRICT;
    `);
  },
};
