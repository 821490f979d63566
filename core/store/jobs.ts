/** The `jobs` table: one row per piece of long work an engine worker does. */
import type Database from 'better-sqlite3';

/**
 * What an engine worker does. core/jobs/kinds.ts gives each kind its params, progress and result;
 * the table's CHECK lists the same kinds (migration 006).
 */
export const JOB_KINDS = ['train', 'evaluate', 'import', 'merge'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
/** Where a job is in its life. */
export type JobStatus = 'queued' | 'running' | 'paused' | 'done' | 'failed' | 'cancelled';

export interface JobInfo<K extends string = JobKind> {
  id: number;
  kind: K;
  status: JobStatus;
  runId: number | null;
  /** The worker's process id while it runs. */
  pid: number | null;
  /** The last progress the worker reported, or its result once it ended (kind-specific JSON as stored). */
  progress: unknown;
  /** Why it failed, in words a user can act on. */
  error: string | null;
  createdAt: string;
  updatedAt: string;
}

interface JobRow {
  id: number;
  kind: JobKind;
  status: JobStatus;
  run_id: number | null;
  pid: number | null;
  params: string;
  progress: string | null;
  error: string | null;
  created_at: string;
  updated_at: string;
}

function toInfo(r: JobRow): JobInfo {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    runId: r.run_id,
    pid: r.pid,
    progress: r.progress === null ? null : (JSON.parse(r.progress) as unknown),
    error: r.error,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
  };
}

export class JobStore {
  private readonly insertStmt: Database.Statement<[string, string, number | null, string, string, string]>;
  private readonly getStmt: Database.Statement<[number], JobRow>;
  private readonly statusStmt: Database.Statement<[string, number | null, string | null, string, number]>;
  private readonly progressStmt: Database.Statement<[string, string, string, number]>;
  private readonly liveStmt: Database.Statement<[], JobRow>;
  private readonly listStmt: Database.Statement<[number], JobRow>;

  constructor(db: Database.Database) {
    this.insertStmt = db.prepare('INSERT INTO jobs (kind, status, run_id, params, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)');
    this.getStmt = db.prepare('SELECT * FROM jobs WHERE id = ?');
    this.statusStmt = db.prepare('UPDATE jobs SET status = ?, pid = ?, error = ?, updated_at = ? WHERE id = ?');
    this.progressStmt = db.prepare('UPDATE jobs SET progress = ?, heartbeat_at = ?, updated_at = ? WHERE id = ?');
    this.liveStmt = db.prepare("SELECT * FROM jobs WHERE status IN ('queued', 'running')");
    this.listStmt = db.prepare('SELECT * FROM jobs ORDER BY id DESC LIMIT ?');
  }

  create(kind: JobKind, runId: number | null, params: unknown): JobInfo {
    const now = new Date().toISOString();
    const { lastInsertRowid } = this.insertStmt.run(kind, 'queued', runId, JSON.stringify(params ?? {}), now, now);
    return this.get(Number(lastInsertRowid))!;
  }

  get(id: number): JobInfo | undefined {
    const row = this.getStmt.get(id);
    return row ? toInfo(row) : undefined;
  }

  setStatus(id: number, status: JobStatus, pid: number | null, error: string | null = null): JobInfo {
    this.statusStmt.run(status, pid, error, new Date().toISOString(), id);
    return this.get(id)!;
  }

  setProgress(id: number, progress: unknown): void {
    const now = new Date().toISOString();
    this.progressStmt.run(JSON.stringify(progress), now, now, id);
  }

  /** Jobs the file says are queued or running (after a crash of the service, some are not). */
  live(): JobInfo[] {
    return this.liveStmt.all().map(toInfo);
  }

  recent(limit = 50): JobInfo[] {
    return this.listStmt.all(limit).map(toInfo);
  }
}

/**
 * Whether process `pid` exists (signal 0 only checks; EPERM: it exists, under another user). A
 * row that says a worker is running is believed only while its process exists.
 */
export function processAlive(pid: number | null): boolean {
  if (pid === null || !Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
