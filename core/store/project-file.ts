/**
 * Opening and creating project files (`*.atelier`: one SQLite database).
 *
 * A file is checked before SQLite is allowed to write to it: the 100-byte header says whether it
 * is SQLite at all, which application wrote it and which schema it has, so a file from a newer
 * version or from another program is refused without a single byte changed. Then a read-only
 * connection runs `PRAGMA quick_check`; only a healthy file of ours is opened for writing,
 * migrated (after a backup copy when an older schema is upgraded) and switched to WAL.
 *
 * Looking is free of side effects: a read-only look at a WAL-mode file nobody has open leaves no
 * `-wal` / `-shm` beside it (SQLite would create them and, read-only, never remove them), and a
 * file on read-only media, where they cannot be created, is read as immutable.
 */
import { closeSync, copyFileSync, existsSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import Database from 'better-sqlite3';
import { sqliteOptions } from './sqlite.js';

// URI file names, for `?immutable=1` on read-only media (below). better-sqlite3 reads this once,
// when its addon loads — on the first `new Database`, after this module has run. Every path we
// open is absolute, so none starts with "file:" by accident.
process.env.SQLITE_USE_URI ??= '1';
import { UserError, describeIoError } from '../api/errors.js';
import { SCHEMA_VERSION, migrate } from './migrations/index.js';

/** PRAGMA application_id of every project file: 'GANA'. */
export const APPLICATION_ID = 0x47414e41;
export const PROJECT_EXTENSION = '.atelier';

/** A project file's own companions: SQLite's `-wal`, `-shm`, `-journal`, and the disk reserve (`-reserve`, `-reserve-<role>`). */
export function isProjectCompanion(name: string): boolean {
  return /\.atelier-(wal|shm|journal|reserve(-[a-z]+)?)$/i.test(name);
}
const SQLITE_MAGIC = 'SQLite format 3\0';

export interface HeaderInfo {
  userVersion: number;
  applicationId: number;
  /** The header's read/write versions say WAL (2), not a rollback journal (1). */
  wal: boolean;
}

/**
 * Reads the SQLite header without SQLite. Throws a UserError for a missing, empty, non-SQLite
 * or foreign file, and for a schema newer than this build.
 */
export function checkHeader(path: string): HeaderInfo {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw Object.assign(new Error('is a directory'), { code: 'EISDIR' });
    size = st.size;
  } catch (err) {
    throw describeIoError(err, path, 'open');
  }
  if (size === 0) {
    throw new UserError('not-a-project', `${path} is empty (0 bytes): it is not a GAN Atelier project. Pick another file, or create a new project.`, path);
  }
  const header = Buffer.alloc(100);
  let read = 0;
  try {
    const fd = openSync(path, 'r');
    try {
      read = readSync(fd, header, 0, 100, 0);
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw describeIoError(err, path, 'read');
  }
  if (read < 100 || header.toString('latin1', 0, 16) !== SQLITE_MAGIC) {
    throw new UserError('not-a-project', `${path} is not a GAN Atelier project (it is not an SQLite database). Pick a .atelier file, or create a new project.`, path);
  }
  const info = { userVersion: header.readUInt32BE(60), applicationId: header.readUInt32BE(68), wal: header[18] === 2 && header[19] === 2 };
  checkVersions(path, info);
  return info;
}

function checkVersions(path: string, { userVersion, applicationId }: HeaderInfo): void {
  if (applicationId !== APPLICATION_ID) {
    throw new UserError('not-a-project', `${path} is an SQLite database written by another program, not a GAN Atelier project. It was left untouched.`, path);
  }
  if (userVersion > SCHEMA_VERSION) {
    throw new UserError(
      'too-new',
      `${path} was saved by a newer version of GAN Atelier (project format ${userVersion}; this version reads up to ${SCHEMA_VERSION}). Update the studio to open it; the file was left untouched.`,
      path,
    );
  }
}

/** Maps SQLite's own errors on open to words. */
function describeSqliteError(err: unknown, path: string): UserError {
  const code = (err as { code?: string })?.code ?? '';
  if (code === 'SQLITE_NOTADB') {
    return new UserError('not-a-project', `${path} is not a GAN Atelier project (not a readable SQLite database). Pick a .atelier file.`, path);
  }
  if (code.startsWith('SQLITE_CORRUPT')) return corruptError(path, (err as Error).message);
  if (code === 'SQLITE_FULL') return describeIoError({ code: 'ENOSPC' }, path, 'write to');
  if (code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_PERM')) {
    return describeIoError({ code: 'EACCES' }, path, 'open');
  }
  return err instanceof UserError ? err : new UserError('io', `Cannot open ${path}: ${(err as Error)?.message ?? String(err)}.`, path);
}

function corruptError(path: string, detail: string): UserError {
  return new UserError(
    'corrupt',
    `${path} is damaged (${detail}). It was not opened and not changed. Restore it from a backup, or open a copy with the sqlite3 tool's .recover command.`,
    path,
  );
}

/**
 * A connection that only reads and leaves nothing behind. A WAL-mode file without a `-wal` is open
 * nowhere (an open one always has it): then a connection that could write, made read-only with
 * `query_only`, removes the `-wal` and `-shm` it creates when it closes, as the last connection
 * does — a read-only one cannot. Where even that cannot open it (read-only media: nothing can be
 * created beside it, and nothing can change it), it is read as immutable. Otherwise (someone has
 * it open, or it is not WAL) a plain read-only connection, which creates nothing of its own.
 */
function openForReading(path: string, header: HeaderInfo): Database.Database {
  if (!header.wal || existsSync(`${path}-wal`)) return new Database(path, sqliteOptions({ readonly: true, fileMustExist: true }));
  let db: Database.Database | undefined;
  try {
    db = new Database(path, sqliteOptions({ fileMustExist: true }));
    db.pragma('query_only = ON');
    db.pragma('schema_version'); // the first read: where read-only media fail
    return db;
  } catch (err) {
    db?.close();
    const code = (err as { code?: string })?.code ?? '';
    if (!code.startsWith('SQLITE_CANTOPEN') && !code.startsWith('SQLITE_READONLY')) throw err;
    return new Database(`${pathToFileURL(path).href}?immutable=1`, sqliteOptions({ readonly: true, fileMustExist: true }));
  }
}

/** Checks a file read-only: header, then SQLite's own view of versions and a quick integrity check. */
export function verifyProjectFile(path: string): HeaderInfo {
  const header = checkHeader(path);
  let db: Database.Database | undefined;
  try {
    db = openForReading(path, header);
    const info: HeaderInfo = {
      userVersion: db.pragma('user_version', { simple: true }) as number,
      applicationId: db.pragma('application_id', { simple: true }) as number,
      wal: header.wal,
    };
    checkVersions(path, info);
    const problems = (db.pragma('quick_check(5)') as Array<{ quick_check: string }>).map((r) => r.quick_check);
    if (problems.length !== 1 || problems[0] !== 'ok') throw corruptError(path, problems.join('; '));
    return info;
  } catch (err) {
    throw err instanceof UserError ? err : describeSqliteError(err, path);
  } finally {
    db?.close();
  }
}

/**
 * Who a connection is for. Every connection to a project file goes through `openProjectDb` with
 * one of these; the role decides what is checked and how long a writer waits for another.
 *
 * - 'service': the studio's (or a command's) own connection. The file is verified first (header,
 *   `quick_check`), an older schema is backed up and migrated, then WAL.
 * - 'worker': an engine worker's connection beside the service's (train, evaluate, import,
 *   sampling). No integrity check and no migration — the service did both on open; a file at
 *   another schema is refused. It waits longer for the lock, since the service's short reads and
 *   edits come first.
 * - 'read-only': a look (`atelier info`): verified, never migrated, never written; it leaves no
 *   `-wal`/`-shm` behind and works on read-only media (see `openForReading`).
 */
export type DbRole = 'service' | 'worker' | 'read-only';

export interface OpenProjectOptions {
  role: DbRole;
}

/** How long a writer waits for the file's lock before SQLite says it is busy, by role. */
const BUSY_TIMEOUT_MS: Record<Exclude<DbRole, 'read-only'>, number> = {
  service: 5000, // the service answers the window: it waits a little, never long
  worker: 10_000, // a worker's batch or checkpoint may queue behind the service and other workers
};

function configure(db: Database.Database, role: Exclude<DbRole, 'read-only'>): void {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL'); // safe with WAL: a crash loses at most the last commit
  db.pragma('foreign_keys = ON');
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS[role]}`); // workers and the service share the file
}

export interface OpenOptions {
  /** Version string of the running studio, recorded on create. */
  appVersion: string;
}

/**
 * Opens an existing project file for `role` (see `DbRole`). For the service, files of an older
 * schema are upgraded after a backup copy is written beside them (`name.atelier.v1.bak`).
 */
export function openProjectDb(path: string, { role }: OpenProjectOptions): Database.Database {
  if (role === 'worker') return openForWorker(path);
  if (role === 'read-only') return openReadOnly(path);
  const info = verifyProjectFile(path);
  if (info.userVersion < SCHEMA_VERSION) backupBeforeMigration(path, info.userVersion);
  let db: Database.Database | undefined;
  try {
    db = new Database(path, sqliteOptions({ fileMustExist: true }));
    configure(db, 'service');
    migrate(db);
    return db;
  } catch (err) {
    db?.close();
    throw err instanceof UserError ? err : describeSqliteError(err, path);
  }
}

/** A worker's connection: the service has checked and migrated the file; another schema is refused. */
function openForWorker(path: string): Database.Database {
  const db = new Database(path, sqliteOptions({ fileMustExist: true }));
  try {
    // The version first (a connection setting aside): a file this worker must not touch is left exactly as it was.
    db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS.worker}`);
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version !== SCHEMA_VERSION) {
      throw new UserError('too-new', `${path} has project format ${version}; this worker writes format ${SCHEMA_VERSION}. Open the project in the studio first.`, path);
    }
    configure(db, 'worker');
    return db;
  } catch (err) {
    db.close();
    throw err;
  }
}

/** Read-only for a look: never migrates, never writes, leaves nothing behind, works on read-only media. */
function openReadOnly(path: string): Database.Database {
  const header = verifyProjectFile(path);
  try {
    return openForReading(path, header);
  } catch (err) {
    throw describeSqliteError(err, path);
  }
}

function backupBeforeMigration(path: string, fromVersion: number): void {
  const target = `${path}.v${fromVersion}.bak`;
  if (existsSync(target)) return;
  try {
    copyFileSync(path, target);
  } catch (err) {
    throw describeIoError(err, target, 'write the backup');
  }
}

/** Creates a new project file. Refuses to overwrite anything. */
export function createProjectDb(path: string, name: string, { appVersion }: OpenOptions): Database.Database {
  if (existsSync(path)) {
    throw new UserError('exists', `${path} already exists. Pick another name, or open it instead.`, path);
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path, sqliteOptions());
    // Before WAL, so the id lands in the main file's header at once: a crash right after
    // creation still leaves a file that is recognisably ours.
    db.pragma(`application_id = ${APPLICATION_ID}`);
    configure(db, 'service');
    migrate(db);
    const put = db.prepare('INSERT INTO project_meta (key, value) VALUES (?, ?)');
    db.transaction(() => {
      put.run('id', randomUUID());
      put.run('name', name);
      put.run('created_at', new Date().toISOString());
      put.run('created_by', appVersion);
      put.run('settings', '{}');
    })();
    return db;
  } catch (err) {
    db?.close();
    // The file is ours and holds nothing yet: leave no half-made project behind.
    for (const f of [path, `${path}-wal`, `${path}-shm`]) rmSync(f, { force: true });
    const code = (err as { code?: unknown } | null)?.code;
    throw err instanceof UserError ? err : describeIoError(code === 'SQLITE_FULL' ? { code: 'ENOSPC' } : err, path, 'create');
  }
}
