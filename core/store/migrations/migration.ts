import type { Database } from 'better-sqlite3';

/** One schema step: `up` runs inside a transaction, then user_version becomes `version`. */
export interface Migration {
  /** The user_version the file has after this migration. */
  version: number;
  name: string;
  up(db: Database): void;
}
