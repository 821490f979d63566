/**
 * An open project: the database handle plus the queries every view needs about the project as
 * a whole. Table families get their own modules beside this one as features arrive.
 */
import { statSync } from 'node:fs';
import type Database from 'better-sqlite3';
import type { ProjectCounts, ProjectSummary } from '../api/contract.js';
import { createProjectDb, openProjectDb, type OpenOptions } from './project-file.js';

export class Project {
  readonly path: string;
  readonly db: Database.Database;
  readonly readonly: boolean;
  private readonly metaStmt: Database.Statement<[], { key: string; value: string }>;
  private readonly countsStmt: Database.Statement<[], ProjectCounts>;

  private constructor(path: string, db: Database.Database) {
    this.path = path;
    this.db = db;
    this.readonly = db.readonly;
    this.metaStmt = db.prepare('SELECT key, value FROM project_meta');
    this.countsStmt = db.prepare(`SELECT
        (SELECT count(*) FROM images)        AS images,
        (SELECT count(*) FROM labels)        AS labels,
        (SELECT count(*) FROM runs)          AS runs,
        (SELECT count(*) FROM checkpoints)   AS checkpoints,
        (SELECT count(*) FROM models)        AS models,
        (SELECT count(*) FROM gallery_items) AS galleryItems`);
  }

  /** Creates `path` (which must not exist) as a new, empty project. */
  static create(path: string, name: string, options: OpenOptions): Project {
    return new Project(path, createProjectDb(path, name, options));
  }

  /** Opens `path` for reading and writing, upgrading an older schema. */
  static open(path: string): Project {
    return new Project(path, openProjectDb(path, { role: 'service' }));
  }

  /** Opens `path` read-only: nothing is migrated or written. */
  static inspect(path: string): Project {
    return new Project(path, openProjectDb(path, { role: 'read-only' }));
  }

  meta(): Record<string, string> {
    return Object.fromEntries(this.metaStmt.all().map((r) => [r.key, r.value]));
  }

  summary(): ProjectSummary {
    const meta = this.meta();
    return {
      path: this.path,
      id: meta.id ?? '',
      name: meta.name ?? '',
      schemaVersion: this.db.pragma('user_version', { simple: true }) as number,
      createdAt: meta.created_at ?? '',
      createdBy: meta.created_by ?? '',
      sizeBytes: fileSize(this.path) + fileSize(`${this.path}-wal`),
      counts: { ...this.countsStmt.get()! },
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
