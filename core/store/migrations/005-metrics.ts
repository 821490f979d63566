/**
 * Migration 5: what the metrics and health monitoring keep.
 *
 * - `image_features`: each dataset image's features under one extractor (the reals' side of every
 *   evaluation, computed once per project). Rows go with their image (ON DELETE CASCADE), so a
 *   changed dataset invalidates exactly what changed.
 * - `evaluations`: metric values of a checkpoint, from training or on demand, with the extractor
 *   and sample counts they were computed with (the training ones also go into `metrics` as the
 *   `Metrics/…` series).
 * - `run_alerts`: health alerts raised while training (what happened, what to do), kept with the
 *   run so they show after a reload.
 *
 * The project's own feature extractor, when the user named one, lives in `project_meta` under
 * 'metrics.extractor'.
 */
import type { Migration } from './migration.js';

export const migration005: Migration = {
  version: 5,
  name: 'metrics',
  up(db) {
    db.exec(`
      CREATE TABLE image_features (
        image_id  INTEGER NOT NULL REFERENCES images(id) ON DELETE CASCADE,
        extractor TEXT NOT NULL,                   -- the extractor's id (weights and preprocessing)
        features  BLOB NOT NULL,                   -- float32, little-endian
        PRIMARY KEY (extractor, image_id)
      ) STRICT;
      CREATE INDEX image_features_image ON image_features(image_id);

      CREATE TABLE evaluations (
        id            INTEGER PRIMARY KEY,
        run_id        INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        checkpoint_id INTEGER REFERENCES checkpoints(id) ON DELETE SET NULL,
        kimg          REAL NOT NULL,
        source        TEXT NOT NULL CHECK (source IN ('training', 'on-demand')),
        extractor     TEXT NOT NULL,
        reference     INTEGER NOT NULL DEFAULT 0,  -- 1: the user's standard FID Inception
        real_count    INTEGER NOT NULL,
        fake_count    INTEGER NOT NULL,
        metrics       TEXT NOT NULL,               -- JSON: series name → value
        seconds       REAL NOT NULL,
        created_at    TEXT NOT NULL
      ) STRICT;
      CREATE INDEX evaluations_run ON evaluations(run_id, kimg);

      CREATE TABLE run_alerts (
        id         INTEGER PRIMARY KEY,
        run_id     INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
        kimg       REAL NOT NULL,
        code       TEXT NOT NULL,
        severity   TEXT NOT NULL CHECK (severity IN ('info', 'warning', 'critical')),
        what       TEXT NOT NULL,                  -- one sentence: what happened
        todo       TEXT NOT NULL,                  -- one sentence: what to do
        created_at TEXT NOT NULL
      ) STRICT;
      CREATE INDEX run_alerts_run ON run_alerts(run_id, id);
    `);
  },
};
