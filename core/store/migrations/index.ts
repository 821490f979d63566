/**
 * Numbered migrations, applied in order, each in its own transaction, tracked by
 * `PRAGMA user_version`. Append a new file for every schema change; never edit a shipped one.
 */
import type { Database } from 'better-sqlite3';
import { migration001 } from './001-initial.js';
import { migration002 } from './002-dataset-import.js';
import { migration003 } from './003-removed-sources.js';
import { migration004 } from './004-gallery.js';
import { migration005 } from './005-metrics.js';
import { migration006 } from './006-job-kinds.js';
import { migration007 } from './007-merges.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

export const migrations: readonly Migration[] = [migration001, migration002, migration003, migration004, migration005, migration006, migration007];

/** The schema this build reads and writes. */
export const SCHEMA_VERSION = migrations[migrations.length - 1]!.version;

/** Applies every migration above the file's user_version. Returns the versions applied. */
export function migrate(db: Database, list: readonly Migration[] = migrations): number[] {
  const applied: number[] = [];
  for (const m of list) {
    const current = db.pragma('user_version', { simple: true }) as number;
    if (m.version <= current) continue;
    if (m.version !== current + 1) throw new Error(`Migration ${m.version} cannot follow schema ${current}.`);
    db.transaction(() => {
      m.up(db);
      db.pragma(`user_version = ${m.version}`);
    })();
    applied.push(m.version);
  }
  return applied;
}
