/**
 * Migration 6: the `jobs` table's kinds are the ones an engine worker runs — train, evaluate,
 * import, and merge (planned). 'sample' and 'export' never ran as jobs (the sampling worker
 * answers requests outside the table), so the CHECK drops them.
 *
 * SQLite cannot alter a CHECK: the table is rebuilt the SQLite way (create the new table, copy,
 * drop, rename) inside the migration's one transaction. Nothing references `jobs`, so its rows
 * keep their ids and the foreign keys stay on throughout. A row of a dropped kind cannot exist;
 * the copy leaves any such row behind rather than fail the upgrade, and a run_id that points
 * nowhere (only possible in a file written with foreign keys off) becomes null, as deleting the
 * run would have made it.
 */
import type { Migration } from './migration.js';

export const migration006: Migration = {
  version: 6,
  name: 'job kinds',
  up(db) {
    db.exec(`
      CREATE TABLE jobs_v6 (
        id           INTEGER PRIMARY KEY,
        kind         TEXT NOT NULL CHECK (kind IN ('train', 'evaluate', 'import', 'merge')),
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
      INSERT INTO jobs_v6 (id, kind, status, run_id, pid, params, progress, error, heartbeat_at, created_at, updated_at)
        SELECT id, kind, status, (SELECT r.id FROM runs r WHERE r.id = jobs.run_id), pid, params, progress, error, heartbeat_at, created_at, updated_at
        FROM jobs WHERE kind IN ('train', 'evaluate', 'import', 'merge');
      DROP TABLE jobs;
      ALTER TABLE jobs_v6 RENAME TO jobs;
    `);
  },
};
