/**
 * Migration 3: images the user removed from the dataset stay out of later imports. Their source
 * files are remembered by content hash until the user allows them back (`dataset.forgetRemoved`).
 */
import type { Migration } from './migration.js';

export const migration003: Migration = {
  version: 3,
  name: 'removed sources',
  up(db) {
    db.exec(`
      CREATE TABLE removed_sources (
        source_hash TEXT PRIMARY KEY,             -- sha256 of the original file's bytes
        file        TEXT NOT NULL,                -- where it was imported from
        removed_at  TEXT NOT NULL
      ) STRICT;
    `);
  },
};
