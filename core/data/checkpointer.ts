/**
 * WAL checkpoints for the import, on a thread of their own. SQLite normally checkpoints inside
 * the commit that pushes the WAL past 1,000 pages: on the import's connection, that is every
 * second or third batch, and a checkpoint waits for two fsyncs — tens to hundreds of milliseconds
 * with the coordinator blocked and the decode threads running out of work. Here the import's
 * connection turns automatic checkpoints off and asks this thread, which has its own connection,
 * for a PASSIVE checkpoint after each commit (one at a time; a request during one runs once it is
 * over). PASSIVE never waits for the writer nor blocks it; with synchronous = NORMAL it syncs
 * exactly as the automatic checkpoint did, so what survives a crash or a power cut is unchanged.
 *
 * The thread is a few lines of plain JavaScript (better-sqlite3 only): it starts in tens of
 * milliseconds, with no TypeScript loader. If it cannot start, or fails, the import's connection
 * goes back to automatic checkpoints.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { sqliteOptions } from '../store/sqlite.js';

const THREAD = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.sqlite);
const db = new Database(workerData.path, { fileMustExist: true, ...(workerData.nativeBinding ? { nativeBinding: workerData.nativeBinding } : {}) });
db.pragma('busy_timeout = 10000');
db.pragma('synchronous = NORMAL');
parentPort.on('message', (m) => {
  if (m === 'checkpoint') {
    let error = null;
    try {
      db.pragma('wal_checkpoint(PASSIVE)');
    } catch (err) {
      error = String((err && err.message) || err);
    }
    parentPort.postMessage({ error });
  } else if (m === 'close') {
    db.close();
    parentPort.close();
  }
});
parentPort.postMessage({ ready: true });
`;

export class Checkpointer {
  private readonly worker: Worker;
  private inFlight = false;
  private again = false;
  private failed = false;
  private waiters: Array<() => void> = [];
  private readonly exited: Promise<void>;

  /** `fallback` runs once if the thread fails: the caller turns automatic checkpoints back on. */
  constructor(path: string, fallback: () => void) {
    const sqlite = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(THREAD, { eval: true, workerData: { path, sqlite, nativeBinding: sqliteOptions().nativeBinding ?? null } });
    const fail = (): void => {
      if (this.failed) return;
      this.failed = true;
      this.inFlight = false;
      try {
        fallback();
      } catch {
        // The import's own connection is gone or failing: the import reports that itself.
      }
      this.settle();
    };
    this.worker.on('message', (m: { ready?: boolean; error?: string | null }) => {
      if (m.ready) return;
      if (m.error) return fail();
      this.inFlight = false;
      if (this.again) {
        this.again = false;
        this.request();
      } else this.settle();
    });
    this.worker.on('error', fail);
    this.exited = new Promise((resolve) => this.worker.once('exit', () => (fail(), resolve())));
  }

  /** A checkpoint of everything committed so far, soon. */
  request(): void {
    if (this.failed) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    this.inFlight = true;
    this.worker.postMessage('checkpoint');
  }

  /** Runs a last checkpoint (when `final`), then ends the thread. */
  async close(final: boolean): Promise<void> {
    if (final) this.request();
    if (this.inFlight) await new Promise<void>((resolve) => this.waiters.push(resolve));
    if (!this.failed) {
      this.failed = true; // from here on an exit is expected: no fallback
      this.worker.postMessage('close');
    }
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.exited, new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_TIMEOUT_MS)))]);
    clearTimeout(timer);
    await this.worker.terminate();
  }

  private settle(): void {
    for (const w of this.waiters.splice(0)) w();
  }
}

const CLOSE_TIMEOUT_MS = 5000;
