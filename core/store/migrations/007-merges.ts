/**
 * Migration 7: merges (the merge preset, core/merge). A merge is a row with what it was started
 * with (its sources as specs, classes, weights, lengths), its status, the state machine's last
 * checkpoint (`state`: the plan, the stage under way, the loop's state) and its last progress;
 * the checkpoint's tensors are named blobs beside it (`merge_blobs`: the training stage's networks,
 * the rooted networks, the averaged ones), replaced in the same transaction as the state, so a
 * worker killed at any point leaves the last checkpoint whole. Its per-class previews (the newest
 * strip of each class) and per-class evaluations (the quality chart) are kept for the Merge view.
 * The result is a normal model (`model_id`), whose metadata lists the sources and stages.
 */
import type { Migration } from './migration.js';

export const migration007: Migration = {
  version: 7,
  name: 'merges',
  up(db) {
    db.exec(`
      CREATE TABLE merges (
        id          INTEGER PRIMARY KEY,
        name        TEXT NOT NULL,
        status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'paused', 'done', 'failed', 'stopped')),
        request     TEXT NOT NULL,
        state       TEXT,
        progress    TEXT,
        model_id    INTEGER REFERENCES models(id) ON DELETE SET NULL,
        error       TEXT,
        created_at  TEXT NOT NULL,
        updated_at  TEXT NOT NULL
      ) STRICT;

      CREATE TABLE merge_blobs (
        merge_id    INTEGER NOT NULL REFERENCES merges(id) ON DELETE CASCADE,
        name        TEXT NOT NULL,
        data        BLOB NOT NULL,
        PRIMARY KEY (merge_id, name)
      ) STRICT;

      CREATE TABLE merge_previews (
        id          INTEGER PRIMARY KEY,
        merge_id    INTEGER NOT NULL REFERENCES merges(id) ON DELETE CASCADE,
        stage       INTEGER NOT NULL,
        kind        TEXT NOT NULL,
        kimg        REAL NOT NULL,
        class_index INTEGER NOT NULL,
        class_name  TEXT NOT NULL,
        png         BLOB NOT NULL,
        created_at  TEXT NOT NULL
      ) STRICT;
      CREATE INDEX merge_previews_by_class ON merge_previews (merge_id, class_index, id);

      CREATE TABLE merge_evaluations (
        id          INTEGER PRIMARY KEY,
        merge_id    INTEGER NOT NULL REFERENCES merges(id) ON DELETE CASCADE,
        stage       INTEGER NOT NULL,
        step        INTEGER NOT NULL,
        fraction    REAL NOT NULL,
        evaluation  TEXT NOT NULL,
        created_at  TEXT NOT NULL
      ) STRICT;
      CREATE INDEX merge_evaluations_by_merge ON merge_evaluations (merge_id, id);
    `);
  },
};
