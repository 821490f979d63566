/**
 * A full disk, in one line. SQLite says `SQLITE_FULL` ("database or disk is full"), the file
 * system `ENOSPC` (or `EDQUOT`, a quota): whichever it is and wherever it surfaces — the training
 * worker, the import worker, the service relaying a worker's progress — the user reads the same
 * sentence naming the file, and what is running pauses with what it has saved kept.
 */
import { existsSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { UserError } from '../api/errors.js';

/** True for an error that means the disk (or the user's quota) is full. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT';
}

/** The sentence. */
export function diskFullMessage(path: string): string {
  return `The disk holding ${path} is full; free space and resume.`;
}

export function diskFullError(path: string): UserError {
  return new UserError('io', diskFullMessage(path), path);
}

/** `err` as the one-line UserError when it is a full disk (naming `path`), else unchanged. */
export function explainDiskFull(err: unknown, path: string): unknown {
  return isDiskFull(err) ? diskFullError(path) : err;
}

/**
 * A little disk space held beside a project (`<project>-reserve`, `-reserve-import`) while jobs
 * run in it, and given back when the disk fills: without it, the writes that record how a job
 * ended — paused, because the disk is full — find no room either, and the file goes on saying
 * "running". Best effort: where even the reserve cannot be written there is none, and two
 * processes running jobs in one project share theirs (the first to finish removes it).
 */
export class DiskReserve {
  readonly path: string;

  constructor(
    projectPath: string,
    role: 'jobs' | 'import' = 'jobs',
    private readonly bytes = 128 * 1024, // the last writes of a job and its run take a few 4 KiB pages of WAL
  ) {
    this.path = role === 'jobs' ? `${projectPath}-reserve` : `${projectPath}-reserve-${role}`;
  }

  /** Makes sure the reserve is there. */
  hold(): void {
    try {
      if (statSync(this.path, { throwIfNoEntry: false })?.size === this.bytes) return;
      writeFileSync(this.path, Buffer.alloc(this.bytes)); // real zeros: blocks are allocated, not a sparse hole
    } catch {
      rmSync(this.path, { force: true });
    }
  }

  /** Gives the space back; true when there was some to give. */
  release(): boolean {
    try {
      if (!existsSync(this.path)) return false;
      rmSync(this.path, { force: true });
      return true;
    } catch {
      return false;
    }
  }
}
